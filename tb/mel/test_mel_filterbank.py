"""Block test of ``mel_filterbank`` against ``refmodel.mel.filterbank.mel_stage``.

Frames of 257 power bins (in order, k = 0..256) go in: realistic ones (corner and random
frames through the model), random 40-bit words of random magnitude, all-maximum and all-zero;
the 32 band sums per frame must match bit for bit, in band order.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.fft import fft_stage
from refmodel.mel.filterbank import mel_stage
from refmodel.mel.power import power_stage
from refmodel.mel.split import split_stage
from refmodel.mel.window import window_stage
from tb.kit.blocktb import PROFILES, check_items, make_frames, run_stream
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, record


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def mel_frames(dut, profile):
    rng = make_rng(dut._log)
    xr, xi = split_stage(*fft_stage(window_stage(make_frames(rng, 2), CFG), CFG), CFG)
    p = power_stage(xr, xi, CFG)
    top = 1 << CFG.power_bits
    mags = 1 << rng.integers(0, CFG.power_bits, (3, CFG.n_bins))
    p = np.concatenate([p, rng.integers(0, mags), np.full((1, CFG.n_bins), top - 1),
                        np.zeros((1, CFG.n_bins), dtype=np.int64)])
    m = mel_stage(p, CFG)
    inputs = [{"k": k, "p": int(v)} for row in p for k, v in enumerate(row)]
    want = [{"m": int(v)} for row in m for v in row]
    got = await run_stream(dut, inputs=inputs, in_map={"k": dut.in_k_i, "p": dut.in_p_i},
                           out_map={"m": dut.out_m_o}, n_out=len(want), profile=profile, rng=rng)
    check_items("mel_filterbank", got, want, per_frame=CFG.n_mels)
    dut._log.info("%d frames checked", p.shape[0])
    record("mel_filterbank", vectors=len(want))


@pytest.mark.sim
def test_mel_filterbank() -> None:
    run_block(toplevel="mel_filterbank", test_module="tb.mel.test_mel_filterbank")
