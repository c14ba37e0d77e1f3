"""Bit-exact model of the chip's one rounding and saturation primitive, ``prim_round_sat``.

Every fixed-point stage of the reference model goes through these functions, so a rounding
rule lives in exactly one place in Python and one place in SystemVerilog.

Rounding rule: **round half up** (ties towards +infinity), i.e. add ``2**(shift-1)`` and shift
right arithmetically.  It costs one adder in hardware; its +1/2 LSB bias is accounted for
per stage in ``docs/fixed_point_frontend.md`` and ``docs/fixed_point_detector.md``.

All functions accept Python ints or numpy integer arrays and return ``numpy.int64`` values
(arrays keep their shape).  Inputs must fit in 62 signed bits so the intermediate sums
cannot overflow int64.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntLike = int | np.integer | npt.NDArray[np.integer]

MAX_BITS = 62  # widest value these int64 helpers accept (one guard bit plus headroom)


def _as_i64(x: IntLike) -> npt.NDArray[np.int64]:
    return np.asarray(x, dtype=np.int64)


def _check_bits(bits: int, name: str = "bits") -> None:
    if not 2 <= bits <= MAX_BITS:
        raise ValueError(f"{name}={bits} is outside 2..{MAX_BITS}")


def round_shift(x: IntLike, shift: int) -> npt.NDArray[np.int64]:
    """Arithmetic right shift by ``shift`` with round-half-up: ``floor(x / 2**shift + 1/2)``.

    ``shift == 0`` returns ``x`` unchanged.  Shape and values as int64.
    """
    if shift < 0:
        raise ValueError(f"shift={shift} must be >= 0")
    v = _as_i64(x)
    if shift == 0:
        return v.copy()
    r = v + np.int64(1 << (shift - 1))
    r >>= np.int64(shift)
    return r


def sat_limits(bits: int) -> tuple[int, int]:
    """The (min, max) of a signed ``bits``-wide two's-complement word."""
    _check_bits(bits)
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def saturate(x: IntLike, bits: int) -> npt.NDArray[np.int64]:
    """Clamp to the signed ``bits``-wide range ``[-2**(bits-1), 2**(bits-1) - 1]``."""
    lo, hi = sat_limits(bits)
    # (np.minimum/np.maximum: the same values as np.clip at about half its call cost, which
    # the predictor pays on every block of audio)
    return np.minimum(np.maximum(_as_i64(x), lo), hi)


def round_sat(x: IntLike, shift: int, bits: int) -> npt.NDArray[np.int64]:
    """``saturate(round_shift(x, shift), bits)``: exactly what ``prim_round_sat`` computes."""
    lo, hi = sat_limits(bits)
    r = round_shift(x, shift)  # a new array (or a scalar): clamped in place
    if r.ndim == 0:
        return np.minimum(np.maximum(r, lo), hi)
    np.maximum(r, lo, out=r)
    np.minimum(r, hi, out=r)
    return r


def round_sat_float(f: npt.NDArray[np.float64], bits: int) -> npt.NDArray[np.float64]:
    """:func:`round_sat` on float64 values ``f = x / 2**shift``, in place: ``floor(f + 1/2)``
    clamped to the signed ``bits``-wide range.  Exact (the same integers as ``round_sat(x,
    shift, bits)``) while every ``x`` and ``x / 2**shift + 1/2`` is held exactly, i.e. ``x``
    is an integer below ``2**52`` in magnitude; the FFT and split models compute that way
    (``refmodel/mel/fft.py``).  A complex128 array is rounded per component through
    ``z.view(np.float64)``.  Returns ``f``."""
    lo, hi = sat_limits(bits)
    f += 0.5
    np.floor(f, out=f)
    np.maximum(f, lo, out=f)
    np.minimum(f, hi, out=f)
    return f


def round_sat_flag(x: IntLike, shift: int, bits: int) -> tuple[npt.NDArray[np.int64],
                                                             npt.NDArray[np.bool_]]:
    """:func:`round_sat` plus the ``sat_o`` flag (True where the value was clipped)."""
    r = round_shift(x, shift)
    s = saturate(r, bits)
    return s, s != r


def to_unsigned(x: IntLike, bits: int) -> npt.NDArray[np.int64]:
    """Two's-complement bit pattern of a signed value, as a non-negative integer."""
    _check_bits(bits)
    return _as_i64(x) & np.int64((1 << bits) - 1)


def to_signed(u: IntLike, bits: int) -> npt.NDArray[np.int64]:
    """Signed value of a ``bits``-wide bit pattern (the inverse of :func:`to_unsigned`)."""
    _check_bits(bits)
    v = _as_i64(u) & np.int64((1 << bits) - 1)
    return np.where(v >= (1 << (bits - 1)), v - np.int64(1 << bits), v)
