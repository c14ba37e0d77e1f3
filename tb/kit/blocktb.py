"""Shared scaffolding of the stream block tests (``tb/<ip>/test_<ip>_<block>.py``).

A stream block is a valid/ready transformer with ``clk_i``, ``rst_ni``, ``clear_i``,
``in_valid_i``/``in_ready_o`` and ``out_valid_o``/``out_ready_i``.  :func:`run_stream`
drives a list of items through it with the shared driver and sink under one of the
:data:`TRAFFIC` profiles (seeded random input gaps and output stalls; a block must honour its
interface whatever its neighbour in the chip does), waits for the expected number of outputs
and checks nothing more comes.  :func:`check_items` compares the outputs bit-exactly and in
order, naming the item and field.  :func:`run_stage` does both for a block of a stage table
(``refmodel/<ip>/stages.py``): its ports and the encoding of every item come from the table,
never from the test; in the ``full`` profile it also checks the block's documented
throughput (:func:`check_rate`, the stage's :class:`refmodel.rate.Rate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, Timer, with_timeout
from cocotb.utils import get_sim_time

from refmodel.rate import Rate
from tb.kit import linkcov
from tb.kit.stream import GapModel, StreamDriver, StreamSink, read_int
from tb.kit.testkit import rerun_hint, reset, start_clock


@dataclass(frozen=True)
class Traffic:
    """Flow control of one block-test run: before each input item, with probability
    ``gap_p``, an idle gap of ``gap_len`` (min, max) cycles; before each output item, with
    probability ``stall_p``, ready held low for ``stall_len`` cycles from the moment the item
    is offered (so every stall holds a valid item, also on sparse outputs).  ``at_least``:
    the probabilities are raised so that a run of ``n`` items expects that many gaps and
    stalls (rare bursts still happen on a link with few items)."""

    gap_p: float = 0.0
    gap_len: tuple[int, int] = (1, 1)
    stall_p: float = 0.0
    stall_len: tuple[int, int] = (1, 1)
    at_least: int = 0

    def _p(self, p: float, n: int) -> float:
        return min(1.0, max(p, self.at_least / n)) if p and n else p

    def gaps(self, rng: np.random.Generator, n: int = 0) -> GapModel:
        """The input gaps of a run of ``n`` items."""
        return GapModel(rng, self._p(self.gap_p, n), self.gap_len[1], self.gap_len[0])

    def stalls(self, rng: np.random.Generator, n: int = 0) -> GapModel:
        """The output stalls of a run of ``n`` items."""
        return GapModel(rng, self._p(self.stall_p, n), self.stall_len[1], self.stall_len[0])


# full: full-rate input, ready always high (the throughput run); random: short gaps and
# stalls on about a third of the items; bursts: rare long ones, which fill every buffer up to
# the input and drain the block completely.
TRAFFIC = {"full": Traffic(),
           "random": Traffic(0.3, (1, 5), 0.3, (1, 7)),
           "bursts": Traffic(0.03, (16, 200), 0.03, (16, 300), at_least=3)}
PROFILES = list(TRAFFIC)  # for cocotb.parametrize(profile=PROFILES)


async def run_stream(dut, *, inputs: Sequence[Mapping[str, int]], in_map: Mapping[str, object],
                     out_map: Mapping[str, object], n_out: int, profile: str,
                     rng: np.random.Generator, cycles_per_item: int = 4,
                     extra_cycles: int = 0) -> tuple[list[dict[str, int]], StreamDriver,
                                                     StreamSink]:
    """Reset the block, send ``inputs`` under traffic ``profile`` (a :data:`TRAFFIC` name);
    return the ``n_out`` output items (fails on extras), the driver and the sink (transfer
    times, gaps and stalls for :func:`check_rate` and coverage)."""
    traffic = TRAFFIC[profile]
    period = await start_clock(dut.clk_i)
    dut.in_valid_i.value = 0
    dut.out_ready_i.value = 0
    dut.clear_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o, in_map, period_ns=period,
                          gaps=traffic.gaps(rng, len(inputs)), name=f"{dut._name}.in")
    sink = StreamSink(dut.clk_i, dut.out_valid_o, dut.out_ready_i, out_map, period_ns=period,
                      stalls=traffic.stalls(rng, n_out), stall_on_valid=True,
                      name=f"{dut._name}.out")
    cocotb.start_soon(sink.run())
    stall_cycles = sum(traffic.stall_len) * sink.stalls.prob * n_out
    gap_cycles = sum(traffic.gap_len) * driver.gaps.prob * len(inputs)
    budget = ((len(inputs) + n_out) * cycles_per_item * 8 + extra_cycles + 1000
              + int(stall_cycles + gap_cycles))
    await with_timeout(driver.send(inputs), budget * period, "ns")
    await with_timeout(sink.wait_count(n_out), budget * period, "ns")
    # Nothing more may come out: wait a while (one wake-up) and look again.
    await Timer(64 * period, unit="ns")
    await ReadOnly()
    assert len(sink.items) == n_out, (
        f"{dut._name}: {len(sink.items)} output items for {n_out} expected (extra items); "
        f"rerun: {rerun_hint()}")
    assert read_int(dut.out_valid_o, "out_valid_o") == 0, (
        f"{dut._name}: out_valid_o still high after the last expected item; "
        f"rerun: {rerun_hint()}")
    linkcov.sample_link(dut._name, "in", gaps=driver.gaps.history, held=driver.held)
    linkcov.sample_link(dut._name, "out", held=sink.stalled)
    linkcov.export()
    return sink.items, driver, sink


def measure_rate(times_ns: Sequence[int], items: int, period_ns: int) -> list[int]:
    """Cycles between the first transfers of consecutive units of ``items`` items."""
    starts = list(times_ns[::items])
    return [round((b - a) / period_ns) for a, b in zip(starts, starts[1:], strict=False)]


def check_rate(block: str, times_ns: Sequence[int], rate: Rate, period_ns: int, *,
               log=None) -> list[int]:
    """Fail when the block is slower than ``rate`` (or, for an exact rate, not exactly as
    fast) over the transfers at ``times_ns`` (a full-rate run without backpressure)."""
    cycles = measure_rate(times_ns, rate.items, period_ns)
    assert cycles, (f"{block}: fewer than two {rate.unit}s out, no throughput measured; "
                    f"rerun: {rerun_hint()}")
    bad = [(k, c) for k, c in enumerate(cycles)
           if c > rate.cycles or (rate.exact and c != rate.cycles)]
    if log is not None:
        log.info("%s throughput: %d..%d cycles per %s over %d %ss (documented: %s)", block,
                 min(cycles), max(cycles), rate.unit, len(cycles), rate.unit, rate.doc)
    if bad:
        k, c = bad[0]
        raise AssertionError(
            f"{block} seed {cocotb.RANDOM_SEED}: {rate.unit} {k + 1} came {c} cycles after "
            f"{rate.unit} {k} at full rate without backpressure; documented "
            f"{'exactly' if rate.exact else 'at most'} {rate.cycles} ({rate.text}, the "
            f"RTL header's Throughput line); {len(bad)} of {len(cycles)} {rate.unit}s off "
            f"(checked at {get_sim_time('ns')} ns); rerun: {rerun_hint()}")
    return cycles


def check_items(block: str, got: Sequence[Mapping[str, int]],
                want: Sequence[Mapping[str, int]], *, per_frame: int = 0, link=None) -> None:
    """Bit-exact, in-order comparison; the message names item (frame), field and values
    (with ``link``, a :class:`refmodel.link.Link`, the differing values by name)."""
    assert len(got) == len(want), (f"{block}: {len(got)} items out, {len(want)} expected; "
                                   f"rerun: {rerun_hint()}")
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        for field, wv in w.items():
            if g[field] != wv:
                where = f"frame {i // per_frame} item {i % per_frame}" if per_frame else f"item {i}"
                what = f"field {field}: expected {wv:#x} ({wv}), got {g[field]:#x} ({g[field]})"
                if link is not None:
                    pairs = zip(link.labels, link.decode(w), link.decode(g), strict=True)
                    what = "; ".join(f"{lab} expected {e}, got {a}" for lab, e, a in pairs
                                     if e != a)
                raise AssertionError(
                    f"{block} seed {cocotb.RANDOM_SEED}: {where}: {what} (checked at "
                    f"{get_sim_time('ns')} ns); rerun: {rerun_hint()}")


async def run_stage(dut, stage, *, inputs: Sequence[Sequence[int]],
                    want: Sequence[Sequence[int]], profile: str,
                    rng: np.random.Generator, cycles_per_item: int = 4,
                    extra_cycles: int = 0) -> None:
    """Send ``inputs`` (items of ``stage.inp``) through the block of ``stage`` under traffic
    ``profile`` and check its outputs equal ``want`` (items of ``stage.out``), bit-exactly and
    in order; in the ``full`` profile, also its throughput against ``stage.rate``."""
    in_map = {p: getattr(dut, f"in_{p}_i") for p in stage.inp.ports}
    out_map = {p: getattr(dut, f"out_{p}_o") for p in stage.out.ports}
    words = [stage.out.encode(w) for w in want]
    got, _, sink = await run_stream(
        dut, inputs=[stage.inp.encode(i) for i in inputs], in_map=in_map, out_map=out_map,
        n_out=len(words), profile=profile, rng=rng, cycles_per_item=cycles_per_item,
        extra_cycles=extra_cycles)
    check_items(stage.block, got, words, per_frame=stage.per_frame, link=stage.out)
    if profile == "full":
        check_rate(stage.block, sink.times, stage.rate, sink.period_ns, log=dut._log)


def make_frames(rng: np.random.Generator, n_random: int, frame_len: int = 400) -> np.ndarray:
    """int16 ``(n, frame_len)`` frames: corners (zero, tiny, full scale +/-, alternating full
    scale, impulse, worst-case sign pattern of a cosine) then ``n_random`` random frames of
    random level."""
    n = np.arange(frame_len)
    corners = [
        np.zeros(frame_len),
        rng.integers(-1, 2, frame_len),                       # tiny
        np.full(frame_len, 32767),                            # full-scale DC
        np.full(frame_len, -32768),
        np.where(n % 2 == 0, 32767, -32768),                  # full-scale Nyquist
        np.where(np.cos(2 * np.pi * 37 * n / 512) >= 0, 32767, -32768),  # full-scale square
        np.where(n == 200, 32767, 0),                         # impulse
    ]
    rand = [rng.integers(-(1 << b), 1 << b, frame_len) for b in rng.integers(0, 16, n_random)]
    return np.array(corners + rand, dtype=np.int64).astype(np.int16)
