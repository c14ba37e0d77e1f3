// The delay-loop clock, for the simulators other than Verilator, of the harnesses that take
// their clock from the simulation loop there (run_block(cxx_clock=...), tb/kit/runner.py):
// included inside such a module, after its port list, with its half-period input
// clk_half_ns_i.
// Rules (tb/chip/chip_tb.sv, Clock): clk_i is low and still until clk_half_ns_i is non-zero,
// then toggles every clk_half_ns_i ns, the first rising edge one half period later; a new half
// period applies from the next edge on.  Under MELSTM_CXX_CLOCK (the Verilator build) clk_i is
// an input that tb/kit/verilator_main.cpp toggles by the same rules, and this adds nothing.
// tb/kit/test_cxx_clock.py checks both against the rules.
`ifndef MELSTM_CXX_CLOCK
  logic clk_i;

  initial begin : p_clock
    clk_i = 1'b0;
    forever begin
      wait (clk_half_ns_i != 16'd0);
      /* verilator lint_off ZERODLY */
      #(clk_half_ns_i) clk_i = !clk_i;  // the half period is never 0 here
      /* verilator lint_on ZERODLY */
    end
  end
`endif
