"""Block test of ``mel_quant`` against ``refmodel.mel.quant.quantise_stage``.

Frames of 32 log values (the whole UQ6.16 range, values around the clip points and code
boundaries, 0 and the maximum) go in; each packed 256-bit vector must match bit for bit.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.log2 import log2_stage
from refmodel.mel.stages import stage
from tb.kit.blocktb import PROFILES, run_stage
from tb.kit.runner import run_block
from tb.kit.testkit import make_rng, record

FRAMES = 24


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def quant_frames(dut, profile):
    rng = make_rng(dut._log)
    y_max = int(log2_stage(np.array([(1 << CFG.mel_acc_bits) - 1]), CFG)[0])
    y = rng.integers(0, y_max + 1, (FRAMES, CFG.n_mels))
    # around code 0 and 255 (y of about 20.5 and 47.0 log2 units)
    y[0] = np.linspace(19 << 16, 22 << 16, CFG.n_mels).astype(np.int64)
    y[1] = np.linspace(45 << 16, 49 << 16, CFG.n_mels).astype(np.int64)
    y[2, :4] = [0, 1, y_max, y_max - 1]
    st = stage("mel_quant")
    want = st.all_items(st.model(y))
    await run_stage(dut, st, inputs=[(v,) for row in y for v in row], want=want,
                    profile=profile, rng=rng)
    record("mel_quant", vectors=len(want))


@pytest.mark.sim
def test_mel_quant() -> None:
    run_block(toplevel="mel_quant", test_module="tb.mel.test_mel_quant")
