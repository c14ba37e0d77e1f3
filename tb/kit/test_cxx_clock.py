"""The harness clock's rules, on both simulators: under Verilator the simulation loop
``tb/kit/verilator_main.cpp`` toggles the clock (``run_block(cxx_clock=...)``), under Icarus
the delay loop of ``tb/kit/delay_clock.svh`` does, the text ``tb/chip/chip_tb.sv`` includes
(``tb/kit/cxx_clock_tb.sv`` includes the same file); both must give the edges the rules of
``tb/chip/chip_tb.sv`` (Clock) give:

- the clock is low and still until a non-zero half period is written;
- the first edge (rising) comes one half period after that write, then one every half period;
- a new half period applies from the next edge on (the edge already due keeps its time);
- half period 0 stops the clock after the edge already due; a later non-zero write restarts it
  one half period after the write, from the level it stopped at.

The expected edge times come from :func:`expected_edges`, a model of these rules, never from
the simulation.  Edges are checked two ways: one by one while Python waits on the clock, and
by the HDL's own edge counters and the time of its last edge after stretches where Python
sleeps on a timer (where the loop runs edges without the simulator interface).
"""

from __future__ import annotations

import cocotb
import pytest
from cocotb.triggers import First, Timer
from cocotb.utils import get_sim_time

from tb.kit.runner import run_block

# (time of the write in ns, half period written) in the order the test writes them
# (no write and no end in the same ns as an edge: which comes first there is not a rule)
WRITES = [(100, 5), (1001, 3), (1102, 0), (1400, 7), (2000, 0), (2300, 4)]
END_NS = 3999


def expected_edges(writes: list[tuple[int, int]], end_ns: int) -> list[int]:
    """Edge times (ns) of the documented rules for these writes, up to ``end_ns``."""
    edges: list[int] = []
    half, due = 0, None  # the current half period; the time of the edge already due
    events = sorted(writes)
    t = 0
    while t <= end_ns:
        nxt_write = events[0][0] if events else None
        if due is not None and (nxt_write is None or due <= nxt_write):
            t = due
            if t > end_ns:
                break
            edges.append(t)
            due = t + half if half else None
            continue
        if nxt_write is None:
            break
        t, half = events.pop(0)
        if due is None and half:
            due = t + half
    return edges


@cocotb.test()
async def clock_rules(dut):
    """Every edge at the time the rules give, with Python awake and asleep."""
    want = expected_edges(WRITES, END_NS)
    dut.clk_half_ns_i.value = 0
    await Timer(1, unit="ns")
    seen: list[int] = []

    async def watch(until_ns: int) -> None:  # Python awake: one wake-up per edge
        while True:
            left = until_ns - get_sim_time("ns")
            if left <= 0:
                return
            timer = Timer(left, unit="ns")
            if await First(dut.clk_i.value_change, timer) is timer:
                return
            seen.append(int(get_sim_time("ns")))

    def check_counts(at_ns: int) -> None:
        done = [t for t in want if t <= at_ns]
        rises, falls = int(dut.rises_o.value), int(dut.falls_o.value)
        assert (rises, falls) == ((len(done) + 1) // 2, len(done) // 2), (
            f"at {at_ns} ns: {rises} rising and {falls} falling edges, the rules give "
            f"{len(done)} edges ({(len(done) + 1) // 2} rising)")
        if done:
            assert int(dut.last_edge_o.value) == done[-1], (
                f"at {at_ns} ns: last edge at {int(dut.last_edge_o.value)} ns, "
                f"the rules give {done[-1]} ns")

    awake = True
    for k, (t, half) in enumerate(WRITES):
        until = t
        if awake:
            await watch(until)
        else:
            await Timer(until - get_sim_time("ns"), unit="ns")  # asleep: the fast path
        assert get_sim_time("ns") == t
        check_counts(t - 1 if k == 0 else t)
        dut.clk_half_ns_i.value = half
        awake = not awake
    if awake:
        await watch(END_NS)
    else:
        await Timer(END_NS - get_sim_time("ns"), unit="ns")
    check_counts(END_NS)
    # the stretches Python watched: every edge there, at its time, and no other
    watched = []
    bounds = [w[0] for w in WRITES] + [END_NS]
    for k in range(0, len(bounds) - 1):
        if k % 2 == 1:  # after the 1st, 3rd, 5th write Python was awake until the next
            watched += [e for e in want if bounds[k] < e <= bounds[k + 1]]
    assert seen == watched, f"edges seen {seen}, the rules give {watched}"
    assert len(seen) > 20 and len(want) > 200


@pytest.mark.sim
def test_cxx_clock() -> None:
    """The harness clock (C++ loop on Verilator, delay loop on Icarus) against its rules."""
    run_block(toplevel="cxx_clock_tb", test_module="tb.kit.test_cxx_clock",
              extra_sources=["tb/kit/cxx_clock_tb.sv"],
              cxx_clock=("clk_i", "clk_half_ns_i"))
