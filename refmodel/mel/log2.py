"""Bit-accurate model of ``mel_log2`` (``rtl/mel/mel_log2.sv``): log2 by table interpolation.

Formats (``docs/fixed_point_frontend.md``, table "log"; the quantiser is
:mod:`refmodel.mel.quant`):

* input: mel accumulator ``M``, unsigned < 2**58 (``mel_float = M / 2**37``);
* log2: ``e`` = position of the leading one (leading-zero count), mantissa fraction
  ``f`` = the 16 bits below the leading one (a bit select, lower bits dropped), table index
  = top 5 bits of ``f``, linear interpolation on the other 11 bits::

      log2(M) ~ y = (e << 16) + L[i] + round_shift((L[i+1] - L[i]) * r, 11)    UQ6.16

  with ``L[i] = round(log2(1 + i/32) * 2**16)``, 33 entries, unsigned 17-bit; ``M = 0``
  gives ``y = 0`` (far below the dB floor, so code 0).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve

I64 = npt.NDArray[np.int64]



def log_table(cfg: FrontendConfig | None = None) -> I64:
    """Mantissa table, int64 ``(2**log_index_bits + 1,)``: ``round(log2(1 + i/32) * 2**16)``."""
    cfg = resolve(cfg)
    n = 1 << cfg.log_index_bits
    i = np.arange(n + 1, dtype=np.float64)
    return np.round(np.log2(1.0 + i / n) * (1 << cfg.log_frac)).astype(np.int64)






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


