"""Bit-accurate model of ``mel_quant`` (``rtl/mel/mel_quant.sv``): log2 to 8-bit dB codes.

The UQ6.16 log2 of each band (:mod:`refmodel.mel.log2`) becomes a uint8 code by one integer
affine map and one signed 8-bit saturation (``docs/fixed_point_frontend.md``, table
"quantiser")::

    c = round_sat(y * G + O, 32, 8) + 128        (uint8; the +128 is an MSB flip)

``G = round(10 log10(2) * 255/80 * 2**16)``, ``O`` folds the 2**37 scale, the -35 dB floor
and the -128 offset that turns the signed saturation into the 0..255 clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve

I64 = npt.NDArray[np.int64]
DB_PER_LOG2 = 10.0 * math.log10(2.0)  # dB per octave of power


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


def quantise_stage(log2_mel: npt.ArrayLike, cfg: FrontendConfig | None = None
                   ) -> npt.NDArray[np.uint8]:
    """Affine map and clip: int64 ``(..., 32)`` UQ6.16 -> uint8 ``(..., 32)`` codes 0..255."""
    cfg = resolve(cfg)
    q = quant_constants(cfg)
    y = np.asarray(log2_mel, dtype=np.int64)
    s = fixed.round_sat(y * q.gain + q.offset, q.shift, cfg.code_bits)
    return (s + (1 << (cfg.code_bits - 1))).astype(np.uint8)
