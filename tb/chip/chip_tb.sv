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
//          wb_words[16k+15:16k], k < wb_len_i, to WLOAD_DATA through reg_* and records each
//          write's reg_err_o in wb_errs_o[k].  Python leaves reg_req_i low while it runs.
//          sync_i = e > 0 holds the block's first sample (valid low) until a cycle in which
//          event e happens (Events), and raises valid in that very cycle, so that the sample
//          arrives in it when the chip is ready; after SyncTimeout cycles without the event
//          it is offered anyway (counted in sync_misses_o).
// Events:  1 a frame is released (mel_framer hands on the last pair of a frame and frees a
//          hop), 2 a window ends (the last frame of a detection window goes to the
//          detector), 3 the soft-reset clear cycle, 4 a register write request on reg_*.
//          ev_hits_o counts, per event, the samples taken in a cycle where it happened.
// Monitors: checked every cycle, sticky bits in mon_bad_o (the test bench reads them):
//          0 det_irq_o is high exactly when a flagged detection is handed out;
//          1 tap_valid_o is high exactly when a feature vector moves to the detector;
//          2 FRAMES counts exactly those handshakes (zeroed by the soft reset);
//          3 WINDOWS counts exactly the detection handshakes (zeroed by the soft reset);
//          4 audio_ready is low while CTRL.ENABLE (as written on reg_*) is 0;
//          5 reg_rvalid_o is high exactly in the cycle after a register request;
//          6 LAST_DET holds the score and flag of the last detection handshake (zeroed by
//            the soft reset), whatever det_score_o shows while a detection waits.
// Tap log: every feature vector handed to the detector is also written, with the number of its
//          transfer edge, into the ring tap_ring (an internal variable, not a port): entry k
//          (k = count mod TapRing) is tap_ring[TapEntryW*k +: TapEntryW] = {edge (64 bits:
//          rising clock edges before the transfer edge since the clock started, never reset),
//          frame (32), codes (256)}; tap_count_o counts the vectors since reset, and
//          tap_half_o toggles at the edge where the count reaches a multiple of TapRing / 2,
//          so that the test bench reads half a ring per wake-up (in that same time step,
//          before the next half is overwritten).
// Links:   stalled_o[k] records valid high with ready low on link k, in data order: the
//          audio input, the outputs of mel_framer .. mel_quant (refmodel/mel/stages.py;
//          mel_quant's is the feature link into the detector), and the detection output.
// Timing:  a block starts at the first rising edge where the player is idle and blk_valid_i
//          is high, and blk_done_o toggles at the edge where its last sample is taken (so
//          one idle cycle separates blocks).  Samples move with the design's valid/ready
//          rules: valid never waits for ready and holds with stable data until ready.  The
//          burst player issues one write every 2 cycles; wb_done_o toggles at the edge where
//          the last response is recorded.  Both players come out of reset idle.
// Clock:   never made by the test bench, so that no clock edge goes through the simulator's
//          programming interface: clk_i (reachable as dut.clk_i) stays low until Python
//          writes a non-zero half period to clk_half_ns_i, then toggles every clk_half_ns_i ns
//          (first rising edge one half period later); later writes to clk_half_ns_i change the
//          period from the next edge on.  Under Verilator the build defines MELSTM_CXX_CLOCK:
//          clk_i is then an input that the simulation loop (tb/kit/verilator_main.cpp) toggles
//          by these rules, and the model needs no --timing; elsewhere the delay loop of
//          tb/kit/delay_clock.svh makes it (docs/speed.md).
module chip_tb
  import chip_reg_pkg::*;
#(
  parameter int Hidden   = 32,    // LSTM hidden size H (passed to chip_top)
  parameter int Lanes    = 8,     // MAC lanes P (passed to chip_top)
  parameter int Window   = 198,   // frames per detection window (passed to chip_top)
  parameter int BlockLen = 1024,  // samples per audio block
  parameter int GapW     = 4,     // bits per idle-gap length
  parameter int BurstLen = 128,   // weight words per burst (a port: kept narrow, see below)
  parameter int TapRing  = 64     // feature vectors in the tap log (see Tap log; even)
) (
`ifdef MELSTM_CXX_CLOCK
  input  logic                       clk_i,          // clock, toggled by the simulation loop
  /* verilator lint_off UNUSEDSIGNAL */               // (the simulation loop reads it)
`endif
  input  logic [15:0]                clk_half_ns_i,  // clock half period in ns; 0: stopped
`ifdef MELSTM_CXX_CLOCK
  /* verilator lint_on UNUSEDSIGNAL */
`endif
  input  logic                       rst_ni,         // asynchronous reset, active low
  // audio block player
  input  logic                       blk_valid_i,    // a block is offered (held until done)
  input  logic [$clog2(BlockLen+1)-1:0] blk_len_i,      // samples in the block (1..BlockLen)
  input  logic [15:0]                pace_i,         // cycles per sample; 0: gaps only
  input  logic [2:0]                 sync_i,         // hold a block's first sample for event
                                                     // sync_i (1..NumEvents, see Events); 0: no
  output logic                       blk_done_o,     // toggles when a block's last sample went
  output logic [31:0]                overruns_o,     // samples not taken before the next was due
  output logic [31:0]                sync_misses_o,  // held samples released by timeout
  output logic [31:0]                taken_o,        // audio samples the chip took since reset
  output logic [31:0]                clear_taken_o,  // taken_o after the last soft-reset edge
  // events, monitors and link coverage (see Events, Monitors, Links)
  output logic [NumEvents*16-1:0]    ev_hits_o,      // [16e +: 16]: samples taken in event e+1
  output logic [NumChecks-1:0]       mon_bad_o,      // sticky: monitor check k failed
  output logic [31:0]                mon_cycle_o,    // cycle of the first failure (since reset)
  output logic [NumLinks-1:0]        stalled_o,      // sticky: link k stalled while valid
  output logic                       det_held_win_o, // sticky: a window ended while a detection
                                                     // was held off by det_ready_i
  output logic                       chain_stalled_o,  // sticky: detection, feature and audio
                                                       // links all stalled in one cycle
  // weight burst player
  input  logic                       wb_valid_i,     // a burst is offered (held until done)
  input  logic [$clog2(BurstLen+1)-1:0] wb_len_i,       // words in the burst (1..BurstLen)
  output logic                       wb_done_o,      // toggles when a burst's last write ended
  output logic [BurstLen-1:0]        wb_errs_o,      // reg_err_o of write k (valid after done)
  // feature tap
  output logic                       tap_valid_o,    // a feature vector moves to the detector
  output logic [31:0]                tap_frame_o,    // its frame index since reset
  output logic [255:0]               tap_feat_o,     // its 32 codes, band b at [8b+7:8b]
  output logic [31:0]                tap_count_o,    // vectors logged since reset (Tap log)
  output logic                       tap_half_o,     // toggles when half the ring is full
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
  localparam int NumEvents   = 4;
  localparam int NumChecks   = 7;
  localparam int NumLinks    = 10;
  localparam int SyncTimeout = 8192;   // cycles a held sample waits for its event
  localparam int BlkCntW = $clog2(BlockLen + 1);  // counts 0..BlockLen
  localparam int WbCntW  = $clog2(BurstLen + 1);  // counts 0..BurstLen
  localparam int WbIdxW  = $clog2(BurstLen);      // indexes 0..BurstLen-1

  // ---------------------------------------------------------------- clock
`include "delay_clock.svh"

  // ---------------------------------------------------------------- audio and weight buffers
  // Written by the test bench through the simulator interface, never by HDL.  Not ports:
  // the model Verilator builds copies every top-level input at each evaluation (twice per
  // clock cycle), which for buffers this wide is a large share of the simulation time.
  /* verilator lint_off UNDRIVEN */
  logic [BlockLen*16-1:0]   blk_samples;  // int16 samples, sample k at [16k+15:16k]
  logic [BlockLen*GapW-1:0] blk_gaps;     // idle cycles before sample k
  logic [BurstLen*WloadDataDataW-1:0] wb_words;  // weight burst: word k at [16k+15:16k]
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
  logic                hold_q, hold_d;          // the first sample waits for event sync_i
  logic [15:0]         hold_cnt_q, hold_cnt_d;  // cycles it has waited
  logic                ev_sel;                  // event sync_i happens this cycle
  logic [NumEvents:1]  ev;                      // the events of this cycle
  logic [7:0]          ev_any;                  // ev by sync_i value (0: none)

  // Continuous assignments only: Icarus 11 re-runs every always_comb elaborated before one
  // that runs (see rtl/prim/prim_round_sat.sv), and this harness is elaborated after the whole chip.
  assign audio_valid = valid_q && !(hold_q && !ev_sel);
  assign elapsed     = {1'b0, since_q} + 17'd1;
  assign due         = elapsed >= {1'b0, pace_i};
  assign start       = !busy_q && blk_valid_i;
  assign take        = busy_q && audio_valid && audio_ready;
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

  // ---------------------------------------------------------------- events and sync
  logic                top_req, top_we;         // the chip's register port (player or Python)
  logic [RegAddrW-1:0] top_addr;
  logic [RegDataW-1:0] top_wdata;
  logic               frame_rel, win_end;
  logic               fe_fire, det_fire, audio_fire;
  logic [31:0]        misses_q, taken_q, clear_taken_q;
  logic [15:0]        hits_q [NumEvents];

  assign fe_fire    = u_top.u_detector.in_valid_i && u_top.u_detector.in_ready_o;
  assign det_fire   = det_valid_o && det_ready_i;
  assign audio_fire = audio_valid && audio_ready;
  assign frame_rel  = u_top.u_frontend.u_framer.frame_end;
  assign win_end    = fe_fire && (u_top.u_frontend.out_frame_o % 32'(Window)) == 32'(Window - 1);
  assign ev         = {top_req && top_we, u_top.clear, win_end, frame_rel};
  assign ev_any     = {{(7 - NumEvents){1'b0}}, ev, 1'b0};
  assign ev_sel     = ev_any[sync_i];
  assign hold_d     = start ? sync_i != 3'd0
                    : hold_q && !(valid_q && ev_sel) && hold_cnt_q != 16'(SyncTimeout - 1);
  assign hold_cnt_d = (start || !hold_q) ? '0 : hold_cnt_q + 16'd1;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      hold_q        <= 1'b0;
      hold_cnt_q    <= '0;
      misses_q      <= '0;
      taken_q       <= '0;
      clear_taken_q <= '0;
      for (int e = 0; e < NumEvents; e++) hits_q[e] <= '0;
    end else begin
      hold_q     <= hold_d;
      hold_cnt_q <= hold_cnt_d;
      if (hold_q && hold_cnt_q == 16'(SyncTimeout - 1) && !(valid_q && ev_sel)) begin
        misses_q <= misses_q + 32'd1;
      end
      taken_q <= taken_q + 32'(audio_fire);
      if (u_top.clear) clear_taken_q <= taken_q + 32'(audio_fire);
      for (int e = 0; e < NumEvents; e++) begin
        if (audio_fire && ev[e+1] && hits_q[e] != '1) hits_q[e] <= hits_q[e] + 16'd1;
      end
    end
  end

  assign sync_misses_o = misses_q;
  assign taken_o       = taken_q;
  assign clear_taken_o = clear_taken_q;
  for (genvar e = 0; e < NumEvents; e++) begin : gen_hits
    assign ev_hits_o[16*e +: 16] = hits_q[e];
  end

  // ---------------------------------------------------------------- monitors
  // Shadows kept from the ports and the handshakes alone, compared every cycle.
  logic                 en_q;          // CTRL.ENABLE as last written on reg_*
  logic [31:0]          frames_q, windows_q, cyc_q, first_q;
  logic                 req_q;         // a register request was taken at the last edge
  logic [15:0]          last_score_q;  // the last detection handed out (LAST_DET)
  logic                 last_flag_q;
  logic [NumChecks-1:0] bad, bad_q;

  always_comb begin
    bad    = '0;
    bad[0] = det_irq_o != (det_fire && det_flag_o);
    bad[1] = tap_valid_o != fe_fire;
    bad[2] = u_top.u_regs.frames_q != frames_q;
    bad[3] = u_top.u_regs.windows_q != windows_q;
    bad[4] = audio_ready && !en_q;
    bad[5] = reg_rvalid_o != req_q;
    bad[6] = {32'(u_top.u_regs.last_score_q), u_top.u_regs.last_flag_q}
             != {32'(last_score_q), last_flag_q};
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      en_q      <= 1'(RegCtrlReset >> CtrlEnableLsb);
      frames_q  <= '0;
      windows_q <= '0;
      cyc_q     <= '0;
      first_q   <= '0;
      bad_q     <= '0;
      req_q        <= 1'b0;
      last_score_q <= '0;
      last_flag_q  <= 1'b0;
    end else begin
      if (top_req && top_we && top_addr == RegAddrW'(RegCtrlOff)) begin
        en_q <= top_wdata[CtrlEnableLsb];
      end
      frames_q  <= u_top.clear ? '0 : frames_q + 32'(fe_fire);
      windows_q <= u_top.clear ? '0 : windows_q + 32'(det_fire);
      req_q     <= top_req;
      if (u_top.clear) begin
        last_score_q <= '0;
        last_flag_q  <= 1'b0;
      end else if (det_fire) begin
        last_score_q <= det_score_o;
        last_flag_q  <= det_flag_o;
      end
      cyc_q     <= cyc_q + 32'd1;
      if (bad_q == '0 && bad != '0) first_q <= cyc_q;
      bad_q     <= bad_q | bad;
    end
  end

  assign mon_bad_o   = bad_q;
  assign mon_cycle_o = first_q;

  // ---------------------------------------------------------------- tap log
  localparam int TapEntryW = 64 + 32 + 256;
  localparam int TapIdxW   = $clog2(TapRing);
  /* verilator lint_off UNUSEDSIGNAL */
  logic [TapRing*TapEntryW-1:0] tap_ring;  // read by the test bench only; no reset: only
                                           // logged entries are read
  /* verilator lint_on UNUSEDSIGNAL */
  logic [31:0]                  tap_count_q;
  logic                         tap_half_q;
  // rising clock edges so far: counts from the clock's start, never reset (a test-bench
  // counter, so an initial value rather than a reset)
  /* verilator lint_off PROCASSINIT */
  logic [63:0]                  edge_q = '0;
  /* verilator lint_on PROCASSINIT */

  always_ff @(posedge clk_i) edge_q <= edge_q + 64'd1;

  always_ff @(posedge clk_i) begin
    if (tap_valid_o) begin
      tap_ring[TapEntryW * 32'(tap_count_q[TapIdxW-1:0]) +: TapEntryW] <=
        {edge_q, tap_frame_o, tap_feat_o};
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tap_count_q <= '0;
      tap_half_q  <= 1'b0;
    end else if (tap_valid_o) begin
      tap_count_q <= tap_count_q + 32'd1;
      if (tap_count_q[TapIdxW-2:0] == '1) tap_half_q <= !tap_half_q;
    end
  end

  assign tap_count_o = tap_count_q;
  assign tap_half_o  = tap_half_q;

  // ---------------------------------------------------------------- link coverage
  logic [NumLinks-1:0] stall, stalled_q;
  logic                held_win_q, chain_q;

  assign stall = {det_valid_o && !det_ready_i,
                  u_top.u_frontend.out_valid_o && !u_top.u_frontend.out_ready_i,
                  u_top.u_frontend.log_valid && !u_top.u_frontend.log_ready,
                  u_top.u_frontend.mel_valid && !u_top.u_frontend.mel_ready,
                  u_top.u_frontend.pow_valid && !u_top.u_frontend.pow_ready,
                  u_top.u_frontend.spl_valid && !u_top.u_frontend.spl_ready,
                  u_top.u_frontend.fft_valid && !u_top.u_frontend.fft_ready,
                  u_top.u_frontend.win_valid && !u_top.u_frontend.win_ready,
                  u_top.u_frontend.fr_valid && !u_top.u_frontend.fr_ready,
                  audio_valid && !audio_ready};

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      stalled_q  <= '0;
      held_win_q <= 1'b0;
      chain_q    <= 1'b0;
    end else begin
      chain_q    <= chain_q || (stall[NumLinks-1] && stall[NumLinks-2] && stall[0]);
      stalled_q  <= stalled_q | stall;
      held_win_q <= held_win_q || (det_valid_o && !det_ready_i && win_end);
    end
  end

  assign stalled_o      = stalled_q;
  assign det_held_win_o = held_win_q;
  assign chain_stalled_o = chain_q;

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

  assign top_req   = wb_busy_q ? wb_req_q : reg_req_i;
  assign top_we    = wb_busy_q ? 1'b1 : reg_we_i;
  assign top_addr  = wb_busy_q ? RegAddrW'(RegWloadDataOff) : reg_addr_i;
  assign top_wdata = wb_busy_q ? RegDataW'(wb_words[WloadDataDataW * 32'(wb_idx_q) +:
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
