"""Block test of ``lstm_mem`` (lane weight and bias RAMs, head weights, load port) against the
memory images of ``refmodel.lstm.mem.mem_images`` and the load-port map of
``refmodel.lstm.rtl`` (``load_writes``, ``load_map``).

Two random weight sets are written through the load port (every word of the map once, in
shuffled order and in address order, with random idle cycles and random bits 15:8 on int8
targets, which must be ignored), and after each load every address of every lane's weight and
bias RAM is read back through the registered read ports (with cycles of ``rd_en_i`` low,
during which the read data must hold) and compared with the images; ``wout_o`` and ``bout_o``
likewise.  Refused writes: with ``wl_lock_i`` high (a window runs) at addresses of every
region, and out of range (the first address past the map up to 0xFFFF), each must pulse
``wl_err_o`` in the next cycle and change nothing; legal writes in between must not.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.mem import MemImages, mem_images
from refmodel.lstm.rtl import load_map, load_writes
from refmodel.lstm.stages import dims, stage
from refmodel.lstm.weights import DetectorWeights
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

REFUSED = 60  # refused writes per kind (locked, out of range)


class TB:
    """Load port driver, read-port checker and wl_err_o bookkeeping of one lstm_mem."""

    def __init__(self, dut, rng: np.random.Generator):
        self.dut, self.rng = dut, rng
        self.hidden, self.lanes = int(dut.Hidden.value), int(dut.Lanes.value)
        self.cfg = DetectorConfig(hidden=self.hidden)
        self.dims = dims(self.hidden, self.lanes, self.cfg)
        self.map = load_map(self.cfg)
        self.st = stage("lstm_mem", self.hidden, self.lanes, self.cfg)
        self.errs = 0  # wl_err_o pulses seen
        self.checked = 0

    def fail(self, msg: str) -> None:
        raise AssertionError(f"lstm_mem H={self.hidden} P={self.lanes}: {msg} at "
                             f"{get_sim_time('ns')} ns; seed {cocotb.RANDOM_SEED}; rerun: "
                             f"{rerun_hint()}")

    async def err_monitor(self) -> None:
        while True:
            await RisingEdge(self.dut.wl_err_o)
            self.errs += 1
            await FallingEdge(self.dut.wl_err_o)

    def drive(self, name: str, item: tuple[int, ...]) -> None:
        """Put one item of input interface ``name`` on its ports (stage table encoding)."""
        for port, word in self.st.encode(name, item).items():
            getattr(self.dut, port).value = word

    def sample(self, name: str) -> tuple[int, ...]:
        """One item of output interface ``name`` from its ports (X/Z is a failure)."""
        return self.st.decode(name, {p: read_int(getattr(self.dut, p), p)
                                     for p in self.st.signals(name)})

    def drive_write(self, addr: int, data: int, valid: int = 1) -> None:
        self.drive("wl", (addr, data))
        self.dut.wl_valid_i.value = valid

    def junk_write(self) -> None:
        """Random address and data with wl_valid_i low: nothing may happen."""
        self.drive_write(int(self.rng.integers(0, 1 << 16)), int(self.rng.integers(0, 1 << 16)),
                         valid=0)

    # ---------------------------------------------------------------- load
    async def load(self, weights: DetectorWeights, *, shuffled: bool) -> None:
        """Every word of the map once; int8 targets get random bits 15:8 (ignored)."""
        writes = np.array(load_writes(weights), dtype=np.int64)
        if shuffled:
            writes = writes[self.rng.permutation(len(writes))]
        addr, data = writes[:, 0], writes[:, 1]
        m = self.map
        is8 = (addr < m.b_base) | ((addr >= m.wout_base) & (addr < m.bout_addr))
        data = np.where(is8, (data & 0xFF) | (self.rng.integers(0, 256, len(data)) << 8), data)
        before = self.errs
        await RisingEdge(self.dut.clk_i)
        for a, d in zip(addr.tolist(), data.tolist(), strict=True):
            while self.rng.random() < 0.1:
                self.junk_write()
                await RisingEdge(self.dut.clk_i)
            self.drive_write(a, d)
            await RisingEdge(self.dut.clk_i)
        self.junk_write()
        await RisingEdge(self.dut.clk_i)
        await ReadOnly()
        if self.errs != before:
            self.fail(f"{self.errs - before} wl_err_o pulses during a legal load")
        self.dut._log.info("loaded %d words (%s order)", len(addr),
                           "shuffled" if shuffled else "address")

    # ---------------------------------------------------------------- read back
    async def read_back(self, img: MemImages, what: str) -> None:
        """Every weight RAM address (bias RAM at a random pass) on every lane, one read per
        cycle, with idle cycles in which the registered data must hold."""
        dut, d = self.dut, self.dims
        head = self.sample("head")
        want_head = (*img.w_out.tolist(), *img.b_out.tolist())
        if head != want_head:
            bad = next(k for k in range(len(head)) if head[k] != want_head[k])
            self.fail(f"{what}: {self.st.link('head').labels[bad]} expected {want_head[bad]}, "
                      f"got {head[bad]}")
        expect = None  # (addr, pass) of the last enabled read
        pending = None
        order = self.rng.permutation(d.w_depth).tolist()
        k = 0
        await RisingEdge(dut.clk_i)
        while k < len(order) or pending is not None:
            if k < len(order) and self.rng.random() >= 0.15:
                a = order[k]
                p = a % d.passes  # every bias address, in another order than the weights
                self.drive("raddr", (a, p))
                dut.rd_en_i.value = 1
                nxt: tuple[int, int] | None = (a, p)
                k += 1
            else:  # idle: another address, rd_en_i low
                self.drive("raddr", (int(self.rng.integers(0, d.w_depth)),
                                     int(self.rng.integers(0, d.passes))))
                dut.rd_en_i.value = 0
                nxt = None
            await ReadOnly()
            if pending is not None:
                expect = pending
            if expect is not None:
                a, p = expect
                got = self.sample("rdata")
                want = (*img.w[:, a].tolist(), *img.b[:, p].tolist())
                if got != want:
                    bad = next(j for j in range(len(got)) if got[j] != want[j])
                    self.fail(f"{what}: weight address {a}, bias address {p}: "
                              f"{self.st.link('rdata').labels[bad]} expected {want[bad]}, got "
                              f"{got[bad]}"
                              f"{'' if pending is not None else ' (after an idle cycle)'}")
                self.checked += 1
            pending = nxt
            await RisingEdge(dut.clk_i)
        dut.rd_en_i.value = 0
        dut._log.info("%s: %d weight and %d bias words read back", what,
                      d.w_depth * self.lanes, d.passes * self.lanes)

    # ---------------------------------------------------------------- refused writes
    async def refused(self, img_writes: list[tuple[int, int]]) -> None:
        """Locked and out-of-range writes (each must pulse wl_err_o once), mixed with legal
        rewrites of the loaded words (which must not)."""
        dut, m = self.dut, self.map
        regions = [(0, m.b_base), (m.b_base, m.wout_base), (m.wout_base, m.bout_addr),
                   (m.bout_addr, m.size)]
        cases: list[tuple[str, int, int]] = []
        for k in range(REFUSED):
            lo, hi = regions[k % len(regions)]
            cases.append(("locked", int(self.rng.integers(lo, hi)), 1))
        out = [m.size, (1 << 16) - 1, *self.rng.integers(m.size, 1 << 16, REFUSED - 2).tolist()]
        cases += [("out of range", int(a), 0) for a in out]
        cases += [("legal", -1, 0)] * REFUSED
        await RisingEdge(dut.clk_i)
        for j in self.rng.permutation(len(cases)).tolist():
            why, addr, lock = cases[j]
            if why == "legal":
                addr, data = img_writes[int(self.rng.integers(0, len(img_writes)))]
            else:
                data = int(self.rng.integers(0, 1 << 16))
            dut.wl_lock_i.value = lock
            self.drive_write(addr, data)
            await RisingEdge(dut.clk_i)
            dut.wl_lock_i.value = int(self.rng.integers(0, 2))  # no write: lock is don't care
            self.junk_write()
            await ReadOnly()
            err = read_int(dut.wl_err_o, "wl_err_o")
            if err != (why != "legal"):
                self.fail(f"{why} write to {addr:#06x}: wl_err_o {err} in the next cycle")
            await RisingEdge(dut.clk_i)
            await ReadOnly()
            if read_int(dut.wl_err_o, "wl_err_o"):
                self.fail(f"{why} write to {addr:#06x}: wl_err_o high for more than one cycle")
            await RisingEdge(dut.clk_i)
        dut.wl_lock_i.value = 0
        self.dut._log.info("%d refused and %d legal writes checked", 2 * REFUSED, REFUSED)


@cocotb.test()
async def load_and_read(dut):
    """Two weight sets loaded and read back; refused writes change nothing."""
    await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    for sig in (dut.wl_valid_i, dut.wl_lock_i, dut.wl_addr_i, dut.wl_data_i, dut.rd_en_i,
                dut.w_raddr_i, dut.b_raddr_i):
        sig.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    tb = TB(dut, rng)
    cocotb.start_soon(tb.err_monitor())
    first = DetectorWeights.random(int(rng.integers(1 << 30)), hidden=tb.hidden)
    await tb.load(first, shuffled=True)
    img = mem_images(first, tb.lanes)
    await tb.read_back(img, "first load")
    await tb.refused(load_writes(first))
    await tb.read_back(img, "after refused writes")
    second = DetectorWeights.random(int(rng.integers(1 << 30)), hidden=tb.hidden)
    await tb.load(second, shuffled=False)
    await tb.read_back(mem_images(second, tb.lanes), "second load (over the first)")
    record("lstm_mem", vectors=tb.checked)


@pytest.mark.sim
@pytest.mark.parametrize("hidden,lanes", [(16, 4), (32, 8), (64, 16)])
def test_lstm_mem(hidden: int, lanes: int) -> None:
    run_block(toplevel="lstm_mem", test_module="tb.lstm.test_lstm_mem",
              parameters={"Hidden": hidden, "Lanes": lanes})
