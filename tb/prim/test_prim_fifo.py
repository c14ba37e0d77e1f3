"""Block test of ``prim_fifo``, and of the shared stream driver and sink in ``tb/kit``.

Seeded random items go in with random idle gaps and come out with random backpressure; the
output must be exactly the input, in order, with nothing lost, duplicated or left over.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, with_timeout

from tb.kit.runner import run_block
from tb.kit.stream import GapModel, StreamDriver, StreamSink
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

ITEMS = 2000
# (input gap probability, output stall probability): streaming, input-bound, output-bound
PROFILES = [(0.0, 0.0), (0.5, 0.1), (0.1, 0.6), (0.3, 0.3)]


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def stream_through(dut, profile):
    """Random items through the FIFO, compared exactly and in order."""
    gap_p, stall_p = profile
    width = int(dut.Width.value)
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    dut.in_valid_i.value = 0
    dut.out_ready_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    items = rng.integers(0, 1 << width, ITEMS, dtype=np.int64).tolist()
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o, {"d": dut.in_data_i},
                          period_ns=period, gaps=GapModel(rng, gap_p, 7), name="fifo.in")
    sink = StreamSink(dut.clk_i, dut.out_valid_o, dut.out_ready_i, {"d": dut.out_data_o},
                      period_ns=period, stalls=GapModel(rng, stall_p, 9), name="fifo.out")
    cocotb.start_soon(sink.run())
    await with_timeout(driver.send({"d": x} for x in items), ITEMS * 40 * period, "ns")
    await with_timeout(sink.wait_count(ITEMS), 200 * period, "ns")
    got = [it["d"] for it in sink.items]
    for i, (want, have) in enumerate(zip(items, got, strict=False)):
        assert want == have, (f"prim_fifo item {i}: expected {want:#x}, got {have:#x}; "
                              f"rerun: {rerun_hint()}")
    assert len(got) == ITEMS, f"prim_fifo: {len(got)} items out for {ITEMS} in"
    await ReadOnly()
    assert int(dut.count_o.value) == 0, "prim_fifo: items left inside at the end"
    record("prim_fifo", vectors=ITEMS)


@pytest.mark.sim
@pytest.mark.parametrize("width,depth", [(8, 2), (16, 5)])
def test_prim_fifo(width: int, depth: int) -> None:
    run_block(toplevel="prim_fifo", test_module="tb.prim.test_prim_fifo",
              parameters={"Width": width, "Depth": depth})
