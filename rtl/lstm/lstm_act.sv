// Purpose: the activation unit, sigmoid or tanh of a Q4.11 argument by table + linear
// interpolation, bit-exact with refmodel.lstm.act (sigmoid_unit / tanh_unit).
//
// Ports:   z_i is a pre-activation (or the rounded cell state), signed, ActFrac fraction
//          bits; tanh_i selects tanh.  act_o is a sigmoid code UQ0.16 in [1, 65535], or in
//          tanh mode a tanh code Q0.15 in [-32767, 32767] (two's complement).
// Method:  u = tanh_i ? 2z : z (ZBits+1 bits); a = |u|; a >= ActSat saturates to T[S];
//          else k = a >> ActFracBits, r = the low bits, s+ = T[k] + round((T[k+1]-T[k])*r);
//          sigmoid = u >= 0 ? s+ : 2^16 - s+; tanh = sigmoid(2z) - 2^15 (flip of the MSB).
// Latency: combinational (two reads of the generated ROM lstm_act_rom, one 12x8 multiply).
module lstm_act
  import lstm_pkg::*;
(
  input  logic signed [ZBits-1:0]      z_i,     // argument, Q(ZBits-1-ActFrac).ActFrac
  input  logic                         tanh_i,  // 1: tanh(z), 0: sigmoid(z)
  output logic        [ActOutBits-1:0] act_o    // UQ0.16 sigmoid or Q0.15 tanh code
);
  localparam int UW   = ZBits + 1;                 // argument width seen by the table
  localparam int KW   = ActSegmentsLog2;           // segment index width
  localparam int RW   = ActFracBits;               // in-segment offset width
  localparam int DW   = ActOutBits + 1;            // knot difference, signed
  localparam int PW   = DW + RW + 1;               // difference x offset, signed
  localparam int SW   = ActOutBits + 1;            // interpolated value before the cast

  logic signed [UW-1:0]         u;
  logic                         neg;
  logic        [UW-1:0]         mag;     // |u|, unsigned
  logic                         sat;
  logic        [ActRomAddrBits-1:0] k;  // knot index 0..ActSegments
  logic        [RW-1:0]         r;
  logic        [ActOutBits-1:0] t_lo, t_hi;
  logic signed [DW-1:0]         delta;   // T[k+1] - T[k] >= 0, kept signed for the product
  logic signed [PW-1:0]         prod;
  logic signed [SW-1:0]         step;    // round_shift(prod, RW) <= 2^11, never saturates
  logic                         unused_sat;
  logic        [SW-1:0]         s_pos;   // s+ in [2^15, 2^16 - 1]
  logic        [ActOutBits-1:0] sig;

  assign u   = tanh_i ? (UW'(z_i) <<< 1) : UW'(z_i);
  assign neg = u[UW-1];
  assign mag = neg ? UW'(-u) : UW'(u);
  assign sat = mag >= UW'(ActSat);
  // Saturated: read T[S] with a zero offset, exactly the model's T[S].
  assign k   = sat ? ActRomAddrBits'(ActSegments) : ActRomAddrBits'(mag[RW +: KW]);
  assign r   = sat ? '0 : mag[RW-1:0];

  lstm_act_rom u_rom_lo (
    .addr_i(k),
    .data_o(t_lo)
  );
  lstm_act_rom u_rom_hi (
    .addr_i(k + ActRomAddrBits'(1)),
    .data_o(t_hi)
  );

  // Unsigned codes zero-extended by one bit, then signed (Icarus 11 cannot cast a cast).
  assign delta = $signed({1'b0, t_hi}) - $signed({1'b0, t_lo});
  assign prod  = PW'(delta) * PW'($signed({1'b0, r}));

  prim_round_sat #(.InW(PW), .OutW(SW), .Shift(RW)) u_round (
    .in_i (prod),
    .out_o(step),
    .sat_o(unused_sat)
  );

  assign s_pos = SW'(t_lo) + $unsigned(step);
  assign sig   = neg ? ActOutBits'(SW'(SigOne) - s_pos) : ActOutBits'(s_pos);
  // tanh code = sigmoid(2z) - 2^(ActOutBits-1): sig is in [1, 2^16-1], so the subtraction in
  // ActOutBits-bit two's complement is the MSB flipped.
  assign act_o = tanh_i ? (sig ^ {1'b1, {(ActOutBits - 1){1'b0}}}) : sig;
endmodule
