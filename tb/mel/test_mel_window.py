"""Block test of ``mel_window`` against ``refmodel.mel.window.window_stage``.

Frames (corners: zero, tiny, full scale, alternating full scale, impulse; plus seeded random
frames of random level) go in as FramePairs sample pairs each; every windowed pair must equal
the model bit for bit, in order.
"""

from __future__ import annotations

import cocotb
import pytest

from refmodel.mel.stages import stage
from tb.kit.blocktb import PROFILES, make_frames, run_stage
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, record

RANDOM_FRAMES = 6


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def window_frames(dut, profile):
    """Random and corner frames through the window, compared with window_stage."""
    rng = make_rng(dut._log)
    frames = make_frames(rng, RANDOM_FRAMES)
    st = stage("mel_window")
    want = st.all_items(st.model(frames))
    await run_stage(dut, st, inputs=stage("mel_framer").all_items(frames), want=want,
                    profile=profile, rng=rng)
    dut._log.info("%d frames (%d pairs) checked", len(frames), len(want))
    record("mel_window", vectors=len(want))


@pytest.mark.sim
def test_mel_window() -> None:
    run_block(toplevel="mel_window", test_module="tb.mel.test_mel_window")
