"""Block test of ``prim_fifo``, and of the shared stream driver and sink in ``tb/kit``.

Seeded random items go in with random idle gaps and come out with random backpressure (the
kit's traffic profiles, ``tb/kit/blocktb.TRAFFIC``, plus an input-bound and an output-bound
one); the output must be exactly the input, in order, with nothing lost, duplicated or left
over.  The ``full`` profile also checks the documented throughput (``refmodel.blocks``: one
item per cycle).
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, with_timeout

from refmodel.blocks import PRIM
from tb.kit import linkcov
from tb.kit.blocktb import TRAFFIC, Traffic, check_rate
from tb.kit.runner import run_block
from tb.kit.stream import StreamDriver, StreamSink
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

ITEMS = 2000
PROFILES = {**TRAFFIC, "input-bound": Traffic(0.5, (1, 7), 0.1, (1, 9)),
            "output-bound": Traffic(0.1, (1, 7), 0.6, (1, 9))}
RATE = next(b for b in PRIM if b.block == "prim_fifo").rates[0]


@cocotb.test()
@cocotb.parametrize(profile=list(PROFILES))
async def stream_through(dut, profile):
    """Random items through the FIFO, compared exactly and in order."""
    traffic = PROFILES[profile]
    width = int(dut.Width.value)
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    dut.in_valid_i.value = 0
    dut.out_ready_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    items = rng.integers(0, 1 << width, ITEMS, dtype=np.int64).tolist()
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o, {"d": dut.in_data_i},
                          period_ns=period, gaps=traffic.gaps(rng, ITEMS), name="fifo.in")
    sink = StreamSink(dut.clk_i, dut.out_valid_o, dut.out_ready_i, {"d": dut.out_data_o},
                      period_ns=period, stalls=traffic.stalls(rng, ITEMS), stall_on_valid=True,
                      name="fifo.out")
    cocotb.start_soon(sink.run())
    await with_timeout(driver.send({"d": x} for x in items), ITEMS * 40 * period, "ns")
    await with_timeout(sink.wait_count(ITEMS), 1000 * period, "ns")
    got = [it["d"] for it in sink.items]
    for i, (want, have) in enumerate(zip(items, got, strict=False)):
        assert want == have, (f"prim_fifo item {i}: expected {want:#x}, got {have:#x}; "
                              f"rerun: {rerun_hint()}")
    assert len(got) == ITEMS, f"prim_fifo: {len(got)} items out for {ITEMS} in"
    await ReadOnly()
    assert int(dut.count_o.value) == 0, "prim_fifo: items left inside at the end"
    if profile == "full":
        check_rate("prim_fifo", sink.times, RATE, period, log=dut._log)
    linkcov.sample_link("prim_fifo", "in", gaps=driver.gaps.history, held=driver.held)
    linkcov.sample_link("prim_fifo", "out", held=sink.stalled)
    linkcov.export()
    record("prim_fifo", vectors=ITEMS)


@pytest.mark.sim
@pytest.mark.parametrize("width,depth", [(8, 2), (16, 5)])
def test_prim_fifo(width: int, depth: int) -> None:
    run_block(toplevel="prim_fifo", test_module="tb.prim.test_prim_fifo",
              parameters={"Width": width, "Depth": depth})
