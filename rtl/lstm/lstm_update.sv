// Purpose: the per-pass update unit: turns the Lanes gate sums of one PE-array pass into the
// new cell and hidden state of the Lanes/4 units they belong to, and holds h (two banks) and c.
//
// Schedule: a pass's sums (res_i, lane 4u+g = gate g of local unit u, hardware row order) are
//   processed from the cycle res_valid_i is high, 5 cycles per unit through one activation
//   unit: z = round_sat(acc, ZShift, ZBits) then sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
//   (phases 0-3; in phase 3 the cell update c = f*c + i*g is written), then tanh(c) and
//   h = o*tanh(c) (phase 4, written into the bank that is not being read).  A pass takes
//   5*Lanes/4 cycles, less than a pass of the PE array (32+H cycles), so it overlaps the next
//   pass; only the last pass of a step adds to the step time.
// State:   h_o is the bank of the last completed step (the PE array's h_prev); the other bank
//   receives the new h; swap_i (at the end of a step, when not busy) exchanges them.  c is
//   updated in place (unit j's c is read and written only by unit j's update).  With
//   first_step_i, c_prev reads as 0 (state reset at a window start, no clearing cycles).
// Latency: busy_o is high from res_valid_i until the last unit of the pass is written.
module lstm_update
  import lstm_pkg::*;
#(
  parameter int Hidden = 32,  // H
  parameter int Lanes  = 8,   // P, a multiple of 4 dividing 4H
  // derived from H and P (localparam: not overridable), as in lstm_seq
  localparam int TagW  = prim_util_pkg::idx_width(n_pass(Hidden, Lanes))  // pass index width
) (
  input  logic                     clk_i,         // clock
  input  logic                     rst_ni,        // asynchronous reset, active low
  input  logic                     clear_i,       // synchronous soft reset
  input  logic                     res_valid_i,   // res_i holds a new pass (one-cycle pulse)
  input  logic [TagW-1:0]          res_tag_i,     // its pass index
  input  logic [Lanes*AccBits-1:0] res_i,         // gate sums, frac AccFrac; held for a pass
  input  logic                     first_step_i,  // the step is the first of a window
  input  logic                     swap_i,        // end of step: the new h becomes h_o
  output logic                     busy_o,        // a pass is being processed
  output logic [Hidden*HBits-1:0]  h_o,           // h of the last completed step, Q0.15
  output logic [Hidden*CBits-1:0]  c_o            // cell state, Q8.16
);
  localparam int UnitsPerPass = Lanes / 4;
  localparam int UuW   = prim_util_pkg::idx_width(UnitsPerPass);
  localparam int UnitW = prim_util_pkg::idx_width(Hidden);
  localparam int LaneW = prim_util_pkg::idx_width(Lanes);
  localparam int PhLast = 4;

  logic            run_q, run_d;
  logic [2:0]      ph_q, ph_d;
  logic [UuW-1:0]  uu_q, uu_d;
  logic [TagW-1:0] pass_q, pass_d;
  logic            bank_q, bank_d;   // which bank is h_o
  logic            active;           // a unit phase runs this cycle
  logic [2:0]      ph;
  logic [UuW-1:0]  uu;
  logic [TagW-1:0] pass;
  logic [UnitW-1:0] unit;            // global unit index
  logic [LaneW-1:0] lane;

  // Datapath registers (no reset: written before they are read in every pass), each written
  // only in its phase (the h banks and c one unit's slice at a time).
  logic [ActOutBits-1:0]        i_q, f_q, g_q, o_q;
  logic signed [ZBits-1:0]      tin_q;          // tanh input of the new c, Q4.11
  logic [Hidden*HBits-1:0]      h0_q, h1_q;
  logic [Hidden*CBits-1:0]      c_q;
  logic                         wr_i, wr_f, wr_g, wr_o, wr_h;  // this cycle's phase writes

  logic signed [AccBits-1:0]    acc;
  logic signed [ZBits-1:0]      z;
  logic signed [ZBits-1:0]      act_in;
  logic                         act_tanh;
  logic [ActOutBits-1:0]        act;
  logic signed [CBits-1:0]      c_prev, c_new;
  logic signed [ZBits-1:0]      tanh_in;
  logic signed [HBits-1:0]      h_new;
  logic                         unused_sat;

  assign active = run_q || res_valid_i;
  assign ph     = run_q ? ph_q : 3'd0;
  assign uu     = run_q ? uu_q : '0;
  assign pass   = run_q ? pass_q : res_tag_i;
  assign unit   = UnitW'(32'(pass) * UnitsPerPass + 32'(uu));
  assign lane   = LaneW'({uu, ph[1:0]});

  assign acc = $signed(res_i[32'(lane)*AccBits +: AccBits]);

  prim_round_sat #(.InW(AccBits), .OutW(ZBits), .Shift(ZShift)) u_round_z (
    .in_i (acc),
    .out_o(z),
    .sat_o(unused_sat)
  );

  assign act_in   = (ph == 3'(PhLast)) ? tin_q : z;
  assign act_tanh = (ph == 3'd2) || (ph == 3'(PhLast));

  lstm_act u_act (
    .z_i   (act_in),
    .tanh_i(act_tanh),
    .act_o (act)
  );

  assign c_prev = first_step_i ? '0 : $signed(c_q[32'(unit)*CBits +: CBits]);

  lstm_cell u_cell (
    .i_i      (i_q),
    .f_i      (f_q),
    .g_i      (g_q),
    .c_prev_i (c_prev),
    .c_o      (c_new),
    .tanh_in_o(tanh_in),
    .o_i      (o_q),
    .t_i      (act),
    .h_o      (h_new)
  );

  assign wr_i = active && ph == 3'd0;
  assign wr_f = active && ph == 3'd1;
  assign wr_g = active && ph == 3'd2;
  assign wr_o = active && ph == 3'd3;  // with tanh(c)'s input and the cell update
  assign wr_h = active && ph == 3'(PhLast);  // h = o * tanh(c) into the bank not being read

  always_comb begin
    run_d  = run_q;
    ph_d   = ph_q;
    uu_d   = uu_q;
    pass_d = pass_q;
    bank_d = swap_i ? !bank_q : bank_q;
    if (active) begin
      pass_d = pass;
      if (ph == 3'(PhLast)) begin
        ph_d  = 3'd0;
        uu_d  = uu + UuW'(1);
        run_d = 32'(uu) != UnitsPerPass - 1;
      end else begin
        ph_d  = ph + 3'd1;
        uu_d  = uu;
        run_d = 1'b1;
      end
    end
    if (clear_i) begin
      run_d  = 1'b0;
      bank_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q  <= 1'b0;
      ph_q   <= 3'd0;
      uu_q   <= '0;
      pass_q <= '0;
      bank_q <= 1'b0;
    end else begin
      run_q  <= run_d;
      ph_q   <= ph_d;
      uu_q   <= uu_d;
      pass_q <= pass_d;
      bank_q <= bank_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (wr_i) i_q <= act;
    if (wr_f) f_q <= act;
    if (wr_g) g_q <= act;
    if (wr_o) begin
      o_q   <= act;
      tin_q <= tanh_in;
      c_q[32'(unit)*CBits +: CBits] <= c_new;
    end
    if (wr_h && bank_q)  h0_q[32'(unit)*HBits +: HBits] <= h_new;
    if (wr_h && !bank_q) h1_q[32'(unit)*HBits +: HBits] <= h_new;
  end

  assign busy_o = active;
  assign h_o    = bank_q ? h1_q : h0_q;
  assign c_o    = c_q;

`ifndef SYNTHESIS
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni === 1'b1 && !clear_i) begin
      if (res_valid_i && run_q) begin
        $fatal(1, "lstm_update: pass %0d arrived while pass %0d is still being processed",
               res_tag_i, pass_q);
      end
      if (swap_i && active) begin
        $fatal(1, "lstm_update: h banks swapped while a pass is being processed");
      end
    end
  end
`endif
endmodule
