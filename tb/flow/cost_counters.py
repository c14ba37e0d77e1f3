"""cocotb side of `make cost`: runs the counting harness ``tb/flow/cost/cost_tb.sv`` once and
writes its counters to a JSON file.

The harness plays the weights and the audio itself (files named by plusargs), so Python only
starts it, waits for ``done_o`` and reads the counters ``n_*``.  Environment (set by
:func:`tb.flow.cost.simulate`): ``COST_WORDS``, ``COST_SAMPLES``, ``COST_WINDOWS`` (what the
files hold and how many detections end the run), ``COST_MAX_CYCLES`` (a bound: the run fails
when ``done_o`` has not risen by then) and ``COST_OUT`` (the JSON file).
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout

PREFIX = "n_"


def counter_names(dut) -> list[str]:
    """The harness's counters (every signal named ``n_*``)."""
    return sorted(h._name for h in dut if h._name.startswith(PREFIX))


@cocotb.test()
async def count(dut) -> None:
    """Reset, load the weights, play the audio until COST_WINDOWS detections, read counters."""
    env = {k: int(os.environ[f"COST_{k.upper()}"])
           for k in ("words", "samples", "windows", "max_cycles")}
    cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
    dut.start_i.value = 0
    dut.num_words_i.value = env["words"]
    dut.num_samples_i.value = env["samples"]
    dut.num_windows_i.value = env["windows"]
    dut.rst_ni.value = 0
    await ClockCycles(dut.clk_i, 3)
    dut.rst_ni.value = 1
    await ClockCycles(dut.clk_i, 2)
    dut.start_i.value = 1
    if not dut.done_o.value:
        await with_timeout(RisingEdge(dut.done_o), env["max_cycles"] * 10, "ns")
    # The detection's cycle has been counted; let the counters take the last edge.
    await ClockCycles(dut.clk_i, 2)
    counts = {name[len(PREFIX):].replace("__", "."): int(getattr(dut, name).value)
              for name in counter_names(dut)}
    assert counts, "the harness has no n_* counters"
    with open(os.environ["COST_OUT"], "w") as fh:
        json.dump(counts, fh, indent=1, sort_keys=True)
