"""Block test of ``lstm_seq``, the detector's sequencer: pure control, so there is no model
function; the test checks, cycle by cycle, the operations it issues against what the
configuration (H, P, Window; ``refmodel.lstm.stages.dims``) and the documented schedule
(``docs/fixed_point_detector.md`` section 12) say.

The test bench plays the sequencer's neighbours: the feature-vector stream (random codes, random
input gaps), the update unit (``upd_busy_i`` high for a random 0..3x5P/4 cycles after the
last MAC of every pass), the head (``head_ready_i`` low for a random time after every start,
as while a detection waits on ``det_ready``; ``head_busy_i`` for H cycles from the start) and
``h_i`` (changed at random moments, also in the middle of a step).  A per-cycle monitor records
every output; the checker walks the record and demands, for every accepted vector (a step):

- in the 4H/P * (32+H) cycles after the accepting edge: ``rd_en_o`` with ``w_raddr_o`` =
  0, 1, ... (``pass*(32+H) + col``) and ``b_raddr_o`` = pass; one cycle later each
  ``mac_valid_o`` with ``mac_first_o`` at col 0, ``mac_last_o`` at col 32+H-1, ``mac_tag_o``
  = pass and ``v_o`` = the PE vector word (``refmodel.lstm.pe_array.pe_vector``: x_int << 8
  of the accepted codes, then the ``h_i`` of the issuing cycle, or 0 in a window's first
  step); nothing in between or elsewhere;
- ``swap_o`` in the first cycle after the last MAC with ``upd_busy_i`` low, ``step_done_o`` in
  the next cycle, ``in_ready_o`` low from the accept until then (until the window closes,
  after the last step of a window);
- after every Window-th step: ``head_start_o`` in the first cycle with ``head_ready_i`` high,
  then the window closes in the first cycle with ``head_busy_i`` low (``window_o`` + 1,
  ``window_active_o`` low, ``first_step_o`` high, ``in_ready_o`` high from the next cycle);
- ``first_step_o``, ``window_o``, ``window_active_o`` at their expected levels in every cycle;
- ``clear_i`` (second test, in the middle of a step and of a head run): no swap or head start in
  its cycle, no MAC after it, and window 0, frame 0, first step, idle from the next cycle.
"""

from __future__ import annotations

from collections.abc import Iterator

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, SimTimeoutError, Timer, with_timeout
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.pe_array import codes_to_x, pe_vector
from refmodel.lstm.stages import dims, stage
from tb.kit import linkcov
from tb.kit.runner import run_block
from tb.kit.stream import GapModel, StreamDriver, read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

STROBES = ("rd_en", "mac_valid", "swap", "step_done", "head_start")
LEVELS = ("in_ready", "first_step", "window", "active")


class TB:
    """Neighbour models, the per-cycle monitor and the schedule checker of one lstm_seq."""

    def __init__(self, dut, rng: np.random.Generator, period: int):
        self.dut, self.rng, self.period = dut, rng, period
        self.hidden, self.lanes = int(dut.Hidden.value), int(dut.Lanes.value)
        self.window = int(dut.Window.value)
        self.cfg = DetectorConfig(hidden=self.hidden)
        self.dims = dims(self.hidden, self.lanes, self.cfg)
        self.st = stage("lstm_seq", self.hidden, self.lanes, self.cfg)
        self.feat = self.st.field("in_feat_i")
        self.h_f = self.st.field("h_i")
        self.mac = self.st.outputs["mac"]  # mac_first, mac_last, mac_tag, v
        self.rd = self.st.outputs["raddr"]  # w_raddr, b_raddr
        self.win_f = self.st.field("window_o")
        self.trace: list[dict] = []
        # Accepted vectors by the index of the cycle that ends with their transfer edge (the
        # driver may raise in_valid_i in the middle of a cycle, after the monitor sampled it).
        self.accepted: dict[int, tuple[int, ...]] = {}
        self.recording = True
        self._h_cache: dict[int, tuple[int, ...]] = {}

    # ---------------------------------------------------------------- neighbours
    async def update_model(self) -> None:
        """upd_busy_i high for 0..3x5P/4 cycles from the cycle after each pass's last MAC."""
        dut, per = self.dut, self.period
        top = min(self.dims.cols - 2, 3 * self.dims.update_cycles)
        while True:
            await RisingEdge(dut.mac_last_o)
            await RisingEdge(dut.clk_i)
            n = int(self.rng.integers(0, top + 1))
            if n:
                dut.upd_busy_i.value = 1
                await Timer((n - 1) * per + per // 2, unit="ns")
                await RisingEdge(dut.clk_i)
                dut.upd_busy_i.value = 0

    async def head_model(self) -> None:
        """Start taken when head_start_o is high (with head_ready_i); busy for H cycles, then
        not ready for a random time (its detection waiting on the output)."""
        dut, per = self.dut, self.period
        dut.head_ready_i.value = 1
        dut.head_busy_i.value = 0
        starts = 0
        while True:
            await RisingEdge(dut.head_start_o)
            await RisingEdge(dut.clk_i)  # the edge that takes the start
            dut.head_ready_i.value = 0
            dut.head_busy_i.value = 1
            await Timer((self.hidden - 1) * per + per // 2, unit="ns")
            await RisingEdge(dut.clk_i)
            dut.head_busy_i.value = 0
            starts += 1
            # A detection that waits so long that the next window ends before the head is
            # free (always after the first start): the sequencer must hold in StHead.
            if starts == 1 or self.rng.random() < 0.5:
                try:
                    await with_timeout(self._steps_done(self.window), self.step_max() *
                                       (self.window + 1) * per, "ns")
                except SimTimeoutError:
                    pass  # the input stream ended: no next window
            wait = int(self.rng.integers(1, 3 * self.hidden))
            await Timer((wait - 1) * per + per // 2, unit="ns")
            await RisingEdge(dut.clk_i)
            dut.head_ready_i.value = 1

    async def _steps_done(self, n: int) -> None:
        for _ in range(n):
            await RisingEdge(self.dut.step_done_o)

    def step_max(self) -> int:
        """Generous cycles of one step (input gaps and neighbour delays included)."""
        return self.dims.w_depth + 6 * self.dims.update_cycles + 4 * self.hidden + 200

    def random_h(self) -> int:
        return self.h_f.encode(self.rng.integers(-(1 << 15), 1 << 15, self.hidden))

    async def h_model(self) -> None:
        """A new h_i word after a random 1..2(32+H) cycles, at any point of a step."""
        dut, per = self.dut, self.period
        while True:
            n = int(self.rng.integers(1, 2 * self.dims.cols))
            await Timer((n - 1) * per + per // 2, unit="ns")
            await RisingEdge(dut.clk_i)
            dut.h_i.value = self.random_h()

    def on_sent(self, item: dict[str, int]) -> None:
        # called at the transfer edge, before the monitor records the cycle it starts
        self.accepted[len(self.trace) - 1] = self.feat.decode(item["feat"])

    def vectors(self, n: int) -> Iterator[dict[str, int]]:
        for _ in range(n):
            yield {"feat": self.feat.encode(self.rng.integers(0, 256, self.cfg.inputs))}

    # ---------------------------------------------------------------- monitor
    def sample(self, name: str) -> tuple[int, ...]:
        """One item of output interface ``name`` from its ports (X/Z is a failure)."""
        return self.st.decode(name, {p: read_int(getattr(self.dut, p), p)
                                     for p in self.st.signals(name)})

    async def monitor(self) -> None:
        """Every cycle's outputs (and the inputs the checker needs), sampled in ReadOnly."""
        dut, c = self.dut, self.dims.cols
        rd = read_int
        while self.recording:
            await RisingEdge(dut.clk_i)
            await ReadOnly()
            s = {"t": get_sim_time("ns"), "clear": rd(dut.clear_i, "clear_i"),
                 "in_ready": rd(dut.in_ready_o, "in_ready_o"),
                 "rd_en": rd(dut.rd_en_o, "rd_en_o"),
                 "mac_valid": rd(dut.mac_valid_o, "mac_valid_o"),
                 "swap": rd(dut.swap_o, "swap_o"),
                 "step_done": rd(dut.step_done_o, "step_done_o"),
                 "head_start": rd(dut.head_start_o, "head_start_o"),
                 "head_ready": rd(dut.head_ready_i, "head_ready_i"),
                 "head_busy": rd(dut.head_busy_i, "head_busy_i"),
                 "upd_busy": rd(dut.upd_busy_i, "upd_busy_i"),
                 "first_step": rd(dut.first_step_o, "first_step_o"),
                 "active": rd(dut.window_active_o, "window_active_o"),
                 "window": self.win_f.decode(rd(dut.window_o, "window_o"))[0]}
            if s["rd_en"]:
                s["rd"] = self.sample("raddr")
                if s["rd"][0] % c >= self.cfg.inputs:
                    word = rd(dut.h_i, "h_i")
                    if word not in self._h_cache:
                        self._h_cache[word] = self.h_f.decode(word)
                    s["h"] = self._h_cache[word]
            if s["mac_valid"]:
                s["mac"] = self.sample("mac")
            self.trace.append(s)

    # ---------------------------------------------------------------- checker
    def expected(self) -> tuple[list[dict], dict[str, int]]:
        """The expected strobes, levels, read addresses and MAC items of every recorded cycle,
        segment by segment (a clear_i cycle ends a segment)."""
        tr = self.trace
        self.feats = self.accepted
        exp: list[dict] = [{} for _ in tr]
        counts = {"steps": 0, "windows": 0, "macs": 0, "head_waits": 0}
        start = 0
        for n, s in enumerate(tr):
            if s["clear"] or n == len(tr) - 1:
                self._walk(exp, start, n + 1, counts)
                if s["clear"]:  # forced off in the clear cycle
                    exp[n]["swap"] = exp[n]["head_start"] = 0
                start = n + 1
        return exp, counts

    def _walk(self, exp: list[dict], start: int, end: int, counts: dict[str, int]) -> None:
        tr, d = self.trace, self.dims
        depth, cols, n_in = d.w_depth, d.cols, self.cfg.inputs

        def put(m: int, **kw) -> None:
            if m < end:
                exp[m].update(kw)

        win, frame, n = 0, 0, start

        def lv(m: int, active: int, ready: int = 0) -> None:  # the levels, from win and frame
            put(m, in_ready=ready, first_step=int(frame == 0), window=win, active=active)

        while n < end:
            while n < end:  # idle until a vector is accepted
                lv(n, int(frame > 0), ready=1)
                if n in self.feats and not tr[n]["clear"]:
                    break
                n += 1
            if n >= end:
                return
            a = n
            x = pe_vector(codes_to_x(np.array(self.feats[a]), self.cfg),
                          np.zeros(self.hidden, dtype=np.int64), self.cfg)
            for k in range(depth):  # run: one RAM read per cycle, the MAC one cycle later
                m = a + 1 + k
                if m >= end:
                    return
                col, pss = k % cols, k // cols
                lv(m, 1)
                put(m, rd_en=1, rd=(k, pss))
                h = tr[m].get("h")  # missing if the RTL did not issue col here: reported
                v = (int(x[col]) if col < n_in else 0 if frame == 0
                     else None if h is None else h[col - n_in])
                put(m + 1, mac_valid=1, mac=(int(col == 0), int(col == cols - 1), pss, v))
                counts["macs"] += 1
            n = a + 1 + depth  # drain: the last MAC is in this cycle
            lv(n, 1)
            n += 1
            while n < end and tr[n]["upd_busy"]:
                lv(n, 1)
                n += 1
            if n >= end:
                return
            lv(n, 1)
            put(n, swap=1)
            put(n + 1, step_done=1)
            counts["steps"] += 1
            n += 1
            if frame < self.window - 1:
                frame += 1
                continue
            while n < end and not tr[n]["head_ready"]:  # wait for the head
                lv(n, 1)
                n += 1
                counts["head_waits"] += 1
            if n >= end:
                return
            lv(n, 1)
            put(n, head_start=1)
            n += 1
            while n < end and tr[n]["head_busy"]:  # the head reads h and w_out
                lv(n, 1)
                n += 1
            if n >= end:
                return
            lv(n, 1)  # the head let go: the window closes at the next edge
            counts["windows"] += 1
            win, frame, n = win + 1, 0, n + 1

    def check(self) -> dict[str, int]:
        exp, counts = self.expected()
        for n, (s, e) in enumerate(zip(self.trace, exp, strict=True)):
            for key in (*STROBES, *LEVELS):
                want = e.get(key, 0 if key in STROBES else None)
                if want is None:
                    self.fail(n, f"no expectation for {key} (checker bug)")
                if s[key] != want:
                    self.fail(n, f"{key} expected {want}, got {s[key]}")
            for key, link in (("rd", self.rd), ("mac", self.mac)):
                if key in e and s[key] != e[key]:
                    diff = [f"{lab} expected {w}, got {g}" for lab, w, g in
                            zip(link.labels, e[key], s[key], strict=True) if w != g]
                    self.fail(n, f"{key}: {'; '.join(diff)}")
        return counts

    def fail(self, n: int, msg: str) -> None:
        s = self.trace[n]
        raise AssertionError(
            f"lstm_seq H={self.hidden} P={self.lanes} Window={self.window}: cycle {n} "
            f"({s['t']} ns, window_o {s['window']}): {msg}; seed {cocotb.RANDOM_SEED}; rerun: "
            f"{rerun_hint()}")


async def _start(dut) -> TB:
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    for sig in (dut.in_valid_i, dut.clear_i, dut.upd_busy_i, dut.head_busy_i, dut.in_feat_i):
        sig.value = 0
    dut.head_ready_i.value = 1
    await reset(dut.clk_i, dut.rst_ni)
    tb = TB(dut, rng, period)
    dut.h_i.value = tb.random_h()
    for co in (tb.monitor(), tb.update_model(), tb.head_model(), tb.h_model()):
        cocotb.start_soon(co)
    return tb


async def _finish(tb: TB, driver: StreamDriver, n_items: int, what: str) -> None:
    dut = tb.dut
    step_max = tb.step_max()
    await with_timeout(driver.send(tb.vectors(n_items)), n_items * 3 * step_max * tb.period, "ns")
    await ReadOnly()
    if not read_int(dut.in_ready_o, "in_ready_o"):
        await with_timeout(RisingEdge(dut.in_ready_o), 3 * step_max * tb.period, "ns")
    await Timer(8 * tb.period, unit="ns")
    tb.recording = False
    counts = tb.check()
    dut._log.info("%s: %d cycles checked: %d steps, %d windows closed, %d MACs, %d cycles "
                  "waiting for the head", what, len(tb.trace), counts["steps"], counts["windows"],
                  counts["macs"], counts["head_waits"])
    if not (counts["steps"] and counts["windows"] and (counts["head_waits"] or what == "clear")):
        raise AssertionError(f"lstm_seq {what}: nothing to check ({counts}); rerun: "
                             f"{rerun_hint()}")
    record(f"lstm_seq_{what}", vectors=counts["steps"])
    linkcov.sample_link("lstm_seq", "in", gaps=driver.gaps.history, held=driver.held)
    linkcov.export()


@cocotb.test()
async def windows(dut):
    """Windows of vectors with random input gaps, update and head delays, h_i changes."""
    tb = await _start(dut)
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o, {"feat": dut.in_feat_i},
                          period_ns=tb.period, gaps=GapModel(tb.rng, 0.4, 30), name="in")
    driver.on_sent.append(tb.on_sent)
    await _finish(tb, driver, 3 * tb.window + 1, "windows")


@cocotb.test()
async def clear_mid_window(dut):
    """clear_i in the middle of a step and in the middle of a head run."""
    tb = await _start(dut)
    driver = StreamDriver(dut.clk_i, dut.in_valid_i, dut.in_ready_o, {"feat": dut.in_feat_i},
                          period_ns=tb.period, gaps=GapModel(tb.rng, 0.2, 10), name="in")
    driver.on_sent.append(tb.on_sent)

    async def pulse() -> None:
        await RisingEdge(dut.clk_i)
        dut.clear_i.value = 1
        await RisingEdge(dut.clk_i)
        dut.clear_i.value = 0

    async def clears() -> None:
        for _ in range(int(tb.rng.integers(1, tb.window + 1))):  # a step of the first window
            await RisingEdge(dut.step_done_o)
        await Timer(int(tb.rng.integers(1, tb.dims.w_depth)) * tb.period, unit="ns")
        await pulse()
        await RisingEdge(dut.head_start_o)  # then in the head run of a window
        await Timer(int(tb.rng.integers(1, tb.hidden)) * tb.period, unit="ns")
        await pulse()

    cocotb.start_soon(clears())
    await _finish(tb, driver, 4 * tb.window + 2, "clear")
    if sum(s["clear"] for s in tb.trace) != 2:
        raise AssertionError("lstm_seq clear: the two clear_i pulses did not both happen")


@pytest.mark.sim
@pytest.mark.parametrize("hidden,lanes,window", [(16, 16, 3), (16, 4, 2), (32, 8, 1)])
def test_lstm_seq(hidden: int, lanes: int, window: int) -> None:
    run_block(toplevel="lstm_seq", test_module="tb.lstm.test_lstm_seq",
              parameters={"Hidden": hidden, "Lanes": lanes, "Window": window})
