// Purpose: the chip's one rounding and saturation primitive: arithmetic right shift by
// Shift with round-half-up, then saturation to OutW signed bits.
//
// Ports:   in_i  signed InW-bit value; out_o = sat_OutW((in_i + 2^(Shift-1)) >>> Shift);
//          sat_o high when the saturation clipped the result.
// Latency: combinational. Mirrored bit for bit by refmodel.fixed.round_sat().
// Rounding is half-up (ties go towards +inf): one adder and no sticky logic, and its
// +1/2 LSB bias is documented per stage in docs/fixed_point_*.md.
module prim_round_sat #(
  parameter int InW   = 32,  // input width, signed
  parameter int OutW  = 16,  // output width, signed
  parameter int Shift = 8    // right shift (fraction bits dropped); 0 = none
) (
  input  logic signed [InW-1:0]  in_i,   // value to round
  output logic signed [OutW-1:0] out_o,  // rounded and saturated value
  output logic                   sat_o   // the result was clipped
);
  // One guard bit so that adding the rounding constant never overflows.
  localparam int SumW = InW + 1;
  localparam int ShW  = SumW - Shift;  // width after the shift

  logic signed [SumW-1:0] sum;
  logic signed [ShW-1:0]  shifted;

  if (Shift == 0) begin : gen_no_round
    assign sum = SumW'(in_i);
  end else begin : gen_round
    assign sum = SumW'(in_i) + (SumW'(1) <<< (Shift - 1));
  end
  assign shifted = ShW'(sum >>> Shift);

  if (ShW > OutW) begin : gen_sat
    localparam logic signed [ShW-1:0] MaxV = ShW'((64'sd1 <<< (OutW - 1)) - 64'sd1);
    localparam logic signed [ShW-1:0] MinV = ShW'(-(64'sd1 <<< (OutW - 1)));
    // Continuous assignments rather than an always_comb: there are some twenty instances, and
    // Icarus 11 re-runs every always_comb elaborated before any always_comb that runs (their
    // time-0 triggers are chained), so an always_comb here was re-run on most clock edges.
    logic hi, lo;  // the shifted value is above / below the output range
    assign hi    = shifted > MaxV;
    assign lo    = shifted < MinV;
    assign out_o = hi ? OutW'(MaxV) : lo ? OutW'(MinV) : OutW'(shifted);
    assign sat_o = hi || lo;
  end else begin : gen_extend
    // The shifted value always fits: sign-extend.
    assign out_o = OutW'(shifted);
    assign sat_o = 1'b0;
  end

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (InW < 2 || InW > 62 || OutW < 2 || OutW > 62 || Shift >= InW) begin
      $fatal(1, "prim_round_sat: illegal parameters InW=%0d OutW=%0d Shift=%0d",
             InW, OutW, Shift);
    end
  end
`endif
endmodule
