// Purpose: the configuration register block of chip_top (map: docs/registers.md, generated
// from refmodel/chip/regs.py into chip_reg_pkg).
//
// Ports:   one request per cycle on reg_req_i; its response (rdata, error) is reg_rvalid_o one
//          cycle later.  A rejected access (bad or misaligned address, write to a read-only
//          register, weight write while a window runs or past the weight memory) changes
//          nothing but ERR_CAUSE and ERRORS, and answers with reg_err_o.
//          Weight writes go out on wl_* in the request's cycle; the detector answers wl_err_i
//          one cycle later (with the response) when the address is past its memory, and that
//          error joins the write's response.  WLOAD_ADDR advances with every forwarded write.
// Latency: 1 cycle request to response; CTRL.SOFT_RESET gives a one-cycle clear_o pulse.
module chip_regs
  import chip_reg_pkg::*;
(
  input  logic                clk_i,            // clock
  input  logic                rst_ni,           // asynchronous reset, active low
  // configuration port
  input  logic                reg_req_i,        // request valid
  input  logic                reg_we_i,         // 1: write, 0: read
  input  logic [RegAddrW-1:0] reg_addr_i,       // byte address
  input  logic [RegDataW-1:0] reg_wdata_i,      // write data
  output logic                reg_rvalid_o,     // response valid (cycle after the request)
  output logic [RegDataW-1:0] reg_rdata_o,      // read data (0 for writes and errors)
  output logic                reg_err_o,        // the access was rejected
  // control outputs
  output logic                enable_o,         // CTRL.ENABLE
  output logic                clear_o,          // soft reset pulse (one cycle)
  output logic [ThresholdValueW-1:0] threshold_o,  // THRESHOLD, UQ1.16
  output logic                wl_valid_o,       // weight write to the detector
  output logic [WloadAddrAddrW-1:0] wl_addr_o,  // weight word address (WLOAD_ADDR.ADDR)
  output logic [WloadDataDataW-1:0] wl_data_o,  // weight word
  input  logic                wl_err_i,         // detector refused last cycle's wl write
  // status and events from the datapath
  input  logic                window_active_i,  // a detection window is part-way
  input  logic                frame_i,          // a feature vector went to the detector
  input  logic                det_i,            // a detection was handed out
  input  logic [LastDetScoreW-1:0] det_score_i, // its score, UQ0.16
  input  logic                det_flag_i        // its flag
);
  localparam int NumCauses = 4;

  // ---------------------------------------------------------------- decode
  logic aligned, hit_ctrl, hit_status, hit_thr, hit_waddr, hit_wdata;
  logic hit_frames, hit_windows, hit_errors, hit_cause, hit_last, hit_any, hit_ro;

  always_comb begin
    aligned     = reg_addr_i[1:0] == 2'b00;
    hit_ctrl    = aligned && reg_addr_i == RegAddrW'(RegCtrlOff);
    hit_status  = aligned && reg_addr_i == RegAddrW'(RegStatusOff);
    hit_thr     = aligned && reg_addr_i == RegAddrW'(RegThresholdOff);
    hit_waddr   = aligned && reg_addr_i == RegAddrW'(RegWloadAddrOff);
    hit_wdata   = aligned && reg_addr_i == RegAddrW'(RegWloadDataOff);
    hit_frames  = aligned && reg_addr_i == RegAddrW'(RegFramesOff);
    hit_windows = aligned && reg_addr_i == RegAddrW'(RegWindowsOff);
    hit_errors  = aligned && reg_addr_i == RegAddrW'(RegErrorsOff);
    hit_cause   = aligned && reg_addr_i == RegAddrW'(RegErrCauseOff);
    hit_last    = aligned && reg_addr_i == RegAddrW'(RegLastDetOff);
    hit_ro      = hit_status || hit_frames || hit_windows || hit_errors || hit_last;
    hit_any     = hit_ctrl || hit_thr || hit_waddr || hit_wdata || hit_cause || hit_ro;
  end

  // ---------------------------------------------------------------- state
  logic                       enable_q, enable_d;
  logic                       clear_q, clear_d;
  logic [ThresholdValueW-1:0] thr_q, thr_d;
  logic [WloadAddrAddrW-1:0]  waddr_q, waddr_d;
  logic [31:0]                frames_q, frames_d, windows_q, windows_d, errors_q, errors_d;
  logic [NumCauses-1:0]       cause_q, cause_d;
  logic [LastDetScoreW-1:0]   last_score_q, last_score_d;
  logic                       last_flag_q, last_flag_d;
  logic                       rvalid_q, rerr_q, rerr_d;
  logic [RegDataW-1:0]        rdata_q, rdata_d;

  logic wr, rd, req_err, late_range;
  logic [NumCauses-1:0] new_cause;
  logic wl_sent_q;  // a weight write went to the detector last cycle

  assign wr = reg_req_i && reg_we_i;
  assign rd = reg_req_i && !reg_we_i;

  // The weight write goes out unless the window lock refuses it.
  assign wl_valid_o = wr && hit_wdata && !window_active_i;
  assign wl_addr_o  = waddr_q;
  assign wl_data_o  = reg_wdata_i[WloadDataDataW-1:0];

  // Causes of this cycle's request, plus the detector's late refusal of last cycle's write.
  always_comb begin
    new_cause                        = '0;
    new_cause[ErrCauseBadAddrLsb]    = reg_req_i && !hit_any;
    new_cause[ErrCauseRoWriteLsb]    = wr && hit_ro;
    new_cause[ErrCauseWloadBusyLsb]  = wr && hit_wdata && window_active_i;
    req_err                          = |new_cause;
    late_range                       = wl_sent_q && wl_err_i;
    new_cause[ErrCauseWloadRangeLsb] = late_range;
  end

  always_comb begin
    enable_d     = enable_q;
    clear_d      = 1'b0;
    thr_d        = thr_q;
    waddr_d      = waddr_q;
    frames_d     = frames_q + 32'(frame_i);
    windows_d    = windows_q + 32'(det_i);
    errors_d     = errors_q + 32'(req_err) + 32'(late_range);
    cause_d      = cause_q | new_cause;
    last_score_d = det_i ? det_score_i : last_score_q;
    last_flag_d  = det_i ? det_flag_i : last_flag_q;
    if (wr && hit_ctrl) begin
      enable_d = reg_wdata_i[CtrlEnableLsb];
      clear_d  = reg_wdata_i[CtrlSoftResetLsb];
    end
    if (wr && hit_thr) thr_d = reg_wdata_i[ThresholdValueLsb +: ThresholdValueW];
    if (wr && hit_waddr) waddr_d = reg_wdata_i[WloadAddrAddrW-1:0];
    if (wl_valid_o) waddr_d = waddr_q + WloadAddrAddrW'(1);
    if (wr && hit_cause) cause_d = (cause_q & ~reg_wdata_i[NumCauses-1:0]) | new_cause;
    if (clear_q) begin
      // The soft reset restarts the datapath's counters; configuration stays.
      frames_d     = '0;
      windows_d    = '0;
      last_score_d = '0;
      last_flag_d  = 1'b0;
    end
  end

  // Read data, registered with the response.
  always_comb begin
    rdata_d = '0;
    rerr_d  = req_err;
    if (rd) begin
      unique case (1'b1)
        hit_ctrl:    rdata_d[CtrlEnableLsb] = enable_q;
        hit_status: begin
          rdata_d[StatusEnabledLsb]      = enable_q;
          rdata_d[StatusWindowActiveLsb] = window_active_i;
          rdata_d[StatusErrorLsb]        = |cause_q;
        end
        hit_thr:     rdata_d[ThresholdValueLsb +: ThresholdValueW] = thr_q;
        hit_waddr:   rdata_d[WloadAddrAddrW-1:0] = waddr_q;
        hit_frames:  rdata_d = frames_q;
        hit_windows: rdata_d = windows_q;
        hit_errors:  rdata_d = errors_q;
        hit_cause:   rdata_d[NumCauses-1:0] = cause_q;
        hit_last: begin
          rdata_d[LastDetScoreLsb +: LastDetScoreW] = last_score_q;
          rdata_d[LastDetFlagLsb]                   = last_flag_q;
        end
        default:     rdata_d = '0;  // WLOAD_DATA reads 0; unmapped is an error
      endcase
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      enable_q     <= 1'(RegCtrlReset >> CtrlEnableLsb);
      clear_q      <= 1'b0;
      thr_q        <= ThresholdValueW'(RegThresholdReset >> ThresholdValueLsb);
      waddr_q      <= '0;
      frames_q     <= '0;
      windows_q    <= '0;
      errors_q     <= '0;
      cause_q      <= '0;
      last_score_q <= '0;
      last_flag_q  <= 1'b0;
      rvalid_q     <= 1'b0;
      wl_sent_q    <= 1'b0;
      rerr_q       <= 1'b0;
      rdata_q      <= '0;
    end else begin
      enable_q     <= enable_d;
      clear_q      <= clear_d;
      thr_q        <= thr_d;
      waddr_q      <= waddr_d;
      frames_q     <= frames_d;
      windows_q    <= windows_d;
      errors_q     <= errors_d;
      cause_q      <= cause_d;
      last_score_q <= last_score_d;
      last_flag_q  <= last_flag_d;
      rvalid_q     <= reg_req_i;
      wl_sent_q    <= wl_valid_o;
      rerr_q       <= rerr_d;
      rdata_q      <= rdata_d;
    end
  end

  assign enable_o     = enable_q;
  assign clear_o      = clear_q;
  assign threshold_o  = thr_q;
  assign reg_rvalid_o = rvalid_q;
  assign reg_rdata_o  = rdata_q;
  assign reg_err_o    = rerr_q || late_range;

`ifndef SYNTHESIS
  always @(posedge clk_i) begin
    if (rst_ni === 1'b1 && (^{reg_req_i, (reg_req_i ? {reg_we_i, reg_addr_i} : 9'd0)}) === 1'bx)
    begin
      $fatal(1, "chip_regs: X on the configuration request");
    end
  end
`endif
endmodule
