"""Block test of ``mel_window`` against ``refmodel.mel.window.window_stage``.

Frames (corners: zero, tiny, full scale, alternating full scale, impulse; plus seeded random
frames of random level) go in as FramePairs sample pairs each; every windowed pair must equal
the model bit for bit, in order.
"""

from __future__ import annotations

import cocotb
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.window import window_stage
from tb.kit.blocktb import PROFILES, check_items, make_frames, run_stream
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, pack, record

RANDOM_FRAMES = 6


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def window_frames(dut, profile):
    """Random and corner frames through the window, compared with window_stage."""
    rng = make_rng(dut._log)
    frames = make_frames(rng, RANDOM_FRAMES)
    want_v = window_stage(frames, CFG)
    inputs = [{"d": pack(f[2 * m:2 * m + 2], CFG.sample_bits)}
              for f in frames for m in range(CFG.frame_len // 2)]
    want = [{"d": pack(v[2 * m:2 * m + 2], CFG.fft_in_bits)}
            for v in want_v for m in range(CFG.frame_len // 2)]
    got = await run_stream(dut, inputs=inputs, in_map={"d": dut.in_pair_i},
                           out_map={"d": dut.out_pair_o}, n_out=len(want), profile=profile,
                           rng=rng)
    check_items("mel_window", got, want, per_frame=CFG.frame_len // 2)
    dut._log.info("%d frames (%d pairs) checked", len(frames), len(want))
    record("mel_window", vectors=len(want))


@pytest.mark.sim
def test_mel_window() -> None:
    run_block(toplevel="mel_window", test_module="tb.mel.test_mel_window")
