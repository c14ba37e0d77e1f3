"""Bit-accurate model of the activation unit (``rtl/lstm/lstm_act.sv``): sigmoid and tanh by table.

One ROM of ``S + 1`` knots (``S = 2**act_segments_log2``) holds
``T[k] = min(round(sigmoid(k * d) * 2**A), 2**A - 1)`` with ``d = 2**act_range_log2 / S`` and
``A = act_out_bits``.  For a signed argument ``u`` with ``act_frac`` fraction bits:

    a  = |u|;  if a >= act_sat: s+ = T[S]                         (saturated)
    else:      k = a >> F,  r = a & (2**F - 1)                    (F = act_frac_bits)
               s+ = T[k] + round_shift((T[k+1] - T[k]) * r, F)    (linear interpolation)
    sigmoid(u) = s+ if u >= 0 else 2**A - s+                      (odd symmetry)

giving an unsigned UQ0.A code in ``[1, 2**A - 1]``.  tanh uses the same unit, exactly:
``tanh(a) = 2 sigmoid(2a) - 1``, so ``tanh_code(a) = sigmoid_code(2a) - 2**(A-1)``, a
Q0.(A-1) code in ``[-(2**(A-1) - 1), 2**(A-1) - 1]``.  ``2a`` is a one-bit left shift of the
input (the unit sees one more bit, so no saturation happens there).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from refmodel.fixed import round_shift
from refmodel.lstm.config import DetectorConfig

I64 = npt.NDArray[np.int64]


@lru_cache(maxsize=16)
def _table(config: DetectorConfig) -> I64:
    k = np.arange(config.act_segments + 1, dtype=np.float64)
    u = k * (2.0**config.act_range_log2 / config.act_segments)
    sig = 1.0 / (1.0 + np.exp(-u))
    t = np.floor(sig * config.sig_one + 0.5).astype(np.int64)
    t = np.minimum(t, config.sig_max)
    t.flags.writeable = False
    return t


def act_table(config: DetectorConfig) -> I64:
    """The sigmoid knot ROM: int64 (act_segments + 1,), UQ0.act_out_bits codes, ascending.

    Generated from ``config`` (never hand-typed); the memory images are written from it.
    """
    return _table(config).copy()


def act_positive(a: npt.ArrayLike, config: DetectorConfig) -> I64:
    """The unit's datapath for a non-negative magnitude ``a = |u|``: table + interpolation.

    Args:
        a: int array >= 0, ``act_frac`` fraction bits.

    Returns:
        int64, same shape: ``s+`` in ``[2**(A-1), 2**A - 1]`` (saturated at ``T[S]`` for
        ``a >= act_sat``).
    """
    tab = _table(config)
    a = np.asarray(a, dtype=np.int64)
    if a.size and int(a.min()) < 0:
        raise ValueError("act_positive: the magnitude must be >= 0")
    sat = a >= config.act_sat
    a = np.where(sat, 0, a)
    fb = config.act_frac_bits
    k = a >> fb
    r = a & ((1 << fb) - 1)
    base = tab[k]
    s_pos = base + round_shift((tab[k + 1] - base) * r, fb)
    return np.where(sat, tab[-1], s_pos)


@lru_cache(maxsize=16)
def _dense(config: DetectorConfig) -> I64:
    # act_positive for every magnitude 0 .. act_sat (the last entry is the saturated value):
    # the same integer operations, evaluated once, so that act_lookup is one gather.
    d = act_positive(np.arange(config.act_sat + 1, dtype=np.int64), config)
    d.flags.writeable = False
    return d


def act_lookup(u: npt.ArrayLike, config: DetectorConfig) -> I64:
    """Sigmoid of a signed fixed-point argument ``u`` (``act_frac`` fraction bits, any width).

    Uses the odd symmetry ``sigmoid(-u) = 1 - sigmoid(u)`` around :func:`act_positive`
    (evaluated through a precomputed dense copy of it, bit-identical, for speed).

    Args:
        u: int array, any shape.
        config: the detector configuration.

    Returns:
        int64, same shape: sigmoid codes UQ0.act_out_bits in ``[1, 2**act_out_bits - 1]``.
    """
    u = np.asarray(u, dtype=np.int64)
    s_pos = _dense(config)[np.minimum(np.abs(u), config.act_sat)]
    return np.where(u < 0, config.sig_one - s_pos, s_pos)


def sigmoid_unit(z: npt.ArrayLike, config: DetectorConfig) -> I64:
    """Sigmoid of a pre-activation ``z`` (Q4.11 by default): UQ0.16 codes, int64, same shape."""
    return act_lookup(z, config)


def tanh_unit(a: npt.ArrayLike, config: DetectorConfig) -> I64:
    """tanh of ``a`` (Q4.11: a pre-activation or the rounded cell state): Q0.15 codes, int64.

    Computed as ``sigmoid_code(2a) - 2**(act_out_bits-1)`` on the same table.
    """
    return act_lookup(np.asarray(a, dtype=np.int64) << 1, config) - (config.sig_one >> 1)


def gate_activations(z: npt.ArrayLike, config: DetectorConfig) -> I64:
    """Activations of the 4H gate pre-activations of a step (rows i, f, g, o).

    Args:
        z: int (..., 4H) pre-activations.

    Returns:
        int64 (..., 4H): sigmoid codes (UQ0.16) for i, f, o rows; tanh codes (Q0.15) for g.
    """
    h = config.hidden
    u = np.array(z, dtype=np.int64)
    u[..., 2 * h:3 * h] <<= 1
    s = act_lookup(u, config)
    s[..., 2 * h:3 * h] -= config.sig_one >> 1
    return s
