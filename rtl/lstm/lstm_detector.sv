// Purpose: the LSTM detector: one LSTM step per incoming feature vector on a Lanes-wide PE
// array, one detection (window index, score, flag) per window of Window vectors, bit-exact
// with refmodel.lstm.detector.run_fixed / detect.
//
// Streams: in_* (feature vectors, accepted one per step) and det_* (one detection per
//   window) follow the valid/ready convention of docs/architecture.md and are checked by
//   prim_stream_check.  Windows are consecutive and non-overlapping; h and c are 0 at every
//   window start.
// Load port: wl_valid_i/wl_addr_i/wl_data_i write one parameter word per cycle (address map
//   in lstm_mem and docs/fixed_point_detector.md section 12).  A write while window_active_o
//   is high, or to an address past the map, changes nothing and pulses wl_err_o the next
//   cycle.
// threshold_i (UQ1.16) is sampled when the window's head computation starts (after its last
//   step); clear_i returns to window 0, frame 0 with the state cleared and the weights kept.
// Throughput: 4 * Hidden / Lanes * (Inputs + Hidden) + 5 * Lanes / 4 + 3 cycles per step
//   (accepted vector to accepted vector at full input rate: the MACs of 4H/P passes, the last
//   pass's update, pipeline and drain; figures per configuration in docs/stages.md), and
//   Hidden + 2 cycles per window end (the head's run, added after a window's last step).
module lstm_detector
  import lstm_pkg::*;
#(
  parameter int Hidden = 32,   // H: 16, 32 or 64
  parameter int Lanes  = 8,    // P: 4, 8 or 16, divides 4H
  parameter int Window = 198   // frames per detection window
) (
  input  logic                        clk_i,            // clock
  input  logic                        rst_ni,           // asynchronous reset, active low
  input  logic                        clear_i,          // synchronous soft reset
  input  logic                        in_valid_i,       // feature vector stream
  output logic                        in_ready_o,
  input  logic [Inputs*CodeBits-1:0]  in_feat_i,        // 32 uint8 codes, band b at [8b+7:8b]
  input  logic [ThresholdBits-1:0]    threshold_i,      // flag threshold, UQ1.16
  input  logic                        wl_valid_i,       // weight load write
  input  logic [WlAddrBits-1:0]       wl_addr_i,        // flat word address
  input  logic [WlDataBits-1:0]       wl_data_i,        // word (int8 targets: bits [7:0])
  output logic                        wl_err_o,         // pulse: last write refused
  output logic                        window_active_o,  // a window is part-way
  output logic                        det_valid_o,      // detection stream
  input  logic                        det_ready_i,
  output logic [31:0]                 det_window_o,     // window index
  output logic [ScoreBits-1:0]        det_score_o,      // score, UQ0.16
  output logic                        det_flag_o        // score >= threshold
);
  // Widths of the links between the sub-blocks (each sub-block derives its own the same way).
  localparam int NPass  = n_pass(Hidden, Lanes);                           // passes per step
  localparam int WAddrW = prim_util_pkg::idx_width(w_depth(Hidden, Lanes));  // lane RAM address
  localparam int PassW  = prim_util_pkg::idx_width(NPass);                     // pass index width

  logic                       rd_en;
  logic [WAddrW-1:0]          w_raddr;
  logic [PassW-1:0]           b_raddr;
  logic [Lanes*WBits-1:0]     w_rdata;
  logic [Lanes*BBits-1:0]     b_rdata;
  logic [Hidden*WoutBits-1:0] wout;
  logic [BoutBits-1:0]        bout;
  logic                       mac_valid, mac_first, mac_last;
  logic [PassW-1:0]           mac_tag, res_tag;
  logic signed [HBits-1:0]    v;
  logic                       res_valid;
  logic [Lanes*AccBits-1:0]   res;
  logic                       upd_busy, first_step, swap, step_done;
  logic [Hidden*HBits-1:0]    h;
  logic [Hidden*CBits-1:0]    c;
  logic                       head_start, head_ready, head_busy;
  logic [31:0]                window;
  // step_done and c are observed by the test bench (step-by-step h and c against the model).
  logic                       unused_obs;

  lstm_seq #(.Hidden(Hidden), .Lanes(Lanes), .Window(Window)) u_seq (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .clear_i        (clear_i),
    .in_valid_i     (in_valid_i),
    .in_ready_o     (in_ready_o),
    .in_feat_i      (in_feat_i),
    .h_i            (h),
    .rd_en_o        (rd_en),
    .w_raddr_o      (w_raddr),
    .b_raddr_o      (b_raddr),
    .mac_valid_o    (mac_valid),
    .mac_first_o    (mac_first),
    .mac_last_o     (mac_last),
    .mac_tag_o      (mac_tag),
    .v_o            (v),
    .upd_busy_i     (upd_busy),
    .first_step_o   (first_step),
    .swap_o         (swap),
    .step_done_o    (step_done),
    .head_start_o   (head_start),
    .head_ready_i   (head_ready),
    .head_busy_i    (head_busy),
    .window_o       (window),
    .window_active_o(window_active_o)
  );

  lstm_mem #(.Hidden(Hidden), .Lanes(Lanes)) u_mem (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .wl_valid_i(wl_valid_i),
    .wl_addr_i (wl_addr_i),
    .wl_data_i (wl_data_i),
    .wl_lock_i (window_active_o),
    .wl_err_o  (wl_err_o),
    .rd_en_i   (rd_en),
    .w_raddr_i (w_raddr),
    .b_raddr_i (b_raddr),
    .w_rdata_o (w_rdata),
    .b_rdata_o (b_rdata),
    .wout_o    (wout),
    .bout_o    (bout)
  );

  lstm_pe_array #(.Lanes(Lanes), .TagW(PassW)) u_pe (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .clear_i    (clear_i),
    .mac_valid_i(mac_valid),
    .mac_first_i(mac_first),
    .mac_last_i (mac_last),
    .mac_tag_i  (mac_tag),
    .w_i        (w_rdata),
    .b_i        (b_rdata),
    .v_i        (v),
    .res_valid_o(res_valid),
    .res_tag_o  (res_tag),
    .res_o      (res)
  );

  lstm_update #(.Hidden(Hidden), .Lanes(Lanes)) u_update (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .clear_i     (clear_i),
    .res_valid_i (res_valid),
    .res_tag_i   (res_tag),
    .res_i       (res),
    .first_step_i(first_step),
    .swap_i      (swap),
    .busy_o      (upd_busy),
    .h_o         (h),
    .c_o         (c)
  );

  lstm_head #(.Hidden(Hidden)) u_head (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .clear_i     (clear_i),
    .start_i     (head_start),
    .ready_o     (head_ready),
    .busy_o      (head_busy),
    .window_i    (window),
    .threshold_i (threshold_i),
    .h_i         (h),
    .wout_i      (wout),
    .bout_i      (bout),
    .det_valid_o (det_valid_o),
    .det_ready_i (det_ready_i),
    .det_window_o(det_window_o),
    .det_score_o (det_score_o),
    .det_flag_o  (det_flag_o)
  );

  assign unused_obs = ^{step_done, c};

  // clear_i legally drops a pending detection (and the upstream's vector): the stream
  // checkers restart with it.
  logic check_rst_n;
  assign check_rst_n = rst_ni && !clear_i;

  prim_stream_check #(.Width(Inputs * CodeBits), .Name("lstm_detector.in")) u_check_in (
    .clk_i  (clk_i),
    .rst_ni (check_rst_n),
    .valid_i(in_valid_i),
    .ready_i(in_ready_o),
    .data_i (in_feat_i)
  );
  prim_stream_check #(.Width(32 + ScoreBits + 1), .Name("lstm_detector.det")) u_check_det (
    .clk_i  (clk_i),
    .rst_ni (check_rst_n),
    .valid_i(det_valid_o),
    .ready_i(det_ready_i),
    .data_i ({det_window_o, det_score_o, det_flag_o})
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (Hidden != 16 && Hidden != 32 && Hidden != 64) begin
      $fatal(1, "lstm_detector: Hidden=%0d must be 16, 32 or 64", Hidden);
    end
    if ((Lanes != 4 && Lanes != 8 && Lanes != 16) || ((4 * Hidden) % Lanes) != 0) begin
      $fatal(1, "lstm_detector: Lanes=%0d must be 4, 8 or 16 and divide 4*Hidden=%0d",
             Lanes, 4 * Hidden);
    end
    if (Window < 1) begin
      $fatal(1, "lstm_detector: Window=%0d must be >= 1", Window);
    end
    // The gate accumulator must hold its worst case exactly (DetectorConfig checks the same).
    if ((Inputs + Hidden) * (2.0 ** (WBits - 1)) * (2.0 ** VecFrac)
        + (2.0 ** (BBits - 1)) * (2.0 ** BiasShift) >= 2.0 ** (AccBits - 1)) begin
      $fatal(1, "lstm_detector: AccBits=%0d too narrow for Hidden=%0d", AccBits, Hidden);
    end
  end
  // Known values on the control outputs out of reset (stream payloads: prim_stream_check).
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni === 1'b1 && (^{wl_err_o, window_active_o, in_ready_o, det_valid_o}) === 1'bx) begin
      $fatal(1, "lstm_detector: X on a control output (wl_err=%b active=%b in_ready=%b det_valid=%b)",
             wl_err_o, window_active_o, in_ready_o, det_valid_o);
    end
  end
`endif
endmodule
