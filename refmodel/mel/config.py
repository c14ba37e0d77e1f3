"""Configuration of the mel front end: every number of the front end, in one frozen dataclass.

:class:`FrontendConfig` is the single source of truth.  The float golden, the bit-accurate
model, the ONNX export and (later) the RTL parameters and ROM images are all derived from it;
no stage module hard-codes a rate, size, width or shift.  ``docs/fixed_point_frontend.md``
explains each fixed-point field.

Fixed-point formats are written ``Qi.f`` (``i`` integer bits including the sign for signed
words, ``f`` fraction bits) or ``UQi.f`` for unsigned words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ROUNDING_MODES = ("half_up",)  # the only mode of refmodel.fixed / rtl/prim/prim_round_sat.sv


@dataclass(frozen=True)
class FrontendConfig:
    """All parameters of the mel front end (float golden and bit-accurate model).

    The defaults are the product specification (``SPEC.md`` section 2) and the fixed-point
    design of ``docs/fixed_point_frontend.md``.
    """

    # ---- signal and framing (SPEC.md section 2; fixed) ----
    sample_rate: int = 16_000  # Hz
    frame_len: int = 400  # samples per frame (25 ms)
    hop: int = 160  # samples between frames (10 ms)
    n_fft: int = 512  # DFT length; the frame is zero-padded to it
    n_mels: int = 32  # mel bands
    f_min: float = 60.0  # Hz, lower edge of the first triangle
    f_max: float = 3800.0  # Hz, upper edge of the last triangle
    window_alpha: float = 0.54  # Hamming: alpha - (1 - alpha) cos(2 pi n / (frame_len - 1))
    power_floor: float = 1e-10  # float golden: dB = 10 log10(max(mel, power_floor))
    db_floor: float = -35.0  # dB mapped to code 0
    db_span: float = 80.0  # dB mapped onto the code range
    code_bits: int = 8  # feature code width (uint8)

    # ---- bit-accurate model: word widths and scaling ----
    rounding: str = "half_up"  # refmodel.fixed.round_sat everywhere
    sample_bits: int = 16  # input PCM, signed Q1.15 (x / 32768)
    window_bits: int = 16  # window coefficients, unsigned UQ0.16
    fft_in_frac: int = 4  # fraction bits (guard bits) of the windowed sample below 1 PCM LSB
    fft_bits: int = 24  # FFT / split data path, signed, per real component
    # Right shift (with rounding) applied by each of the log2(n_fft/2) radix-2 DIT stages.
    # Sum must equal fft_in_frac so the split stage output is in PCM-LSB units of the true DFT.
    fft_stage_shifts: tuple[int, ...] = (0, 0, 0, 0, 1, 1, 1, 1)
    twiddle_bits: int = 18  # signed Q2.16 cos/sin (1.0 exactly representable)
    twiddle_frac: int = 16
    power_shift: int = 8  # |X|^2 (UQ48) is rounded right by this before the mel stage
    power_bits: int = 40  # unsigned width of the rounded power word
    mel_weight_bits: int = 16  # unsigned UQ1.15 triangle weights (1.0 exactly representable)
    mel_weight_frac: int = 15
    mel_acc_bits: int = 58  # unsigned mel accumulator width (int64-safe: < 62)
    log_mant_bits: int = 16  # mantissa fraction bits taken below the leading one
    log_index_bits: int = 5  # table index bits (2**5 + 1 = 33 entries), rest interpolated
    log_frac: int = 16  # fraction bits of the table and of log2(M) (UQ6.16)
    quant_gain_frac: int = 16  # fraction bits of the code-per-log2 gain constant

    def __post_init__(self) -> None:
        _require(self.rounding in ROUNDING_MODES, f"rounding={self.rounding!r} not in "
                 f"{ROUNDING_MODES}")
        _require(self.n_fft >= 8 and self.n_fft & (self.n_fft - 1) == 0,
                 f"n_fft={self.n_fft} must be a power of two >= 8")
        _require(0 < self.frame_len <= self.n_fft and self.frame_len % 2 == 0,
                 f"frame_len={self.frame_len} must be even and in 1..n_fft")
        _require(0 < self.hop <= self.frame_len, f"hop={self.hop} must be in 1..frame_len")
        _require(0 < self.f_min < self.f_max <= self.sample_rate / 2,
                 f"band edges {self.f_min}..{self.f_max} Hz outside 0..Nyquist")
        _require(len(self.fft_stage_shifts) == self.fft_stages,
                 f"fft_stage_shifts needs {self.fft_stages} entries")
        _require(all(s in (0, 1) for s in self.fft_stage_shifts),
                 "fft_stage_shifts entries must be 0 or 1")
        _require(sum(self.fft_stage_shifts) == self.fft_in_frac,
                 "sum(fft_stage_shifts) must equal fft_in_frac (output in PCM-LSB units)")
        _require(self.db_span > 0 and self.code_bits == 8, "db_span > 0, code_bits == 8")
        for name in ("fft_bits", "twiddle_bits", "power_bits", "mel_acc_bits"):
            _require(2 <= getattr(self, name) <= 61, f"{name} must be in 2..61 (int64-safe)")
        _require(2 * self.fft_bits - 1 <= 61, "power of an fft_bits word must fit int64")
        _require(self.fft_bits + self.twiddle_bits <= 52,
                 "fft_bits + twiddle_bits must be <= 52 (the FFT's products exact in float64)")
        _require(0 < self.log_index_bits < self.log_mant_bits, "0 < log_index_bits < "
                 "log_mant_bits")

    # ---- derived numbers ----
    @property
    def n_bins(self) -> int:
        """DFT bins 0..n_fft/2."""
        return self.n_fft // 2 + 1

    @property
    def fft_points(self) -> int:
        """Length of the complex FFT that computes the real n_fft-point DFT."""
        return self.n_fft // 2

    @property
    def fft_stages(self) -> int:
        """Radix-2 stages of the fft_points-point complex FFT."""
        return int(math.log2(self.n_fft // 2))

    @property
    def window_shift(self) -> int:
        """Right shift of the x*w product (Q1.15 x UQ0.16) to the FFT input format."""
        return self.window_bits - self.fft_in_frac

    @property
    def fft_in_bits(self) -> int:
        """Signed width of a windowed sample (the FFT input word before sign extension)."""
        return self.sample_bits + self.fft_in_frac

    @property
    def mel_exponent(self) -> int:
        """``e`` such that the float mel power equals ``M / 2**e`` (``M`` the mel accumulator).

        x = x_int / 2**15; the FFT output is in PCM-LSB units (fraction bits removed by the
        stage shifts), so |X|^2 carries 2**30; the power shift removes ``power_shift`` and
        the UQ1.15 weights add ``mel_weight_frac``.
        """
        lsb = self.sample_bits - 1 + self.fft_in_frac - sum(self.fft_stage_shifts)
        return 2 * lsb - self.power_shift + self.mel_weight_frac

    @property
    def code_max(self) -> int:
        return (1 << self.code_bits) - 1

    @property
    def codes_per_db(self) -> float:
        return self.code_max / self.db_span

    def n_frames(self, n_samples: int) -> int:
        """Frames from ``n_samples``: ``floor((N - frame_len) / hop) + 1`` (0 if too short)."""
        if n_samples < self.frame_len:
            return 0
        return (n_samples - self.frame_len) // self.hop + 1


def _require(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(f"FrontendConfig: {msg}")


DEFAULT = FrontendConfig()


def resolve(cfg: FrontendConfig | None) -> FrontendConfig:
    """``cfg`` or the default configuration."""
    if cfg is None:
        return DEFAULT
    if not isinstance(cfg, FrontendConfig):
        raise TypeError(f"cfg must be a FrontendConfig, got {type(cfg).__name__}")
    return cfg
