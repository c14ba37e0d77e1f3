// Purpose: test-bench harness around chip_top that plays audio and weight words from
// blocks written by Python, so the test bench wakes once per block, not once per sample.
//
// Ports:   every chip_top port under the same name, passed through, except the clock (made
//          here, see Clock) and the audio input (audio_valid_i / audio_ready_o /
//          audio_sample_i), which the block player drives.
//          Block player (audio): Python writes a block into the buffers blk_samples and
//          blk_gaps (internal variables, not ports), then offers it with blk_valid_i high and
//          holds it, with the buffers, blk_len_i and pace_i stable, until blk_done_o toggles;
//          in that same time step it either lowers blk_valid_i or offers the next block.
//          Sample k is blk_samples[16k+15:16k] (int16), its idle gap before it is
//          blk_gaps[GapW*k +: GapW] cycles (0 = back to back).  pace_i = N > 0 also holds
//          every sample back until N cycles after the previous one was presented (a
//          converter's sample clock); a sample still waiting for ready when the next one
//          falls due counts in overruns_o and is still delivered.  pace_i = 0: gaps only.
//          Burst player (weights): the same handshake on wb_valid_i / wb_done_o writes
//          wb_words_i[16k+15:16k], k < wb_len_i, to WLOAD_DATA through reg_* and records each
//          write's reg_err_o in wb_errs_o[k].  Python leaves reg_req_i low while it runs.
// Timing:  a block starts at the first rising edge where the player is idle and blk_valid_i
//          is high, and blk_done_o toggles at the edge where its last sample is taken (so
//          one idle cycle separates blocks).  Samples move with the design's valid/ready
//          rules: valid never waits for ready and holds with stable data until ready.  The
//          burst player issues one write every 2 cycles; wb_done_o toggles at the edge where
//          the last response is recorded.  Both players come out of reset idle.
// Clock:   generated here, not by the test bench, so that no clock edge goes through the
//          simulator's programming interface: clk_i (an internal signal, still reachable as
//          dut.clk_i) stays low until Python writes a non-zero half period to clk_half_ns_i,
//          then toggles every clk_half_ns_i ns (first rising edge one half period later);
//          later writes to clk_half_ns_i change the period from the next edge on.
module chip_tb
  import chip_reg_pkg::*;
#(
  parameter int Hidden   = 32,    // LSTM hidden size H (passed to chip_top)
  parameter int Lanes    = 8,     // MAC lanes P (passed to chip_top)
  parameter int Window   = 198,   // frames per detection window (passed to chip_top)
  parameter int BlockLen = 1024,  // samples per audio block
  parameter int GapW     = 4,     // bits per idle-gap length
  parameter int BurstLen = 128    // weight words per burst (a port: kept narrow, see below)
) (
  input  logic [15:0]                clk_half_ns_i,  // clock half period in ns; 0: stopped
  input  logic                       rst_ni,         // asynchronous reset, active low
  // audio block player
  input  logic                       blk_valid_i,    // a block is offered (held until done)
  input  logic [$clog2(BlockLen+1)-1:0] blk_len_i,      // samples in the block (1..BlockLen)
  input  logic [15:0]                pace_i,         // cycles per sample; 0: gaps only
  output logic                       blk_done_o,     // toggles when a block's last sample went
  output logic [31:0]                overruns_o,     // samples not taken before the next was due
  // weight burst player
  input  logic                       wb_valid_i,     // a burst is offered (held until done)
  input  logic [BurstLen*WloadDataDataW-1:0] wb_words_i,  // word k at [16k+15:16k]
  input  logic [$clog2(BurstLen+1)-1:0] wb_len_i,       // words in the burst (1..BurstLen)
  output logic                       wb_done_o,      // toggles when a burst's last write ended
  output logic [BurstLen-1:0]        wb_errs_o,      // reg_err_o of write k (valid after done)
  // feature tap
  output logic                       tap_valid_o,    // a feature vector moves to the detector
  output logic [31:0]                tap_frame_o,    // its frame index since reset
  output logic [255:0]               tap_feat_o,     // its 32 codes, band b at [8b+7:8b]
  // detections
  output logic                       det_valid_o,    // detection valid
  input  logic                       det_ready_i,    // consumer accepts
  output logic [31:0]                det_window_o,   // window index since reset
  output logic [15:0]                det_score_o,    // score, UQ0.16
  output logic                       det_flag_o,     // score >= THRESHOLD
  output logic                       det_irq_o,      // one-cycle pulse: flagged detection taken
  output logic [31:0]                det_wait_o,     // cycles the offered detection has waited
                                                     // for det_ready_i (0 if taken at once)
  // configuration port (the burst player takes it over while a burst runs)
  input  logic                       reg_req_i,      // request valid
  input  logic                       reg_we_i,       // 1: write
  input  logic [RegAddrW-1:0]        reg_addr_i,     // byte address
  input  logic [RegDataW-1:0]        reg_wdata_i,    // write data
  output logic                       reg_rvalid_o,   // response valid (cycle after request)
  output logic [RegDataW-1:0]        reg_rdata_o,    // read data
  output logic                       reg_err_o       // the access was rejected
);
  localparam int BlkCntW = $clog2(BlockLen + 1);  // counts 0..BlockLen
  localparam int WbCntW  = $clog2(BurstLen + 1);  // counts 0..BurstLen
  localparam int WbIdxW  = $clog2(BurstLen);      // indexes 0..BurstLen-1

  // ---------------------------------------------------------------- clock
  logic clk_i;

  initial begin : p_clock
    clk_i = 1'b0;
    forever begin
      wait (clk_half_ns_i != 16'd0);
      // the half period is never 0 here (Verilator is built with --no-sched-zero-delay)
      /* verilator lint_off ZERODLY */
      #(clk_half_ns_i) clk_i = !clk_i;
      /* verilator lint_on ZERODLY */
    end
  end

  // ---------------------------------------------------------------- audio block buffers
  // Written by the test bench through the simulator interface, never by HDL.  Not ports:
  // the model Verilator builds copies every top-level input at each evaluation (twice per
  // clock cycle), which for buffers this wide is a large share of the simulation time.
  /* verilator lint_off UNDRIVEN */
  logic [BlockLen*16-1:0]   blk_samples;  // int16 samples, sample k at [16k+15:16k]
  logic [BlockLen*GapW-1:0] blk_gaps;     // idle cycles before sample k
  /* verilator lint_on UNDRIVEN */

  // ---------------------------------------------------------------- audio block player
  logic                audio_valid, audio_ready;
  logic [15:0]         sample_q, sample_d;      // the sample on offer
  logic                busy_q, busy_d;          // a block is being played
  logic                valid_q, valid_d;        // a sample is on offer
  logic [BlkCntW-1:0]  idx_q, idx_d;            // sample on offer, or the next one to offer
  logic [GapW-1:0]     gap_q, gap_d;            // idle cycles still due before sample idx_q
  logic [15:0]         since_q, since_d;        // cycles since a sample was offered (saturates)
  logic                done_q, done_d;
  logic [31:0]         overruns_q, overruns_d;
  logic                start;                   // a block starts at this edge
  logic                take;                    // the chip takes the sample on offer
  logic                step;                    // this edge decides what to offer next
  logic                last;                    // ... and the block has no sample left
  logic                offer;                   // sample next_idx goes on offer at this edge
  logic [BlkCntW-1:0]  next_idx;
  logic [GapW-1:0]     next_gap;
  logic [16:0]         elapsed;                 // cycles from the last offer to this edge
  logic                due;                     // pacing lets the next sample go at this edge

  // Continuous assignments only: Icarus 11 re-runs every always_comb elaborated before one
  // that runs (see rtl/prim/prim_round_sat.sv), and this harness is elaborated after the whole chip.
  assign audio_valid = valid_q;
  assign elapsed     = {1'b0, since_q} + 17'd1;
  assign due         = elapsed >= {1'b0, pace_i};
  assign start       = !busy_q && blk_valid_i;
  assign take        = busy_q && valid_q && audio_ready;
  assign step        = start || take || (busy_q && !valid_q);  // or waiting out a gap or pace
  assign next_idx    = start ? '0 : take ? idx_q + BlkCntW'(1) : idx_q;
  assign next_gap    = start ? blk_gaps[0 +: GapW]
                     : take ? blk_gaps[GapW * 32'(next_idx) +: GapW]  // unused past the end
                     : (gap_q == '0) ? gap_q : gap_q - GapW'(1);
  assign last        = step && next_idx == blk_len_i;
  assign offer       = step && !last && next_gap == '0 && due;
  assign busy_d      = (busy_q || start) && !last;
  assign valid_d     = offer || (valid_q && !take);
  assign idx_d       = (step && !last) ? next_idx : idx_q;
  assign gap_d       = (step && !last) ? next_gap : gap_q;
  assign done_d      = last ? !done_q : done_q;
  assign sample_d    = offer ? blk_samples[16 * 32'(next_idx) +: 16] : sample_q;
  assign since_d     = offer ? '0 : (since_q == '1) ? since_q : since_q + 16'd1;
  // the sample on offer is still waiting at the edge where the next one falls due
  assign overruns_d  = overruns_q + 32'(valid_q && !audio_ready && elapsed == {1'b0, pace_i});

  // Two register groups, so that an event-driven simulator does only the work a cycle needs:
  // the block state changes only at edges that decide what to offer next (step; a take is
  // one), while the pacing counter moves on every cycle until it saturates.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q     <= 1'b0;
      valid_q    <= 1'b0;
      idx_q      <= '0;
      gap_q      <= '0;
      sample_q   <= '0;
      done_q     <= 1'b0;
    end else if (step) begin
      busy_q     <= busy_d;
      valid_q    <= valid_d;
      idx_q      <= idx_d;
      gap_q      <= gap_d;
      sample_q   <= sample_d;
      done_q     <= done_d;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      since_q    <= '1;  // the first sample after reset is due at once
      overruns_q <= '0;
    end else begin
      since_q    <= since_d;
      overruns_q <= overruns_d;
    end
  end

  assign blk_done_o = done_q;
  assign overruns_o = overruns_q;

  // ---------------------------------------------------------------- weight burst player
  logic                wb_busy_q, wb_busy_d;    // a burst is being written
  logic                wb_req_q, wb_req_d;      // write wb_idx_q is on reg_* this cycle
  logic [WbIdxW-1:0]   wb_idx_q, wb_idx_d;      // word being written
  logic [BurstLen-1:0] wb_errs_q;              // written bit by bit: no wide copy per cycle
  logic                wb_done_q, wb_done_d;
  logic [WbCntW-1:0]   wb_next;
  logic                wb_start, wb_resp;       // a burst starts; a write's response is here
  logic                wb_last;                 // ... and it was the burst's last write

  assign wb_next   = WbCntW'(wb_idx_q) + WbCntW'(1);
  assign wb_start  = !wb_busy_q && wb_valid_i;
  assign wb_resp   = wb_busy_q && !wb_req_q;    // the response to write wb_idx_q is on reg_*
  assign wb_last   = wb_resp && wb_next == wb_len_i;
  assign wb_busy_d = (wb_busy_q || wb_start) && !wb_last;
  assign wb_req_d  = wb_start || (wb_resp && !wb_last);
  assign wb_idx_d  = wb_start ? '0 : (wb_resp && !wb_last) ? wb_idx_q + WbIdxW'(1) : wb_idx_q;
  assign wb_done_d = wb_last ? !wb_done_q : wb_done_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wb_busy_q <= 1'b0;
      wb_req_q  <= 1'b0;
      wb_idx_q  <= '0;
      wb_done_q <= 1'b0;
    end else begin
      wb_busy_q <= wb_busy_d;
      wb_req_q  <= wb_req_d;
      wb_idx_q  <= wb_idx_d;
      wb_done_q <= wb_done_d;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wb_errs_q <= '0;
    end else if (wb_start) begin
      wb_errs_q <= '0;
    end else if (wb_resp) begin
      wb_errs_q[wb_idx_q] <= reg_err_o;
    end
  end

  assign wb_done_o = wb_done_q;
  assign wb_errs_o = wb_errs_q;

  logic                top_req, top_we;
  logic [RegAddrW-1:0] top_addr;
  logic [RegDataW-1:0] top_wdata;

  assign top_req   = wb_busy_q ? wb_req_q : reg_req_i;
  assign top_we    = wb_busy_q ? 1'b1 : reg_we_i;
  assign top_addr  = wb_busy_q ? RegAddrW'(RegWloadDataOff) : reg_addr_i;
  assign top_wdata = wb_busy_q ? RegDataW'(wb_words_i[WloadDataDataW * 32'(wb_idx_q) +:
                                                      WloadDataDataW])
                               : reg_wdata_i;

  // ---------------------------------------------------------------- backpressure counter
  // Cycles det_valid_o has been high with det_ready_i low (0 while nothing is offered and after
  // every transfer): sampled with a detection, how long it waited (backpressure coverage).
  logic [31:0] det_wait_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      det_wait_q <= '0;
    end else if (!det_valid_o || det_ready_i) begin
      det_wait_q <= '0;
    end else if (det_wait_q != '1) begin
      det_wait_q <= det_wait_q + 32'd1;
    end
  end

  assign det_wait_o = det_wait_q;

  // ---------------------------------------------------------------- the chip
  chip_top #(
    .Hidden (Hidden),
    .Lanes  (Lanes),
    .Window (Window)
  ) u_top (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .audio_valid_i  (audio_valid),
    .audio_ready_o  (audio_ready),
    .audio_sample_i (sample_q),
    .tap_valid_o    (tap_valid_o),
    .tap_frame_o    (tap_frame_o),
    .tap_feat_o     (tap_feat_o),
    .det_valid_o    (det_valid_o),
    .det_ready_i    (det_ready_i),
    .det_window_o   (det_window_o),
    .det_score_o    (det_score_o),
    .det_flag_o     (det_flag_o),
    .det_irq_o      (det_irq_o),
    .reg_req_i      (top_req),
    .reg_we_i       (top_we),
    .reg_addr_i     (top_addr),
    .reg_wdata_i    (top_wdata),
    .reg_rvalid_o   (reg_rvalid_o),
    .reg_rdata_o    (reg_rdata_o),
    .reg_err_o      (reg_err_o)
  );
endmodule
