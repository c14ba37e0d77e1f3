"""Block test of ``mel_fft`` against ``refmodel.mel.fft.fft_stage``.

Windowed frames (from corner and seeded random int16 frames through ``window_stage``, plus a
frame of random full-range 20-bit words) are loaded; the output pairs (k, Z[k], Z[-k]) for
k = 0..128 must equal the model's natural-order FFT bit for bit.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.stages import stage
from tb.kit.blocktb import PROFILES, make_frames, run_stage
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, record

RANDOM_FRAMES = 3


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def fft_frames(dut, profile):
    """Corner and random frames through load + 8 stages + readout."""
    rng = make_rng(dut._log)
    window, st = stage("mel_window"), stage("mel_fft")
    v = window.model(make_frames(rng, RANDOM_FRAMES))
    lim = 1 << (CFG.fft_in_bits - 1)
    # Random full-range words: stays inside the no-overflow bound only statistically, and
    # the model saturates exactly like the RTL where it does not.
    v = np.concatenate([v, rng.integers(-lim, lim, (1, CFG.frame_len))])
    await run_stage(dut, st, inputs=window.all_items(v), want=st.all_items(st.model(v)),
                    profile=profile, rng=rng, cycles_per_item=12)
    dut._log.info("%d frames checked", len(v))
    record("mel_fft", vectors=len(v))


@pytest.mark.sim
def test_mel_fft() -> None:
    run_block(toplevel="mel_fft", test_module="tb.mel.test_mel_fft")
