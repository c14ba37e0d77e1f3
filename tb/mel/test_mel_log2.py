"""Block test of ``mel_log2`` against ``refmodel.mel.log2.log2_stage``.

Values of every bit length 0..58 (random below the leading one), powers of two, all-ones
patterns, 0 and the maximum; y must match bit for bit.
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

PER_LENGTH = 24


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def log2_values(dut, profile):
    rng = make_rng(dut._log)
    bits = CFG.mel_acc_bits
    vals = [0, 1, 2, 3, (1 << bits) - 1]
    for e in range(bits):
        vals += [1 << e, (1 << (e + 1)) - 1]
        lo = 1 << e
        vals += rng.integers(lo, 2 * lo, PER_LENGTH, dtype=np.int64).tolist() if e else []
    m = np.array(vals, dtype=np.int64)
    st = stage("mel_log2")
    await run_stage(dut, st, inputs=[(v,) for v in m], want=[(v,) for v in st.model(m)],
                    profile=profile, rng=rng)
    record("mel_log2", vectors=len(m))


@pytest.mark.sim
def test_mel_log2() -> None:
    run_block(toplevel="mel_log2", test_module="tb.mel.test_mel_log2")
