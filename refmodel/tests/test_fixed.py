"""Plain tests of the shared rounding/saturation primitive, against exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from refmodel import fixed


def _round_half_up(x: int, shift: int) -> int:
    return math.floor(Fraction(x, 1 << shift) + Fraction(1, 2))


@pytest.mark.parametrize("shift", [0, 1, 2, 5, 15])
def test_round_shift_matches_exact_rounding(shift: int) -> None:
    xs = list(range(-300, 301)) + [2**40 + 7, -(2**40) - 9, 2**61 - 1, -(2**61)]
    got = fixed.round_shift(np.array(xs), shift)
    assert got.tolist() == [_round_half_up(x, shift) for x in xs]


def test_ties_round_up() -> None:
    # -2.5 -> -2, -1.5 -> -1, -0.5 -> 0, 0.5 -> 1, 1.5 -> 2, 2.5 -> 3 (half towards +inf)
    assert fixed.round_shift(np.array([-5, -3, -1, 1, 3, 5]), 1).tolist() == [-2, -1, 0, 1, 2, 3]


def test_saturate_limits_and_flag() -> None:
    assert fixed.sat_limits(8) == (-128, 127)
    v, flag = fixed.round_sat_flag(np.array([-1000, -129, -128, 0, 127, 128, 1000]), 0, 8)
    assert v.tolist() == [-128, -128, -128, 0, 127, 127, 127]
    assert flag.tolist() == [True, True, False, False, False, True, True]


def test_round_sat_is_round_then_saturate() -> None:
    # 255.5 rounds to 256 which then saturates to 127 in 8 bits... after a shift of 1: 511 -> 256
    assert fixed.round_sat(511, 1, 8) == 127
    assert fixed.round_sat(-257, 1, 8) == -128
    assert fixed.round_sat(253, 1, 9) == 127


@pytest.mark.parametrize("shift", [0, 1, 17])
def test_round_sat_float_matches_exact_rounding(shift: int) -> None:
    # ties of both signs, saturation at both ends, and integers up to 2**51
    xs = list(range(-300, 301)) + [2**51 - 1, -(2**51), 3 << 40, -(3 << 40) - 1]
    f = np.array([float(Fraction(x, 1 << shift)) for x in xs])
    got = fixed.round_sat_float(f, 24)
    want = [max(-(2**23), min(2**23 - 1, _round_half_up(x, shift))) for x in xs]
    assert got.astype(np.int64).tolist() == want
    z = (f[:4] + 1j * f[4:8]).astype(np.complex128)  # complex: rounded per component
    fixed.round_sat_float(z.view(np.float64), 24)
    assert z.real.tolist() == want[:4] and z.imag.tolist() == want[4:8]


def test_signed_unsigned_round_trip() -> None:
    x = np.arange(-(1 << 11), 1 << 11)
    u = fixed.to_unsigned(x, 12)
    assert u.min() == 0 and u.max() == (1 << 12) - 1
    assert np.array_equal(fixed.to_signed(u, 12), x)


@pytest.mark.parametrize("bad", [1, 63])
def test_bad_width_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="bits"):
        fixed.saturate(3, bad)


def test_negative_shift_is_refused() -> None:
    with pytest.raises(ValueError, match="shift"):
        fixed.round_shift(3, -1)
