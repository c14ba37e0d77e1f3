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
from refmodel.mel.fft import fft_stage
from refmodel.mel.split import split_stage
from refmodel.mel.window import window_stage
from tb.kit.blocktb import PROFILES, check_items, make_frames, run_stream
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, pack, record

N = CFG.fft_points
ITEMS = N // 2 + 1


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def split_frames(dut, profile):
    rng = make_rng(dut._log)
    zr, zi = fft_stage(window_stage(make_frames(rng, 2), CFG), CFG)
    lim = 1 << (CFG.fft_bits - 1)
    zr = np.concatenate([zr, rng.integers(-lim, lim, (2, N)), np.full((1, N), lim - 1)])
    zi = np.concatenate([zi, rng.integers(-lim, lim, (2, N)), np.full((1, N), -lim)])
    xr, xi = split_stage(zr, zi, CFG)
    inputs, want = [], []
    for f in range(zr.shape[0]):
        for k in range(ITEMS):
            m = (N - k) % N
            inputs.append({"k": k, "zk": pack([zr[f, k], zi[f, k]], CFG.fft_bits),
                           "zm": pack([zr[f, m], zi[f, m]], CFG.fft_bits)})
            want.append({"k": k, "xk": pack([xr[f, k], xi[f, k]], CFG.fft_bits),
                         "xm": pack([xr[f, N - k], xi[f, N - k]], CFG.fft_bits)})
    got = await run_stream(dut, inputs=inputs,
                           in_map={"k": dut.in_k_i, "zk": dut.in_zk_i, "zm": dut.in_zm_i},
                           out_map={"k": dut.out_k_o, "xk": dut.out_xk_o, "xm": dut.out_xm_o},
                           n_out=len(want), profile=profile, rng=rng)
    check_items("mel_split", got, want, per_frame=ITEMS)
    record("mel_split", vectors=len(want))


@pytest.mark.sim
def test_mel_split() -> None:
    run_block(toplevel="mel_split", test_module="tb.mel.test_mel_split")
