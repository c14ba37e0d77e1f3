// Purpose: quantiser of the mel front end (refmodel mel/quant.py), and the packer
// that assembles the NMels codes of a frame into one feature vector.
//
// Ports:   in_*  y = log2(M) of bands b = 0..NMels-1 in order, UQ6.16 in LogBits;
//          out_* the feature vector, code of band b at [CodeBits*b +: CodeBits]:
//                code = round_sat(y * QuantGain + QuantOffset, QuantShift, CodeBits) + 128
//                (the +128 is an MSB flip that turns the signed saturation into the 0..255
//                clip).
// Latency: the vector is valid the cycle after the last band is accepted; no band is
//          accepted while a complete vector waits for out_ready_i (one is, in the cycle the
//          vector leaves).
// Throughput: NMels cycles per vector.
// Multipliers: 1 (LogBits x QuantGainBits, unsigned).
module mel_quant
  import mel_pkg::*;
(
  input  logic                       clk_i,        // clock
  input  logic                       rst_ni,       // asynchronous reset, active low
  input  logic                       clear_i,      // synchronous soft reset
  input  logic                       in_valid_i,   // band value valid
  output logic                       in_ready_o,   // stage accepts
  input  logic [LogBits-1:0]         in_y_i,       // log2(M), UQ6.16
  output logic                       out_valid_o,  // feature vector valid
  input  logic                       out_ready_i,  // consumer accepts
  output logic [NMels*CodeBits-1:0]  out_feat_o    // band b at [CodeBits*b +: CodeBits]
);
  localparam int BandW = prim_util_pkg::idx_width(NMels);
  localparam int ProdW = LogBits + QuantGainBits;          // y * G, exact, unsigned
  localparam int SumW  = (ProdW > QuantOffsetBits ? ProdW : QuantOffsetBits) + 2;

  logic                      valid_q, valid_d, in_fire;
  logic [BandW-1:0]          band_q, band_d;
  logic [NMels*CodeBits-1:0] feat_q;        // datapath register: no reset, guarded by valid_q
  logic [ProdW-1:0]          prod;
  logic signed [SumW-1:0]    sum;
  logic signed [CodeBits-1:0] code_s;
  logic [CodeBits-1:0]       code;

  assign in_ready_o  = !valid_q || out_ready_i;  // a leaving vector frees the packer
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;
  assign out_feat_o  = feat_q;

  assign prod = ProdW'(in_y_i) * ProdW'(QuantGain);
  assign sum  = $signed(SumW'(prod)) + SumW'(QuantOffset);

  logic unused_sat;  // the clip to 0..255 is the intended function; no flag needed
  prim_round_sat #(.InW(SumW), .OutW(CodeBits), .Shift(QuantShift)) u_round (
    .in_i(sum), .out_o(code_s), .sat_o(unused_sat)
  );
  assign code = {~code_s[CodeBits-1], code_s[CodeBits-2:0]};

  always_comb begin
    valid_d = valid_q;
    band_d  = band_q;
    if (out_ready_i) valid_d = 1'b0;
    if (in_fire) begin
      band_d = band_q + BandW'(1);
      if (band_q == BandW'(NMels - 1)) begin
        band_d  = '0;
        valid_d = 1'b1;
      end
    end
    if (clear_i) begin
      valid_d = 1'b0;
      band_d  = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      band_q  <= '0;
    end else begin
      valid_q <= valid_d;
      band_q  <= band_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_fire) feat_q[CodeBits*band_q +: CodeBits] <= code;
  end

  logic chk_rst_n;
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(LogBits), .Name("mel_quant.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_y_i)
  );
  prim_stream_check #(.Width(NMels * CodeBits), .Name("mel_quant.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i(out_feat_o)
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (NMels != (1 << BandW) || SumW > 62 || QuantShift >= SumW || CodeBits != 8) begin
      $fatal(1, "mel_quant: illegal mel_pkg constants");
    end
  end
`endif
endmodule
