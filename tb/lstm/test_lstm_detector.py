"""Block test of ``lstm_detector`` against ``refmodel.lstm.detector.run_fixed`` / ``detect``.

Checked bit-exactly and in order: the integer h and c of every step (read at each
``u_seq.step_done_o`` strobe: event driven, Python never polls the clock during a window) and
every window's detection (index, score, flag).  Weights are always loaded through the load
port (``refmodel.lstm.rtl.load_writes``, in shuffled order).

Scenarios (``cocotb.parametrize``): windows of random, loud (255), silent (0) and random-walk
codes, with random input gaps and output backpressure (long enough to block the detector at a
window end), threshold changes between windows (0, 1.0, random, the score itself), a weight
reload between windows, a refused write in the middle of a window (``wl_err_o``, results
unchanged) and refused out-of-range writes; ``clear_i`` and ``rst_ni`` in the middle of a step.
Each run records ``detections`` and the worst ``lstm_cycles_per_step`` (accept to accept at
full input rate = accept-to-step-done cycles + 1).  The ``stream`` profile (full input rate, no
backpressure) checks the documented throughput: every accept-to-accept interval equals the
stage table's ``step`` rate, plus its ``window`` rate after a window's last step
(``refmodel.lstm.stages``, the header's Throughput line).  Output stalls start when a
detection is offered, so every stall holds a valid detection.  Every port word (feature
vectors, load port, threshold, detections, and h and c of ``u_update``) is encoded and decoded
by the stage table (``refmodel.lstm.stages``).
"""

from __future__ import annotations

import time
from collections import deque

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer, with_timeout
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import run_fixed
from refmodel.lstm.head import flag_compare
from refmodel.lstm.rtl import load_map, load_writes
from refmodel.lstm.stages import stage
from refmodel.lstm.weights import DetectorWeights
from tb.flow.signoff import funcov
from tb.kit import linkcov
from tb.kit.runner import run_block
from tb.kit.stream import GapModel, StreamDriver, StreamSink, read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

KINDS = ("random", "loud", "silent", "walk")


def _codes(rng: np.random.Generator, kind: str, frames: int) -> np.ndarray:
    if kind == "loud":
        return np.full((frames, 32), 255, dtype=np.uint8)
    if kind == "silent":
        return np.zeros((frames, 32), dtype=np.uint8)
    if kind == "walk":
        walk = rng.integers(0, 256, 32) + np.cumsum(rng.normal(0, 12, (frames, 32)), axis=0)
        return np.clip(np.rint(walk), 0, 255).astype(np.uint8)
    return rng.integers(0, 256, (frames, 32), dtype=np.uint8)


class TB:
    """Drivers, monitors and the expectation queues of one lstm_detector run."""

    def __init__(self, dut, rng: np.random.Generator, period: int, gap_p: float,
                 stall_p: float, stall_max: int, stall_min: int = 1):
        self.dut, self.rng, self.period = dut, rng, period
        self.hidden = int(dut.Hidden.value)
        self.lanes = int(dut.Lanes.value)
        self.window = int(dut.Window.value)
        self.cfg = DetectorConfig(hidden=self.hidden)
        self.st = stage("lstm_detector", self.hidden, self.lanes, self.cfg)
        self.feat = self.st.field("in_feat_i")
        self.det = self.st.link("det")  # (det_window, det_score, det_flag)
        upd = stage("lstm_update", self.hidden, self.lanes, self.cfg)
        self.h_f, self.c_f = upd.field("h_o"), upd.field("c_o")  # u_update's state words
        self.gap_p = gap_p
        self.sink = StreamSink(dut.clk_i, dut.det_valid_o, dut.det_ready_i,
                               {p: getattr(dut, f"{p}_o") for p in self.det.ports},
                               period_ns=period,
                               stalls=GapModel(rng, stall_p, stall_max, stall_min),
                               stall_on_valid=True, name="det")
        self.steps: deque[tuple[int, int, np.ndarray, np.ndarray]] = deque()
        self.accepts: deque[float] = deque()
        self.dets: list[dict[str, int]] = []
        self.dets_checked = 0
        self.steps_checked = 0
        self.cps_worst = 0
        self.errors: list[str] = []
        self.wl_errs = 0
        self.next_window = 0  # window index of the next window since reset/clear
        self.driver: StreamDriver | None = None
        self.drivers: list[StreamDriver] = []  # every segment's, for coverage
        self.rate_checked = 0  # accept-to-accept intervals checked against the stage table
        self.task = None
        self.name = "?"  # the cocotb test (and profile), for failure messages

    # ---------------------------------------------------------------- monitors
    async def step_monitor(self) -> None:
        dut = self.dut
        while True:
            await RisingEdge(dut.u_seq.step_done_o)
            await ReadOnly()
            now = get_sim_time("ns")
            h = np.array(self.h_f.decode(read_int(dut.u_update.h_o, "u_update.h_o")))
            c = np.array(self.c_f.decode(read_int(dut.u_update.c_o, "u_update.c_o")))
            if not self.steps:
                self.fail(f"unexpected step done at {now} ns")
                continue
            win, t, want_h, want_c = self.steps.popleft()
            for name, got, want in (("h", h, want_h), ("c", c, want_c)):
                bad = np.flatnonzero(got != want)
                if bad.size:
                    j = int(bad[0])
                    self.fail(f"window {win} step {t} unit {j}: {name} expected "
                              f"{int(want[j])}, got {int(got[j])} ({bad.size} units differ) "
                              f"at {now} ns")
            self.steps_checked += 1
            if self.accepts:
                cps = int(round((now - self.accepts.popleft()) / self.period)) + 1
                self.cps_worst = max(self.cps_worst, cps)

    async def wl_err_monitor(self) -> None:
        while True:
            await RisingEdge(self.dut.wl_err_o)
            self.wl_errs += 1
            await FallingEdge(self.dut.wl_err_o)

    def fail(self, msg: str) -> None:
        text = (f"lstm_detector test {self.name} (H={self.hidden} P={self.lanes} "
                f"W={self.window}): {msg}; seed "
                f"{cocotb.RANDOM_SEED}; rerun: {rerun_hint()}")
        self.errors.append(text)
        self.dut._log.error(text)

    def check(self) -> None:
        assert not self.errors, f"{len(self.errors)} mismatches, first: {self.errors[0]}"

    # ---------------------------------------------------------------- load port
    def drive(self, name: str, item: tuple[int, ...]) -> None:
        """Put one item of input interface ``name`` on its ports (stage table encoding)."""
        for port, word in self.st.encode(name, item).items():
            getattr(self.dut, port).value = word

    async def write(self, addr: int, data: int) -> None:
        """One load-port write, driven just after a rising edge; returns after its edge."""
        dut = self.dut
        await RisingEdge(dut.clk_i)
        dut.wl_valid_i.value = 1
        self.drive("wl", (addr, data))
        await RisingEdge(dut.clk_i)
        dut.wl_valid_i.value = 0

    async def load(self, weights: DetectorWeights) -> None:
        dut = self.dut
        await ReadOnly()
        assert read_int(dut.window_active_o, "window_active_o") == 0, "load while a window runs"
        writes = load_writes(weights)
        order = self.rng.permutation(len(writes))
        before = self.wl_errs
        await RisingEdge(dut.clk_i)
        for k in order.tolist():
            addr, data = writes[k]
            dut.wl_valid_i.value = 1
            self.drive("wl", (addr, data))
            await RisingEdge(dut.clk_i)
        dut.wl_valid_i.value = 0
        await RisingEdge(dut.clk_i)
        await ReadOnly()
        if self.wl_errs != before:
            self.fail(f"{self.wl_errs - before} load-port writes refused during a legal load")
        await RisingEdge(dut.clk_i)
        dut._log.info("loaded %d parameter words through the load port (%s)", len(writes),
                      weights.note)

    async def refused_write(self, why: str, addr: int) -> None:
        before = self.wl_errs
        await self.write(addr, int(self.rng.integers(0, 1 << 16)))
        await ReadOnly()
        if read_int(self.dut.wl_err_o, "wl_err_o") != 1 or self.wl_errs != before + 1:
            self.fail(f"write to {addr:#x} ({why}) not refused with a wl_err_o pulse at "
                      f"{get_sim_time('ns')} ns")
        await RisingEdge(self.dut.clk_i)

    # ---------------------------------------------------------------- stimulus
    def expect(self, codes: np.ndarray, weights: DetectorWeights,
               thresholds: list[int], partial: int = 0) -> None:
        """Queue the steps and detections of whole windows of ``codes`` (plus ``partial``
        steps of one more window, its codes padded, for runs cut by a reset)."""
        w = self.window
        n_full = len(codes) // w
        pad = codes
        if partial:
            pad = np.concatenate([codes, np.zeros((w - partial, 32), dtype=np.uint8)])
        run = run_fixed(pad, weights, w, trace=True)
        for j in range(run.h.shape[0]):
            steps = w if j < n_full else partial
            for t in range(steps):
                self.steps.append((self.next_window + j, t, run.h[j, t], run.c[j, t]))
        for j in range(n_full):
            score = int(run.score_int[j])
            flag = bool(flag_compare(score, thresholds[j], self.cfg))
            self.dets.append(self.det.encode((self.next_window + j, score, int(flag))))
        self.next_window += n_full

    def start_send(self, codes: np.ndarray, thresholds: list[int]) -> None:
        dut = self.dut
        self.driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o,
                                   {"feat": dut.in_feat_i}, period_ns=self.period,
                                   gaps=GapModel(self.rng, self.gap_p, 40), name="in")
        sent = [0]

        def on_sent(_item) -> None:
            self.accepts.append(get_sim_time("ns"))
            sent[0] += 1
            # Window j's first vector is accepted only after window j-1's head has latched
            # its threshold, so window j's threshold can go in now.
            j, first = divmod(sent[0] - 1, self.window)
            if first == 0 and 0 < j < len(thresholds):
                self.drive("threshold", (thresholds[j],))

        self.driver.on_sent.append(on_sent)
        self.drivers.append(self.driver)
        if thresholds:
            self.drive("threshold", (thresholds[0],))
        self.task = cocotb.start_soon(self.driver.send({"feat": self.feat.encode(f)}
                                                       for f in codes))

    def step_budget(self) -> int:
        """Generous cycles per step for timeouts (input gaps included)."""
        return self.cfg.mac_cycles(self.lanes) + 400

    def thresholds(self, n: int) -> list[int]:
        out = []
        for _ in range(n):
            r = self.rng.random()
            out.append(0 if r < 0.15 else (1 << 16) if r < 0.3
                       else int(self.rng.integers(0, (1 << 16) + 1)))
        return out

    async def segment(self, weights: DetectorWeights, n_windows: int,
                      refuse_at: int | None = None) -> None:
        """Stream n_windows windows back to back with these weights and check them all."""
        w = self.window
        kinds = [KINDS[int(k)] for k in self.rng.integers(0, len(KINDS), n_windows)]
        codes = np.concatenate([_codes(self.rng, k, w) for k in kinds])
        thr = self.thresholds(n_windows)
        # one window's threshold set to its own score: the comparator's >= edge
        probe = run_fixed(codes, weights, w)
        j_edge = int(self.rng.integers(0, n_windows))
        thr[j_edge] = int(probe.score_int[j_edge])
        self.expect(codes, weights, thr)
        self.dut._log.info("segment: windows %s, thresholds %s", kinds, thr)
        first_det = len(self.dets) - n_windows
        self.start_send(codes, thr)
        if refuse_at is not None:  # a write in the middle of window 0 of the segment
            for _ in range(refuse_at):
                await RisingEdge(self.dut.u_seq.step_done_o)
            await ReadOnly()
            assert read_int(self.dut.window_active_o, "window_active_o") == 1
            addr = int(self.rng.integers(0, load_map(self.cfg).size))
            await self.refused_write("mid-window", addr)
        budget = (len(codes) * self.step_budget() + 50_000) * 4
        await with_timeout(self.task, budget * self.period, "ns")
        await with_timeout(self.sink.wait_count(first_det + n_windows),
                           (4 * w * self.step_budget() + 100_000) * self.period, "ns")
        await self.wait_idle()
        self.compare_dets()
        if self.gap_p == 0 and self.sink.stalls.prob == 0:
            self.check_rate(self.driver.times)

    def check_rate(self, accepts: list[int]) -> None:
        """Full input rate, no backpressure: every accept-to-accept interval is the
        documented step time, plus the window-end time after a window's last step."""
        step, end = self.st.rates["step"], self.st.rates["window"]
        for k in range(1, len(accepts)):
            got = round((accepts[k] - accepts[k - 1]) / self.period)
            want = step.cycles + (end.cycles if k % self.window == 0 else 0)
            if got != want:
                self.fail(f"vector {k} of the segment accepted {got} cycles after vector "
                          f"{k - 1} at full input rate without backpressure; documented "
                          f"{want} ({step.text}" + (f", + {end.text}" if k % self.window == 0
                                                     else "") + ", the RTL header's Throughput "
                          f"line) at {accepts[k]} ns")
                return
            self.rate_checked += 1

    async def wait_idle(self) -> None:
        await ReadOnly()
        if read_int(self.dut.window_active_o, "window_active_o"):
            await FallingEdge(self.dut.window_active_o)
        await RisingEdge(self.dut.clk_i)

    def compare_dets(self) -> None:
        got = self.sink.items
        for k in range(self.dets_checked, min(len(got), len(self.dets))):
            if got[k] != self.dets[k]:
                want, have = (dict(zip(self.det.labels, self.det.decode(d), strict=True))
                              for d in (self.dets[k], got[k]))
                self.fail(f"detection {k}: expected {want}, got {have}")
        if len(got) != len(self.dets):
            self.fail(f"{len(got)} detections out, {len(self.dets)} expected")
        self.dets_checked = len(got)

    async def cut(self, how: str, weights: DetectorWeights) -> None:
        """Send a whole window plus part of the next, then clear_i or rst_ni mid-step."""
        dut, w = self.dut, self.window
        k = int(self.rng.integers(1, w))
        codes = _codes(self.rng, "random", w + k + 1)
        thr = self.thresholds(1)
        self.expect(codes[: w + k], weights, thr, partial=k)
        first_det = len(self.dets) - 1
        self.start_send(codes, thr)
        await with_timeout(self.sink.wait_count(first_det + 1),
                           (4 * w * self.step_budget() + 100_000) * self.period, "ns")
        for _ in range(k):  # the window's first k steps complete and are checked
            await RisingEdge(dut.u_seq.step_done_o)
        await Timer(int(self.rng.integers(1, self.cfg.mac_cycles(self.lanes))) * self.period,
                    unit="ns")  # inside step k (its vector is accepted at once)
        await RisingEdge(dut.clk_i)
        self.task.cancel()
        dut.in_valid_i.value = 0
        dut._log.info("%s in the middle of step %d of window %d at %d ns", how, k,
                      self.next_window, get_sim_time("ns"))
        if how == "clear":
            dut.clear_i.value = 1
            await RisingEdge(dut.clk_i)
            dut.clear_i.value = 0
        else:
            await reset(dut.clk_i, dut.rst_ni)
        await ReadOnly()
        if self.steps:
            self.fail(f"{len(self.steps)} expected steps did not complete before the {how}")
        if read_int(dut.window_active_o, "window_active_o") != 0:
            self.fail(f"window_active_o still high after {how}")
        self.steps.clear()
        self.accepts.clear()
        self.next_window = 0
        await RisingEdge(dut.clk_i)


async def _start(dut, gap_p: float, stall_p: float, stall_max: int,
                 stall_min: int = 1) -> TB:
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    for sig in (dut.in_valid_i, dut.wl_valid_i, dut.clear_i, dut.wl_addr_i, dut.wl_data_i,
                dut.det_ready_i):
        sig.value = 0
    dut.threshold_i.value = 1 << 15
    dut.in_feat_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    tb = TB(dut, rng, period, gap_p, stall_p, stall_max, stall_min)
    cocotb.start_soon(tb.sink.run())
    cocotb.start_soon(tb.step_monitor())
    cocotb.start_soon(tb.wl_err_monitor())
    return tb


def _finish(tb: TB, t0: float) -> None:
    tb.compare_dets()
    tb.check()
    funcov.sample_config(tb.lanes, tb.hidden)
    for d in tb.drivers:
        linkcov.sample_link("lstm_detector", "in", gaps=d.gaps.history, held=d.held)
    linkcov.sample_link("lstm_detector", "det", held=tb.sink.stalled)
    funcov.export()  # COV=1 only
    wall = time.perf_counter() - t0
    log = tb.dut._log
    mac = tb.cfg.mac_cycles(tb.lanes)
    log.info("%d detections checked", tb.dets_checked)
    log.info("%d steps checked (h and c of every unit)", tb.steps_checked)
    log.info("lstm: %d cycles per step (MAC limit %d, lane utilisation %.1f %%)",
             tb.cps_worst, mac, 100.0 * mac / max(tb.cps_worst, 1))
    log.info("speed: %.1f steps per wall second", tb.steps_checked / wall)
    if tb.rate_checked:
        log.info("throughput: %d accept-to-accept intervals equal the documented %s / %s",
                 tb.rate_checked, tb.st.rates["step"].doc, tb.st.rates["window"].doc)
    assert tb.dets_checked > 0 and tb.steps_checked > 0, "nothing was checked"
    record("lstm_detector", detections=tb.dets_checked, lstm_cycles_per_step=tb.cps_worst,
           steps=tb.steps_checked)


# (input gap probability, output stall probability, longest and shortest stall in cycles);
# a stall starts when a detection is offered
PROFILES = {"stream": (0.0, 0.0, 0, 1), "gaps": (0.3, 0.5, 15, 1),
            "blocked": (0.2, 0.7, 12000, 16)}


@cocotb.test()
@cocotb.parametrize(profile=list(PROFILES))
async def windows(dut, profile):
    """Windows of every input class, weight reload between windows, refused writes."""
    t0 = time.perf_counter()
    tb = await _start(dut, *PROFILES[profile])
    tb.name = f"windows/profile={profile}"
    windows_per_segment = 1 if tb.window >= 100 else 3
    weights_a = DetectorWeights.random(int(tb.rng.integers(1 << 30)), hidden=tb.hidden)
    await tb.load(weights_a)
    size = load_map(tb.cfg).size
    await tb.refused_write("out of range", size)
    await tb.refused_write("out of range", (1 << 16) - 1)
    await tb.segment(weights_a, windows_per_segment,
                     refuse_at=min(2, tb.window - 1) if tb.window > 1 else None)
    if tb.window < 100:
        weights_b = DetectorWeights.random(int(tb.rng.integers(1 << 30)), hidden=tb.hidden)
        await tb.load(weights_b)
        await tb.segment(weights_b, 2)
    _finish(tb, t0)


@cocotb.test()
async def reset_mid_window(dut):
    """clear_i and rst_ni in the middle of a step; windows afterwards start from window 0."""
    t0 = time.perf_counter()
    tb = await _start(dut, 0.1, 0.2, 50)
    tb.name = "reset_mid_window"
    weights = DetectorWeights.random(int(tb.rng.integers(1 << 30)), hidden=tb.hidden)
    await tb.load(weights)
    await tb.cut("clear", weights)
    await tb.segment(weights, 1)  # weights kept across clear_i
    await tb.cut("rst_ni", weights)
    await tb.load(weights)  # rst_ni: reload (the RAMs are not reset, but software must)
    await tb.segment(weights, 1)
    _finish(tb, t0)


def _run(hidden: int, lanes: int, window: int, testcase: str | None = None) -> None:
    run_block(toplevel="lstm_detector", test_module="tb.lstm.test_lstm_detector",
              parameters={"Hidden": hidden, "Lanes": lanes, "Window": window},
              testcase=testcase)


@pytest.mark.sim
@pytest.mark.parametrize("hidden,lanes,window", [(32, 8, 8), (16, 4, 6)])
def test_lstm_detector(hidden: int, lanes: int, window: int) -> None:
    _run(hidden, lanes, window)


@pytest.mark.sim
def test_lstm_detector_full_window(sim_and_seed) -> None:
    """One full 198-frame window per profile at the defaults (Verilator only: Icarus is slow)."""
    if sim_and_seed[0] != "verilator":
        pytest.skip("full-length window runs on Verilator only (CI budget)")
    _run(32, 8, 198)


@pytest.mark.sim
@pytest.mark.slow
@pytest.mark.parametrize("lanes", funcov.LANES)
@pytest.mark.parametrize("hidden", funcov.HIDDEN)
def test_lstm_detector_matrix(hidden: int, lanes: int) -> None:
    _run(hidden, lanes, 198)


@pytest.mark.sim
@pytest.mark.signoff
@pytest.mark.parametrize("lanes", funcov.LANES)
@pytest.mark.parametrize("hidden", funcov.HIDDEN)
def test_lstm_detector_configs(hidden: int, lanes: int) -> None:
    """Every (P, H) configuration with 5-frame windows (``make signoff``; the full-length
    matrix is ``test_lstm_detector_matrix`` under ``make slow``)."""
    _run(hidden, lanes, 5)
