"""Block test of ``mel_framer`` against ``refmodel.mel.framer.frame_stage``.

Seeded random samples stream in with random gaps; every frame must come out as FramePairs
sample pairs, in order, exactly the frames of ``frame_stage``; nothing more.  A second test
holds the output and checks the buffer backpressures only when truly full (SampleRamDepth
samples stored), then drains and checks the frames.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer, with_timeout

from refmodel.mel.config import DEFAULT as CFG
from refmodel.mel.rtl import package_params
from refmodel.mel.stages import stage
from tb.kit.blocktb import PROFILES, check_items, run_stage
from tb.kit.runner import run_block
from tb.kit.stream import GapModel, StreamDriver, StreamSink, read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

ST = stage("mel_framer")
RAM_DEPTH = package_params(CFG)[0]["SampleRamDepth"][0]  # samples the framing RAM holds


def _expected(samples: np.ndarray) -> list[dict[str, int]]:
    return [ST.out.encode(item) for item in ST.all_items(ST.model(samples))]


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def frames_in_order(dut, profile):
    """7 frames plus a partial one; output = frame_stage, nothing extra."""
    rng = make_rng(dut._log)
    n = CFG.frame_len + 6 * CFG.hop + int(rng.integers(1, CFG.hop))
    samples = rng.integers(-32768, 32768, n).astype(np.int16)
    samples[:4] = [32767, -32768, 0, -1]
    want = ST.all_items(ST.model(samples))
    await run_stage(dut, ST, inputs=[(x,) for x in samples], want=want, profile=profile,
                    rng=rng)
    record("mel_framer", vectors=len(want))


@cocotb.test()
async def full_backpressure(dut):
    """With the output held, exactly SampleRamDepth samples are accepted, then ready drops."""
    rng = make_rng(dut._log)
    period = await start_clock(dut.clk_i)
    dut.in_valid_i.value = 0
    dut.out_ready_i.value = 0
    dut.clear_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    n = RAM_DEPTH + 3 * CFG.hop
    samples = rng.integers(-32768, 32768, n).astype(np.int16)
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o,
                          {"sample": dut.in_sample_i}, period_ns=period, name="mel_framer.in")
    send = cocotb.start_soon(driver.send(ST.inp.encode((x,)) for x in samples))
    await Timer((RAM_DEPTH + 50) * period, unit="ns")
    await ReadOnly()
    assert driver.sent == RAM_DEPTH, (f"mel_framer: {driver.sent} samples accepted with the "
                                      f"output held, expected {RAM_DEPTH}; rerun: {rerun_hint()}")
    assert read_int(dut.in_ready_o, "in_ready_o") == 0, "mel_framer: ready high when full"
    await RisingEdge(dut.clk_i)
    sink = StreamSink(dut.clk_i, dut.out_valid_o, dut.out_ready_i, {"pair": dut.out_pair_o},
                      period_ns=period, stalls=GapModel(rng, 0.2, 5), name="mel_framer.out")
    cocotb.start_soon(sink.run())
    await with_timeout(send, 20 * n * period, "ns")
    want = _expected(samples)
    await with_timeout(sink.wait_count(len(want)), 20 * len(want) * period, "ns")
    await Timer(64 * period, unit="ns")
    check_items("mel_framer", sink.items, want, per_frame=ST.per_frame, link=ST.out)
    record("mel_framer", vectors=len(want))


@pytest.mark.sim
def test_mel_framer() -> None:
    run_block(toplevel="mel_framer", test_module="tb.mel.test_mel_framer")
