// Purpose: 256-point complex radix-2 DIT FFT of the mel front end (refmodel mel/fft.py fft_stage):
// loads one frame of windowed pairs, runs FftStages in-place stages with one butterfly unit,
// then reads out the (Z[k], Z[(FftPoints-k) mod FftPoints]) pairs the real split needs.
//
// Ports:   in_*  FramePairs items {v[2m+1], v[2m]} (signed FftInBits each) = z[m]; stored at
//                bitrev(m); in_ready_o is high only while loading;
//          out_* SplitItems items k = 0..FftPoints/2: out_k_o, out_zk_o = Z[k],
//                out_zm_o = Z[(FftPoints - k) mod FftPoints], each {im, re} signed FftBits.
// Timing:  load FramePairs cycles (at the input rate), FftStages x (FftPoints/2 + 2) cycles
//          of butterflies (2-cycle butterfly pipeline drained between stages), one cycle to
//          read Z[0], then 2 cycles per output item.  The next frame's load starts after the
//          last output handshake.
// Throughput: FramePairs + FftStages * (FftPoints / 2 + 2) + 1 + 2 * SplitItems cycles per
//          frame.
// Butterfly: t = W * b (4 products FftBits x TwiddleBits, summed at full width);
//          a' = round_sat((a << TwiddleFrac) + t, TwiddleFrac + sh_s, FftBits),
//          b' = round_sat((a << TwiddleFrac) - t, ...); sh_s = FftShiftMask[s].  A shift by 1
//          more is applied as an arithmetic (truncating) shift in front of the one rounding:
//          floor(x / 2) rounded at TwiddleFrac equals x rounded at TwiddleFrac + 1, exactly.
// Memory:  FftPoints words of {im, re} in two banks selected by address parity: a butterfly's
//          two addresses differ in one bit, so a and b (and a' and b') never share a bank.
//          Each bank has one write port and one registered read port (an SRAM macro): the
//          raw words are registered, and the bank swap and zero padding act after the register.
//          Words z[m], m >= FramePairs (the zero padding) are not written: stage 0 reads zero.
// Multipliers: 4 (FftBits x TwiddleBits).
module mel_fft
  import mel_pkg::*;
(
  input  logic                   clk_i,        // clock
  input  logic                   rst_ni,       // asynchronous reset, active low
  input  logic                   clear_i,      // synchronous soft reset (abandons the frame)
  input  logic                   in_valid_i,   // windowed pair valid
  output logic                   in_ready_o,   // loading
  input  logic [2*FftInBits-1:0] in_pair_i,    // {v[2m+1], v[2m]} = {Im z[m], Re z[m]}
  output logic                   out_valid_o,  // output pair valid
  input  logic                   out_ready_i,  // consumer accepts
  output logic [FftAddrBits-1:0] out_k_o,      // k = 0..FftPoints/2
  output logic [2*FftBits-1:0]   out_zk_o,     // Z[k], {im, re}
  output logic [2*FftBits-1:0]   out_zm_o      // Z[(FftPoints - k) mod FftPoints], {im, re}
);
  localparam int AW     = FftAddrBits;
  localparam int HalfN  = FftPoints / 2;
  localparam int BW     = AW - 1;                     // bank address width
  localparam int WordW  = 2 * FftBits;
  localparam int StW    = prim_util_pkg::idx_width(FftStages);
  localparam int CntW   = AW;                          // butterfly counter 0..HalfN + 1
  localparam int ProdW  = FftBits + TwiddleBits;       // one product, exact
  localparam int SumW   = ProdW + 2;                   // (a << TwiddleFrac) +/- (p1 +/- p2)
  localparam int IdxW   = prim_util_pkg::idx_width(FramePairs);
  localparam int TwShW  = prim_util_pkg::cnt_width(AW);  // twiddle index shift 0..AW
  localparam logic [FftStages-1:0] ShiftMask = FftStages'(FftShiftMask);

  typedef enum logic [1:0] {StLoad, StCalc, StOut} state_e;

  // ---------------------------------------------------------------- state
  state_e          state_q, state_d;
  logic [IdxW-1:0] load_q, load_d;      // load: pair index m
  logic [StW-1:0]  stage_q, stage_d;    // butterfly stage s
  logic [CntW-1:0] cnt_q, cnt_d;        // butterfly j = cnt (issue while cnt < HalfN)
  logic [AW-1:0]   k_q, k_d;            // output item k (SplitItems = done)
  logic            ph_q, ph_d;          // output phase: 0 reads Z[k], 1 reads Z[m]
  logic            out_valid_q, out_valid_d;
  logic [AW-1:0]   out_k_q;             // datapath registers: no reset, guarded by out_valid_q
  logic [WordW-1:0] out_zk_q;

  // ---------------------------------------------------------------- memory
  logic [WordW-1:0] bank0_q [HalfN];    // no reset: every word is written before it is read
  logic [WordW-1:0] bank1_q [HalfN];
  logic             we0, we1;
  logic [BW-1:0]    wa0, wa1;
  logic [WordW-1:0] wd0, wd1;


  // ---------------------------------------------------------------- issue (butterfly / read)
  logic             issue, in_fire, out_fire, out_free;
  logic [AW-1:0]    lo_mask, j_full, addr_a, addr_b, tw_addr, rd_addr;
  logic [TwShW-1:0] tw_shift;
  logic             bank_a;
  logic [BW-1:0]    ra0, ra1;
  logic [WordW-1:0] word_a, word_b;
  logic signed [TwiddleBits-1:0] tw_re, tw_im;
  logic             zero_a, zero_b, rd_en;
  // Registered bank reads (no reset: qualified by s1_valid_q or the output phase).
  logic [WordW-1:0] rd0_q, rd1_q;
  logic             bank_a_q, zero_a_q, zero_b_q;

  assign in_ready_o = state_q == StLoad;
  assign in_fire    = in_valid_i && in_ready_o;
  assign issue      = state_q == StCalc && cnt_q < CntW'(HalfN);
  assign out_fire   = out_valid_q && out_ready_i;
  assign out_free   = !out_valid_q || out_ready_i;

  // Butterfly j of stage s: a = (j with a 0 inserted at bit s), b = a + 2^s, twiddle
  // W_{2 FftPoints}^((j mod 2^s) << (AW - s)).
  assign lo_mask  = (AW'(1) << stage_q) - AW'(1);
  assign j_full   = AW'(cnt_q);
  assign addr_a   = ((j_full & ~lo_mask) << 1) | (j_full & lo_mask);
  assign addr_b   = addr_a | (AW'(1) << stage_q);
  assign tw_shift = TwShW'(AW) - TwShW'(stage_q);
  assign tw_addr  = (j_full & lo_mask) << tw_shift;
  // Output phase reads one word through port "a": Z[k], then Z[(FftPoints - k) mod FftPoints].
  assign rd_addr  = (state_q == StOut) ? (ph_q ? AW'(0) - k_q : k_q) : addr_a;

  // The two addresses sit in different banks (they differ in one bit).  The banks are read
  // on every issue and in the output phase (phase 1, or phase 0 when the item can leave), and
  // the words are used the next cycle.
  assign bank_a = ^rd_addr;
  assign ra0    = bank_a ? addr_b[AW-1:1] : rd_addr[AW-1:1];
  assign ra1    = bank_a ? rd_addr[AW-1:1] : addr_b[AW-1:1];
  assign word_a = bank_a_q ? rd1_q : rd0_q;
  assign word_b = bank_a_q ? rd0_q : rd1_q;
  // Zero padding: in stage 0 an address holding z[m], m >= FramePairs, reads as zero.
  logic [AW-1:0] rev_a, rev_b;
  for (genvar i = 0; i < AW; i++) begin : gen_bitrev
    assign rev_a[i] = addr_a[AW-1-i];
    assign rev_b[i] = addr_b[AW-1-i];
  end
  assign zero_a = stage_q == '0 && rev_a >= AW'(FramePairs);
  assign zero_b = stage_q == '0 && rev_b >= AW'(FramePairs);

  mel_twiddle_re_rom u_tw_re (.addr_i(tw_addr), .data_o(tw_re));
  mel_twiddle_im_rom u_tw_im (.addr_i(tw_addr), .data_o(tw_im));

  // ---------------------------------------------------------------- pipeline stage 1: operands
  logic             s1_valid_q, s1_shift_q;
  logic [AW-1:0]    s1_addr_q;           // address a (b = a + 2^s): no reset, guarded by valid
  logic [StW-1:0]   s1_stage_q;
  logic [WordW-1:0] s1_a, s1_b;        // the operands, from the registered bank reads
  logic signed [TwiddleBits-1:0] s1_wr_q, s1_wi_q;

  // ---------------------------------------------------------------- pipeline stage 2: products
  logic             s2_valid_q, s2_shift_q;
  logic [AW-1:0]    s2_addr_q;
  logic [StW-1:0]   s2_stage_q;
  logic [WordW-1:0] s2_a_q;
  logic signed [ProdW-1:0] s2_rr_q, s2_ii_q, s2_ri_q, s2_ir_q;
  logic signed [FftBits-1:0] b_re, b_im;

  assign s1_a = zero_a_q ? '0 : word_a;
  assign s1_b = zero_b_q ? '0 : word_b;
  assign b_re = $signed(s1_b[FftBits-1:0]);
  assign b_im = $signed(s1_b[WordW-1:FftBits]);

  // ---------------------------------------------------------------- butterfly sums and rounding
  logic signed [SumW-1:0] t_re, t_im, a_re_s, a_im_s;
  logic signed [SumW-1:0] sum_ar, sum_ai, dif_br, dif_bi;   // before the stage shift
  logic signed [SumW-1:0] rin_ar, rin_ai, rin_br, rin_bi;   // rounder inputs
  logic signed [FftBits-1:0] new_ar, new_ai, new_br, new_bi;
  logic [AW-1:0]    wr_addr_a, wr_addr_b;

  assign t_re   = SumW'(s2_rr_q) - SumW'(s2_ii_q);
  assign t_im   = SumW'(s2_ri_q) + SumW'(s2_ir_q);
  assign a_re_s = SumW'($signed(s2_a_q[FftBits-1:0])) <<< TwiddleFrac;
  assign a_im_s = SumW'($signed(s2_a_q[WordW-1:FftBits])) <<< TwiddleFrac;
  assign sum_ar = a_re_s + t_re;
  assign sum_ai = a_im_s + t_im;
  assign dif_br = a_re_s - t_re;
  assign dif_bi = a_im_s - t_im;
  assign rin_ar = s2_shift_q ? sum_ar >>> 1 : sum_ar;
  assign rin_ai = s2_shift_q ? sum_ai >>> 1 : sum_ai;
  assign rin_br = s2_shift_q ? dif_br >>> 1 : dif_br;
  assign rin_bi = s2_shift_q ? dif_bi >>> 1 : dif_bi;

  logic [3:0] unused_sat;  // the saturations never fire (docs/fixed_point_frontend.md)
  prim_round_sat #(.InW(SumW), .OutW(FftBits), .Shift(TwiddleFrac)) u_round_ar (
    .in_i(rin_ar), .out_o(new_ar), .sat_o(unused_sat[0])
  );
  prim_round_sat #(.InW(SumW), .OutW(FftBits), .Shift(TwiddleFrac)) u_round_ai (
    .in_i(rin_ai), .out_o(new_ai), .sat_o(unused_sat[1])
  );
  prim_round_sat #(.InW(SumW), .OutW(FftBits), .Shift(TwiddleFrac)) u_round_br (
    .in_i(rin_br), .out_o(new_br), .sat_o(unused_sat[2])
  );
  prim_round_sat #(.InW(SumW), .OutW(FftBits), .Shift(TwiddleFrac)) u_round_bi (
    .in_i(rin_bi), .out_o(new_bi), .sat_o(unused_sat[3])
  );

  assign wr_addr_a = s2_addr_q;
  assign wr_addr_b = s2_addr_q | (AW'(1) << s2_stage_q);

  // ---------------------------------------------------------------- memory write ports
  logic [AW-1:0]    load_addr, load_m;
  logic [WordW-1:0] load_word;
  assign load_m = AW'(load_q);
  for (genvar i = 0; i < AW; i++) begin : gen_load_bitrev
    assign load_addr[i] = load_m[AW-1-i];
  end
  // Sign-extend the windowed samples to the FFT word.
  assign load_word = {FftBits'($signed(in_pair_i[2*FftInBits-1:FftInBits])),
                      FftBits'($signed(in_pair_i[FftInBits-1:0]))};

  // Bank addresses drop bit 0; the address parity selects the bank.
  logic [BW-1:0] ld_idx, wr_idx_a, wr_idx_b;
  assign ld_idx   = load_addr[AW-1:1];
  assign wr_idx_a = wr_addr_a[AW-1:1];
  assign wr_idx_b = wr_addr_b[AW-1:1];

  // Writes: the loaded word, or a butterfly's two results (a and b always sit in different
  // banks; the parity of a's address says which).  wa*/wd* are don't-care without we*.
  logic             a_in_bank1;
  logic [WordW-1:0] new_a, new_b;
  assign a_in_bank1 = ^wr_addr_a;
  assign new_a      = {new_ai, new_ar};
  assign new_b      = {new_bi, new_br};
  assign we0 = in_fire ? !(^load_addr) : s2_valid_q;
  assign we1 = in_fire ? ^load_addr : s2_valid_q;
  assign wa0 = in_fire ? ld_idx : a_in_bank1 ? wr_idx_b : wr_idx_a;
  assign wa1 = in_fire ? ld_idx : a_in_bank1 ? wr_idx_a : wr_idx_b;
  assign wd0 = in_fire ? load_word : a_in_bank1 ? new_b : new_a;
  assign wd1 = in_fire ? load_word : a_in_bank1 ? new_a : new_b;

  always_ff @(posedge clk_i) begin
    if (we0) bank0_q[wa0] <= wd0;
  end
  always_ff @(posedge clk_i) begin
    if (we1) bank1_q[wa1] <= wd1;
  end

  // ---------------------------------------------------------------- sequencer
  // The counters move on most cycles, so they are continuous assignments; the state machine
  // itself changes only between the load, butterfly and output phases (an event-driven
  // simulator then re-evaluates it only there).
  logic load_last, pass_end, calc_end, out_busy, out_end;
  assign load_last = in_fire && load_q == IdxW'(FramePairs - 1);   // the frame is loaded
  assign pass_end  = state_q == StCalc && cnt_q == CntW'(HalfN + 1);  // a stage is written
  assign calc_end  = pass_end && stage_q == StW'(FftStages - 1);
  assign out_busy  = state_q == StOut && k_q != AW'(SplitItems);
  assign out_end   = state_q == StOut && k_q == AW'(SplitItems) && out_fire;

  // Bank reads: every issue, and the output phases that move (phase 1, or phase 0 once the
  // offered item can leave; Z[m] stays in the read register while the item waits).
  assign rd_en = issue || (out_busy && (ph_q || out_free));
  always_ff @(posedge clk_i) begin
    if (rd_en) rd0_q <= bank0_q[ra0];
  end
  always_ff @(posedge clk_i) begin
    if (rd_en) rd1_q <= bank1_q[ra1];
  end

  assign load_d  = (clear_i || load_last) ? '0 : in_fire ? load_q + IdxW'(1) : load_q;
  // Two idle cycles after the last issue: its results are written before stage s+1 reads.
  assign cnt_d   = (clear_i || load_last || pass_end) ? '0
                 : (state_q == StCalc) ? cnt_q + CntW'(1) : cnt_q;
  assign stage_d = (clear_i || load_last || calc_end) ? '0
                 : pass_end ? stage_q + StW'(1) : stage_q;
  // Output phase 0 reads Z[k] once the previous item can leave, phase 1 reads Z[m] and
  // offers the item.
  assign k_d         = (clear_i || calc_end) ? '0 : (out_busy && ph_q) ? k_q + AW'(1) : k_q;
  assign ph_d        = !clear_i && !calc_end && (out_busy ? !ph_q && out_free : ph_q);
  assign out_valid_d = !clear_i && ((out_busy && ph_q) || (out_valid_q && !out_fire));

  always_comb begin
    state_d = state_q;
    unique case (state_q)
      StLoad:  if (load_last) state_d = StCalc;
      StCalc:  if (calc_end)  state_d = StOut;
      StOut:   if (out_end)   state_d = StLoad;
      default: state_d = StLoad;
    endcase
    if (clear_i) state_d = StLoad;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StLoad;
      load_q      <= '0;
      stage_q     <= '0;
      cnt_q       <= '0;
      k_q         <= '0;
      ph_q        <= 1'b0;
      out_valid_q <= 1'b0;
      s1_valid_q  <= 1'b0;
      s2_valid_q  <= 1'b0;
    end else begin
      state_q     <= state_d;
      load_q      <= load_d;
      stage_q     <= stage_d;
      cnt_q       <= cnt_d;
      k_q         <= k_d;
      ph_q        <= ph_d;
      out_valid_q <= out_valid_d;
      s1_valid_q  <= issue && !clear_i;
      s2_valid_q  <= s1_valid_q && !clear_i;
    end
  end

  // Datapath pipeline registers: no reset, qualified by s1_valid_q / s2_valid_q, and loaded
  // only with a butterfly in flight.
  always_ff @(posedge clk_i) begin
    if (issue) begin
      s1_addr_q  <= addr_a;
      s1_stage_q <= stage_q;
      s1_shift_q <= ShiftMask[stage_q];
      zero_a_q   <= zero_a;
      zero_b_q   <= zero_b;
      s1_wr_q    <= tw_re;
      s1_wi_q    <= tw_im;
    end
  end
  always_ff @(posedge clk_i) begin
    if (s1_valid_q) begin
      s2_addr_q  <= s1_addr_q;
      s2_stage_q <= s1_stage_q;
      s2_shift_q <= s1_shift_q;
      s2_a_q     <= s1_a;
      // The four products are formed here rather than by continuous assignments: an
      // event-driven simulator then computes each once per butterfly, not once for every
      // operand register that changed.
      s2_rr_q    <= ProdW'(b_re) * ProdW'(s1_wr_q);
      s2_ii_q    <= ProdW'(b_im) * ProdW'(s1_wi_q);
      s2_ri_q    <= ProdW'(b_re) * ProdW'(s1_wi_q);
      s2_ir_q    <= ProdW'(b_im) * ProdW'(s1_wr_q);
    end
  end

  always_ff @(posedge clk_i) begin
    if (rd_en) bank_a_q <= bank_a;
  end

  // Output: Z[k] is read in phase 0 (when the previous item leaves) and registered in phase 1,
  // when Z[m] is read; Z[m] stays in the read register while the item is offered (no read
  // happens in phase 0 until the item can leave).
  always_ff @(posedge clk_i) begin
    if (out_busy && ph_q) begin
      out_zk_q <= word_a;
      out_k_q  <= k_q;
    end
  end

  assign out_valid_o = out_valid_q;
  assign out_k_o     = out_k_q;
  assign out_zk_o    = out_zk_q;
  // The read register changes on every butterfly: outside the output phase Z[m] reads as 0,
  // so the split's multipliers do not switch with it (48 AND gates).
  assign out_zm_o    = (state_q == StOut) ? word_a : '0;

  logic chk_rst_n;
  logic unused_bit;
  assign unused_bit = wr_addr_b[0];  // the bank address drops bit 0 (parity selects the bank)
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(2 * FftInBits), .Name("mel_fft.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_pair_i)
  );
  prim_stream_check #(.Width(AW + 2 * WordW), .Name("mel_fft.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i({out_k_o, out_zk_o, out_zm_o})
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (FftPoints != (1 << FftAddrBits) || FftStages != FftAddrBits || FramePairs > FftPoints
        || FftInBits > FftBits || SplitItems != HalfN + 1 || SumW > 62
        || FftShiftMask >= (1 << FftStages)) begin
      $fatal(1, "mel_fft: illegal mel_pkg constants");
    end
  end
`endif
endmodule
