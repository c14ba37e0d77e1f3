"""Block test of ``mel_split`` against ``refmodel.mel.split.split_stage``.

Inputs are the (k, Z[k], Z[-k]) pairs of FFT outputs (realistic frames through the model) and
of random full-range 24-bit words (which also exercises the saturation, identical in the
model); the outputs (k, X[k], X[256-k]) must match bit for bit.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.stages import run, stage
from tb.kit.blocktb import PROFILES, make_frames, run_stage
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, record

N = CFG.fft_points


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def split_frames(dut, profile):
    rng = make_rng(dut._log)
    zr, zi = run(make_frames(rng, 2), start="mel_window", upto="mel_fft")
    lim = 1 << (CFG.fft_bits - 1)
    zr = np.concatenate([zr, rng.integers(-lim, lim, (2, N)), np.full((1, N), lim - 1)])
    zi = np.concatenate([zi, rng.integers(-lim, lim, (2, N)), np.full((1, N), -lim)])
    st = stage("mel_split")
    want = st.all_items(st.model(zr, zi))
    await run_stage(dut, st, inputs=stage("mel_fft").all_items((zr, zi)), want=want,
                    profile=profile, rng=rng)
    record("mel_split", vectors=len(want))


@pytest.mark.sim
def test_mel_split() -> None:
    run_block(toplevel="mel_split", test_module="tb.mel.test_mel_split")
