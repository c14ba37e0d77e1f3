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
from refmodel.mel.fft import fft_stage
from refmodel.mel.window import window_stage
from tb.kit.blocktb import PROFILES, check_items, make_frames, run_stream
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, pack, record

RANDOM_FRAMES = 3
N = CFG.fft_points
ITEMS = N // 2 + 1


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def fft_frames(dut, profile):
    """Corner and random frames through load + 8 stages + readout."""
    rng = make_rng(dut._log)
    v = window_stage(make_frames(rng, RANDOM_FRAMES), CFG)
    lim = 1 << (CFG.fft_in_bits - 1)
    # Random full-range words: stays inside the no-overflow bound only statistically, and
    # the model saturates exactly like the RTL where it does not.
    v = np.concatenate([v, rng.integers(-lim, lim, (1, CFG.frame_len))])
    zr, zi = fft_stage(v, CFG)
    inputs = [{"d": pack(f[2 * m:2 * m + 2], CFG.fft_in_bits)}
              for f in v for m in range(CFG.frame_len // 2)]
    want = []
    for r, i in zip(zr, zi, strict=True):
        for k in range(ITEMS):
            m = (N - k) % N
            want.append({"k": k, "zk": pack([r[k], i[k]], CFG.fft_bits),
                         "zm": pack([r[m], i[m]], CFG.fft_bits)})
    got = await run_stream(dut, inputs=inputs, in_map={"d": dut.in_pair_i},
                           out_map={"k": dut.out_k_o, "zk": dut.out_zk_o, "zm": dut.out_zm_o},
                           n_out=len(want), profile=profile, rng=rng, cycles_per_item=12)
    check_items("mel_fft", got, want, per_frame=ITEMS)
    dut._log.info("%d frames checked", len(v))
    record("mel_fft", vectors=len(v))


@pytest.mark.sim
def test_mel_fft() -> None:
    run_block(toplevel="mel_fft", test_module="tb.mel.test_mel_fft")
