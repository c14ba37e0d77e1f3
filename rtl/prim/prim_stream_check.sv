// Purpose: simulation-time checker of one valid/ready stream; instantiate it on every stream.
//
// Rules checked at each rising edge (out of reset): valid and ready are never X/Z; data is
// never X/Z while valid; once valid is high without ready, valid stays high and data stays
// unchanged until the transfer.  A violation stops the simulation with $fatal, so it fails
// the test on both simulators.  Synthesis sees an empty module.
module prim_stream_check #(
  parameter int    Width = 8,        // data width
  parameter        Name  = "stream"  // shown in the failure message (a string)
) (
  input logic             clk_i,    // clock
  input logic             rst_ni,   // asynchronous reset, active low
  input logic             valid_i,  // stream valid
  input logic             ready_i,  // stream ready
  input logic [Width-1:0] data_i    // stream data (all payload fields, concatenated)
);
`ifndef SYNTHESIS
  logic             stalled_q;  // previous edge had valid without ready
  logic [Width-1:0] data_q;     // the data at that edge

  // Icarus-friendly form: an always block wakes at every edge and pays for each signal it
  // reads, while a continuous assignment is re-evaluated only when its inputs change.  So the
  // test "does this edge need a look at all" (valid not 0, a stall to follow up, or X/Z on
  // valid/ready) is a continuous assignment, and an idle stream reads only rst_ni and look.
  // The data is kept only at a stall.
  logic ctl_x;  // valid or ready is X/Z
  logic look;   // this edge has something to check or to record
  assign ctl_x = (^{valid_i, ready_i}) === 1'bx;
  assign look  = valid_i !== 1'b0 || stalled_q || ctl_x;

  always @(posedge clk_i or negedge rst_ni) begin
    // Checks start once reset is known to be released (rst_ni may float before the test
    // drives it).
    if (rst_ni !== 1'b1) begin
      stalled_q <= 1'b0;
    end else if (look) begin
      if (ctl_x) begin
        $fatal(1, "%s: X/Z on valid/ready (valid=%b ready=%b)", Name, valid_i, ready_i);
      end
      if (valid_i) begin
        if ((^data_i) === 1'bx) begin
          $fatal(1, "%s: X/Z on data while valid (data=%h)", Name, data_i);
        end
        if (!ready_i) data_q <= data_i;
      end
      if (stalled_q) begin
        if (!valid_i) begin
          $fatal(1, "%s: valid dropped before ready", Name);
        end
        if (data_i != data_q) begin
          $fatal(1, "%s: data changed while stalled (%h -> %h)", Name, data_q, data_i);
        end
      end
      stalled_q <= valid_i && !ready_i;
    end
  end
`endif
endmodule
