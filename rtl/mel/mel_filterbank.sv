// Purpose: sparse mel filterbank of the mel front end in one pass over the bins
// (refmodel mel/filterbank.py mel_stage, using its per-bin tables mel_bin_tables).
//
// Ports:   in_*  bins k in increasing order with P'[k] (unsigned PowerBits); bins outside
//                MelFirstBin..MelLastBin are consumed and ignored; bin MelFirstBin starts a
//                frame, bin MelLastBin ends it;
//          out_* M[b] = sum_k Wq[b, k] P'[k] (exact, unsigned MelAccBits), b = 0..NMels-1 in
//                order, NMels items per frame.
// Algorithm: bin k in segment s adds w_fall * P' to band s-1 and w_rise * P' to band s; the
//          segment never decreases and steps by at most 1 (checked by the generator), so two
//          accumulators suffice: when the segment steps from s to s+1, band s-1 is complete.
//          After MelLastBin (segment NMels) the last band is flushed in one extra cycle.
// Latency: a band leaves one cycle after the bin that completes it.
// Throughput: SplitItems + 1 cycles per frame: one bin per cycle (SplitItems bins per frame, as
//          mel_power sends them), and no bin in the cycle that flushes the last band.
// Multipliers: 2 (MelWeightBits x PowerBits, unsigned).
module mel_filterbank
  import mel_pkg::*;
(
  input  logic                  clk_i,        // clock
  input  logic                  rst_ni,       // asynchronous reset, active low
  input  logic                  clear_i,      // synchronous soft reset
  input  logic                  in_valid_i,   // bin valid
  output logic                  in_ready_o,   // stage accepts
  input  logic [BinBits-1:0]    in_k_i,       // bin index k
  input  logic [PowerBits-1:0]  in_p_i,       // P'[k], unsigned
  output logic                  out_valid_o,  // band value valid
  input  logic                  out_ready_i,  // consumer accepts
  output logic [MelAccBits-1:0] out_m_o       // M[b], unsigned; b counts 0..NMels-1
);
  localparam int RomAW = prim_util_pkg::idx_width(MelRomDepth);
  localparam int ProdW = MelWeightBits + PowerBits;

  logic                  valid_q, valid_d, flush_q, flush_d;
  logic [MelSegBits-1:0] seg_q, seg_d;          // segment of the previous bin
  logic [MelAccBits-1:0] fall_q, fall_d;        // band seg_q - 1, datapath: no reset
  logic [MelAccBits-1:0] rise_q, rise_d;        // band seg_q
  logic [MelAccBits-1:0] m_q, m_d;              // output word
  logic                  in_fire, out_free, in_range, first_bin, last_bin;
  logic [RomAW-1:0]      rom_addr;
  logic [MelSegBits-1:0] seg;
  logic [MelWeightBits-1:0] w_rise, w_fall;
  logic [ProdW-1:0]      p_rise, p_fall;

  assign out_free    = !valid_q || out_ready_i;
  assign in_ready_o  = out_free && !flush_q;
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;
  assign out_m_o     = m_q;

  assign in_range  = in_k_i >= BinBits'(MelFirstBin) && in_k_i <= BinBits'(MelLastBin);
  assign first_bin = in_k_i == BinBits'(MelFirstBin);
  assign last_bin  = in_k_i == BinBits'(MelLastBin);
  assign rom_addr  = RomAW'(in_k_i - BinBits'(MelFirstBin));

  mel_seg_rom    u_seg  (.addr_i(rom_addr), .data_o(seg));
  mel_w_rise_rom u_rise (.addr_i(rom_addr), .data_o(w_rise));
  mel_w_fall_rom u_fall (.addr_i(rom_addr), .data_o(w_fall));

  assign p_rise = ProdW'(w_rise) * ProdW'(in_p_i);
  assign p_fall = ProdW'(w_fall) * ProdW'(in_p_i);

  always_comb begin
    valid_d = valid_q;
    flush_d = flush_q;
    seg_d   = seg_q;
    fall_d  = fall_q;
    rise_d  = rise_q;
    m_d     = m_q;
    if (out_ready_i) valid_d = 1'b0;
    if (flush_q && out_free) begin
      // After the last bin: band seg_q - 1 = NMels - 1 is complete.
      m_d     = fall_q;
      valid_d = 1'b1;
      flush_d = 1'b0;
    end
    if (in_fire && in_range) begin
      if (first_bin) begin
        fall_d = MelAccBits'(p_fall);
        rise_d = MelAccBits'(p_rise);
        seg_d  = seg;
      end else if (seg == seg_q) begin
        fall_d = fall_q + MelAccBits'(p_fall);
        rise_d = rise_q + MelAccBits'(p_rise);
      end else begin
        // Segment stepped to seg_q + 1: band seg_q - 1 is complete (none before segment 1).
        if (seg_q != '0) begin
          m_d     = fall_q;
          valid_d = 1'b1;
        end
        fall_d = rise_q + MelAccBits'(p_fall);
        rise_d = MelAccBits'(p_rise);
        seg_d  = seg;
      end
      if (last_bin) flush_d = 1'b1;
    end
    if (clear_i) begin
      valid_d = 1'b0;
      flush_d = 1'b0;
      seg_d   = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      flush_q <= 1'b0;
      seg_q   <= '0;
    end else begin
      valid_q <= valid_d;
      flush_q <= flush_d;
      seg_q   <= seg_d;
    end
  end

  // Accumulators and the output word: no reset (bin MelFirstBin reloads them every frame).
  always_ff @(posedge clk_i) begin
    fall_q <= fall_d;
    rise_q <= rise_d;
    m_q    <= m_d;
  end

  logic chk_rst_n;
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(BinBits + PowerBits), .Name("mel_filterbank.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i({in_k_i, in_p_i})
  );
  prim_stream_check #(.Width(MelAccBits), .Name("mel_filterbank.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i(out_m_o)
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (MelRomDepth != MelLastBin - MelFirstBin + 1 || MelAccBits > 62 || ProdW > MelAccBits
        || NMels >= (1 << MelSegBits)) begin
      $fatal(1, "mel_filterbank: illegal mel_pkg constants");
    end
  end
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni && !clear_i && in_fire && in_range && !first_bin
        && seg != seg_q && seg != seg_q + MelSegBits'(1)) begin
      $fatal(1, "mel_filterbank: bin %0d: segment %0d after %0d (bins out of order?)",
             in_k_i, seg, seg_q);
    end
  end
`endif
endmodule
