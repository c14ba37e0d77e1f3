// Purpose: the always-on audio detector chip: mel front end -> LSTM detector, with a feature
// tap, a detection output with an interrupt pulse, and the configuration register block.
//
// Ports:   audio_* valid/ready int16 samples (not ready while CTRL.ENABLE is 0);
//          tap_* one-cycle strobe for every feature vector handed to the detector;
//          det_* valid/ready detections (window index, score UQ0.16, flag) and det_irq_o, a
//          one-cycle pulse when a flagged detection is handed out;
//          reg_* configuration port (docs/registers.md).
// Latency: see docs/architecture.md (front end <= 2500 cycles per hop, detector step
//          <= 1.1 x 4H(32+H)/Lanes cycles).
module chip_top
  import chip_reg_pkg::*;
#(
  parameter int Hidden = 32,   // LSTM hidden size H (16, 32, 64)
  parameter int Lanes  = 8,    // MAC lanes P of the PE array (4, 8, 16)
  parameter int Window = 198   // frames per detection window
) (
  input  logic         clk_i,           // clock
  input  logic         rst_ni,          // asynchronous reset, active low
  // audio in
  input  logic         audio_valid_i,   // sample valid
  output logic         audio_ready_o,   // chip accepts the sample
  input  logic [15:0]  audio_sample_i,  // signed int16 PCM, 16 kHz
  // feature tap
  output logic         tap_valid_o,     // a feature vector moves to the detector this cycle
  output logic [31:0]  tap_frame_o,     // its frame index since reset
  output logic [255:0] tap_feat_o,      // its 32 codes, band b at [8b+7:8b]
  // detections
  output logic         det_valid_o,     // detection valid
  input  logic         det_ready_i,     // consumer accepts
  output logic [31:0]  det_window_o,    // window index since reset
  output logic [15:0]  det_score_o,     // score, UQ0.16
  output logic         det_flag_o,      // score >= THRESHOLD
  output logic         det_irq_o,       // one-cycle pulse: a flagged detection was taken
  // configuration port
  input  logic         reg_req_i,       // request valid
  input  logic         reg_we_i,        // 1: write
  input  logic [RegAddrW-1:0] reg_addr_i,   // byte address
  input  logic [RegDataW-1:0] reg_wdata_i,  // write data
  output logic         reg_rvalid_o,    // response valid (one cycle after the request)
  output logic [RegDataW-1:0] reg_rdata_o,  // read data
  output logic         reg_err_o        // the access was rejected
);
  logic         enable, clear;
  logic [ThresholdValueW-1:0] threshold;
  logic         fe_valid, fe_ready, fe_ready_in;
  logic [255:0] fe_feat;
  logic [31:0]  fe_frame;
  logic         wl_valid, wl_err, window_active;
  logic [WloadAddrAddrW-1:0] wl_addr;
  logic [WloadDataDataW-1:0] wl_data;

  mel_frontend u_frontend (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .clear_i     (clear),
    .in_valid_i  (audio_valid_i && enable),
    .in_ready_o  (fe_ready_in),
    .in_sample_i (audio_sample_i),
    .out_valid_o (fe_valid),
    .out_ready_i (fe_ready),
    .out_feat_o  (fe_feat),
    .out_frame_o (fe_frame)
  );
  assign audio_ready_o = fe_ready_in && enable;

  lstm_detector #(
    .Hidden (Hidden),
    .Lanes  (Lanes),
    .Window (Window)
  ) u_detector (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .clear_i         (clear),
    .in_valid_i      (fe_valid),
    .in_ready_o      (fe_ready),
    .in_feat_i       (fe_feat),
    .threshold_i     (threshold),
    .wl_valid_i      (wl_valid),
    .wl_addr_i       (wl_addr),
    .wl_data_i       (wl_data),
    .wl_err_o        (wl_err),
    .window_active_o (window_active),
    .det_valid_o     (det_valid_o),
    .det_ready_i     (det_ready_i),
    .det_window_o    (det_window_o),
    .det_score_o     (det_score_o),
    .det_flag_o      (det_flag_o)
  );

  assign tap_valid_o = fe_valid && fe_ready;
  assign tap_frame_o = fe_frame;
  assign tap_feat_o  = fe_feat;
  assign det_irq_o   = det_valid_o && det_ready_i && det_flag_o;

  chip_regs u_regs (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .reg_req_i       (reg_req_i),
    .reg_we_i        (reg_we_i),
    .reg_addr_i      (reg_addr_i),
    .reg_wdata_i     (reg_wdata_i),
    .reg_rvalid_o    (reg_rvalid_o),
    .reg_rdata_o     (reg_rdata_o),
    .reg_err_o       (reg_err_o),
    .enable_o        (enable),
    .clear_o         (clear),
    .threshold_o     (threshold),
    .wl_valid_o      (wl_valid),
    .wl_addr_o       (wl_addr),
    .wl_data_o       (wl_data),
    .wl_err_i        (wl_err),
    .window_active_i (window_active),
    .frame_i         (tap_valid_o),
    .det_i           (det_valid_o && det_ready_i),
    .det_score_i     (det_score_o),
    .det_flag_i      (det_flag_o)
  );

  prim_stream_check #(.Width(16), .Name("chip_top.audio")) u_check_audio (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .valid_i (audio_valid_i),
    .ready_i (audio_ready_o),
    .data_i  (audio_sample_i)
  );
  prim_stream_check #(.Width(32 + 16 + 1), .Name("chip_top.det")) u_check_det (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .valid_i (det_valid_o),
    .ready_i (det_ready_i),
    .data_i  ({det_window_o, det_score_o, det_flag_o})
  );
endmodule
