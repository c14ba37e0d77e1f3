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

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.fft import _to_complex, _to_int, twiddle_table

I64 = npt.NDArray[np.int64]


@lru_cache(maxsize=8)
def _split_twiddles(cfg: FrontendConfig) -> npt.NDArray[np.complex128]:
    """``-j W_512^k`` for ``k = 0..n_fft/4``, scaled by ``2**-(twiddle_frac + 1)``."""
    twr, twi = twiddle_table(cfg)
    k = np.arange(cfg.fft_points // 2 + 1)
    w = (twr[k] + 1j * twi[k]) * -1j * 2.0 ** -(cfg.twiddle_frac + 1)
    w.flags.writeable = False
    return w


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
    # in complex128, exactly, as the FFT's butterflies (refmodel.mel.fft._butterflies): the
    # words, products and sums are integers below 2**(fft_bits + twiddle_bits + 2) <= 2**54
    # scaled by powers of two, rounded by fixed.round_sat_float
    z = _to_complex(zr, zi)
    zk, zm = z[..., k], np.conj(z[..., m])
    sa = zk + zm  # 2 A[k]
    t = (zk - zm) * _split_twiddles(cfg)  # W (-j (Z[k] - conj Z[m])) / 2**(twiddle_frac + 1)
    sa *= 0.5
    x = np.empty(z.shape[:-1] + (n + 1,), dtype=np.complex128)
    # X[256-k] for k = 0..128 covers bins 256..128; write it first so that bin 128 ends up
    # from the X[k] formula (both formulas give the same value there).
    x[..., n - k] = np.conj(sa - t)
    x[..., k] = sa + t
    fixed.round_sat_float(x.view(np.float64), cfg.fft_bits)
    return _to_int(x)
