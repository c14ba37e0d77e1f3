"""Block test of ``prim_round_sat`` against ``refmodel.fixed.round_sat_flag``.

Small widths are checked exhaustively (every input value); wide widths with seeded random
values plus the corner values (extremes, rounding ties, saturation boundaries).
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import Timer

from refmodel import fixed
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint

# (InW, OutW, Shift): exhaustive small configurations and random wide ones
SMALL = [(8, 4, 3), (8, 8, 1), (8, 10, 0), (6, 3, 5), (9, 5, 2)]
WIDE = [(48, 24, 17), (32, 16, 8), (40, 40, 0), (24, 12, 11)]
RANDOM_VECTORS = 3000


def _corners(in_w: int, shift: int, out_w: int) -> np.ndarray:
    lo, hi = -(1 << (in_w - 1)), (1 << (in_w - 1)) - 1
    pts = [lo, lo + 1, -1, 0, 1, hi - 1, hi]
    if shift:
        half = 1 << (shift - 1)
        for k in (-3, -1, 0, 1, 3):  # exact ties of the rounding, both signs
            pts += [k * (1 << shift) + half, k * (1 << shift) - half]
    for edge in (1 << (out_w - 1 + shift), -(1 << (out_w - 1 + shift))):
        pts += [edge - 1, edge, edge + 1]  # around the saturation thresholds
    return np.array([p for p in pts if lo <= p <= hi], dtype=np.int64)


@cocotb.test()
async def check_round_sat(dut):
    """Every vector bit-exact on out_o and sat_o."""
    in_w, out_w, shift = int(dut.InW.value), int(dut.OutW.value), int(dut.Shift.value)
    rng = make_rng(dut._log)
    if in_w <= 12:
        vectors = np.arange(-(1 << (in_w - 1)), 1 << (in_w - 1), dtype=np.int64)
    else:
        lo, hi = -(1 << (in_w - 1)), (1 << (in_w - 1))
        vectors = np.concatenate([_corners(in_w, shift, out_w),
                                  rng.integers(lo, hi, RANDOM_VECTORS, dtype=np.int64)])
    want, want_sat = fixed.round_sat_flag(vectors, shift, out_w)
    for x, w, ws in zip(vectors.tolist(), want.tolist(), want_sat.tolist(), strict=True):
        dut.in_i.value = x
        await Timer(1, unit="ns")
        got = read_int(dut.out_o, "out_o", signed=True)
        got_sat = read_int(dut.sat_o, "sat_o")
        assert (got, got_sat) == (w, int(ws)), (
            f"prim_round_sat InW={in_w} OutW={out_w} Shift={shift}: in={x} expected "
            f"out={w} sat={int(ws)}, got out={got} sat={got_sat}; rerun: {rerun_hint()}")
    dut._log.info("%d vectors checked", len(vectors))
    record("prim_round_sat", vectors=len(vectors))


@pytest.mark.sim
@pytest.mark.parametrize("in_w,out_w,shift", SMALL + WIDE)
def test_prim_round_sat(in_w: int, out_w: int, shift: int) -> None:
    run_block(toplevel="prim_round_sat", test_module="tb.prim.test_prim_round_sat",
              parameters={"InW": in_w, "OutW": out_w, "Shift": shift})
