"""Bit-accurate model of ``mel_fft`` (``rtl/mel/mel_fft.sv``): the packed 256-point complex FFT.

Algorithm (``docs/fixed_point_frontend.md``, table "FFT"; the real-spectrum split that
follows is :mod:`refmodel.mel.split`):

1. **load**: the 400 windowed samples ``v`` become 200 complex words
   ``z[m] = v[2m] + j v[2m+1]``; ``z[200..255] = 0`` (the zero padding to 512).  They are
   stored at bit-reversed addresses of a 256-word memory.
2. **FFT**: a 256-point complex radix-2 decimation-in-time FFT, 8 stages of 128 butterflies,
   natural-order output ``Z[k]``.  Butterfly, with twiddle ``W = W_256^m`` in Q2.16::

       t   = W * b                       (4 products, summed at full width, not rounded)
       a'  = round_sat((a << 16) + t, 16 + shift_s, 24)
       b'  = round_sat((a << 16) - t, 16 + shift_s, 24)

   one rounding per output word; ``shift_s`` is ``cfg.fft_stage_shifts[s]``.
Complex words are passed as two int64 arrays (real, imaginary) of the same shape.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from refmodel import fixed
from refmodel.mel.config import FrontendConfig, resolve

I64 = npt.NDArray[np.int64]


@lru_cache(maxsize=8)
def _twiddles(cfg: FrontendConfig) -> tuple[I64, I64]:
    k = np.arange(cfg.n_fft // 2, dtype=np.float64)
    ang = 2.0 * np.pi * k / cfg.n_fft
    scale = float(1 << cfg.twiddle_frac)
    re = np.round(np.cos(ang) * scale).astype(np.int64)
    im = np.round(-np.sin(ang) * scale).astype(np.int64)
    lo, hi = fixed.sat_limits(cfg.twiddle_bits)
    if min(re.min(), im.min()) < lo or max(re.max(), im.max()) > hi:
        raise ValueError("twiddle does not fit twiddle_bits")
    re.flags.writeable = False
    im.flags.writeable = False
    return re, im


def twiddle_table(cfg: FrontendConfig | None = None) -> tuple[I64, I64]:
    """Twiddle ROM ``W_512^k = exp(-2 pi i k / 512)``, ``k = 0..255``, signed Q2.16.

    Returns ``(re, im)`` int64 ``(n_fft/2,)``: ``round(cos * 2**16)``, ``round(-sin * 2**16)``.
    The FFT uses the even entries (``W_256^m = W_512^(2m)``); the split stage uses
    entries 0..128.
    """
    return _twiddles(resolve(cfg))


def bit_reverse_permutation(n: int) -> npt.NDArray[np.int64]:
    """``p -> bitrev(p)`` for ``p = 0..n-1`` (``n`` a power of two), int64 ``(n,)``."""
    return _bitrev(int(n)).copy()


@lru_cache(maxsize=8)
def _bitrev(n: int) -> npt.NDArray[np.int64]:
    bits = int(n).bit_length() - 1
    p = np.arange(n, dtype=np.int64)
    r = np.zeros(n, dtype=np.int64)
    for i in range(bits):
        r |= ((p >> i) & 1) << (bits - 1 - i)
    return r


def fft_load(windowed: npt.ArrayLike, cfg: FrontendConfig | None = None) -> tuple[I64, I64]:
    """FFT memory image after the load: int64 ``(..., 400)`` -> ``(re, im)`` int64 ``(..., 256)``.

    Address ``p`` holds ``z[bitrev(p)]`` with ``z[m] = v[2m] + j v[2m+1]`` and zeros for
    ``m >= frame_len / 2``.
    """
    cfg = resolve(cfg)
    v = np.asarray(windowed, dtype=np.int64)
    if v.shape[-1] != cfg.frame_len:
        raise ValueError(f"windowed: last axis must be {cfg.frame_len}, got {v.shape}")
    n = cfg.fft_points
    half = cfg.frame_len // 2
    zr = np.zeros(v.shape[:-1] + (n,), dtype=np.int64)
    zi = np.zeros_like(zr)
    zr[..., :half] = v[..., 0::2]
    zi[..., :half] = v[..., 1::2]
    perm = bit_reverse_permutation(n)
    return zr[..., perm], zi[..., perm]


def fft_butterfly_stage(re: npt.ArrayLike, im: npt.ArrayLike, stage: int,
                        cfg: FrontendConfig | None = None) -> tuple[I64, I64]:
    """One radix-2 DIT stage on the FFT memory, int64 ``(..., 256)`` in and out.

    ``stage`` = 0..7; butterflies pair addresses ``p`` and ``p + 2**stage`` inside blocks of
    ``2**(stage+1)``, twiddle ``W_256^(j * 128 / 2**stage)`` for ``j = p mod 2**stage``.
    Inputs must be signed ``fft_bits`` words; outputs are (saturated, never in practice).
    """
    cfg = resolve(cfg)
    if not 0 <= stage < cfg.fft_stages:
        raise ValueError(f"stage={stage} outside 0..{cfg.fft_stages - 1}")
    z = _butterflies(_to_complex(re, im), stage, cfg)
    return _to_int(z)


def fft_stage(windowed: npt.ArrayLike, cfg: FrontendConfig | None = None) -> tuple[I64, I64]:
    """Load plus all FFT stages: int64 ``(..., 400)`` -> ``(Zr, Zi)`` int64 ``(..., 256)``.

    ``Z`` is the 256-point DFT of ``z[m] = v[2m] + j v[2m+1]`` scaled by
    ``2**-sum(fft_stage_shifts)``, natural order, signed 24-bit components.
    """
    cfg = resolve(cfg)
    z = _to_complex(*fft_load(windowed, cfg))
    for s in range(cfg.fft_stages):
        z = _butterflies(z, s, cfg)
    return _to_int(z)


# The butterflies compute in complex128, exactly: every word is an integer, every product and
# sum of the butterfly is an integer below 2**(fft_bits + twiddle_bits) <= 2**52 (checked by
# FrontendConfig), and the scalings are powers of two, so float64 holds each value exactly and
# fixed.round_sat_float gives the integers of fixed.round_sat.  Same values as the
# int64 formula of the module docstring (test_butterfly_matches_python_ints), at a third of
# the numpy passes.
def _to_complex(re: npt.ArrayLike, im: npt.ArrayLike) -> npt.NDArray[np.complex128]:
    re = np.asarray(re, dtype=np.int64)
    z = np.empty(re.shape, dtype=np.complex128)
    z.real = re
    z.imag = np.asarray(im, dtype=np.int64)
    return z


def _to_int(z: npt.NDArray[np.complex128]) -> tuple[I64, I64]:
    return z.real.astype(np.int64), z.imag.astype(np.int64)


@lru_cache(maxsize=64)
def _stage_twiddles(cfg: FrontendConfig, stage: int) -> npt.NDArray[np.complex128]:
    """``W_256^j`` of one stage, already scaled by ``2**-(twiddle_frac + shift_s)``."""
    h = 1 << stage
    twr, twi = twiddle_table(cfg)
    k = np.arange(h) * (cfg.n_fft // (2 * h))
    w = (twr[k] + 1j * twi[k]) * 2.0 ** -(cfg.twiddle_frac + cfg.fft_stage_shifts[stage])
    w.flags.writeable = False
    return w


def _butterflies(z: npt.NDArray[np.complex128], stage: int, cfg: FrontendConfig
                 ) -> npt.NDArray[np.complex128]:
    """``a' = round_sat(a * 2**-shift + W b)``, ``b' = round_sat(a * 2**-shift - W b)``."""
    n = cfg.fft_points
    h = 1 << stage
    v = z.reshape(-1, n // (2 * h), 2, h)
    t = v[:, :, 1, :] * _stage_twiddles(cfg, stage)
    a = v[:, :, 0, :] * 2.0 ** -cfg.fft_stage_shifts[stage]
    out = np.empty(v.shape, dtype=np.complex128)
    np.add(a, t, out=out[:, :, 0, :])
    np.subtract(a, t, out=out[:, :, 1, :])
    fixed.round_sat_float(out.view(np.float64), cfg.fft_bits)
    return out.reshape(z.shape)


def stage_bounds(cfg: FrontendConfig | None = None) -> npt.NDArray[np.float64]:
    """Worst-case magnitude of any real or imaginary FFT word, per stage, over all int16 input.

    Returns float64 ``(fft_stages + 2,)``: after the load, after each FFT stage, after the
    split.  Each entry is ``32768 * max_j sum_n |c_jn|`` with ``c_jn`` the exact (rounding-free)
    linear coefficient from input sample ``n`` to output word ``j``, using the quantised window
    and twiddles and the stage shifts: the largest value any int16 frame can produce before
    rounding errors (which add at most a few LSBs, see docs/fixed_point_frontend.md).
    """
    cfg = resolve(cfg)
    from refmodel.mel.window import window_table  # local: window does not need fft

    n_in = cfg.frame_len
    scale = window_table(cfg) / float(1 << cfg.window_shift)  # windowed word per unit sample
    basis = np.diag(scale)  # (n_in inputs, n_in samples): one impulse per row
    zr = np.zeros((n_in, cfg.fft_points))
    zi = np.zeros_like(zr)
    zr[:, : n_in // 2] = basis[:, 0::2]
    zi[:, : n_in // 2] = basis[:, 1::2]
    perm = bit_reverse_permutation(cfg.fft_points)
    zr, zi = zr[:, perm], zi[:, perm]
    twr, twi = (t / float(1 << cfg.twiddle_frac) for t in twiddle_table(cfg))

    def bound(re: np.ndarray, im: np.ndarray) -> float:
        return 32768.0 * float(max(np.abs(re).sum(axis=0).max(), np.abs(im).sum(axis=0).max()))

    out = [bound(zr, zi)]
    n = cfg.fft_points
    for s in range(cfg.fft_stages):
        h = 1 << s
        vr = zr.reshape(n_in, n // (2 * h), 2, h)
        vi = zi.reshape(n_in, n // (2 * h), 2, h)
        k = np.arange(h) * (cfg.n_fft // (2 * h))
        wr, wi = twr[k], twi[k]
        tr = vr[:, :, 1] * wr - vi[:, :, 1] * wi
        ti = vr[:, :, 1] * wi + vi[:, :, 1] * wr
        g = 0.5 ** cfg.fft_stage_shifts[s]
        zr = np.stack([vr[:, :, 0] + tr, vr[:, :, 0] - tr], axis=2).reshape(n_in, n) * g
        zi = np.stack([vi[:, :, 0] + ti, vi[:, :, 0] - ti], axis=2).reshape(n_in, n) * g
        out.append(bound(zr, zi))
    k = np.arange(n // 2 + 1)
    m = (n - k) % n
    sar, sai = zr[:, k] + zr[:, m], zi[:, k] - zi[:, m]
    sbr, sbi = zi[:, k] + zi[:, m], zr[:, m] - zr[:, k]
    tr = sbr * twr[k] - sbi * twi[k]
    ti = sbr * twi[k] + sbi * twr[k]
    out.append(bound(np.concatenate([sar + tr, sar - tr], axis=1) / 2,
                     np.concatenate([sai + ti, -sai + ti], axis=1) / 2))
    return np.array(out)
