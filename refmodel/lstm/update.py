"""Bit-accurate model of the update unit (``rtl/lstm/lstm_update.sv``): from the PE array's gate
sums of one step to the new cell and hidden state, through the activation and cell units.

For the 4H gate sums of a step (rows stacked i, f, g, o: row ``gate*H + unit``)::

    z        = round_sat(acc, z_shift, z_bits)        pe_array.preact_from_acc   (Q4.11)
    act      = sigmoid (i, f, o) / tanh (g) of z       act.gate_activations       (lstm_act)
    c, t, h  = cell_update(act, c_prev)                cell.cell_update           (lstm_cell)

with ``c_prev = 0`` in the first step of a window (the RTL's ``first_step_i``).  The RTL takes
the sums pass by pass: pass ``k`` of a P-lane array holds hardware rows ``k*P .. k*P + P-1``
(row ``4*unit + gate``, ``refmodel.lstm.mem``), lane ``p`` on ``res_i[p]``;
:func:`pass_rows`, :func:`to_passes` and :func:`from_passes` convert between the two orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from refmodel.lstm.act import gate_activations
from refmodel.lstm.cell import cell_update
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.mem import check_lanes
from refmodel.lstm.pe_array import preact_from_acc

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class UpdateResult:
    """Every integer value of one update (shapes for a batch of B; B may be absent).

    Attributes:
        z: int64 (B, 4H) pre-activations, rows i, f, g, o.
        act: int64 (B, 4H) activations: sigmoid codes (i, f, o), tanh codes (g).
        c: int64 (B, H) new cell state (Q8.16).
        tanh_c: int64 (B, H) tanh codes of the new cell state (Q0.15).
        h: int64 (B, H) new hidden state (Q0.15).
    """

    z: I64
    act: I64
    c: I64
    tanh_c: I64
    h: I64


def update_state(acc: npt.ArrayLike, c_prev: npt.ArrayLike, config: DetectorConfig, *,
                 first_step: bool = False) -> UpdateResult:
    """What ``lstm_update`` computes from a step's gate sums: z, activations, new c and h.

    Args:
        acc: int (..., 4H) gate accumulators (bias included), rows i, f, g, o, ``acc_frac``
            fraction bits: the PE array's results in the model's row order.
        c_prev: int (..., H) cell state before the step (ignored with ``first_step``).
        config: the detector configuration (H from ``config.hidden``).
        first_step: the step starts a window: ``c_prev`` reads as 0.

    Returns:
        an :class:`UpdateResult` (int64 arrays).
    """
    a = np.asarray(acc, dtype=np.int64)
    if a.shape[-1:] != (config.gates,):
        raise ValueError(f"acc has shape {a.shape}, last axis must be 4H={config.gates}")
    c0 = np.asarray(c_prev, dtype=np.int64)
    if first_step:
        c0 = np.zeros_like(c0)
    z = preact_from_acc(a, config)
    act = gate_activations(z, config)
    c, t, h = cell_update(act, c0, config)
    return UpdateResult(z=z, act=act, c=c, tanh_c=t, h=h)


def pass_rows(lanes: int, config: DetectorConfig) -> I64:
    """int64 (4H/P, P): the gate row (``gate*H + unit``) that lane p sums in pass k.

    Hardware row ``r = k*P + p = 4*unit + gate`` (``refmodel.lstm.mem.hw_row``).
    """
    lanes = check_lanes(lanes, config)
    r = np.arange(config.gates, dtype=np.int64).reshape(config.gates // lanes, lanes)
    return (r % 4) * config.hidden + r // 4


def to_passes(acc: npt.ArrayLike, lanes: int, config: DetectorConfig) -> I64:
    """Gate sums (..., 4H) in row order i, f, g, o -> (..., 4H/P, P) as the passes deliver them."""
    return np.asarray(acc, dtype=np.int64)[..., pass_rows(lanes, config)]


def from_passes(res: npt.ArrayLike, config: DetectorConfig) -> I64:
    """The inverse of :func:`to_passes`: (..., 4H/P, P) pass results -> (..., 4H) row order."""
    r = np.asarray(res, dtype=np.int64)
    rows = pass_rows(r.shape[-1], config)
    out = np.empty(r.shape[:-2] + (config.gates,), dtype=np.int64)
    out[..., rows.ravel()] = r.reshape(r.shape[:-2] + (config.gates,))
    return out
