"""Block test of ``mel_power`` against ``refmodel.mel.power.power_stage``.

Random 24-bit X words of random magnitude plus corners (0, +-1, the extremes) go in with
their bin index; P' and the index must match bit for bit.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.stages import stage
from tb.kit.blocktb import PROFILES, run_stage
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, record

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
    st = stage("mel_power")
    ks = np.arange(len(xr)) % CFG.n_bins
    want = list(zip(ks, st.model(xr, xi), strict=True))
    await run_stage(dut, st, inputs=list(zip(ks, xr, xi, strict=True)), want=want,
                    profile=profile, rng=rng)
    record("mel_power", vectors=len(want))


@pytest.mark.sim
def test_mel_power() -> None:
    run_block(toplevel="mel_power", test_module="tb.mel.test_mel_power")
