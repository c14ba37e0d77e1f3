"""The LSTM detector's fixed-point configuration: the single source of truth for its numbers.

Every word width, fraction length, shift, table size and the window length of the detector
(``docs/fixed_point_detector.md``) is a field or a derived property of :class:`DetectorConfig`.
The bit-accurate model (``refmodel.lstm_*``), the memory images (``refmodel.lstm.mem``)
and the RTL parameters are all generated from one instance of it.

Notation: ``Qm.n`` is a signed word with ``n`` fraction bits; ``UQm.n`` unsigned.  A value
``v`` with ``n`` fraction bits stands for ``v / 2**n``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DetectorConfig:
    """Frozen fixed-point configuration of the LSTM detector (defaults = the chip).

    Fields are the free design choices; properties derive every other number from them.
    Construction validates that the datapath widths hold their worst cases.
    """

    hidden: int = 32  # H, LSTM hidden size (16, 32, 64 tested)
    inputs: int = 32  # feature vector length (mel bands)
    window: int = 198  # frames per detection window; h, c reset at each window start
    code_bits: int = 8  # feature code width; x_int = q - 2**(code_bits-1), Q0.7
    # LSTM weights: W_ih and W_hh share one power-of-two scale so the PE array needs no
    # per-column alignment.
    w_bits: int = 8  # int8 weights
    w_frac: int = 5  # weight = w_int / 2**w_frac (range [-4, 3.97])
    b_bits: int = 16  # gate biases
    b_frac: int = 11  # bias = b_int / 2**b_frac (range [-16, 16))
    h_bits: int = 16  # hidden state h (and the PE vector word), Q0.(h_bits-1)
    acc_bits: int = 32  # MAC accumulator width (signed)
    z_bits: int = 16  # gate pre-activation width, Q(z_bits-1-act_frac).act_frac
    act_frac: int = 11  # fraction bits of every activation-unit input (z, rounded c)
    c_bits: int = 25  # cell state width, Q(c_bits-1-c_frac).c_frac
    c_frac: int = 16  # cell state fraction bits (fine: tiny i*g increments must accumulate)
    act_out_bits: int = 16  # sigmoid output UQ0.16; tanh output Q0.(act_out_bits-1)
    act_range_log2: int = 4  # sigmoid table covers |u| < 2**act_range_log2, saturates beyond
    act_segments_log2: int = 7  # linear-interpolation segments over [0, 2**act_range_log2)
    wout_bits: int = 8  # head weights
    wout_frac: int = 5
    bout_bits: int = 16  # head bias
    bout_frac: int = 11
    threshold_bits: int = 17  # threshold register, UQ1.16: 0 .. 2**16 (2**16 never fires)

    def __post_init__(self) -> None:
        def need(cond: bool, what: str) -> None:
            if not cond:
                raise ValueError(f"DetectorConfig: {what} ({self.describe()})")

        for name, value in asdict(self).items():
            need(isinstance(value, int) and not isinstance(value, bool),
                 f"{name}={value!r} must be an int")
        need(self.hidden >= 1, f"hidden={self.hidden} must be >= 1")
        need(self.inputs >= 1, f"inputs={self.inputs} must be >= 1")
        need(self.window >= 1, f"window={self.window} must be >= 1")
        need(self.code_bits == 8, f"code_bits={self.code_bits}: the feature codes are uint8")
        need(2 <= self.w_bits <= 8, f"w_bits={self.w_bits} must be 2..8 (8-bit multipliers)")
        need(2 <= self.wout_bits <= 8, f"wout_bits={self.wout_bits} must be 2..8")
        need(self.code_bits <= self.h_bits <= 24, f"h_bits={self.h_bits} must be 8..24")
        need(self.act_out_bits >= 8, f"act_out_bits={self.act_out_bits} must be >= 8")
        need(self.act_frac + self.act_range_log2 - self.act_segments_log2 >= 0,
             "the interpolation segment must be at least one input LSB wide")
        need(self.z_bits - 1 - self.act_frac >= 1, "z must have at least one integer bit")
        need(self.c_frac >= self.act_frac, "c_frac must be >= act_frac (tanh input rounds c)")
        need(self.c_bits - 1 - self.c_frac >= self.z_bits - 1 - self.act_frac,
             "c must have at least as many integer bits as z")
        need(self.acc_frac >= self.act_frac, "acc_frac must be >= act_frac (z is a right shift)")
        need(self.acc_frac >= self.b_frac, "acc_frac must be >= b_frac (bias is a left shift)")
        need(self.head_acc_frac >= self.act_frac, "head_acc_frac must be >= act_frac")
        need(self.head_acc_frac >= self.bout_frac, "head_acc_frac must be >= bout_frac")
        need(self.h_shift >= 1, "h_shift must be >= 1")
        need(self.threshold_bits >= self.act_out_bits + 1,
             "threshold_bits must hold 2**act_out_bits (a threshold of 1.0)")
        need(self.gate_acc_max < 2 ** (self.acc_bits - 1),
             f"gate accumulator worst case {self.gate_acc_max} overflows acc_bits={self.acc_bits}")
        need(self.head_acc_max < 2 ** (self.acc_bits - 1),
             f"head accumulator worst case {self.head_acc_max} overflows acc_bits")
        need(self.acc_bits <= 40 and self.c_bits + self.act_out_bits + 2 <= 62,
             "widths too large for the int64 model")

    # ---------------------------------------------------------------- input and PE array
    @property
    def gates(self) -> int:
        """4H: rows of the stacked gate matrix (order i, f, g, o)."""
        return 4 * self.hidden

    @property
    def cols(self) -> int:
        """inputs + H: columns of [W_ih | W_hh] (length of the vector [x ; h_prev])."""
        return self.inputs + self.hidden

    @property
    def code_offset(self) -> int:
        """128: x_int = q - code_offset."""
        return 1 << (self.code_bits - 1)

    @property
    def vec_frac(self) -> int:
        """Fraction bits of the PE vector word [x ; h] (h is Q0.(h_bits-1))."""
        return self.h_bits - 1

    @property
    def x_shift(self) -> int:
        """Left shift that aligns x_int (Q0.7) to the vector word Q0.(h_bits-1)."""
        return self.h_bits - self.code_bits

    @property
    def acc_frac(self) -> int:
        """Fraction bits of the gate accumulator (w_frac + vec_frac)."""
        return self.w_frac + self.vec_frac

    @property
    def bias_shift(self) -> int:
        """Left shift aligning a gate bias to the accumulator (acc_frac - b_frac)."""
        return self.acc_frac - self.b_frac

    @property
    def z_shift(self) -> int:
        """Right shift (round_sat) from the accumulator to the pre-activation z."""
        return self.acc_frac - self.act_frac

    @property
    def gate_acc_max(self) -> int:
        """Worst-case |accumulator| of one gate row, bias included."""
        prod = (1 << (self.w_bits - 1)) * (1 << self.vec_frac)
        return self.cols * prod + (1 << (self.b_bits - 1)) * (1 << self.bias_shift)

    # ---------------------------------------------------------------- activation unit
    @property
    def act_segments(self) -> int:
        """Number of interpolation segments (table has act_segments + 1 knots)."""
        return 1 << self.act_segments_log2

    @property
    def act_frac_bits(self) -> int:
        """Width of the in-segment offset that drives the interpolation multiply."""
        return self.act_frac + self.act_range_log2 - self.act_segments_log2

    @property
    def act_sat(self) -> int:
        """|u| at or above which the sigmoid saturates: 2**(act_frac + act_range_log2)."""
        return 1 << (self.act_frac + self.act_range_log2)

    @property
    def sig_one(self) -> int:
        """1.0 in the sigmoid output format UQ0.act_out_bits (not itself representable)."""
        return 1 << self.act_out_bits

    @property
    def sig_max(self) -> int:
        """Largest sigmoid output code (2**act_out_bits - 1)."""
        return self.sig_one - 1

    @property
    def tanh_frac(self) -> int:
        """Fraction bits of the tanh output (tanh = sigmoid(2u) code - 2**tanh_frac)."""
        return self.act_out_bits - 1

    # ---------------------------------------------------------------- cell and hidden
    @property
    def cell_frac(self) -> int:
        """Fraction bits of the exact cell sum: max(frac of f*c, frac of i*g)."""
        return max(self.act_out_bits + self.c_frac, self.act_out_bits + self.tanh_frac)

    @property
    def fc_align(self) -> int:
        """Left shift of f*c so that it aligns with the cell sum."""
        return self.cell_frac - (self.act_out_bits + self.c_frac)

    @property
    def ig_align(self) -> int:
        """Left shift of i*g so that it aligns with the cell sum."""
        return self.cell_frac - (self.act_out_bits + self.tanh_frac)

    @property
    def c_shift(self) -> int:
        """Right shift (round_sat to c_bits) of the cell sum to the cell state format."""
        return self.cell_frac - self.c_frac

    @property
    def c_max_abs(self) -> float:
        """Largest |c| the cell state holds; |c| < window can never reach it if window is less."""
        return float(2 ** (self.c_bits - 1 - self.c_frac))

    @property
    def tanh_in_shift(self) -> int:
        """Right shift (round_sat to z_bits) of c to the activation-unit input format."""
        return self.c_frac - self.act_frac

    @property
    def h_shift(self) -> int:
        """Right shift (round_sat) of o * tanh(c) to the hidden state format."""
        return self.act_out_bits + self.tanh_frac - self.vec_frac

    # ---------------------------------------------------------------- head
    @property
    def head_acc_frac(self) -> int:
        """Fraction bits of the head accumulator (wout_frac + vec_frac)."""
        return self.wout_frac + self.vec_frac

    @property
    def bout_shift(self) -> int:
        """Left shift aligning the head bias to the head accumulator."""
        return self.head_acc_frac - self.bout_frac

    @property
    def head_z_shift(self) -> int:
        """Right shift (round_sat to z_bits) from the head accumulator to the logit."""
        return self.head_acc_frac - self.act_frac

    @property
    def head_acc_max(self) -> int:
        """Worst-case |head accumulator|, bias included."""
        prod = (1 << (self.wout_bits - 1)) * (1 << self.vec_frac)
        return self.hidden * prod + (1 << (self.bout_bits - 1)) * (1 << self.bout_shift)

    @property
    def score_bits(self) -> int:
        """Score word width: the sigmoid output, UQ0.act_out_bits."""
        return self.act_out_bits

    def describe(self) -> str:
        """One line with every field, for messages and generated file headers."""
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())

    def mac_cycles(self, lanes: int) -> int:
        """MAC-limited cycles per LSTM step on a ``lanes``-wide PE array: 4H(inputs+H)/P."""
        if lanes < 1 or self.gates % lanes:
            raise ValueError(f"lanes={lanes} must be >= 1 and divide 4H={self.gates}")
        return self.gates * self.cols // lanes
