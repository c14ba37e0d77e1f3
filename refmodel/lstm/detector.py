"""The LSTM detector: float golden and bit-accurate fixed-point model, one detection per window.

Feature codes ``q`` (uint8, 32 per frame) map to ``x = (q - 128) / 128``.  One LSTM layer of
hidden size H (gates i, f, g, o; ``c = f*c + i*g``; ``h = o*tanh(c)``) runs over each window of
``window`` frames (default 198); ``h`` and ``c`` reset to 0 at every window start; windows are
consecutive and non-overlapping (frames ``[window*j, window*j + window)``) and trailing frames
that do not fill a window produce no detection.  After the last frame of a window
``score = sigmoid(w_out . h + b_out)`` and ``flag = score >= threshold``.

Public entry points:
    :class:`DetectorWeights`, :class:`DetectorConfig`
    :func:`scores_float`   float64 golden on the dequantised weights
    :func:`scores_fixed`   the bit-accurate model's scores (integer score / 2**16)
    :func:`run_fixed`      the bit-accurate model with its integer views (per-step h, c, ...)
    :func:`lstm_step`      one bit-accurate step with every intermediate value
    :func:`detect`         per-window index, score, flag (float and integer)
    :func:`plot_timeline`  the score track of ``python -m refmodel plot``
Its speed: ``python -m refmodel.bench detector`` (``make bench-refmodel``).

Per-unit functions (one per RTL block) live in ``refmodel.lstm.pe_array``,
``refmodel.lstm.act``, ``refmodel.lstm.cell`` and ``refmodel.lstm.head``; the whole-clip model
here calls exactly those functions, so a mismatch can be bisected unit by unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.head import flag_compare, head_acc, head_logit, head_score, threshold_to_int
from refmodel.lstm.pe_array import bias_acc, codes_to_x, gate_acc
from refmodel.lstm.update import update_state
from refmodel.lstm.weights import GATE_NAMES, DetectorWeights

__all__ = [
    "GATE_NAMES",
    "Detection",
    "DetectorConfig",
    "DetectorWeights",
    "FixedRun",
    "StepTrace",
    "detect",
    "lstm_step",
    "n_windows",
    "plot_timeline",
    "run_fixed",
    "scores_fixed",
    "scores_float",
    "threshold_to_int",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


# ---------------------------------------------------------------------- input checks
def _window(window: int | None, weights: DetectorWeights) -> int:
    if window is None:
        return weights.config.window
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"window={window!r} must be an integer >= 1")
    return int(window)


def _check_codes(codes: Any, config: DetectorConfig) -> npt.NDArray[np.uint8]:
    if not isinstance(codes, np.ndarray):
        raise ValueError(f"codes must be a numpy uint8 array of shape (n, {config.inputs}), "
                         f"got {type(codes).__name__}")
    if codes.dtype != np.uint8:
        raise ValueError(f"codes must have dtype uint8, got {codes.dtype}")
    if codes.ndim != 2 or codes.shape[1] != config.inputs:
        raise ValueError(f"codes must have shape (n, {config.inputs}), got {codes.shape}")
    return codes


def _check_weights(weights: Any) -> DetectorWeights:
    if not isinstance(weights, DetectorWeights):
        raise ValueError(f"weights must be a DetectorWeights, got {type(weights).__name__}")
    return weights


def n_windows(n_frames: int, window: int = 198) -> int:
    """Number of complete windows in ``n_frames`` frames (trailing frames are dropped)."""
    return n_frames // window


def _windows(codes: npt.NDArray[np.uint8], window: int) -> npt.NDArray[np.uint8]:
    """(window, n_windows, inputs) view: time-major, windows as the batch."""
    nw = codes.shape[0] // window
    return codes[: nw * window].reshape(nw, window, codes.shape[1]).transpose(1, 0, 2)


# ---------------------------------------------------------------------- float golden
def _sigmoid(x: F64) -> F64:
    return 1.0 / (1.0 + np.exp(-x))


def scores_float(codes: npt.NDArray[np.uint8], weights: DetectorWeights,
                 window: int | None = None) -> F64:
    """Float64 golden detector on the dequantised weights.

    Args:
        codes: uint8 (n, 32) feature codes.
        weights: the detector weights (their float views are used).
        window: frames per window (default ``weights.config.window`` = 198).

    Returns:
        float64 (n // window,): the score of every complete window.
    """
    weights = _check_weights(weights)
    cfg = weights.config
    window = _window(window, weights)
    codes = _check_codes(codes, cfg)
    xw = (_windows(codes, window).astype(np.float64) - cfg.code_offset) / cfg.code_offset
    hid = cfg.hidden
    nw = xw.shape[1]
    # einsum without optimize: numpy's own loops, no BLAS thread start-up per small product.
    pre_in = np.einsum("twj,jk->twk", xw, weights.w_ih.T.copy(), optimize=False) + weights.b
    w_hh_t = weights.w_hh.T.copy()
    h = np.zeros((nw, hid))
    c = np.zeros((nw, hid))
    for t in range(window if nw else 0):
        z = pre_in[t] + np.einsum("wj,jk->wk", h, w_hh_t, optimize=False)
        i = _sigmoid(z[:, :hid])
        f = _sigmoid(z[:, hid:2 * hid])
        g = np.tanh(z[:, 2 * hid:3 * hid])
        o = _sigmoid(z[:, 3 * hid:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return _sigmoid(h @ weights.w_out + weights.b_out)


# ---------------------------------------------------------------------- bit-accurate model
@dataclass(frozen=True)
class StepTrace:
    """Every integer value of one LSTM step (shapes for a batch of B; B may be absent).

    Attributes:
        acc: int64 (B, 4H) gate accumulators (bias included), rows i, f, g, o.
        z: int64 (B, 4H) pre-activations (round_sat of acc).
        act: int64 (B, 4H) activations: sigmoid codes (i, f, o), tanh codes (g).
        c: int64 (B, H) new cell state.
        tanh_c: int64 (B, H) tanh codes of the new cell state.
        h: int64 (B, H) new hidden state.
    """

    acc: I64
    z: I64
    act: I64
    c: I64
    tanh_c: I64
    h: I64


def lstm_step(x_int: npt.ArrayLike, h: npt.ArrayLike, c: npt.ArrayLike,
              weights: DetectorWeights) -> StepTrace:
    """One bit-accurate LSTM step through the block functions: the PE array
    (``pe_array.gate_acc``), then the update unit (``update.update_state``).

    Args:
        x_int: int (..., 32) step input ``q - 128`` (use ``pe_array.codes_to_x``).
        h: int (..., H) previous hidden state (Q0.(h_bits-1)).
        c: int (..., H) previous cell state (Q8.16, ``c_frac`` fraction bits).
        weights: the detector weights.

    Returns:
        a :class:`StepTrace` with every intermediate integer value.
    """
    acc = gate_acc(x_int, h, weights)
    u = update_state(acc, c, weights.config)
    return StepTrace(acc=acc, z=u.z, act=u.act, c=u.c, tanh_c=u.tanh_c, h=u.h)


@dataclass(frozen=True)
class FixedRun:
    """Result of :func:`run_fixed` for ``W`` complete windows of ``T`` frames.

    Attributes:
        score_int: int64 (W,) score codes, UQ0.16 (score = score_int / 2**16).
        logit: int64 (W,) head logit z (Q4.11).
        head_acc: int64 (W,) head accumulator.
        h_final: int64 (W, H) hidden state after the last frame.
        c_final: int64 (W, H) cell state after the last frame.
        h: int64 (W, T, H) hidden state after every step (None unless trace=True).
        c: int64 (W, T, H) cell state after every step (None unless trace=True).
        z: int64 (W, T, 4H) gate pre-activations of every step (None unless trace=True).
        act: int64 (W, T, 4H) gate activations of every step (None unless trace=True).
    """

    score_int: I64
    logit: I64
    head_acc: I64
    h_final: I64
    c_final: I64
    h: I64 | None = None
    c: I64 | None = None
    z: I64 | None = None
    act: I64 | None = None


def _mac(v: I64, w_q: npt.NDArray[np.int8], cfg: DetectorConfig) -> I64:
    """Exact ``v @ w_q.T`` for PE vectors v (..., n) and int8 rows w_q (4H, n), as int64.

    numpy's own einsum loops (no BLAS threads) on int32 when every partial sum provably fits
    31 bits, else on float64 (exact: every partial sum is an integer below 2**40 < 2**53).
    """
    bound = w_q.shape[1] * (1 << (cfg.w_bits - 1)) * (1 << cfg.vec_frac)
    dtype = np.int32 if bound < (1 << 31) else np.float64
    w_t = np.ascontiguousarray(w_q.T, dtype=dtype)
    out = np.einsum("...j,jk->...k", v.astype(dtype), w_t, optimize=False)
    return out.astype(np.int64)


def run_fixed(codes: npt.NDArray[np.uint8], weights: DetectorWeights,
              window: int | None = None, *, trace: bool = False) -> FixedRun:
    """Bit-accurate detector over all complete windows of a clip, vectorised over windows.

    All windows advance together (``window`` sequential steps on a batch of windows).  The
    MAC sums are computed as float64 matrix products, which are exact here (every partial
    sum is an integer below 2**acc_bits <= 2**40 < 2**53), then converted back to int64; all
    rounding and saturation goes through ``refmodel.fixed`` via the per-unit functions.

    Args:
        codes: uint8 (n, 32) feature codes.
        weights: the detector weights.
        window: frames per window (default ``weights.config.window``).
        trace: also keep h, c, z and the activations of every step.

    Returns:
        a :class:`FixedRun`.
    """
    weights = _check_weights(weights)
    cfg = weights.config
    window = _window(window, weights)
    codes = _check_codes(codes, cfg)
    hid = cfg.hidden
    xw = codes_to_x(_windows(codes, window), cfg) << cfg.x_shift  # (T, W, 32)
    nw = xw.shape[1]
    acc_in = _mac(xw, weights.w_ih_q, cfg) + bias_acc(weights)  # (T, W, 4H)
    h = np.zeros((nw, hid), dtype=np.int64)
    c = np.zeros((nw, hid), dtype=np.int64)
    if trace:
        h_all = np.zeros((nw, window, hid), dtype=np.int64)
        c_all = np.zeros((nw, window, hid), dtype=np.int64)
        z_all = np.zeros((nw, window, cfg.gates), dtype=np.int64)
        a_all = np.zeros((nw, window, cfg.gates), dtype=np.int64)
    for t in range(window if nw else 0):
        acc = acc_in[t] + _mac(h, weights.w_hh_q, cfg)
        step = update_state(acc, c, cfg)  # the lstm_update block
        c, h = step.c, step.h
        if trace:
            h_all[:, t] = h
            c_all[:, t] = c
            z_all[:, t] = step.z
            a_all[:, t] = step.act
    return FixedRun(
        score_int=head_score(h, weights),
        logit=head_logit(h, weights),
        head_acc=head_acc(h, weights),
        h_final=h,
        c_final=c,
        h=h_all if trace else None,
        c=c_all if trace else None,
        z=z_all if trace else None,
        act=a_all if trace else None,
    )


def scores_fixed(codes: npt.NDArray[np.uint8], weights: DetectorWeights,
                 window: int | None = None) -> F64:
    """The bit-accurate model's scores, dequantised: float64 (n // window,) = score_int / 2**16.

    Args:
        codes: uint8 (n, 32) feature codes.
        weights: the detector weights.
        window: frames per window (default ``weights.config.window`` = 198).
    """
    run = run_fixed(codes, weights, window)
    return run.score_int.astype(np.float64) / weights.config.sig_one


# ---------------------------------------------------------------------- detections
@dataclass(frozen=True)
class Detection:
    """One window's detection: the record the model predicts and the chip's test bench observes.

    Equality compares what the chip reports on its detection port (``det_window_o``,
    ``det_score_o``, ``det_flag_o``): ``index``, ``score_int`` and ``flag``.  The other fields
    are what the model also knows (``None`` when unknown, e.g. a detection read off the port)
    and never compare.

    Attributes:
        index: window index j since the last reset (frames ``[window*j, window*j + window)``).
        score_int: score code, UQ0.16.
        flag: ``score_int >= threshold_int``.
        start_frame: first frame of the window.
        score: float score of the bit-accurate model (``score_int / 2**16``).
        threshold_int: the threshold register value it was compared with, UQ1.16.
    """

    index: int
    score_int: int
    flag: bool
    start_frame: int | None = field(default=None, compare=False)
    score: float | None = field(default=None, compare=False)
    threshold_int: int | None = field(default=None, compare=False)


def detect(codes: npt.NDArray[np.uint8], weights: DetectorWeights, threshold: float,
           window: int | None = None) -> list[Detection]:
    """Per-window detections of the bit-accurate model (what the chip reports).

    Args:
        codes: uint8 (n, 32) feature codes.
        weights: the detector weights.
        threshold: float in [0, 1]; the register holds ``round(threshold * 2**16)``.
        window: frames per window (default ``weights.config.window`` = 198).

    Returns:
        one :class:`Detection` per complete window, in order.
    """
    weights = _check_weights(weights)
    cfg = weights.config
    thr = threshold_to_int(threshold, cfg)
    window = _window(window, weights)
    run = run_fixed(codes, weights, window)
    flags = flag_compare(run.score_int, thr, cfg)
    return [
        Detection(index=j, start_frame=j * window, score=float(s) / cfg.sig_one,
                  score_int=int(s), threshold_int=thr, flag=bool(f))
        for j, (s, f) in enumerate(zip(run.score_int, flags, strict=True))
    ]


def plot_timeline(ax: Any, detections: list[Detection], threshold: float,
                  window: int = 198, hop_s: float = 0.01) -> None:
    """Draw a detection timeline on a matplotlib axes (time in seconds on x).

    Each window is a step of its score over ``[start, start + window*hop_s)``; flagged windows
    are shaded; the threshold is a dashed line.  The time axis matches a spectrogram drawn
    with one column per frame of ``hop_s`` seconds.
    """
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("score")
    ax.axhline(threshold, color="tab:red", linestyle="--", linewidth=1.0, label="threshold")
    for d in detections:
        t0 = d.start_frame * hop_s
        t1 = t0 + window * hop_s
        if d.flag:
            ax.axvspan(t0, t1, color="tab:orange", alpha=0.3, linewidth=0)
        ax.hlines(d.score, t0, t1, color="tab:blue", linewidth=2.0)
    ax.set_xlabel("time (s)")
