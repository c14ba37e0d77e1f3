// Purpose: log2 stage of the mel front end (refmodel mel/log2.py): leading-one
// position plus table and linear interpolation of the mantissa.
//
// Ports:   in_*  M, unsigned MelAccBits;
//          out_* y = (e << LogFrac) + L[i] + round_shift((L[i+1] - L[i]) * r, LogMantBits -
//                LogIndexBits), UQ6.16 in LogBits; e = leading-one position of M, f = the
//                LogMantBits bits below it, i = f's top LogIndexBits bits, r the rest;
//                M = 0 gives y = 0.
// Latency: 1 cycle (registered output).
// Throughput: 1 cycle per item.
// Multipliers: 1 (LogTableBits x (LogMantBits - LogIndexBits), unsigned).
module mel_log2
  import mel_pkg::*;
(
  input  logic                  clk_i,        // clock
  input  logic                  rst_ni,       // asynchronous reset, active low
  input  logic                  clear_i,      // synchronous soft reset
  input  logic                  in_valid_i,   // value valid
  output logic                  in_ready_o,   // stage accepts
  input  logic [MelAccBits-1:0] in_m_i,       // M, unsigned
  output logic                  out_valid_o,  // log valid
  input  logic                  out_ready_i,  // consumer accepts
  output logic [LogBits-1:0]    out_y_o       // log2(M), unsigned UQ6.16
);
  localparam int RW     = LogMantBits - LogIndexBits;   // interpolation bits
  localparam int ProdW  = LogTableBits + RW;            // (L[i+1] - L[i]) * r, exact
  localparam int TabAW  = LogIndexBits + 1;             // table address 0..2^LogIndexBits

  logic                     valid_q, valid_d, in_fire;
  logic [LogBits-1:0]       y_q;          // datapath register: no reset, guarded by valid_q
  logic [LogExpBits-1:0]    e;
  logic [MelAccBits-1:0]    norm;
  logic [LogMantBits-1:0]   f;
  logic [LogIndexBits-1:0]  idx;
  logic [RW-1:0]            r;
  logic [LogTableBits-1:0]  l_lo, l_hi, l_diff;
  logic [ProdW-1:0]         prod;
  logic signed [ProdW:0]    interp;
  logic [LogBits-1:0]       y;

  assign in_ready_o  = !valid_q || out_ready_i;
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;
  assign out_y_o     = y_q;

  // Leading-one position: binary search over LogExpBits levels (a priority encoder).
  localparam int LzW = 1 << LogExpBits;
  logic [LzW-1:0] lz_v;
  always_comb begin
    lz_v = LzW'(in_m_i);
    e    = '0;
    for (int l = LogExpBits - 1; l >= 0; l--) begin
      if ((lz_v >> (1 << l)) != '0) begin
        e[l] = 1'b1;
        lz_v = lz_v >> (1 << l);
      end
    end
  end

  // Left-align the leading one at bit MelAccBits-1; the mantissa is the bits right below it.
  assign norm = in_m_i << (LogExpBits'(MelAccBits - 1) - e);
  assign f    = norm[MelAccBits-2 -: LogMantBits];
  assign idx  = f[LogMantBits-1 -: LogIndexBits];
  assign r    = f[RW-1:0];

  mel_log2_rom u_rom_lo (.addr_i({1'b0, idx}), .data_o(l_lo));
  mel_log2_rom u_rom_hi (.addr_i(TabAW'(idx) + TabAW'(1)), .data_o(l_hi));

  assign l_diff = l_hi - l_lo;  // the table increases: non-negative
  assign prod   = ProdW'(l_diff) * ProdW'(r);

  logic unused_sat;  // OutW = InW: no saturation
  prim_round_sat #(.InW(ProdW + 1), .OutW(ProdW + 1), .Shift(RW)) u_round (
    .in_i($signed({1'b0, prod})), .out_o(interp), .sat_o(unused_sat)
  );

  assign y = (in_m_i == '0) ? '0
           : (LogBits'(e) << LogFrac) + LogBits'(l_lo) + LogBits'(interp[ProdW-1:0]);

  always_comb begin
    valid_d = valid_q;
    if (out_ready_i) valid_d = 1'b0;
    if (in_fire) valid_d = 1'b1;
    if (clear_i) valid_d = 1'b0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) valid_q <= 1'b0;
    else         valid_q <= valid_d;
  end

  always_ff @(posedge clk_i) begin
    if (in_fire) y_q <= y;
  end

  logic chk_rst_n;
  logic unused_bits;
  assign unused_bits = ^{norm[MelAccBits-1], norm[MelAccBits-LogMantBits-2:0], interp[ProdW]};
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(MelAccBits), .Name("mel_log2.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_m_i)
  );
  prim_stream_check #(.Width(LogBits), .Name("mel_log2.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i(out_y_o)
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (MelAccBits > (1 << LogExpBits) || LogMantBits >= MelAccBits || RW < 1
        || LogBits < LogExpBits + LogFrac || ProdW + 1 > 62) begin
      $fatal(1, "mel_log2: illegal mel_pkg constants");
    end
  end
`endif
endmodule
