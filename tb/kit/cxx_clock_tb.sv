// Purpose: the smallest top level with the chip harness's clock (tb/chip/chip_tb.sv, Clock),
//          for tb/kit/test_cxx_clock.py: under Verilator (MELSTM_CXX_CLOCK) the simulation
//          loop tb/kit/verilator_main.cpp toggles clk_i, elsewhere the delay loop of
//          tb/kit/delay_clock.svh, the file the chip harness includes, does.  It counts clock
//          edges and records the time of the last one in HDL, so the test can check stretches
//          where Python sleeps on a timer (the loop's fast path).
module cxx_clock_tb (
`ifdef MELSTM_CXX_CLOCK
  input  logic        clk_i,          // toggled by the simulation loop
  /* verilator lint_off UNUSEDSIGNAL */  // (the simulation loop reads it)
`endif
  input  logic [15:0] clk_half_ns_i,  // half period in ns; 0: stopped
`ifdef MELSTM_CXX_CLOCK
  /* verilator lint_on UNUSEDSIGNAL */
`endif
  output logic [31:0] rises_o,        // rising edges of clk_i since time 0
  output logic [31:0] falls_o,        // falling edges of clk_i since time 0
  output logic [63:0] last_edge_o     // $time of the last edge of clk_i (ns)
);
`include "delay_clock.svh"

  initial begin
    rises_o     = '0;
    falls_o     = '0;
    last_edge_o = '0;
  end

  // (not the clock's first value at time 0: Icarus sees x -> 0 there as an edge)
  always @(clk_i) if ($time != 0) begin
    if (clk_i) rises_o <= rises_o + 32'd1;
    else       falls_o <= falls_o + 32'd1;
    last_edge_o <= $time;
  end
endmodule
