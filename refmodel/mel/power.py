"""Bit-accurate model of ``mel_power`` (``rtl/mel/mel_power.sv``): the power spectrum.

``P = Xr**2 + Xi**2`` exact (< 2**47 from two signed 24-bit words), then
``P' = round_sat(P, 8, 41)``: an unsigned 40-bit word (value <= 2**39; the saturation never
fires), in units of ``2**8`` PCM-LSB**2 (``docs/fixed_point_frontend.md``, table "power").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve

I64 = npt.NDArray[np.int64]


def power_stage(xr: npt.ArrayLike, xi: npt.ArrayLike, cfg: FrontendConfig | None = None
                ) -> I64:
    """``|X|**2`` rounded: int64 ``(..., 257)`` twice -> int64 ``(..., 257)`` unsigned 40-bit.

    ``P' = round_sat(Xr*Xr + Xi*Xi, power_shift, power_bits + 1)`` (half-up rounding; the
    signed saturation at ``2**40 - 1`` never fires because ``P < 2**47``).
    """
    cfg = resolve(cfg)
    xr = np.asarray(xr, dtype=np.int64)
    xi = np.asarray(xi, dtype=np.int64)
    return fixed.round_sat(xr * xr + xi * xi, cfg.power_shift, cfg.power_bits + 1)
