"""Block test of ``prim_stream_check``, the valid/ready protocol checker on every stream link.

The checker is a passive monitor: the test bench drives all of its inputs (valid, ready and
the payload) one clock cycle at a time.

- :func:`legal_traffic`: seeded random traffic that keeps the rules (valid and ready toggling
  on their own, stalls of random length with the payload held, new payloads on handshakes,
  idle cycles with a random or, on Icarus, X payload, X on every input during reset, resets in
  the middle of a stall); the simulation must run to the end.
- one cocotb test per rule, each legal traffic followed by one violation: :func:`x_on_payload`
  (an X or Z bit on a valid payload), :func:`valid_dropped` (valid low after a stall without
  a handshake), :func:`payload_changed` (the payload changes while stalled).  ``$fatal`` must
  stop the simulation at the violating edge: the pytest function then checks that the run
  failed (cocotb's runner exits non-zero) and that the simulator's output names the rule.

Verilator is a two-state simulator: X and Z cannot be driven into it, so the X/Z rule (and
the X payloads of the legal run) are exercised on Icarus only.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from cocotb.types import LogicArray

from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, reset, sim_name, start_clock

LEGAL_CYCLES = 3000
PRELUDE_CYCLES = 200  # legal traffic before a violation
# The checker's message for each rule (rtl/prim/prim_stream_check.sv), by cocotb test; the
# checker's Name parameter is left at its default, "stream".
RULES = {
    "x_on_payload": "stream: X/Z on data while valid",
    "valid_dropped": "stream: valid dropped before ready",
    "payload_changed": "stream: data changed while stalled",
}
FOUR_STATE = ("icarus",)  # simulators that can hold X and Z


class TB:
    """Drives the checker's inputs cycle by cycle and keeps the protocol state."""

    def __init__(self, dut, rng: np.random.Generator):
        self.dut, self.rng = dut, rng
        self.width = int(dut.Width.value)
        self.four_state = sim_name() in FOUR_STATE
        self.stalled = False  # the last edge had valid without ready
        self.data = 0         # payload held while stalled
        self.counts = dict.fromkeys(
            ("cycles", "transfers", "stall_cycles", "stall_ends", "idle_ready", "idle_x",
             "reset_in_stall"), 0)

    async def start(self) -> None:
        await start_clock(self.dut.clk_i)
        if self.four_state:
            # rst_ni, valid and ready may float before reset: the checker must wait for it
            for sig in (self.dut.rst_ni, self.dut.valid_i, self.dut.ready_i):
                sig.value = LogicArray("X")
            await ClockCycles(self.dut.clk_i, 2)
        self._drive(valid=0, ready=0, data=self._random_data())
        await reset(self.dut.clk_i, self.dut.rst_ni)

    def _random_data(self) -> int:
        return int(self.rng.integers(0, 1 << self.width, dtype=np.uint64))

    def _drive(self, *, valid: int, ready: int, data: int | LogicArray) -> None:
        self.dut.valid_i.value = valid
        self.dut.ready_i.value = ready
        self.dut.data_i.value = data

    async def cycle(self, *, valid: int, ready: int, data: int | LogicArray) -> None:
        """Present one cycle's values right after a rising edge; return after the next edge
        (the one the checker samples them at), with the protocol state updated."""
        self._drive(valid=valid, ready=ready, data=data)
        await RisingEdge(self.dut.clk_i)
        self.counts["cycles"] += 1
        if valid and ready:
            self.counts["transfers"] += 1
            self.counts["stall_ends"] += self.stalled
        self.counts["stall_cycles"] += bool(valid and not ready)
        self.counts["idle_ready"] += bool(not valid and ready)
        self.stalled = bool(valid and not ready)
        if self.stalled:
            self.data = int(data)

    async def legal(self, cycles: int) -> None:
        """``cycles`` cycles of random traffic that keeps every rule."""
        for _ in range(cycles):
            ready = int(self.rng.random() < 0.5)
            if self.stalled:
                # a stalled item stays: valid high, payload unchanged, until the handshake
                await self.cycle(valid=1, ready=ready, data=self.data)
            elif self.rng.random() < 0.6:
                await self.cycle(valid=1, ready=ready, data=self._random_data())
            elif self.four_state and self.rng.random() < 0.3:
                # X on an idle payload is legal
                self.counts["idle_x"] += 1
                await self.cycle(valid=0, ready=ready, data=LogicArray("X" * self.width))
            else:
                await self.cycle(valid=0, ready=ready, data=self._random_data())
            if self.stalled and self.rng.random() < 0.01:
                # a reset (in the design: a soft clear) drops the stalled item legally
                self.counts["reset_in_stall"] += 1
                self._drive(valid=0, ready=0, data=self._random_data())
                await reset(self.dut.clk_i, self.dut.rst_ni, cycles=1)
                self.stalled = False

    async def stall(self) -> None:
        """One cycle of valid without ready: the next edge must keep the item."""
        await self.cycle(valid=1, ready=0, data=self._random_data())


async def _expect_stop(dut) -> None:
    """Called right after the violating edge: the checker's $fatal has ended the simulation
    at that edge, so this is reached only when it let the violation through."""
    await ReadOnly()
    raise AssertionError("prim_stream_check did not stop the simulation at the violating edge")


async def _prelude(dut) -> TB:
    tb = TB(dut, make_rng(dut._log))
    await tb.start()
    await tb.legal(PRELUDE_CYCLES)
    return tb


@cocotb.test()
async def legal_traffic(dut):
    """Random legal traffic: the checker must stay silent, and every situation must occur."""
    tb = TB(dut, make_rng(dut._log))
    await tb.start()
    await tb.legal(LEGAL_CYCLES)
    # end with nothing in flight: the last stalled item is taken
    if tb.stalled:
        await tb.cycle(valid=1, ready=1, data=tb.data)
    await tb.cycle(valid=0, ready=0, data=0)
    await ReadOnly()
    assert read_int(dut.stalled_q, "stalled_q") == 0, "the checker still sees a stall"
    dut._log.info("legal traffic: %s", tb.counts)
    need = ["transfers", "stall_cycles", "stall_ends", "idle_ready", "reset_in_stall"]
    need += ["idle_x"] if tb.four_state else []
    missing = [k for k in need if tb.counts[k] == 0]
    assert not missing, f"legal traffic never had: {missing} ({tb.counts})"
    record("prim_stream_check", vectors=tb.counts["transfers"])


@cocotb.test()
async def x_on_payload(dut):
    """A valid payload with one X or Z bit (Icarus only: Verilator has no X)."""
    tb = await _prelude(dut)
    bits = [str(b) for b in LogicArray.from_unsigned(tb._random_data(), tb.width)]
    bits[int(tb.rng.integers(0, tb.width))] = str(tb.rng.choice(["X", "Z"]))
    bad = LogicArray("".join(bits))
    dut._log.info("violation: valid payload %s", bad)
    if tb.stalled:  # take the stalled item first: the X/Z rule is the only one broken
        await tb.cycle(valid=1, ready=1, data=tb.data)
    await tb.cycle(valid=1, ready=int(tb.rng.integers(0, 2)), data=bad)
    await _expect_stop(dut)


@cocotb.test()
async def valid_dropped(dut):
    """Valid falls after a stall, without a handshake (ready at random on that edge)."""
    tb = await _prelude(dut)
    if not tb.stalled:
        await tb.stall()
    dut._log.info("violation: valid dropped while stalled")
    await tb.cycle(valid=0, ready=int(tb.rng.integers(0, 2)), data=tb.data)
    await _expect_stop(dut)


@cocotb.test()
async def payload_changed(dut):
    """The payload of a stalled item changes (one bit flipped; ready at random on that edge)."""
    tb = await _prelude(dut)
    if not tb.stalled:
        await tb.stall()
    changed = tb.data ^ (1 << int(tb.rng.integers(0, tb.width)))
    dut._log.info("violation: payload %#x -> %#x while stalled", tb.data, changed)
    await tb.cycle(valid=1, ready=int(tb.rng.integers(0, 2)), data=changed)
    await _expect_stop(dut)


@pytest.mark.sim
@pytest.mark.parametrize("width", [1, 16])
def test_prim_stream_check(width: int) -> None:
    run_block(toplevel="prim_stream_check", test_module="tb.prim.test_prim_stream_check",
              testcase="legal_traffic", parameters={"Width": width})


@pytest.mark.sim
@pytest.mark.parametrize("rule", list(RULES))
def test_prim_stream_check_violation(rule: str, capfd: pytest.CaptureFixture[str]) -> None:
    """The violation must stop the simulation (run_block raises) with the rule's message."""
    sim = os.environ["SIM"]
    if rule == "x_on_payload" and sim not in FOUR_STATE:
        pytest.skip(f"{sim} is two-state: X/Z cannot be driven, the rule cannot be violated")
    # $fatal ends the simulator with exit code 1: cocotb's runner raises RuntimeError for
    # that (SystemExit when the simulator ended normally but a cocotb test failed).
    with pytest.raises((RuntimeError, SystemExit)):
        run_block(toplevel="prim_stream_check", test_module="tb.prim.test_prim_stream_check",
                  testcase=rule, parameters={"Width": 16})
    out = capfd.readouterr()
    text = out.out + out.err
    assert f"test_prim_stream_check.{rule} failed" in text, (
        f"{rule}: cocotb did not report the test as failed:\n{text[-3000:]}")
    assert RULES[rule] in text, (f"{rule}: the simulation failed, but not with the checker's "
                                 f"message {RULES[rule]!r}:\n{text[-3000:]}")
