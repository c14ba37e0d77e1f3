"""Block test of ``lstm_update`` (z rounding, activations, cell, h banks) against
``refmodel.lstm.update.update_state``.

The test bench plays the PE array: every step's 4H gate sums are drawn at random (typical
values, wide values that saturate z, the accumulator's extremes, z's saturation edges and
rounding ties), cut into the 4H/P passes the array delivers (``update.to_passes``, in order
or shuffled: the pass tag alone says which units a pass holds) and driven as one-cycle
``res_valid_i`` pulses with ``res_i`` held while ``busy_o`` is high and garbage in the gaps.
After the passes it plays the sequencer: ``swap_i`` once the unit is idle, ``first_step_i``
during a window's first step.  Checked: ``busy_o`` lasts exactly 5P/4 cycles per pass; ``h_o``
keeps the previous step's h during a step; after every swap, h and c of every unit equal the
model's, bit for bit.  Scenarios: windows of random length with random gaps; a long window at
full gate drive until the cell state saturates (small configurations, where it takes seconds);
``clear_i`` in the middle of a pass, then a new window.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.stages import dims, stage
from refmodel.lstm.update import to_passes, update_state
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

STEPS = 40  # random steps per run (in windows of 1..6 steps)


class TB:
    """Drives passes and swaps into one lstm_update and checks h and c after every step."""

    def __init__(self, dut, rng: np.random.Generator, period: int):
        self.dut, self.rng, self.period = dut, rng, period
        self.hidden, self.lanes = int(dut.Hidden.value), int(dut.Lanes.value)
        self.cfg = DetectorConfig(hidden=self.hidden)
        self.dims = dims(self.hidden, self.lanes, self.cfg)
        self.st = stage("lstm_update", self.hidden, self.lanes, self.cfg)
        self.h_f, self.c_f = self.st.field("h_o"), self.st.field("c_o")
        self.c = np.zeros(self.hidden, dtype=np.int64)  # the model's state
        self.h: np.ndarray | None = None  # h_o's value, when known (after a step)
        self.steps = 0

    def fail(self, msg: str) -> None:
        raise AssertionError(f"lstm_update H={self.hidden} P={self.lanes}: {msg} at "
                             f"{get_sim_time('ns')} ns; seed {cocotb.RANDOM_SEED}; rerun: "
                             f"{rerun_hint()}")

    # ---------------------------------------------------------------- stimulus
    def draw_acc(self) -> np.ndarray:
        """4H gate sums, each from one of five classes."""
        lim = 1 << (self.cfg.acc_bits - 1)
        zsat = 1 << (self.cfg.z_bits - 1 + self.cfg.z_shift)  # |acc| where z saturates
        half = 1 << (self.cfg.z_shift - 1)
        n = self.cfg.gates
        typical = np.rint(self.rng.normal(0, 3 << self.cfg.acc_frac, n)).astype(np.int64)
        wide = self.rng.integers(-2 * zsat, 2 * zsat, n)
        extreme = self.rng.choice([-lim, lim - 1, zsat, zsat - 1, zsat - half - 1, zsat - half,
                                   -zsat, -zsat - 1, -zsat - half - 1, -zsat - half, 0, -1], n)
        tie = (self.rng.integers(-(1 << 15), 1 << 15, n) << self.cfg.z_shift) + half
        full = self.rng.integers(-lim, lim, n)
        kind = self.rng.choice(5, n, p=[0.5, 0.2, 0.1, 0.1, 0.1])
        return np.choose(kind, [typical, wide, extreme, tie, full])

    def drive_res(self, item: tuple[int, ...]) -> None:
        """res_tag_i and res_i for one pass, encoded by the stage table."""
        for port, word in self.st.encode("res", item).items():
            getattr(self.dut, port).value = word

    async def cycles(self, n: int) -> None:
        """Let ``n`` more rising edges pass (called just after one); return just after the
        last."""
        if n > 0:
            await Timer((n - 1) * self.period + self.period // 2, unit="ns")
            await RisingEdge(self.dut.clk_i)

    async def send_pass(self, k: int, lanes_acc: np.ndarray, *, clear_at: int = -1) -> None:
        """One pass: a res_valid_i pulse with res_i held while busy; ``busy_o`` must last
        5P/4 cycles.  With ``clear_at`` >= 0, clear_i that many cycles after the pulse."""
        dut, u = self.dut, self.dims.update_cycles
        await RisingEdge(dut.clk_i)
        self.drive_res((k, *lanes_acc.tolist()))  # (res_tag, acc[lane 0..P-1])
        dut.res_valid_i.value = 1
        await RisingEdge(dut.clk_i)
        dut.res_valid_i.value = 0
        if clear_at >= 0:
            await self.cycles(clear_at)
            dut.clear_i.value = 1
            await RisingEdge(dut.clk_i)
            dut.clear_i.value = 0
            await ReadOnly()
            if read_int(dut.busy_o, "busy_o") != 0:
                self.fail("busy_o still high in the cycle after clear_i")
            return
        await Timer((u - 2) * self.period + self.period // 2, unit="ns")  # cycle u-1 of the pass
        await ReadOnly()
        if read_int(dut.busy_o, "busy_o") != 1:
            self.fail(f"pass {k}: busy_o low before the {u}th cycle ({u} = 5P/4 expected)")
        await RisingEdge(dut.clk_i)
        await ReadOnly()
        if read_int(dut.busy_o, "busy_o") != 0:
            self.fail(f"pass {k}: busy_o high after {u} cycles ({u} = 5P/4 expected)")

    async def garbage(self) -> None:
        """Random res_i/res_tag_i and a random gap (the array's next pass is on its way)."""
        gap = int(self.rng.integers(0, 4))
        if gap:
            await RisingEdge(self.dut.clk_i)
            self.drive_res((int(self.rng.integers(0, 1 << self.dims.pass_bits)),
                            *self.rng.integers(-(1 << 31), 1 << 31, self.lanes).tolist()))
            await self.cycles(gap - 1)

    def decode_state(self) -> tuple[np.ndarray, np.ndarray]:
        h = np.array(self.h_f.decode(read_int(self.dut.h_o, "h_o")), dtype=np.int64)
        c = np.array(self.c_f.decode(read_int(self.dut.c_o, "c_o")), dtype=np.int64)
        return h, c

    def compare(self, what: str, got: np.ndarray, want: np.ndarray) -> None:
        bad = np.flatnonzero(got != want)
        if bad.size:
            j = int(bad[0])
            self.fail(f"step {self.steps}: {what}[{j}] expected {int(want[j])}, got "
                      f"{int(got[j])} ({bad.size} units differ)")

    async def step(self, acc: np.ndarray, first: bool) -> None:
        """One step: all passes (maybe shuffled), then the swap; h and c checked."""
        dut = self.dut
        want = update_state(acc, self.c, self.cfg, first_step=first)
        passes = to_passes(acc, self.lanes, self.cfg)
        order = (self.rng.permutation(self.dims.passes) if self.rng.random() < 0.3
                 else np.arange(self.dims.passes))
        await RisingEdge(dut.clk_i)
        dut.first_step_i.value = int(first)
        for k in order.tolist():
            await self.send_pass(k, passes[k])
            await self.garbage()
        await RisingEdge(dut.clk_i)
        await ReadOnly()
        c = np.array(self.c_f.decode(read_int(dut.c_o, "c_o")), dtype=np.int64)
        self.compare("c before the swap (c is updated in place)", c, want.c)
        if self.h is not None:  # else the bank shown was never written (X after reset)
            h = np.array(self.h_f.decode(read_int(dut.h_o, "h_o")), dtype=np.int64)
            self.compare("h_o during the step (must stay the previous step's h)", h, self.h)
        await RisingEdge(dut.clk_i)
        dut.swap_i.value = 1
        await RisingEdge(dut.clk_i)
        dut.swap_i.value = 0
        dut.first_step_i.value = int(self.rng.integers(0, 2))  # not read between steps
        await ReadOnly()
        h, c = self.decode_state()
        self.compare("h", h, want.h)
        self.compare("c", c, want.c)
        self.c, self.h = want.c, want.h
        self.steps += 1

    async def window(self, n_steps: int, acc_of=None) -> None:
        for t in range(n_steps):
            await self.step(self.draw_acc() if acc_of is None else acc_of(t), first=t == 0)


async def _start(dut) -> TB:
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    for sig in (dut.res_valid_i, dut.clear_i, dut.swap_i, dut.first_step_i, dut.res_tag_i,
                dut.res_i):
        sig.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    return TB(dut, rng, period)


@cocotb.test()
async def steps(dut):
    """Windows of random steps, then clear_i in the middle of a pass and one more window."""
    tb = await _start(dut)
    left = STEPS
    while left > 0:
        n = min(left, int(tb.rng.integers(1, 7)))
        await tb.window(n)
        left -= n
    # clear_i in the middle of a pass of a step, then a whole new window
    await tb.send_pass(0, to_passes(tb.draw_acc(), tb.lanes, tb.cfg)[0],
                       clear_at=int(tb.rng.integers(0, tb.dims.update_cycles - 1)))
    tb.h = None  # clear_i selects bank 0 again: h_o shows an older bank until the next swap
    await tb.window(3)
    dut._log.info("%d steps checked (h and c of %d units each)", tb.steps, tb.hidden)
    record("lstm_update", vectors=tb.steps)


@cocotb.test()
async def cell_saturates(dut):
    """Full gate drive (i, f, o -> 1, g -> +-1) for one long window: c grows by about 1 per
    step until it saturates at +-256 (Q8.16, 25 bits), and stays there."""
    tb = await _start(dut)
    limit = 1 << (tb.cfg.c_bits - 1)
    n = (1 << (tb.cfg.c_bits - 1 - tb.cfg.c_frac)) + 4  # 256 steps to saturate, then 4 more
    if tb.dims.passes * n > 2500:
        dut._log.info("H=%d P=%d: %d passes per step, the saturation run is left to the small "
                      "configurations", tb.hidden, tb.lanes, tb.dims.passes)
        return
    sign = 1 if tb.rng.random() < 0.5 else -1
    h = tb.hidden
    top = (1 << (tb.cfg.acc_bits - 1)) - 1
    acc = np.full(tb.cfg.gates, top, dtype=np.int64)
    acc[2 * h:3 * h] = sign * top  # g rows

    def drive(_t: int) -> np.ndarray:
        a = acc.copy()
        jitter = tb.rng.integers(0, 2, tb.cfg.gates) * tb.rng.integers(-(1 << 20), 1, tb.cfg.gates)
        return a + np.where(a > 0, jitter, -jitter)  # still saturating z, not all equal

    await tb.window(n, drive)
    sat = limit - 1 if sign > 0 else -limit
    if not np.all(tb.c == sat):
        tb.fail(f"the model's c did not saturate ({tb.c[:4]}...): the scenario is wrong")
    dut._log.info("c saturated at %d after %d steps, RTL equal", sat, n)
    record("lstm_update_saturation", vectors=tb.steps)


@pytest.mark.sim
@pytest.mark.parametrize("hidden,lanes", [(16, 16), (32, 8), (64, 4)])
def test_lstm_update(hidden: int, lanes: int) -> None:
    run_block(toplevel="lstm_update", test_module="tb.lstm.test_lstm_update",
              parameters={"Hidden": hidden, "Lanes": lanes})
