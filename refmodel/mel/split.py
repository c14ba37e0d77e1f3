"""Bit-accurate model of ``mel_split`` (``rtl/mel/mel_split.sv``): the real-spectrum split.

``Z`` is the FFT's output (:mod:`refmodel.mel.fft`); the real-FFT post-processing, for
``k = 0..128`` and ``m = (256 - k) mod 256``::

    SA = Z[k] + conj(Z[m])            (= 2 A[k], exact)
    SB = -j (Z[k] - conj(Z[m]))       (= 2 B[k], exact)
    X[k]       = round_sat(((SA << 16) + W_512^k SB) >> 17)     per component
    X[256 - k] = conj(A - W B): Re = round_sat(((SAr << 16) - Re(W SB)) >> 17)
                                  Im = round_sat((-(SAi << 16) + Im(W SB)) >> 17)

giving bins 0..256 in PCM-LSB units of the true DFT, signed 24-bit per component.

Complex words are passed as two int64 arrays (real, imaginary) of the same shape.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.fft import twiddle_table

I64 = npt.NDArray[np.int64]


def split_stage(zr: npt.ArrayLike, zi: npt.ArrayLike, cfg: FrontendConfig | None = None
                ) -> tuple[I64, I64]:
    """Real-split post-processing: ``(Zr, Zi)`` int64 ``(..., 256)`` -> ``(Xr, Xi)`` ``(..., 257)``.

    ``X[k]`` (k = 0..256) is the 512-point DFT of the windowed frame in PCM-LSB units,
    signed ``fft_bits`` per component.  One iteration per ``k = 0..128`` makes ``X[k]`` and
    ``X[256 - k]`` (``k = 128`` makes the same bin twice, identically).
    """
    cfg = resolve(cfg)
    zr = np.asarray(zr, dtype=np.int64)
    zi = np.asarray(zi, dtype=np.int64)
    n = cfg.fft_points
    if zr.shape[-1] != n or zi.shape != zr.shape:
        raise ValueError(f"Z: expected matching (..., {n}) arrays, got {zr.shape}, {zi.shape}")
    k = np.arange(n // 2 + 1)
    m = (n - k) % n
    zkr, zki, zmr, zmi = zr[..., k], zi[..., k], zr[..., m], zi[..., m]
    sar = zkr + zmr
    sai = zki - zmi
    sbr = zki + zmi
    sbi = zmr - zkr
    twr, twi = twiddle_table(cfg)
    wr, wi = twr[k], twi[k]
    tr = sbr * wr - sbi * wi
    ti = sbr * wi + sbi * wr
    tf = cfg.twiddle_frac
    shift = tf + 1
    bits = cfg.fft_bits
    sar_s = sar << tf
    sai_s = sai << tf
    xr = np.empty(zr.shape[:-1] + (n + 1,), dtype=np.int64)
    xi = np.empty_like(xr)
    # X[256-k] for k = 0..128 covers bins 256..128; write it first so that bin 128 ends up
    # from the X[k] formula (both formulas give the same value there).
    xr[..., n - k] = fixed.round_sat(sar_s - tr, shift, bits)
    xi[..., n - k] = fixed.round_sat(-sai_s + ti, shift, bits)
    xr[..., k] = fixed.round_sat(sar_s + tr, shift, bits)
    xi[..., k] = fixed.round_sat(sai_s + ti, shift, bits)
    return xr, xi
