// Purpose: real-split post-processing of the mel front end (refmodel mel/split.py):
// turns the pair (Z[k], Z[m]), m = (FftPoints - k) mod FftPoints, of the half-length complex
// FFT into the bins X[k] and X[FftPoints - k] of the real 2*FftPoints-point DFT.
//
// Ports:   in_*  k = 0..FftPoints/2 with Z[k] and Z[m], each {im, re} signed FftBits;
//          out_* k with X[k] and X[FftPoints - k], each {im, re} signed FftBits (PCM LSB).
// Arithmetic: SA = Z[k] + conj(Z[m]), SB = -j (Z[k] - conj(Z[m])) exact (FftBits + 1);
//          T = W_{2 FftPoints}^k * SB (4 products, full width); X[k] = round_sat((SA << 16) + T,
//          17, FftBits), X[FftPoints - k] = conj of the difference: the /2 is folded into the
//          one rounding per word.
// Latency: 1 cycle (registered output).
// Throughput: 1 cycle per item.
// Multipliers: 4 ((FftBits + 1) x TwiddleBits).
module mel_split
  import mel_pkg::*;
(
  input  logic                   clk_i,        // clock
  input  logic                   rst_ni,       // asynchronous reset, active low
  input  logic                   clear_i,      // synchronous soft reset
  input  logic                   in_valid_i,   // FFT pair valid
  output logic                   in_ready_o,   // stage accepts
  input  logic [FftAddrBits-1:0] in_k_i,       // k = 0..FftPoints/2
  input  logic [2*FftBits-1:0]   in_zk_i,      // Z[k], {im, re}
  input  logic [2*FftBits-1:0]   in_zm_i,      // Z[(FftPoints - k) mod FftPoints], {im, re}
  output logic                   out_valid_o,  // bins valid
  input  logic                   out_ready_i,  // consumer accepts
  output logic [FftAddrBits-1:0] out_k_o,      // k
  output logic [2*FftBits-1:0]   out_xk_o,     // X[k], {im, re}
  output logic [2*FftBits-1:0]   out_xm_o      // X[FftPoints - k], {im, re}
);
  localparam int AW    = FftAddrBits;
  localparam int WordW = 2 * FftBits;
  localparam int SW    = FftBits + 1;            // exact sums of two words
  localparam int ProdW = SW + TwiddleBits;       // one product, exact
  localparam int AccW  = ProdW + 2;              // (SA << 16) +/- (p1 +/- p2)

  logic                 valid_q, valid_d, in_fire;
  logic [AW-1:0]        k_q;                     // datapath registers: no reset
  logic [WordW-1:0]     xk_q, xm_q;
  logic signed [SW-1:0] zkr, zki, zmr, zmi, sar, sai, sbr, sbi;
  logic signed [TwiddleBits-1:0] wr, wi;
  logic signed [AccW-1:0] tr, ti, sar_s, sai_s;
  logic signed [AccW-1:0] rin_kr, rin_ki, rin_mr, rin_mi;
  logic signed [FftBits-1:0] xkr, xki, xmr, xmi;

  assign in_ready_o  = !valid_q || out_ready_i;
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;
  assign out_k_o     = k_q;
  assign out_xk_o    = xk_q;
  assign out_xm_o    = xm_q;

  assign zkr = SW'($signed(in_zk_i[FftBits-1:0]));
  assign zki = SW'($signed(in_zk_i[WordW-1:FftBits]));
  assign zmr = SW'($signed(in_zm_i[FftBits-1:0]));
  assign zmi = SW'($signed(in_zm_i[WordW-1:FftBits]));
  assign sar = zkr + zmr;
  assign sai = zki - zmi;
  assign sbr = zki + zmi;
  assign sbi = zmr - zkr;

  mel_twiddle_re_rom u_tw_re (.addr_i(in_k_i), .data_o(wr));
  mel_twiddle_im_rom u_tw_im (.addr_i(in_k_i), .data_o(wi));

  assign tr    = AccW'(ProdW'(sbr) * ProdW'(wr)) - AccW'(ProdW'(sbi) * ProdW'(wi));
  assign ti    = AccW'(ProdW'(sbr) * ProdW'(wi)) + AccW'(ProdW'(sbi) * ProdW'(wr));
  assign sar_s = AccW'(sar) <<< TwiddleFrac;
  assign sai_s = AccW'(sai) <<< TwiddleFrac;
  assign rin_kr = sar_s + tr;
  assign rin_ki = sai_s + ti;
  assign rin_mr = sar_s - tr;
  assign rin_mi = ti - sai_s;

  logic [3:0] unused_sat;  // the saturations never fire (docs/fixed_point_frontend.md)
  prim_round_sat #(.InW(AccW), .OutW(FftBits), .Shift(TwiddleFrac + 1)) u_round_kr (
    .in_i(rin_kr), .out_o(xkr), .sat_o(unused_sat[0])
  );
  prim_round_sat #(.InW(AccW), .OutW(FftBits), .Shift(TwiddleFrac + 1)) u_round_ki (
    .in_i(rin_ki), .out_o(xki), .sat_o(unused_sat[1])
  );
  prim_round_sat #(.InW(AccW), .OutW(FftBits), .Shift(TwiddleFrac + 1)) u_round_mr (
    .in_i(rin_mr), .out_o(xmr), .sat_o(unused_sat[2])
  );
  prim_round_sat #(.InW(AccW), .OutW(FftBits), .Shift(TwiddleFrac + 1)) u_round_mi (
    .in_i(rin_mi), .out_o(xmi), .sat_o(unused_sat[3])
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
      k_q  <= in_k_i;
      xk_q <= {xki, xkr};
      xm_q <= {xmi, xmr};
    end
  end

  logic chk_rst_n;
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(AW + 2 * WordW), .Name("mel_split.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i({in_k_i, in_zk_i, in_zm_i})
  );
  prim_stream_check #(.Width(AW + 2 * WordW), .Name("mel_split.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i({out_k_o, out_xk_o, out_xm_o})
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (FftPoints != (1 << FftAddrBits) || AccW > 62) begin
      $fatal(1, "mel_split: illegal mel_pkg constants");
    end
  end
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni && in_valid_i === 1'b1 && in_k_i > AW'(FftPoints / 2)) begin
      $fatal(1, "mel_split: k=%0d outside 0..%0d", in_k_i, FftPoints / 2);
    end
  end
`endif
endmodule
