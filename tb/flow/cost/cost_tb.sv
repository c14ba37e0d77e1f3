// Purpose: test-bench harness for `make cost`: runs chip_top on audio and weights read from
// files, and counts, from the chip's internal signals, every event the cost model
// (refmodel/cost.py) predicts, so that the model and the RTL can be compared number by number.
//
// Ports:   clk_i, rst_ni; start_i (held high) starts the run once out of reset: the weight
//          words of +weights=<hex file> (WordsW words, one per line) are written through the
//          configuration port to WLOAD_DATA (WLOAD_ADDR is 0 after reset), one per cycle, then
//          CTRL.ENABLE is set and the samples of +audio=<hex file> (num_samples_i of them, int16)
//          are offered back to back (valid/ready).  Detections are always taken (det_ready_i
//          high); done_o rises once num_windows_i detections have been handed out.
// Counters: n_<block>__<event> (32 bits each; names as refmodel.cost keys with "." -> "__"),
//          counting from reset, each one signal of the design (the comment says which).
//          Simulation only; nothing here is design RTL.
module cost_tb
  import chip_reg_pkg::*;
#(
  parameter int Hidden    = 32,     // passed to chip_top
  parameter int Lanes     = 8,
  parameter int Window    = 198,
  parameter int MaxWords  = 32768,  // weight words the harness can hold
  parameter int MaxSamples = 65536, // samples the harness can hold
  parameter int CtrlAddr  = 0,      // register byte addresses (refmodel/chip/regs.py)
  parameter int WdataAddr = 16,
  parameter int Toggles   = 0       // unused: 1 marks the toggle-coverage build (own folder)
) (
  input  logic        clk_i,         // clock (cocotb)
  input  logic        rst_ni,        // asynchronous reset, active low
  input  logic        start_i,       // run the weights, then the audio
  input  logic [31:0] num_words_i,     // weight words in the file
  input  logic [31:0] num_samples_i,   // samples in the file
  input  logic [31:0] num_windows_i,   // detections that end the run
  output logic        done_o         // num_windows_i detections handed out
);
  logic [15:0] words_q   [MaxWords];
  logic [15:0] samples_q [MaxSamples];
  string       path;

  initial begin
    if ($value$plusargs("weights=%s", path)) $readmemh(path, words_q);
    if ($value$plusargs("audio=%s", path)) $readmemh(path, samples_q);
  end

  // ---------------------------------------------------------------- the chip
  logic         audio_valid, audio_ready;
  logic [15:0]  audio_sample;
  logic         tap_valid, det_valid, det_flag, det_irq;
  logic [31:0]  tap_frame, det_window;
  logic [255:0] tap_feat;
  logic [15:0]  det_score;
  logic         reg_req, reg_we, reg_rvalid, reg_err;
  logic [RegAddrW-1:0] reg_addr;
  logic [RegDataW-1:0] reg_wdata, reg_rdata;

  chip_top #(.Hidden(Hidden), .Lanes(Lanes), .Window(Window)) u_dut (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .audio_valid_i (audio_valid),
    .audio_ready_o (audio_ready),
    .audio_sample_i(audio_sample),
    .tap_valid_o   (tap_valid),
    .tap_frame_o   (tap_frame),
    .tap_feat_o    (tap_feat),
    .det_valid_o   (det_valid),
    .det_ready_i   (1'b1),
    .det_window_o  (det_window),
    .det_score_o   (det_score),
    .det_flag_o    (det_flag),
    .det_irq_o     (det_irq),
    .reg_req_i     (reg_req),
    .reg_we_i      (reg_we),
    .reg_addr_i    (reg_addr),
    .reg_wdata_i   (reg_wdata),
    .reg_rvalid_o  (reg_rvalid),
    .reg_rdata_o   (reg_rdata),
    .reg_err_o     (reg_err)
  );

  // ---------------------------------------------------------------- players
  typedef enum logic [1:0] {PlIdle, PlWords, PlEnable, PlAudio} player_e;
  player_e     pl_q;
  logic [31:0] idx_q, dets_q;

  assign reg_req      = pl_q == PlWords || pl_q == PlEnable;
  assign reg_we       = 1'b1;
  assign reg_addr     = RegAddrW'(pl_q == PlWords ? WdataAddr : CtrlAddr);
  assign reg_wdata    = pl_q == PlWords ? RegDataW'(words_q[idx_q]) : RegDataW'(1);
  assign audio_valid  = pl_q == PlAudio && idx_q < num_samples_i;
  assign audio_sample = samples_q[idx_q];
  assign done_o       = dets_q >= num_windows_i && pl_q == PlAudio;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pl_q   <= PlIdle;
      idx_q  <= '0;
      dets_q <= '0;
    end else begin
      if (det_valid) dets_q <= dets_q + 32'd1;
      unique case (pl_q)
        PlIdle:   if (start_i) pl_q <= num_words_i == 0 ? PlEnable : PlWords;
        PlWords:  begin
          idx_q <= idx_q + 32'd1;
          if (idx_q == num_words_i - 1) begin
            idx_q <= '0;
            pl_q  <= PlEnable;
          end
        end
        PlEnable: pl_q <= PlAudio;
        PlAudio:  if (audio_valid && audio_ready) idx_q <= idx_q + 32'd1;
        default:  pl_q <= PlIdle;
      endcase
    end
  end

  // ---------------------------------------------------------------- counters
  // Each counter adds the number of events of its cycle (0, 1, or more for per-lane sums).
  `define COST_COUNT(name, expr) \
    logic [31:0] name; \
    always_ff @(posedge clk_i or negedge rst_ni) begin \
      if (!rst_ni) name <= '0; \
      else         name <= name + 32'(expr); \
    end

  // mel front end
  `COST_COUNT(n_mel_framer__write, u_dut.u_frontend.u_framer.in_fire)
  `COST_COUNT(n_mel_framer__write__sample_ram,
              32'(u_dut.u_frontend.u_framer.in_fire && !u_dut.u_frontend.u_framer.wr_q[0])
              + 32'(u_dut.u_frontend.u_framer.in_fire && u_dut.u_frontend.u_framer.wr_q[0]))
  `COST_COUNT(n_mel_framer__pair, u_dut.u_frontend.u_framer.out_fire)
  `COST_COUNT(n_mel_framer__cycles, u_dut.u_frontend.u_framer.out_fire)
  `COST_COUNT(n_mel_window__item, u_dut.u_frontend.u_window.in_fire)
  `COST_COUNT(n_mel_window__cycles, u_dut.u_frontend.u_window.in_fire)
  `COST_COUNT(n_mel_fft__load, u_dut.u_frontend.u_fft.in_fire)
  `COST_COUNT(n_mel_fft__butterfly, u_dut.u_frontend.u_fft.issue)
  `COST_COUNT(n_mel_fft__bank_read, u_dut.u_frontend.u_fft.rd_en)
  // rd0_q and rd1_q are both loaded on rd_en: a read of each bank
  `COST_COUNT(n_mel_fft__read__fft_banks,
              32'(u_dut.u_frontend.u_fft.rd_en) + 32'(u_dut.u_frontend.u_fft.rd_en))
  `COST_COUNT(n_mel_fft__write__fft_banks,
              32'(u_dut.u_frontend.u_fft.we0) + 32'(u_dut.u_frontend.u_fft.we1))
  `COST_COUNT(n_mel_fft__cycles,
              u_dut.u_frontend.u_fft.in_fire || u_dut.u_frontend.u_fft.rd_en
              || u_dut.u_frontend.u_fft.s1_valid_q || u_dut.u_frontend.u_fft.s2_valid_q)
  `COST_COUNT(n_mel_fft__out, u_dut.u_frontend.u_fft.out_fire)
  `COST_COUNT(n_mel_split__item, u_dut.u_frontend.u_split.in_fire)
  `COST_COUNT(n_mel_split__cycles, u_dut.u_frontend.u_split.in_fire)
  `COST_COUNT(n_mel_power__item, u_dut.u_frontend.u_power.in_fire)
  `COST_COUNT(n_mel_power__cycles, u_dut.u_frontend.u_power.in_fire)
  `COST_COUNT(n_mel_filterbank__bin, u_dut.u_frontend.u_filterbank.in_fire)
  `COST_COUNT(n_mel_filterbank__weighted,
              u_dut.u_frontend.u_filterbank.in_fire && u_dut.u_frontend.u_filterbank.in_range)
  `COST_COUNT(n_mel_filterbank__accumulate,
              u_dut.u_frontend.u_filterbank.in_fire && u_dut.u_frontend.u_filterbank.in_range
              && !u_dut.u_frontend.u_filterbank.first_bin
              && u_dut.u_frontend.u_filterbank.seg == u_dut.u_frontend.u_filterbank.seg_q)
  `COST_COUNT(n_mel_filterbank__seg_step,
              u_dut.u_frontend.u_filterbank.in_fire && u_dut.u_frontend.u_filterbank.in_range
              && !u_dut.u_frontend.u_filterbank.first_bin
              && u_dut.u_frontend.u_filterbank.seg != u_dut.u_frontend.u_filterbank.seg_q)
  `COST_COUNT(n_mel_filterbank__flush,
              u_dut.u_frontend.u_filterbank.flush_q && u_dut.u_frontend.u_filterbank.out_free)
  `COST_COUNT(n_mel_filterbank__cycles,
              u_dut.u_frontend.u_filterbank.in_fire
              || (u_dut.u_frontend.u_filterbank.flush_q && u_dut.u_frontend.u_filterbank.out_free))
  `COST_COUNT(n_mel_filterbank__out,
              u_dut.u_frontend.u_filterbank.out_valid_o && u_dut.u_frontend.u_filterbank.out_ready_i)
  `COST_COUNT(n_mel_log2__item, u_dut.u_frontend.u_log2.in_fire)
  `COST_COUNT(n_mel_log2__cycles, u_dut.u_frontend.u_log2.in_fire)
  `COST_COUNT(n_mel_quant__item, u_dut.u_frontend.u_quant.in_fire)
  `COST_COUNT(n_mel_quant__cycles, u_dut.u_frontend.u_quant.in_fire)
  `COST_COUNT(n_mel_quant__vector, tap_valid)
  // LSTM detector
  `COST_COUNT(n_lstm_seq__accept, u_dut.u_detector.u_seq.accept)
  `COST_COUNT(n_lstm_seq__cycles, !u_dut.u_detector.u_seq.in_ready_o)
  `COST_COUNT(n_lstm_mem__read, u_dut.u_detector.u_mem.rd_en_i)
  `COST_COUNT(n_lstm_mem__cycles, u_dut.u_detector.u_mem.rd_en_i)
  `COST_COUNT(n_lstm_pe_array__mac, u_dut.u_detector.u_pe.mac_valid_i)
  `COST_COUNT(n_lstm_pe_array__cycles, u_dut.u_detector.u_pe.mac_valid_i)
  `COST_COUNT(n_lstm_pe_array__first,
              u_dut.u_detector.u_pe.mac_valid_i && u_dut.u_detector.u_pe.mac_first_i)
  `COST_COUNT(n_lstm_pe_array__result, u_dut.u_detector.u_pe.res_valid_o)
  `COST_COUNT(n_lstm_update__busy, u_dut.u_detector.u_update.active)
  `COST_COUNT(n_lstm_update__cycles, u_dut.u_detector.u_update.active)
  `COST_COUNT(n_lstm_update__cell, u_dut.u_detector.u_update.wr_o)
  `COST_COUNT(n_lstm_update__hidden, u_dut.u_detector.u_update.wr_h)
  `COST_COUNT(n_lstm_head__start, u_dut.u_detector.u_head.start)
  `COST_COUNT(n_lstm_head__term, u_dut.u_detector.u_head.run_q)
  `COST_COUNT(n_lstm_head__score, u_dut.u_detector.u_head.fin_q)
  `COST_COUNT(n_lstm_head__cycles, u_dut.u_detector.u_head.run_q || u_dut.u_detector.u_head.fin_q)

  // The lane RAMs: every lane's weight and bias RAM is read on rd_en_i; a load write goes to
  // one lane's RAM.
  logic [31:0] lane_rd;
  assign lane_rd = u_dut.u_detector.u_mem.rd_en_i ? 32'(Lanes) : 32'd0;
  `COST_COUNT(n_lstm_mem__read__weight_ram, lane_rd)
  `COST_COUNT(n_lstm_mem__read__bias_ram, lane_rd)
  `COST_COUNT(n_lstm_mem__write__weight_ram,
              u_dut.u_detector.u_mem.ok && u_dut.u_detector.u_mem.in_w)
  `COST_COUNT(n_lstm_mem__write__bias_ram,
              u_dut.u_detector.u_mem.ok && u_dut.u_detector.u_mem.in_b)
  `COST_COUNT(n_lstm_mem__write__head_weights,
              u_dut.u_detector.u_mem.ok && u_dut.u_detector.u_mem.in_wout)
  `COST_COUNT(n_lstm_mem__write__head_bias,
              u_dut.u_detector.u_mem.ok && u_dut.u_detector.u_mem.in_bout)
  `undef COST_COUNT
endmodule
