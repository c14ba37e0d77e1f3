// Purpose: power stage of the mel front end (refmodel mel/power.py):
// P' = round_sat(Xr^2 + Xi^2, PowerShift, PowerBits + 1), an unsigned PowerBits word.
//
// Ports:   in_*  bin index k and X[k] = {im, re}, signed FftBits each;
//          out_* the same k and P'[k], unsigned PowerBits (units 2^PowerShift PCM-LSB^2).
// Latency: 1 cycle (registered output).
// Throughput: 1 cycle per item.
// Multipliers: 2 (FftBits x FftBits squares).
module mel_power
  import mel_pkg::*;
(
  input  logic                 clk_i,        // clock
  input  logic                 rst_ni,       // asynchronous reset, active low
  input  logic                 clear_i,      // synchronous soft reset
  input  logic                 in_valid_i,   // bin valid
  output logic                 in_ready_o,   // stage accepts
  input  logic [BinBits-1:0]   in_k_i,       // bin index
  input  logic [2*FftBits-1:0] in_x_i,       // X[k], {im, re}
  output logic                 out_valid_o,  // power valid
  input  logic                 out_ready_i,  // consumer accepts
  output logic [BinBits-1:0]   out_k_o,      // bin index
  output logic [PowerBits-1:0] out_p_o       // P'[k], unsigned
);
  localparam int SqW = 2 * FftBits;   // one square, exact (signed, non-negative)
  localparam int PW  = SqW + 1;       // sum of two squares, exact

  logic                        valid_q, valid_d, in_fire;
  logic [BinBits-1:0]          k_q;   // datapath registers: no reset, guarded by valid_q
  logic [PowerBits-1:0]        p_q;
  logic signed [FftBits-1:0]   xr, xi;
  logic signed [PW-1:0]        psum;
  logic signed [PowerBits:0]   p_round;

  assign in_ready_o  = !valid_q || out_ready_i;
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;
  assign out_k_o     = k_q;
  assign out_p_o     = p_q;

  assign xr   = $signed(in_x_i[FftBits-1:0]);
  assign xi   = $signed(in_x_i[2*FftBits-1:FftBits]);
  assign psum = PW'(SqW'(xr) * SqW'(xr)) + PW'(SqW'(xi) * SqW'(xi));

  // The signed saturation at 2^PowerBits - 1 never fires (P < 2^(2 FftBits - 1)).
  logic unused_sat;  // the saturation never fires (docs/fixed_point_frontend.md)
  prim_round_sat #(.InW(PW), .OutW(PowerBits + 1), .Shift(PowerShift)) u_round (
    .in_i(psum), .out_o(p_round), .sat_o(unused_sat)
  );

  always_comb begin
    valid_d = valid_q;
    if (out_ready_i) valid_d = 1'b0;
    if (in_fire) valid_d = 1'b1;
    if (clear_i) valid_d = 1'b0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= 1'b0;
    else         valid_q <= valid_d;
  end

  always_ff @(posedge clk_i) begin
    if (in_fire) begin
      k_q <= in_k_i;
      p_q <= p_round[PowerBits-1:0];  // non-negative: the sign bit is always 0
    end
  end

  logic chk_rst_n;
  logic unused_sign;
  assign unused_sign = p_round[PowerBits];
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(BinBits + 2 * FftBits), .Name("mel_power.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i({in_k_i, in_x_i})
  );
  prim_stream_check #(.Width(BinBits + PowerBits), .Name("mel_power.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i({out_k_o, out_p_o})
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (PW > 62 || PowerBits + 1 > PW - PowerShift + 1) begin
      $fatal(1, "mel_power: illegal mel_pkg constants");
    end
  end
`endif
endmodule
