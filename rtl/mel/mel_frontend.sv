// Purpose: the mel front end: int16 PCM in, one vector of NMels 8-bit log-mel codes out per
// Hop samples, bit-exact with refmodel.mel.frontend.features (docs/fixed_point_frontend.md).
//
// Ports:   in_*  signed int16 samples; backpressure only while the framing buffer is full;
//          out_* feature vector (band b at [8b+7:8b]) and its frame index since reset/clear
//                (frame k = samples [Hop*k, Hop*k + FrameLen)).
// Chain:   mel_framer -> mel_window -> mel_fft -> mel_split -> (X[k]) mel_power ->
//          mel_filterbank -> mel_log2 -> mel_quant, valid/ready between every two stages.
// Latency: about 1500 cycles from the sample that completes a frame to its vector when the
//          chain is idle (load FramePairs, FFT 8 x 130, split/mel pass 2 cycles per bin,
//          log/quantise pipeline); measured by tb/mel/test_mel_frontend.py.
// Throughput: FramePairs + FftStages * (FftPoints / 2 + 2) + 1 + 2 * SplitItems cycles per
//          frame: mel_fft's frame time (the slowest stage) with samples offered every cycle.
// Multipliers: 16 (window 2, butterfly 4, split 4, power 2, mel 2, log 1, quantiser 1).
module mel_frontend
  import mel_pkg::*;
(
  input  logic                      clk_i,        // clock
  input  logic                      rst_ni,       // asynchronous reset, active low
  input  logic                      clear_i,      // synchronous soft reset: frame index 0
  input  logic                      in_valid_i,   // sample valid
  output logic                      in_ready_o,   // front end accepts a sample
  input  logic [SampleBits-1:0]     in_sample_i,  // signed int16 PCM
  output logic                      out_valid_o,  // feature vector valid
  input  logic                      out_ready_i,  // consumer accepts
  output logic [NMels*CodeBits-1:0] out_feat_o,   // band b at [CodeBits*b +: CodeBits]
  output logic [31:0]               out_frame_o   // frame index since reset/clear
);
  // framer -> window
  logic                    fr_valid, fr_ready;
  logic [2*SampleBits-1:0] fr_pair;
  // window -> FFT
  logic                    win_valid, win_ready;
  logic [2*FftInBits-1:0]  win_pair;
  // FFT -> split
  logic                    fft_valid, fft_ready;
  logic [FftAddrBits-1:0]  fft_k;
  logic [2*FftBits-1:0]    fft_zk, fft_zm;
  // split -> power (X[k] only: the mel bins all lie in k = 0..FftPoints/2)
  logic                    spl_valid, spl_ready;
  logic [FftAddrBits-1:0]  spl_k;
  logic [2*FftBits-1:0]    spl_xk, spl_xm;
  // power -> filterbank
  logic                    pow_valid, pow_ready;
  logic [BinBits-1:0]      pow_k;
  logic [PowerBits-1:0]    pow_p;
  // filterbank -> log2
  logic                    mel_valid, mel_ready;
  logic [MelAccBits-1:0]   mel_m;
  // log2 -> quantiser
  logic                    log_valid, log_ready;
  logic [LogBits-1:0]      log_y;

  logic [31:0]             frame_q, frame_d;
  logic                    unused_xm;

  mel_framer u_framer (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (in_valid_i),
    .in_ready_o  (in_ready_o),
    .in_sample_i (in_sample_i),
    .out_valid_o (fr_valid),
    .out_ready_i (fr_ready),
    .out_pair_o  (fr_pair)
  );

  mel_window u_window (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (fr_valid),
    .in_ready_o  (fr_ready),
    .in_pair_i   (fr_pair),
    .out_valid_o (win_valid),
    .out_ready_i (win_ready),
    .out_pair_o  (win_pair)
  );

  mel_fft u_fft (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (win_valid),
    .in_ready_o  (win_ready),
    .in_pair_i   (win_pair),
    .out_valid_o (fft_valid),
    .out_ready_i (fft_ready),
    .out_k_o     (fft_k),
    .out_zk_o    (fft_zk),
    .out_zm_o    (fft_zm)
  );

  mel_split u_split (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (fft_valid),
    .in_ready_o  (fft_ready),
    .in_k_i      (fft_k),
    .in_zk_i     (fft_zk),
    .in_zm_i     (fft_zm),
    .out_valid_o (spl_valid),
    .out_ready_i (spl_ready),
    .out_k_o     (spl_k),
    .out_xk_o    (spl_xk),
    .out_xm_o    (spl_xm)
  );
  assign unused_xm = ^spl_xm;  // bins FftPoints/2+1.. carry no mel weight

  mel_power u_power (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (spl_valid),
    .in_ready_o  (spl_ready),
    .in_k_i      (BinBits'(spl_k)),
    .in_x_i      (spl_xk),
    .out_valid_o (pow_valid),
    .out_ready_i (pow_ready),
    .out_k_o     (pow_k),
    .out_p_o     (pow_p)
  );

  mel_filterbank u_filterbank (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (pow_valid),
    .in_ready_o  (pow_ready),
    .in_k_i      (pow_k),
    .in_p_i      (pow_p),
    .out_valid_o (mel_valid),
    .out_ready_i (mel_ready),
    .out_m_o     (mel_m)
  );

  mel_log2 u_log2 (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (mel_valid),
    .in_ready_o  (mel_ready),
    .in_m_i      (mel_m),
    .out_valid_o (log_valid),
    .out_ready_i (log_ready),
    .out_y_o     (log_y)
  );

  mel_quant u_quant (
    .clk_i, .rst_ni, .clear_i,
    .in_valid_i  (log_valid),
    .in_ready_o  (log_ready),
    .in_y_i      (log_y),
    .out_valid_o (out_valid_o),
    .out_ready_i (out_ready_i),
    .out_feat_o  (out_feat_o)
  );

  // Frame index of the vector on the output: counts output handshakes.
  always_comb begin
    frame_d = frame_q;
    if (out_valid_o && out_ready_i) frame_d = frame_q + 32'd1;
    if (clear_i) frame_d = '0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) frame_q <= '0;
    else         frame_q <= frame_d;
  end
  assign out_frame_o = frame_q;

  logic chk_rst_n;
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(SampleBits), .Name("mel_frontend.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_sample_i)
  );
  prim_stream_check #(.Width(NMels * CodeBits + 32), .Name("mel_frontend.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i({out_frame_o, out_feat_o})
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (NMels * CodeBits != 256 || SampleBits != 16 || MelLastBin > FftPoints / 2) begin
      $fatal(1, "mel_frontend: the mel_pkg constants do not match the 16-bit / 256-bit ports");
    end
  end
`endif
endmodule
