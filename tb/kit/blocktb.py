"""Shared scaffolding of the stream block tests (``tb/<ip>/test_<ip>_<block>.py``).

A stream block is a valid/ready transformer with ``clk_i``, ``rst_ni``, ``clear_i``,
``in_valid_i``/``in_ready_o`` and ``out_valid_o``/``out_ready_i``.  :func:`run_stream`
drives a list of items through it with the shared driver and sink (seeded random input gaps
and output stalls), waits for the expected number of outputs and checks nothing more comes.
:func:`check_items` compares the outputs bit-exactly and in order, naming the item and field.
:func:`run_stage` does both for a block of a stage table (``refmodel/<ip>/stages.py``): its
ports and the encoding of every item come from the table, never from the test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, Timer, with_timeout
from cocotb.utils import get_sim_time

from tb.kit.stream import GapModel, StreamDriver, StreamSink, read_int
from tb.kit.testkit import rerun_hint, reset, start_clock

# (input gap probability, output stall probability): streaming, and random gaps + backpressure
PROFILES = [(0.0, 0.0), (0.3, 0.3)]


async def run_stream(dut, *, inputs: Sequence[Mapping[str, int]], in_map: Mapping[str, object],
                     out_map: Mapping[str, object], n_out: int, profile: tuple[float, float],
                     rng: np.random.Generator, cycles_per_item: int = 4,
                     extra_cycles: int = 0) -> list[dict[str, int]]:
    """Reset the block, send ``inputs``, return the ``n_out`` output items (fails on extras)."""
    gap_p, stall_p = profile
    period = await start_clock(dut.clk_i)
    dut.in_valid_i.value = 0
    dut.out_ready_i.value = 0
    dut.clear_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o, in_map, period_ns=period,
                          gaps=GapModel(rng, gap_p, 5), name=f"{dut._name}.in")
    sink = StreamSink(dut.clk_i, dut.out_valid_o, dut.out_ready_i, out_map, period_ns=period,
                      stalls=GapModel(rng, stall_p, 7), name=f"{dut._name}.out")
    cocotb.start_soon(sink.run())
    budget = (len(inputs) + n_out) * cycles_per_item * 8 + extra_cycles + 1000
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
    return sink.items


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
                    want: Sequence[Sequence[int]], profile: tuple[float, float],
                    rng: np.random.Generator, cycles_per_item: int = 4,
                    extra_cycles: int = 0) -> None:
    """Send ``inputs`` (items of ``stage.inp``) through the block of ``stage`` and check its
    outputs equal ``want`` (items of ``stage.out``), bit-exactly and in order."""
    in_map = {p: getattr(dut, f"in_{p}_i") for p in stage.inp.ports}
    out_map = {p: getattr(dut, f"out_{p}_o") for p in stage.out.ports}
    words = [stage.out.encode(w) for w in want]
    got = await run_stream(dut, inputs=[stage.inp.encode(i) for i in inputs], in_map=in_map,
                           out_map=out_map, n_out=len(words), profile=profile, rng=rng,
                           cycles_per_item=cycles_per_item, extra_cycles=extra_cycles)
    check_items(stage.block, got, words, per_frame=stage.per_frame, link=stage.out)


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
