"""Front-end stage 4, log2 and quantiser (future RTL block ``fe_log``).

Formats (``docs/fixed_point_frontend.md``, tables "log" and "quantiser"):

* input: mel accumulator ``M``, unsigned < 2**58 (``mel_float = M / 2**37``);
* log2: ``e`` = position of the leading one (leading-zero count), mantissa fraction
  ``f`` = the 16 bits below the leading one (a bit select, lower bits dropped), table index
  = top 5 bits of ``f``, linear interpolation on the other 11 bits::

      log2(M) ~ y = (e << 16) + L[i] + round_shift((L[i+1] - L[i]) * r, 11)    UQ6.16

  with ``L[i] = round(log2(1 + i/32) * 2**16)``, 33 entries, unsigned 17-bit; ``M = 0``
  gives ``y = 0`` (far below the dB floor, so code 0);
* quantiser: one integer affine map and one signed 8-bit saturation::

      c = round_sat(y * G + O, 32, 8) + 128        (uint8; the +128 is an MSB flip)

  ``G = round(10 log10(2) * 255/80 * 2**16)``, ``O`` folds the 2**37 scale, the -35 dB
  floor and the -128 offset that turns the signed saturation into the 0..255 clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.config import FrontendConfig, resolve

I64 = npt.NDArray[np.int64]

DB_PER_LOG2 = 10.0 * math.log10(2.0)


def log_table(cfg: FrontendConfig | None = None) -> I64:
    """Mantissa table, int64 ``(2**log_index_bits + 1,)``: ``round(log2(1 + i/32) * 2**16)``."""
    cfg = resolve(cfg)
    n = 1 << cfg.log_index_bits
    i = np.arange(n + 1, dtype=np.float64)
    return np.round(np.log2(1.0 + i / n) * (1 << cfg.log_frac)).astype(np.int64)


@dataclass(frozen=True)
class QuantConstants:
    """``code = round_sat(y * gain + offset, shift, 8) + 128`` (all Python ints)."""

    gain: int
    offset: int
    shift: int


def quant_constants(cfg: FrontendConfig | None = None) -> QuantConstants:
    """Integer constants of the log2 -> code affine map (see module docstring)."""
    cfg = resolve(cfg)
    shift = cfg.log_frac + cfg.quant_gain_frac
    gain = round(DB_PER_LOG2 * cfg.codes_per_db * (1 << cfg.quant_gain_frac))
    half = 1 << (cfg.code_bits - 1)
    code_at_zero = (-cfg.mel_exponent * DB_PER_LOG2 - cfg.db_floor) * cfg.codes_per_db
    offset = round((code_at_zero - half) * (1 << shift))
    return QuantConstants(gain=gain, offset=offset, shift=shift)


def _bit_length(m: I64) -> I64:
    """Exact bit length of non-negative int64 values (0 for 0)."""
    _, e = np.frexp(m.astype(np.float64))
    e = e.astype(np.int64)  # float rounding may overshoot by one near powers of two
    e = np.where((m >> np.maximum(e - 1, 0)) == 0, e - 1, e)
    return np.where(m == 0, 0, e)


def log2_stage(mel: npt.ArrayLike, cfg: FrontendConfig | None = None) -> I64:
    """``log2(M)`` in UQ6.16: int64 ``(..., 32)`` unsigned < 2**58 -> int64 ``(..., 32)``.

    Leading-one position plus table-and-interpolation of the mantissa (module docstring).
    """
    cfg = resolve(cfg)
    m = np.asarray(mel, dtype=np.int64)
    if m.size and (m.min() < 0 or m.max() >= 1 << cfg.mel_acc_bits):
        raise ValueError(f"mel: values outside unsigned {cfg.mel_acc_bits}-bit range")
    kb = cfg.log_mant_bits
    e = np.maximum(_bit_length(m) - 1, 0)
    left = np.maximum(kb - e, 0)
    right = np.maximum(e - kb, 0)
    f = ((m << left) >> right) & ((1 << kb) - 1)
    rb = kb - cfg.log_index_bits
    idx = f >> rb
    r = f & ((1 << rb) - 1)
    table = log_table(cfg)
    lo = table[idx]
    frac = lo + fixed.round_shift((table[idx + 1] - lo) * r, rb)
    y = (e << cfg.log_frac) + frac
    return np.where(m == 0, 0, y)


def quantise_stage(log2_mel: npt.ArrayLike, cfg: FrontendConfig | None = None
                   ) -> npt.NDArray[np.uint8]:
    """Affine map and clip: int64 ``(..., 32)`` UQ6.16 -> uint8 ``(..., 32)`` codes 0..255."""
    cfg = resolve(cfg)
    q = quant_constants(cfg)
    y = np.asarray(log2_mel, dtype=np.int64)
    s = fixed.round_sat(y * q.gain + q.offset, q.shift, cfg.code_bits)
    return (s + (1 << (cfg.code_bits - 1))).astype(np.uint8)
