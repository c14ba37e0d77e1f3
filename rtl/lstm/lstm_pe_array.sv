// Purpose: the PE array, Lanes multiply-accumulate lanes (8-bit weight x 16-bit vector word,
// 32-bit exact accumulators) that compute Lanes gate rows of one pass in parallel.
//
// Ports:   one MAC per lane on every cycle with mac_valid_i: lane p adds w_i[p] * v_i to its
//          accumulator; mac_first_i starts a new sum from the lane's bias (b_i[p] << BiasShift,
//          the model's bias_acc); mac_last_i closes it.  mac_tag_i (the pass index) travels
//          with the sum.
// Latency: the closed sums (mac_first..mac_last) appear on res_o with a one-cycle res_valid_o
//          pulse one cycle after the mac_last_i cycle; res_o and res_tag_o then hold until the
//          next closed sum, so a consumer has a whole pass to read them.
// Throughput: one MAC per lane per cycle, back to back across passes.
module lstm_pe_array
  import lstm_pkg::*;
#(
  parameter int Lanes = 8,  // MAC lanes P
  parameter int TagW  = 4   // width of the pass tag
) (
  input  logic                       clk_i,        // clock
  input  logic                       rst_ni,       // asynchronous reset, active low
  input  logic                       clear_i,      // synchronous soft reset (drops res_valid)
  input  logic                       mac_valid_i,  // one MAC on every lane this cycle
  input  logic                       mac_first_i,  // first term of a sum: start from the bias
  input  logic                       mac_last_i,   // last term of a sum
  input  logic [TagW-1:0]            mac_tag_i,    // pass index of this sum
  input  logic [Lanes*WBits-1:0]     w_i,          // lane weights, int8 each, lane p at [8p+7:8p]
  input  logic [Lanes*BBits-1:0]     b_i,          // lane biases, int16 each (read on first)
  input  logic signed [HBits-1:0]    v_i,          // vector word broadcast to all lanes, Q0.15
  output logic                       res_valid_o,  // res_o holds a new set of closed sums
  output logic [TagW-1:0]            res_tag_o,    // pass index of res_o
  output logic [Lanes*AccBits-1:0]   res_o         // closed sums, lane p at [32p+31:32p], frac 20
);
  localparam int ProdW = WBits + HBits;

  logic [TagW-1:0] tag_q;
  logic            res_valid_q, res_valid_d;
  logic            close;  // this cycle's MAC closes a sum

  assign close = mac_valid_i && mac_last_i;

  for (genvar p = 0; p < Lanes; p++) begin : gen_lane
    logic signed [WBits-1:0]   w;
    logic signed [BBits-1:0]   b;
    logic signed [ProdW-1:0]   prod;      // exact 8 x 16 product, frac 20
    logic signed [AccBits-1:0] base;
    // Accumulator and result are datapath registers: no reset (guarded by the valid flags).
    logic signed [AccBits-1:0] acc_q, acc_d;
    logic signed [AccBits-1:0] res_q;

    assign w     = $signed(w_i[p*WBits +: WBits]);
    assign b     = $signed(b_i[p*BBits +: BBits]);
    assign prod  = ProdW'(w) * ProdW'(v_i);
    assign base  = mac_first_i ? (AccBits'(b) <<< BiasShift) : acc_q;
    assign acc_d = base + AccBits'(prod);
    always_ff @(posedge clk_i) begin
      if (mac_valid_i) acc_q <= acc_d;
    end
    always_ff @(posedge clk_i) begin
      if (close) res_q <= acc_d;
    end
    assign res_o[p*AccBits +: AccBits] = res_q;
  end

  assign res_valid_d = close && !clear_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      res_valid_q <= 1'b0;
    end else begin
      res_valid_q <= res_valid_d;
    end
  end

  // The tag travels with the datapath: no reset.
  always_ff @(posedge clk_i) begin
    if (close) tag_q <= mac_tag_i;
  end

  assign res_valid_o = res_valid_q;
  assign res_tag_o   = tag_q;

`ifndef SYNTHESIS
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni === 1'b1 && (^{mac_valid_i, mac_valid_i && mac_first_i,
                              mac_valid_i && mac_last_i}) === 1'bx) begin
      $fatal(1, "lstm_pe_array: X on mac_valid_i/mac_first_i/mac_last_i");
    end
  end
`endif
endmodule
