"""Block test of ``mel_filterbank`` against ``refmodel.mel.filterbank.mel_stage``.

Frames of 129 power bins (k = 0..128 in order, as ``mel_power`` sends them) go in:
realistic ones (corner and random frames through the model), random 40-bit words of random
magnitude, all-maximum and all-zero; the 32 band sums per frame must match bit for bit, in
band order.
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


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def mel_frames(dut, profile):
    rng = make_rng(dut._log)
    p = run(make_frames(rng, 2), start="mel_window", upto="mel_power")
    top = 1 << CFG.power_bits
    mags = 1 << rng.integers(0, CFG.power_bits, (3, CFG.n_bins))
    p = np.concatenate([p, rng.integers(0, mags), np.full((1, CFG.n_bins), top - 1),
                        np.zeros((1, CFG.n_bins), dtype=np.int64)])
    st = stage("mel_filterbank")
    want = st.all_items(st.model(p))
    # bins k = 0..FftPoints/2 of every frame, as mel_power sends them (the bins above carry
    # no mel weight; those past MelLastBin here are consumed and ignored)
    half = stage("mel_power").per_frame
    inputs = [(k, v) for row in p for k, v in enumerate(row[:half])]
    await run_stage(dut, st, inputs=inputs, want=want, profile=profile, rng=rng)
    dut._log.info("%d frames checked", p.shape[0])
    record("mel_filterbank", vectors=len(want))


@pytest.mark.sim
def test_mel_filterbank() -> None:
    run_block(toplevel="mel_filterbank", test_module="tb.mel.test_mel_filterbank")
