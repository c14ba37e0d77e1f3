// Purpose: window stage of the mel front end: multiplies each pair of frame samples by the
// Hamming coefficients and rounds to the FFT input format (refmodel mel/window.py).
//
// Ports:   in_*  one pair {x[2m+1], x[2m]} (signed Q1.15 each) per item, FramePairs items
//                per frame, m counted here from 0 after reset/clear;
//          out_* {v[2m+1], v[2m]}, each round_sat(x * w, WindowShift, FftInBits), Q16.4.
// Latency: 1 cycle (registered output).
// Throughput: 1 cycle per item.
// Multipliers: 2 (16 x 16 bit, signed x unsigned).
module mel_window
  import mel_pkg::*;
(
  input  logic                     clk_i,        // clock
  input  logic                     rst_ni,       // asynchronous reset, active low
  input  logic                     clear_i,      // synchronous soft reset
  input  logic                     in_valid_i,   // sample pair valid
  output logic                     in_ready_o,   // stage accepts a pair
  input  logic [2*SampleBits-1:0]  in_pair_i,    // {x[2m+1], x[2m]}, signed Q1.15
  output logic                     out_valid_o,  // windowed pair valid
  input  logic                     out_ready_i,  // consumer accepts
  output logic [2*FftInBits-1:0]   out_pair_o    // {v[2m+1], v[2m]}, signed Q16.4
);
  localparam int IdxW  = prim_util_pkg::idx_width(FramePairs);
  localparam int ProdW = SampleBits + WindowBits + 1;  // signed x unsigned product, exact

  logic [IdxW-1:0]             idx_q, idx_d;
  logic                        valid_q, valid_d;
  logic [2*FftInBits-1:0]      pair_q;  // datapath register: no reset, guarded by valid_q
  logic                        in_fire;
  logic [WindowBits-1:0]       w_even, w_odd;
  logic signed [ProdW-1:0]     prod_even, prod_odd;
  logic signed [FftInBits-1:0] v_even, v_odd;
  logic                        chk_rst_n;

  assign in_ready_o  = !valid_q || out_ready_i;
  assign in_fire     = in_valid_i && in_ready_o;
  assign out_valid_o = valid_q;
  assign out_pair_o  = pair_q;

  mel_window_even_rom u_rom_even (.addr_i(idx_q), .data_o(w_even));
  mel_window_odd_rom  u_rom_odd  (.addr_i(idx_q), .data_o(w_odd));

  // The coefficient is zero-extended, so the signed product is exact.
  assign prod_even = ProdW'($signed(in_pair_i[SampleBits-1:0])) * $signed(ProdW'(w_even));
  assign prod_odd  = ProdW'($signed(in_pair_i[2*SampleBits-1:SampleBits]))
                   * $signed(ProdW'(w_odd));

  logic [1:0] unused_sat;  // the saturations never fire (docs/fixed_point_frontend.md)
  prim_round_sat #(.InW(ProdW), .OutW(FftInBits), .Shift(WindowShift)) u_round_even (
    .in_i(prod_even), .out_o(v_even), .sat_o(unused_sat[0])
  );
  prim_round_sat #(.InW(ProdW), .OutW(FftInBits), .Shift(WindowShift)) u_round_odd (
    .in_i(prod_odd), .out_o(v_odd), .sat_o(unused_sat[1])
  );

  always_comb begin
    idx_d   = idx_q;
    valid_d = valid_q;
    if (out_ready_i) valid_d = 1'b0;
    if (in_fire) begin
      valid_d = 1'b1;
      idx_d   = (idx_q == IdxW'(FramePairs - 1)) ? '0 : idx_q + IdxW'(1);
    end
    if (clear_i) begin
      idx_d   = '0;
      valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      idx_q   <= '0;
      valid_q <= 1'b0;
    end else begin
      idx_q   <= idx_d;
      valid_q <= valid_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_fire) pair_q <= {v_odd, v_even};
  end

  // The stream checkers restart with a soft reset too (clear may drop a stalled valid).
  assign chk_rst_n = rst_ni && !clear_i;
  prim_stream_check #(.Width(2 * SampleBits), .Name("mel_window.in")) u_check_in (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_pair_i)
  );
  prim_stream_check #(.Width(2 * FftInBits), .Name("mel_window.out")) u_check_out (
    .clk_i(clk_i), .rst_ni(chk_rst_n),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i(out_pair_o)
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (FftInBits != SampleBits + WindowBits - WindowShift || FramePairs < 2) begin
      $fatal(1, "mel_window: illegal mel_pkg constants");
    end
  end
`endif
endmodule
