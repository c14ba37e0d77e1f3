"""Bit-accurate model of the head (``rtl/lstm/lstm_head.sv``): logit, sigmoid score, flag.

    acc   = (b_out << bout_shift) + sum_j w_out[j] * h[j]        exact
    z     = round_sat(acc, head_z_shift, z_bits)                 Q4.11, the gate format
    score = sigmoid_unit(z)                                      UQ0.16 in [1, 65535]
    flag  = score >= threshold_int                               threshold UQ1.16, 17 bits

A float threshold T in [0, 1] maps to ``threshold_int = floor(T * 2**16 + 1/2)`` (0 always
fires, 65536 = 1.0 never fires); the float score is ``score / 2**16``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from refmodel.fixed import round_sat
from refmodel.lstm.act import sigmoid_unit
from refmodel.lstm.config import DetectorConfig

if TYPE_CHECKING:
    from refmodel.lstm.weights import DetectorWeights

I64 = npt.NDArray[np.int64]


def head_acc(h: npt.ArrayLike, weights: DetectorWeights) -> I64:
    """Head accumulator ``(b_out << bout_shift) + w_out . h``: int64 (...,) from h (..., H)."""
    cfg = weights.config
    hv = np.asarray(h, dtype=np.int64)
    bias = np.int64(int(weights.b_out_q) << cfg.bout_shift)
    return bias + hv @ weights.w_out_q.astype(np.int64)


def head_logit(h: npt.ArrayLike, weights: DetectorWeights) -> I64:
    """Head logit z (Q4.11 by default): int64 (...,) from the final hidden state (..., H)."""
    return round_sat(head_acc(h, weights), weights.config.head_z_shift, weights.config.z_bits)


def head_score(h: npt.ArrayLike, weights: DetectorWeights) -> I64:
    """Integer score (UQ0.16 sigmoid code): int64 (...,) from the final hidden state."""
    return sigmoid_unit(head_logit(h, weights), weights.config)


def threshold_to_int(threshold: float, config: DetectorConfig) -> int:
    """The threshold register value for a float threshold in [0, 1] (``round(T * 2**16)``)."""
    t = float(threshold)
    if not 0.0 <= t <= 1.0:  # also rejects NaN
        raise ValueError(f"threshold={threshold!r} must be in [0, 1]")
    return int(np.floor(t * config.sig_one + 0.5))


def flag_compare(score_int: npt.ArrayLike, threshold_int: int,
                 config: DetectorConfig) -> npt.NDArray[np.bool_]:
    """The flag comparator ``score_int >= threshold_int`` (both unsigned), bool, same shape."""
    if not 0 <= int(threshold_int) < (1 << config.threshold_bits):
        raise ValueError(f"threshold_int={threshold_int} does not fit the "
                         f"{config.threshold_bits}-bit threshold register")
    return np.asarray(score_int, dtype=np.int64) >= np.int64(threshold_int)
