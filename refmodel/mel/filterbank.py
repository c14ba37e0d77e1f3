"""Bit-accurate model of ``mel_filterbank`` (``rtl/mel/mel_filterbank.sv``): 32 mel bands.

Formats (``docs/fixed_point_frontend.md``, table "mel"; the power words it reads are
:mod:`refmodel.mel.power`):

* mel weights: unsigned UQ1.15, ``round(w * 2**15)``, 16 bits (1.0 representable);
* mel accumulator: ``M[b] = sum_k Wq[b, k] * P'[k]`` exact, unsigned, < 2**58, and
  ``mel_float = M / 2**cfg.mel_exponent`` (2**37 by default).

Every bin feeds at most two adjacent triangles (the falling edge of band ``s-1`` and the
rising edge of band ``s``, ``s`` the bin's segment), so the RTL does power and mel in one
pass over the bins using :func:`mel_bin_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.golden import mel_edges_hz, mel_matrix

I64 = npt.NDArray[np.int64]




def mel_weight_table(cfg: FrontendConfig | None = None) -> I64:
    """Quantised filterbank, int64 ``(n_mels, n_bins)``: unsigned UQ1.15 ``round(w * 2**15)``.

    Cached and read-only.
    """
    return _mel_weights(resolve(cfg))


@lru_cache(maxsize=8)
def _mel_weights(cfg: FrontendConfig) -> I64:
    wq = np.round(mel_matrix(cfg) * (1 << cfg.mel_weight_frac)).astype(np.int64)
    if wq.max() >= 1 << cfg.mel_weight_bits:
        raise ValueError("mel weight does not fit mel_weight_bits")
    p_max = 1 << (2 * cfg.fft_bits - 1 - cfg.power_shift)  # largest P'
    if int(wq.sum(axis=1).max()) * p_max >= 1 << cfg.mel_acc_bits:
        raise ValueError("mel accumulator could overflow mel_acc_bits")
    wq.flags.writeable = False
    return wq


@dataclass(frozen=True)
class MelBinTables:
    """One-pass form of the filterbank over bins ``first_bin..last_bin`` (inclusive).

    ``segment[i]`` (0..n_mels) is the triangle segment of bin ``first_bin + i``: the bin adds
    ``w_fall[i] * P'`` to band ``segment - 1`` (if >= 0) and ``w_rise[i] * P'`` to band
    ``segment`` (if < n_mels).  Weights are UQ1.15; a weight of an absent band is 0.
    All arrays int64 ``(last_bin - first_bin + 1,)``.
    """

    first_bin: int
    last_bin: int
    segment: I64
    w_rise: I64
    w_fall: I64


def mel_bin_tables(cfg: FrontendConfig | None = None) -> MelBinTables:
    """The sparse filterbank as per-bin tables (the mel ROM of the RTL)."""
    cfg = resolve(cfg)
    wq = mel_weight_table(cfg)
    nz = np.flatnonzero(wq.any(axis=0))
    first, last = int(nz[0]), int(nz[-1])
    bins = np.arange(first, last + 1)
    f_hz = bins * (cfg.sample_rate / cfg.n_fft)
    seg = np.searchsorted(mel_edges_hz(cfg), f_hz, side="right").astype(np.int64) - 1
    w_rise = np.zeros(len(bins), dtype=np.int64)
    w_fall = np.zeros(len(bins), dtype=np.int64)
    for i, (k, s) in enumerate(zip(bins, seg, strict=True)):
        if s < cfg.n_mels:
            w_rise[i] = wq[s, k]
        if s >= 1:
            w_fall[i] = wq[s - 1, k]
    return MelBinTables(first, last, seg, w_rise, w_fall)


def mel_band_ranges(cfg: FrontendConfig | None = None) -> tuple[I64, I64]:
    """First and last bin (inclusive) with a nonzero weight, per band: two int64 ``(n_mels,)``."""
    wq = mel_weight_table(cfg)
    nz = wq > 0
    first = np.argmax(nz, axis=1).astype(np.int64)
    last = (wq.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1)).astype(np.int64)
    return first, last


def mel_stage(power: npt.ArrayLike, cfg: FrontendConfig | None = None) -> I64:
    """Mel accumulation: int64 ``(..., 257)`` unsigned 40-bit -> int64 ``(..., 32)`` < 2**58.

    ``M[b] = sum_k Wq[b, k] * P'[k]``, exact integer arithmetic.  (Computed as two exact
    float64 matrix products on the 20-bit halves of ``P'``: every partial sum is an integer
    below 2**53, so the result is bit-exact and fast.)
    """
    cfg = resolve(cfg)
    p = np.asarray(power, dtype=np.int64)
    if p.shape[-1] != cfg.n_bins:
        raise ValueError(f"power: last axis must be {cfg.n_bins}, got shape {p.shape}")
    if p.size and (p.min() < 0 or p.max() >= 1 << cfg.power_bits):
        raise ValueError(f"power: values outside unsigned {cfg.power_bits}-bit range")
    lo_bin, hi_bin, wt = _mel_float_weights(cfg)
    ps = p[..., lo_bin:hi_bin]
    half = cfg.power_bits // 2
    hi = (ps >> half).astype(np.float64) @ wt
    lo = (ps & ((1 << half) - 1)).astype(np.float64) @ wt
    return (hi.astype(np.int64) << half) + lo.astype(np.int64)


@lru_cache(maxsize=8)
def _mel_float_weights(cfg: FrontendConfig) -> tuple[int, int, npt.NDArray[np.float64]]:
    """Support bins [lo, hi) and the float64 (hi - lo, n_mels) weights of :func:`mel_stage`."""
    first, last = mel_band_ranges(cfg)
    lo_bin, hi_bin = int(first.min()), int(last.max()) + 1
    # each partial sum < n_bins * 2**(power_bits/2) * 2**mel_weight_bits <= 2**53: exact
    if cfg.power_bits // 2 + cfg.mel_weight_bits + int(np.ceil(np.log2(cfg.n_bins))) > 53:
        raise ValueError("mel_stage float split would not be exact for this configuration")
    wt = np.ascontiguousarray(mel_weight_table(cfg)[:, lo_bin:hi_bin].T, dtype=np.float64)
    wt.flags.writeable = False
    return lo_bin, hi_bin, wt
