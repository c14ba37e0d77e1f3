"""Block test of ``chip_regs`` against ``refmodel.chip.regs.RegisterModel``, cycle by cycle.

Seeded random register traffic (legal and illegal addresses, writes to read-only registers,
weight writes while a window runs and past the weight memory, soft resets) mixed with random
frame and detection events; every output is compared on every cycle.  This is a register
unit test, so it steps every clock by design: the stimulus changes every cycle.

``csr_tests``: the standard register tests generated from the map (``tb/chip/env/csr.py``:
csr_hw_reset, csr_rw, csr_bit_bash, csr_aliasing over all 256 byte addresses, mem_walk over
the pretend weight memory and every bit of the load address), every cycle still compared
with the model.
"""

from __future__ import annotations

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from refmodel.chip import regs
from tb.chip.env.csr import Csr, CsrOracle
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

CYCLES = 4000
WL_DEPTH = 40  # pretend detector memory size: higher weight addresses are refused


def _random_inputs(rng, model: regs.RegisterModel) -> regs.RegInputs:
    i = regs.RegInputs()
    i.window_active = bool(rng.random() < 0.3)
    i.frame = bool(rng.random() < 0.2)
    i.det = bool(rng.random() < 0.05)
    i.det_score = int(rng.integers(0, 1 << 16))
    i.det_flag = bool(rng.random() < 0.5)
    if rng.random() < 0.6:
        i.req = True
        i.we = bool(rng.random() < 0.5)
        kind = rng.random()
        if kind < 0.75:
            reg = regs.REGISTERS[int(rng.integers(len(regs.REGISTERS)))]
            i.addr = reg.offset
        elif kind < 0.9:
            i.addr = int(rng.integers(0, 1 << regs.ADDR_BITS))  # mostly unmapped
        else:
            i.addr = regs.offset("THRESHOLD") + int(rng.integers(1, 4))  # misaligned
        i.wdata = int(rng.integers(0, 1 << 32))
        if i.we and i.addr == regs.offset("CTRL"):
            # keep the chip mostly enabled; soft reset now and then
            soft = rng.random() < 0.1
            i.wdata = (1 << regs.field("CTRL", "ENABLE").lsb) * int(rng.random() < 0.8) | \
                (1 << regs.field("CTRL", "SOFT_RESET").lsb) * int(soft)
        if i.we and i.addr == regs.offset("WLOAD_ADDR"):
            i.wdata = int(rng.integers(0, WL_DEPTH + 8))
    # the detector refuses, one cycle late, a write past its memory
    i.wl_err = model.wl_sent and model.wl_sent_addr >= WL_DEPTH
    return i


def _drive(dut, i: regs.RegInputs) -> None:
    dut.reg_req_i.value = int(i.req)
    dut.reg_we_i.value = int(i.we)
    dut.reg_addr_i.value = i.addr
    dut.reg_wdata_i.value = i.wdata
    dut.window_active_i.value = int(i.window_active)
    dut.wl_err_i.value = int(i.wl_err)
    dut.frame_i.value = int(i.frame)
    dut.det_i.value = int(i.det)
    dut.det_score_i.value = i.det_score
    dut.det_flag_i.value = int(i.det_flag)


def _check(dut, cycle: int, want: regs.RegOutputs) -> None:
    got = {
        "rvalid": read_int(dut.reg_rvalid_o, "reg_rvalid_o"),
        "err": read_int(dut.reg_err_o, "reg_err_o"),
        "enable": read_int(dut.enable_o, "enable_o"),
        "clear": read_int(dut.clear_o, "clear_o"),
        "threshold": read_int(dut.threshold_o, "threshold_o"),
        "wl_valid": read_int(dut.wl_valid_o, "wl_valid_o"),
    }
    exp = {"rvalid": int(want.rvalid), "err": int(want.err), "enable": int(want.enable),
           "clear": int(want.clear), "threshold": want.threshold, "wl_valid": int(want.wl_valid)}
    if want.rvalid:
        got["rdata"] = read_int(dut.reg_rdata_o, "reg_rdata_o")
        exp["rdata"] = want.rdata
    if want.wl_valid:
        got["wl_addr"] = read_int(dut.wl_addr_o, "wl_addr_o")
        exp["wl_addr"] = want.wl_addr
    bad = {k: (exp[k], got[k]) for k in exp if exp[k] != got[k]}
    assert not bad, (f"chip_regs cycle {cycle}: expected/actual {bad}; "
                     f"rerun: {rerun_hint()}")


@cocotb.test()
async def random_register_traffic(dut):
    """Every output, every cycle, against the register model."""
    await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    model = regs.RegisterModel()
    _drive(dut, regs.RegInputs())
    await reset(dut.clk_i, dut.rst_ni)
    counts = {"errors": 0, "wl": 0, "clears": 0}
    for cycle in range(CYCLES):
        await FallingEdge(dut.clk_i)
        i = _random_inputs(rng, model)
        _drive(dut, i)
        await ReadOnly()
        want = model.outputs(i)
        _check(dut, cycle, want)
        counts["wl"] += int(want.wl_valid)
        counts["clears"] += int(want.clear)
        counts["errors"] += int(want.rvalid and want.err)
        await RisingEdge(dut.clk_i)
        model.clock(i)
    dut._log.info("%d cycles checked: %s", CYCLES, counts)
    # the stimulus must have reached weight writes, soft resets and errors
    assert counts["wl"] > 20 and counts["clears"] >= 2 and counts["errors"] > 100, counts
    record("chip_regs", vectors=CYCLES)


class CyclePort:
    """One access at a time through ``chip_regs``, every output of every cycle compared with
    the model (as in the random test); the port of :class:`~tb.chip.env.csr.Csr`."""

    def __init__(self, dut):
        self.dut, self.model, self.cycle = dut, regs.RegisterModel(), 0

    async def _step(self, i: regs.RegInputs) -> tuple[int, bool]:
        """One cycle with inputs ``i``; returns the DUT's (rdata, err) of that cycle."""
        await FallingEdge(self.dut.clk_i)
        i.wl_err = self.model.wl_sent and self.model.wl_sent_addr >= WL_DEPTH
        _drive(self.dut, i)
        await ReadOnly()
        _check(self.dut, self.cycle, self.model.outputs(i))
        got = (read_int(self.dut.reg_rdata_o, "reg_rdata_o"),
               bool(read_int(self.dut.reg_err_o, "reg_err_o")))
        await RisingEdge(self.dut.clk_i)
        self.model.clock(i)
        self.cycle += 1
        return got

    async def __call__(self, write: bool, addr: int, data: int) -> tuple[int, bool]:
        await self._step(regs.RegInputs(req=True, we=write, addr=addr, wdata=data))
        resp = await self._step(regs.RegInputs())  # the response cycle
        await self._step(regs.RegInputs())
        return resp


@cocotb.test()
async def csr_tests(dut):
    """csr_hw_reset, csr_rw, csr_bit_bash, csr_aliasing and mem_walk from the map."""
    await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    _drive(dut, regs.RegInputs())
    await reset(dut.clk_i, dut.rst_ni)
    port = CyclePort(dut)
    csr = Csr(port, CsrOracle(WL_DEPTH), rng, dut._log.info, " (chip_regs)")
    await csr.hw_reset()
    await csr.rw()
    await csr.bit_bash()
    await csr.aliasing()
    await csr.mem_walk([int(w) for w in rng.integers(0, 1 << 16, WL_DEPTH)])
    addr_bits = regs.field("WLOAD_ADDR", "ADDR").width
    for b in range(addr_bits):  # every bit of the load address, and the wrap past the top
        await csr.mem_walk([int(rng.integers(0, 1 << 16))], start=1 << b)
    await csr.mem_walk([int(rng.integers(0, 1 << 16))], start=(1 << addr_bits) - 1)
    record("chip_regs.csr", vectors=csr.checked)


@pytest.mark.sim
def test_chip_regs() -> None:
    run_block(toplevel="chip_regs", test_module="tb.chip.test_chip_regs")
