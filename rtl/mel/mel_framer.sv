// Purpose: framing buffer of the mel front end: a circular sample RAM that hands out frame k
// (samples [Hop*k, Hop*k + FrameLen)) as FramePairs sample pairs (refmodel mel/framer.py).
//
// Ports:   in_*  one signed int16 sample per handshake; in_ready_o is low only while the RAM
//                holds SampleRamDepth samples (truly full);
//          out_* {x[2m+1], x[2m]} for m = 0..FramePairs-1 of the oldest complete frame; valid
//                as soon as FrameLen samples from the frame start are stored.  After the last
//                pair of a frame the first Hop samples are released.
// Latency: out_valid_o rises the cycle after the sample that completes a frame is accepted.
// Throughput: FramePairs + FrameLen + Hop - SampleRamDepth cycles per frame with a sample
//          offered every cycle: the pairs, then one cycle per sample the full RAM could not
//          take before the frame's first Hop samples were released (with its last pair).
// Memory:  SampleRamDepth x SampleBits in two banks by address parity (frame starts are even,
//          so x[2m] and x[2m+1] come from different banks): one write and one registered read
//          per bank, i.e. two single-port-read SRAMs.  The pair register is read every cycle
//          at the pair the output shows next (base_d, idx_d), one cycle ahead of the handshake.
module mel_framer
  import mel_pkg::*;
(
  input  logic                    clk_i,        // clock
  input  logic                    rst_ni,       // asynchronous reset, active low
  input  logic                    clear_i,      // synchronous soft reset (drops all samples)
  input  logic                    in_valid_i,   // sample valid
  output logic                    in_ready_o,   // RAM not full
  input  logic [SampleBits-1:0]   in_sample_i,  // signed int16 sample
  output logic                    out_valid_o,  // a sample pair of a complete frame
  input  logic                    out_ready_i,  // consumer accepts
  output logic [2*SampleBits-1:0] out_pair_o    // {x[2m+1], x[2m]}
);
  localparam int AddrW = prim_util_pkg::idx_width(SampleRamDepth);  // wraps: a power of 2
  localparam int CntW  = prim_util_pkg::cnt_width(SampleRamDepth);  // samples held
  localparam int IdxW  = prim_util_pkg::idx_width(FramePairs);
  localparam int BankW = AddrW - 1;                                 // bank address

  // Sample RAM, even and odd addresses: no reset, guarded by avail_q.
  logic [SampleBits-1:0] even_q [SampleRamDepth / 2];
  logic [SampleBits-1:0] odd_q  [SampleRamDepth / 2];
  logic [2*SampleBits-1:0] pair_q;  // {x[2m+1], x[2m]} of (base_q, idx_q): no reset
  logic [AddrW-1:0]      wr_q, wr_d;        // next write address
  logic [AddrW-1:0]      base_q, base_d;    // address of the current frame's first sample
  logic [CntW-1:0]       avail_q, avail_d;  // samples stored from base_q on
  logic [IdxW-1:0]       idx_q, idx_d;      // pair index m within the frame
  logic                  in_fire, out_fire, frame_end;
  logic [BankW-1:0]      rd_pair;  // bank address of the pair shown next cycle
  logic                  chk_rst_n;

  assign in_ready_o  = avail_q != CntW'(SampleRamDepth);
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = avail_q >= CntW'(FrameLen);
  assign out_fire    = out_valid_o && out_ready_i;
  assign frame_end   = out_fire && idx_q == IdxW'(FramePairs - 1);

  // Frame samples are never overwritten while they are read: writes go to base + avail with
  // avail >= FrameLen while out_valid_o is high (and idx_q > 0 only then), so the pair read at
  // (base_d, idx_d) is never written in the cycle it is read, and it holds while stalled.
  assign rd_pair    = BankW'((base_d + AddrW'({idx_d, 1'b0})) >> 1);
  assign out_pair_o = pair_q;

  always_comb begin
    wr_d    = wr_q;
    base_d  = base_q;
    idx_d   = idx_q;
    avail_d = avail_q;
    if (in_fire) begin
      wr_d    = wr_q + AddrW'(1);
      avail_d = avail_d + CntW'(1);
    end
    if (out_fire) idx_d = idx_q + IdxW'(1);
    if (frame_end) begin
      idx_d   = '0;
      base_d  = base_q + AddrW'(Hop);
      avail_d = avail_d - CntW'(Hop);
    end
    if (clear_i) begin
      wr_d    = '0;
      base_d  = '0;
      idx_d   = '0;
      avail_d = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_q    <= '0;
      base_q  <= '0;
      idx_q   <= '0;
      avail_q <= '0;
    end else begin
      wr_q    <= wr_d;
      base_q  <= base_d;
      idx_q   <= idx_d;
      avail_q <= avail_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_fire && !wr_q[0]) even_q[wr_q[AddrW-1:1]] <= in_sample_i;
  end
  always_ff @(posedge clk_i) begin
    if (in_fire && wr_q[0]) odd_q[wr_q[AddrW-1:1]] <= in_sample_i;
  end
  always_ff @(posedge clk_i) begin
    pair_q <= {odd_q[rd_pair], even_q[rd_pair]};
  end

  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(SampleBits), .Name("mel_framer.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_sample_i)
  );
  prim_stream_check #(.Width(2 * SampleBits), .Name("mel_framer.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i(out_pair_o)
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (SampleRamDepth != (1 << AddrW) || SampleRamDepth < FrameLen + 1 || Hop % 2 != 0
        || FrameLen != 2 * FramePairs || Hop > FrameLen) begin
      $fatal(1, "mel_framer: illegal mel_pkg constants");
    end
  end
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni && avail_q > CntW'(SampleRamDepth)) begin
      $fatal(1, "mel_framer: sample count %0d above the RAM depth", avail_q);
    end
  end
`endif
endmodule
