// Purpose: the LSTM cell and hidden-state arithmetic of one unit, bit-exact with
// refmodel.lstm.cell (cell_state, tanh_input, hidden_state).
//
// Ports:   i_i, f_i, o_i sigmoid codes UQ0.16 (unsigned); g_i tanh code Q0.15; c_prev_i Q8.16.
//          c_o = round_sat((f*c_prev << FcAlign) + (i*g << IgAlign), CShift, CBits), Q8.16;
//          tanh_in_o = round_sat(c_o, TanhInShift, ZBits), the Q4.11 argument of tanh(c);
//          t_i is tanh(c) from the activation unit (Q0.15);
//          h_o = round_sat(o*t, HShift, HBits), Q0.15.
// Latency: combinational.  The two halves (c and h) are used in different cycles by
//          lstm_update because t_i comes from the shared activation unit.
module lstm_cell
  import lstm_pkg::*;
(
  input  logic        [ActOutBits-1:0] i_i,        // input gate, UQ0.16
  input  logic        [ActOutBits-1:0] f_i,        // forget gate, UQ0.16
  input  logic signed [ActOutBits-1:0] g_i,        // cell candidate, Q0.15
  input  logic signed [CBits-1:0]      c_prev_i,   // previous cell state, Q8.16
  output logic signed [CBits-1:0]      c_o,        // new cell state, Q8.16
  output logic signed [ZBits-1:0]      tanh_in_o,  // c rounded to Q4.11
  input  logic        [ActOutBits-1:0] o_i,        // output gate, UQ0.16
  input  logic signed [ActOutBits-1:0] t_i,        // tanh(c), Q0.15
  output logic signed [HBits-1:0]      h_o         // new hidden state, Q0.15
);
  localparam int GW   = ActOutBits + 1;        // unsigned gate codes zero-extended, signed
  localparam int FcW  = GW + CBits;            // f * c_prev
  localparam int IgW  = GW + ActOutBits;       // i * g
  localparam int SumW = ((FcW + FcAlign) > (IgW + IgAlign) ? (FcW + FcAlign)
                                                          : (IgW + IgAlign)) + 1;
  localparam int OtW  = GW + ActOutBits;       // o * t

  logic signed [FcW-1:0]  fc;
  logic signed [IgW-1:0]  ig;
  logic signed [SumW-1:0] sum;   // exact cell sum, CellFrac fraction bits
  logic signed [OtW-1:0]  ot;
  logic [2:0]             unused_sat;  // never set: c, its tanh input and h cannot clip here

  assign fc  = FcW'($signed({1'b0, f_i})) * FcW'(c_prev_i);
  assign ig  = IgW'($signed({1'b0, i_i})) * IgW'(g_i);
  assign sum = (SumW'(fc) <<< FcAlign) + (SumW'(ig) <<< IgAlign);
  assign ot  = OtW'($signed({1'b0, o_i})) * OtW'(t_i);

  prim_round_sat #(.InW(SumW), .OutW(CBits), .Shift(CShift)) u_round_c (
    .in_i (sum),
    .out_o(c_o),
    .sat_o(unused_sat[0])
  );
  prim_round_sat #(.InW(CBits), .OutW(ZBits), .Shift(TanhInShift)) u_round_tanh_in (
    .in_i (c_o),
    .out_o(tanh_in_o),
    .sat_o(unused_sat[1])
  );
  prim_round_sat #(.InW(OtW), .OutW(HBits), .Shift(HShift)) u_round_h (
    .in_i (ot),
    .out_o(h_o),
    .sat_o(unused_sat[2])
  );
endmodule
