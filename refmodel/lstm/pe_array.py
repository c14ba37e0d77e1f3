"""Bit-accurate model of the PE array (``rtl/lstm/lstm_pe_array.sv``): MAC, bias and pre-activation.

One LSTM step computes, for each of the 4H gate rows r (stacked i, f, g, o: r = gate*H + unit),

    acc_r = (b_r << bias_shift) + sum_j W[r, j] * v_j        v = [x_int << x_shift ; h_prev]
    z_r   = round_sat(acc_r, z_shift, z_bits)                  Q4.11 with the defaults

where ``W = [W_ih | W_hh]`` holds the int8 weights, ``x_int = q - 128`` and ``h_prev`` is the
hidden state (Q0.(h_bits-1)).  The accumulator is exact (no rounding inside the MAC chain),
so the lane order and the lane count do not change the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from refmodel.fixed import round_sat
from refmodel.lstm.config import DetectorConfig

if TYPE_CHECKING:
    from refmodel.lstm.weights import DetectorWeights

I64 = npt.NDArray[np.int64]


def codes_to_x(codes: npt.ArrayLike, config: DetectorConfig) -> I64:
    """Map uint8 feature codes q to the int8 input ``x_int = q - 128`` (x = x_int / 128).

    Args:
        codes: integer array (..., inputs), values 0..255.
        config: the detector configuration.

    Returns:
        int64 array of the same shape, values -128..127.
    """
    return np.asarray(codes).astype(np.int64) - config.code_offset


def pe_vector(x_int: npt.ArrayLike, h: npt.ArrayLike, config: DetectorConfig) -> I64:
    """The PE array's operand vector ``[x_int << x_shift ; h]`` in Q0.(h_bits-1).

    Args:
        x_int: int (..., inputs), -128..127.
        h: int (..., H), the previous hidden state.

    Returns:
        int64 (..., inputs + H).
    """
    x = np.asarray(x_int, dtype=np.int64) << config.x_shift
    return np.concatenate([x, np.asarray(h, dtype=np.int64)], axis=-1)


def stacked_weights(weights: DetectorWeights) -> I64:
    """int64 (4H, inputs + H): ``[W_ih | W_hh]`` in gate-row order i, f, g, o."""
    return np.concatenate([weights.w_ih_q, weights.w_hh_q], axis=1).astype(np.int64)


def bias_acc(weights: DetectorWeights) -> I64:
    """int64 (4H,): each gate bias aligned to the accumulator (``b << bias_shift``)."""
    return weights.b_q.astype(np.int64) << weights.config.bias_shift


def gate_acc(x_int: npt.ArrayLike, h: npt.ArrayLike, weights: DetectorWeights) -> I64:
    """Wide accumulator of every gate row for one step (bias included, before rounding).

    Args:
        x_int: int (..., inputs), the step's input ``q - 128``.
        h: int (..., H), previous hidden state.
        weights: the detector weights.

    Returns:
        int64 (..., 4H), rows i, f, g, o; fits ``acc_bits`` signed.
    """
    v = pe_vector(x_int, h, weights.config)
    return bias_acc(weights) + v @ stacked_weights(weights).T


def preact_from_acc(acc: npt.ArrayLike, config: DetectorConfig) -> I64:
    """The pre-activation ``z = round_sat(acc, z_shift, z_bits)`` (Q4.11 by default)."""
    return round_sat(acc, config.z_shift, config.z_bits)


def gate_preact(x_int: npt.ArrayLike, h: npt.ArrayLike, weights: DetectorWeights) -> I64:
    """Gate pre-activations z for one step: int64 (..., 4H), rows i, f, g, o."""
    return preact_from_acc(gate_acc(x_int, h, weights), weights.config)
