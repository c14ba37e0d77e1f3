"""Bit-accurate model of ``mel_window`` (``rtl/mel/mel_window.sv``): the Hamming window.

Formats (``docs/fixed_point_frontend.md``, table "window"; framing is
:mod:`refmodel.mel.framer`):

* samples: int16, Q1.15;
* window coefficients: unsigned UQ0.16, ``round(w[n] * 2**16)``, 16 bits (max 65535);
* windowed sample: ``round_sat(x * w, 12, 20)``, signed Q16.4 in PCM-LSB terms, i.e. an
  integer in units of 1/16 PCM LSB (``fft_in_frac`` = 4 guard fraction bits); the bound
  |x w| < 2**15 means the saturation never fires.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.golden import hamming_window


def window_table(cfg: FrontendConfig | None = None) -> npt.NDArray[np.int64]:
    """Window ROM, int64 ``(frame_len,)``: unsigned UQ0.16 ``round(hamming * 2**16)``.

    The returned array is cached and read-only.
    """
    return _window(resolve(cfg))


@lru_cache(maxsize=8)
def _window(cfg: FrontendConfig) -> npt.NDArray[np.int64]:
    w = np.round(hamming_window(cfg) * (1 << cfg.window_bits)).astype(np.int64)
    if w.min() < 0 or w.max() >= 1 << cfg.window_bits:
        raise ValueError("window coefficient does not fit the unsigned window word")
    w.flags.writeable = False
    return w




def window_stage(frames: npt.ArrayLike, cfg: FrontendConfig | None = None
                 ) -> npt.NDArray[np.int64]:
    """Window multiply: int16 ``(..., frame_len)`` -> int64 ``(..., frame_len)``.

    Each output is ``round_sat(x[n] * w[n], window_shift, fft_in_bits)``: the Q1.15 x UQ0.16
    product (33 bits) rounded half-up to ``fft_in_frac`` = 4 fraction bits below one PCM LSB,
    a 20-bit signed word (``fft_in_bits``).
    """
    cfg = resolve(cfg)
    x = np.asarray(frames)
    if x.shape[-1] != cfg.frame_len:
        raise ValueError(f"frames: last axis must be {cfg.frame_len}, got shape {x.shape}")
    prod = x.astype(np.int64) * window_table(cfg)
    return fixed.round_sat(prod, cfg.window_shift, cfg.fft_in_bits)
