"""Valid/ready stream driver, sink and passive monitor, reused by every block's test bench.

Handshake (``docs/architecture.md``): data moves on a rising edge where valid and ready are
both high; valid never waits for ready; data holds while valid and not ready.

Python wakes only when something can move: once per transferred item, plus once per idle gap
(a single ``Timer``), plus once when a stalled partner's signal rises.  Nothing here awaits
every clock edge in a loop.

Timing rule: writes happen either right after a rising edge or in the middle of a cycle (after
an idle gap), never at the edge itself, so there is no race with the DUT's flops; values are
read in ``ReadOnly`` after they settled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from cocotb.triggers import Event, ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

Item = Mapping[str, int]


class XValueError(AssertionError):
    """X or Z on a valid output: always a test failure, never read as zero."""


_RESOLVED = str.maketrans("", "", "01LH")  # deletes the resolvable characters of a value


def read_int(handle, what: str, *, signed: bool = False) -> int:
    """The integer on ``handle``; raises :class:`XValueError` naming it when it holds X or Z
    (whatever COCOTB_RESOLVE_X says)."""
    value = handle.value
    # On the value's string, not LogicArray.is_resolvable, which builds an object per bit (a
    # third of the top-level environment's Python time on 256-bit feature vectors).
    if str(value).translate(_RESOLVED):
        raise XValueError(f"{what}: X/Z value {value} on {handle._path}")
    if signed:
        return value.to_signed()
    return int(value)


class GapModel:
    """Seeded random idle-cycle lengths: with probability ``prob``, ``min_len``..``max_len``
    cycles (1..``max_len`` by default)."""

    def __init__(self, rng: np.random.Generator | None, prob: float = 0.0, max_len: int = 0,
                 min_len: int = 1):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"gap probability {prob} is outside 0..1")
        if prob > 0 and (rng is None or not 1 <= min_len <= max_len):
            raise ValueError("random gaps need an rng and 1 <= min_len <= max_len")
        self.rng, self.prob, self.min_len, self.max_len = rng, prob, min_len, max_len
        self.history: list[int] = []  # every gap drawn, for coverage and reports

    def draw(self) -> int:
        if self.prob == 0.0 or self.rng.random() >= self.prob:
            return 0
        gap = int(self.rng.integers(self.min_len, self.max_len + 1))
        self.history.append(gap)
        return gap


class StreamDriver:
    """Drives items into a valid/ready input with seeded random idle cycles between them.

    With ``pace=N`` it behaves like a converter with a fixed sample clock instead: item ``k``
    is presented ``k * N`` cycles after the first, and when an item has not been accepted by
    the time the next one is due, that is an **overrun** (counted in ``overruns``; the late
    item is still delivered, so the data stream stays intact for checking).
    """

    def __init__(self, clk, valid, ready, data: Mapping[str, Any], *, period_ns: int,
                 gaps: GapModel | None = None, pace: int | None = None,
                 name: str = "driver"):
        if pace is not None and pace < 1:
            raise ValueError(f"{name}: pace={pace} cycles must be >= 1")
        self.clk, self.valid, self.ready, self.data = clk, valid, ready, dict(data)
        self.period_ns = period_ns
        self.gaps = gaps or GapModel(None)
        self.pace = pace
        self.name = name
        self.sent = 0
        self.overruns = 0
        self.times: list[int] = []  # simulation time (ns) of every transfer edge
        self.held: list[int] = []   # per item: cycles it waited, valid high, for ready
        self.on_sent: list[Callable[[Item], None]] = []
        valid.value = 0

    async def _idle(self, cycles: int) -> None:
        """Valid low for ``cycles`` rising edges; returns in the middle of a cycle."""
        self.valid.value = 0
        await Timer(cycles * self.period_ns + self.period_ns // 2, unit="ns")

    async def send(self, items: Iterable[Item]) -> None:
        """Send every item in order; returns after the last one was accepted."""
        await RisingEdge(self.clk)
        due = get_sim_time("ns")  # paced mode: when the next item is due (at an edge)
        for item in items:
            if self.pace is not None:
                now = get_sim_time("ns")
                if now > due:
                    self.overruns += 1
                    due = now
                elif now < due:
                    self.valid.value = 0
                    # wake half a cycle before the due edge, then write just after it
                    await Timer(due - now - self.period_ns // 2, unit="ns")
                    await RisingEdge(self.clk)
                due += self.pace * self.period_ns
            gap = self.gaps.draw()
            if gap:
                await self._idle(gap)
            for field, handle in self.data.items():
                handle.value = int(item[field])
            self.valid.value = 1
            await ReadOnly()
            offered = get_sim_time("ns")
            while read_int(self.ready, f"{self.name} ready") != 1:
                await RisingEdge(self.ready)
                await ReadOnly()
            await RisingEdge(self.clk)  # the transfer edge
            now = get_sim_time("ns")
            self.times.append(now)
            # edges in (offered, now): the item was offered and not taken
            self.held.append(max(0, -(-(now - offered) // self.period_ns) - 1))
            self.sent += 1
            for cb in self.on_sent:
                cb(item)
        self.valid.value = 0


def _sample(data: Mapping[str, Any], signed: frozenset[str], name: str) -> dict[str, int]:
    return {f: read_int(h, f"{name}.{f}", signed=f in signed) for f, h in data.items()}


class StreamSink:
    """Accepts items from a valid/ready output, with seeded random backpressure (ready low).

    A stall (drawn from ``stalls`` per item) holds ready low before the item: from the previous
    transfer on, or with ``stall_on_valid`` from the moment the item is offered (for sparse
    outputs, where a stall started at the previous transfer would be over long before; with
    it, ``stalled`` holds the cycles each item was held valid, ready low).  ``stall_on_valid``
    also checks that valid never waits for ready: a block that does hangs and times out.
    Every accepted item is checked for X/Z, appended to ``items`` (its transfer time to
    ``times``) and passed to the callbacks.
    """

    def __init__(self, clk, valid, ready, data: Mapping[str, Any], *, period_ns: int,
                 stalls: GapModel | None = None, signed: Iterable[str] = (),
                 stall_on_valid: bool = False, name: str = "sink"):
        self.clk, self.valid, self.ready, self.data = clk, valid, ready, dict(data)
        self.period_ns = period_ns
        self.stalls = stalls or GapModel(None)
        self.stall_on_valid = stall_on_valid
        self.signed = frozenset(signed)
        self.name = name
        self.items: list[dict[str, int]] = []
        self.times: list[int] = []    # simulation time (ns) of every transfer edge
        self.stalled: list[int] = []  # with stall_on_valid: per item, cycles held by a stall
        self.callbacks: list[Callable[[dict[str, int]], None]] = []
        self._arrived = Event()
        ready.value = 0

    async def wait_count(self, n: int) -> None:
        """Return once ``n`` items in total have been accepted (one wake-up per item)."""
        while len(self.items) < n:
            self._arrived.clear()
            await self._arrived.wait()

    async def run(self) -> None:
        """Run forever (start with ``cocotb.start_soon``)."""
        await RisingEdge(self.clk)
        while True:
            stall = self.stalls.draw()
            if stall:
                self.ready.value = 0
                if self.stall_on_valid:
                    await ReadOnly()
                    while read_int(self.valid, f"{self.name} valid") != 1:
                        await RisingEdge(self.valid)
                        await ReadOnly()
                await Timer(stall * self.period_ns + self.period_ns // 2, unit="ns")
            self.ready.value = 1
            await ReadOnly()
            while read_int(self.valid, f"{self.name} valid") != 1:
                await RisingEdge(self.valid)
                await ReadOnly()
            item = _sample(self.data, self.signed, self.name)
            await RisingEdge(self.clk)  # the transfer edge
            self.items.append(item)
            self.times.append(get_sim_time("ns"))
            if self.stall_on_valid:
                self.stalled.append(stall)
            self._arrived.set()
            for cb in self.callbacks:
                cb(item)


class StreamMonitor:
    """Passive monitor of a valid/ready link inside the design (it never drives ready)."""

    def __init__(self, clk, valid, ready, data: Mapping[str, Any], *,
                 signed: Iterable[str] = (), name: str = "monitor"):
        self.clk, self.valid, self.ready, self.data = clk, valid, ready, dict(data)
        self.signed = frozenset(signed)
        self.name = name
        self.items: list[dict[str, int]] = []
        self.callbacks: list[Callable[[dict[str, int]], None]] = []

    async def run(self) -> None:
        """Run forever (start with ``cocotb.start_soon``)."""
        while True:
            await ReadOnly()
            if read_int(self.valid, f"{self.name} valid") != 1:
                await RisingEdge(self.valid)
                continue
            if read_int(self.ready, f"{self.name} ready") != 1:
                await RisingEdge(self.ready)
                continue
            item = _sample(self.data, self.signed, self.name)
            await RisingEdge(self.clk)
            self.items.append(item)
            for cb in self.callbacks:
                cb(item)
