"""Block test of ``mel_power`` against ``refmodel.mel.power.power_stage``.

Random 24-bit X words of random magnitude plus corners (0, +-1, the extremes) go in with
their bin index; P' and the index must match bit for bit.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.power import power_stage
from tb.kit.blocktb import PROFILES, check_items, run_stream
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, pack, record

COUNT = 1500


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def power_bins(dut, profile):
    rng = make_rng(dut._log)
    lim = 1 << (CFG.fft_bits - 1)
    corners = [0, 1, -1, 127, -128, 255, lim - 1, -lim]
    xr = np.array(corners + corners[::-1], dtype=np.int64)
    xi = np.array(corners + corners, dtype=np.int64)
    mags = 1 << rng.integers(0, CFG.fft_bits - 1, (2, COUNT))
    xr = np.concatenate([xr, rng.integers(-mags[0], mags[0])])
    xi = np.concatenate([xi, rng.integers(-mags[1], mags[1])])
    p = power_stage(xr, xi, CFG)
    ks = np.arange(len(xr)) % CFG.n_bins
    inputs = [{"k": int(k), "x": pack([r, i], CFG.fft_bits)}
              for k, r, i in zip(ks, xr, xi, strict=True)]
    want = [{"k": int(k), "p": int(v)} for k, v in zip(ks, p, strict=True)]
    got = await run_stream(dut, inputs=inputs, in_map={"k": dut.in_k_i, "x": dut.in_x_i},
                           out_map={"k": dut.out_k_o, "p": dut.out_p_o}, n_out=len(want),
                           profile=profile, rng=rng)
    check_items("mel_power", got, want)
    record("mel_power", vectors=len(want))


@pytest.mark.sim
def test_mel_power() -> None:
    run_block(toplevel="mel_power", test_module="tb.mel.test_mel_power")
