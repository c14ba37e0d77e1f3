"""Bit-accurate model of the cell/hidden update (``rtl/lstm/lstm_cell.sv``).

With i, f, o sigmoid codes (UQ0.A), g a tanh code (Q0.(A-1)) and c in Q8.16 (25 bits)::

    c_new = round_sat((f * c_prev << fc_align) + (i * g << ig_align), c_shift, c_bits)
    u     = round_sat(c_new, tanh_in_shift, z_bits)            c in the Q4.11 unit format
    t     = tanh_unit(u)                                       (shared activation unit)
    h_new = round_sat(o * t, h_shift, h_bits)

The two products are added exactly (aligned by left shifts), so the cell update has one
rounding and one saturation point, and so has the hidden update.  Defaults: f*c is
UQ0.16 x Q8.16 -> frac 32, i*g is frac 31 (ig_align 1), c_shift 16.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel.fixed import round_sat
from refmodel.lstm.act import tanh_unit
from refmodel.lstm.config import DetectorConfig

I64 = npt.NDArray[np.int64]


def cell_state(i: npt.ArrayLike, f: npt.ArrayLike, g: npt.ArrayLike, c_prev: npt.ArrayLike,
               config: DetectorConfig) -> I64:
    """New cell state ``c = f*c_prev + i*g``.

    Args:
        i, f: int (..., H) sigmoid codes UQ0.act_out_bits.
        g: int (..., H) tanh codes Q0.(act_out_bits-1).
        c_prev: int (..., H) cell state, ``c_frac`` fraction bits, ``c_bits`` wide.

    Returns:
        int64 (..., H), the saturated new cell state.
    """
    fc = np.asarray(f, dtype=np.int64) * np.asarray(c_prev, dtype=np.int64)
    ig = np.asarray(i, dtype=np.int64) * np.asarray(g, dtype=np.int64)
    total = (fc << config.fc_align) + (ig << config.ig_align)
    return round_sat(total, config.c_shift, config.c_bits)


def tanh_input(c: npt.ArrayLike, config: DetectorConfig) -> I64:
    """The cell state rounded into the activation unit's input format (Q4.11): int64."""
    return round_sat(c, config.tanh_in_shift, config.z_bits)


def hidden_state(o: npt.ArrayLike, tanh_c: npt.ArrayLike, config: DetectorConfig) -> I64:
    """New hidden state ``h = o * tanh(c)``: int64 (..., H) in Q0.(h_bits-1).

    Args:
        o: int (..., H) sigmoid codes UQ0.act_out_bits.
        tanh_c: int (..., H) tanh codes Q0.(act_out_bits-1) of the new cell state.
    """
    prod = np.asarray(o, dtype=np.int64) * np.asarray(tanh_c, dtype=np.int64)
    return round_sat(prod, config.h_shift, config.h_bits)


def cell_update(act: npt.ArrayLike, c_prev: npt.ArrayLike,
                config: DetectorConfig) -> tuple[I64, I64, I64]:
    """The whole per-unit update from a step's gate activations.

    Args:
        act: int (..., 4H) gate activations (rows i, f, g, o) from ``gate_activations``.
        c_prev: int (..., H) previous cell state.

    Returns:
        ``(c_new, tanh_c, h_new)``, each int64 (..., H).
    """
    a = np.asarray(act, dtype=np.int64)
    h = config.hidden
    i, f, g, o = (a[..., k * h:(k + 1) * h] for k in range(4))
    c_new = cell_state(i, f, g, c_prev, config)
    t = tanh_unit(tanh_input(c_new, config), config)
    return c_new, t, hidden_state(o, t, config)
