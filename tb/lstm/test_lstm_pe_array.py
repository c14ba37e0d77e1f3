"""Block test of ``lstm_pe_array`` (the MAC lanes) against the exact integer sum.

Each lane's closed sum must equal ``(b << BiasShift) + sum w*v`` (the model's ``gate_acc``
arithmetic, ``refmodel.lstm.pe_array``) for random passes of random lengths, with random idle
cycles inside and between passes, extreme operands (-128 x -32768 products at full length) and
the tag carried along.  The driver writes one MAC per clock: this block test wakes per cycle on
purpose (it is small); the detector test does not.
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, pack, record, rerun_hint, reset, start_clock

PASSES = 60


@cocotb.test()
async def check_mac(dut):
    """Every closed sum of every lane bit-exact, with its tag."""
    cfg = DetectorConfig()
    lanes = int(dut.Lanes.value)
    tag_w = int(dut.TagW.value)
    await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    for sig in (dut.mac_valid_i, dut.mac_first_i, dut.mac_last_i, dut.clear_i):
        sig.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    await FallingEdge(dut.clk_i)
    checked = 0
    for p in range(PASSES):
        extreme = p % 5 == 4
        length = 96 if extreme else int(rng.integers(1, 97))
        if extreme:
            w = np.full((length, lanes), -128, dtype=np.int64)
            v = np.full(length, -32768, dtype=np.int64)
            b = np.full(lanes, -32768 if p % 2 else 32767, dtype=np.int64)
        else:
            w = rng.integers(-128, 128, (length, lanes))
            v = rng.integers(-32768, 32768, length)
            b = rng.integers(-32768, 32768, lanes)
        tag = int(rng.integers(0, 1 << tag_w))
        want = (b << cfg.bias_shift) + (w * v[:, None]).sum(axis=0)
        dut.b_i.value = pack(b, cfg.b_bits)
        dut.mac_tag_i.value = tag
        for k in range(length):
            while rng.random() < 0.15:  # idle cycle inside a pass
                dut.mac_valid_i.value = 0
                await FallingEdge(dut.clk_i)
            dut.mac_valid_i.value = 1
            dut.mac_first_i.value = int(k == 0)
            dut.mac_last_i.value = int(k == length - 1)
            dut.w_i.value = pack(w[k], cfg.w_bits)
            dut.v_i.value = int(v[k])
            await FallingEdge(dut.clk_i)
        dut.mac_valid_i.value = 0
        dut.mac_last_i.value = 0
        await ReadOnly()  # half a cycle after the edge that took the last MAC
        assert read_int(dut.res_valid_o, "res_valid_o") == 1, (
            f"lstm_pe_array pass {p}: no res_valid_o one cycle after the last MAC at "
            f"{get_sim_time('ns')} ns; rerun: {rerun_hint()}")
        res = read_int(dut.res_o, "res_o")
        assert read_int(dut.res_tag_o, "res_tag_o") == tag, f"pass {p}: tag lost"
        for lane in range(lanes):
            got = (res >> (cfg.acc_bits * lane)) & ((1 << cfg.acc_bits) - 1)
            got -= (got >> (cfg.acc_bits - 1)) << cfg.acc_bits
            assert got == int(want[lane]), (
                f"lstm_pe_array P={lanes} pass {p} (length {length}) lane {lane}: expected "
                f"{int(want[lane])}, got {got} at {get_sim_time('ns')} ns; seed "
                f"{cocotb.RANDOM_SEED}; rerun: {rerun_hint()}")
            checked += 1
        await FallingEdge(dut.clk_i)
    dut._log.info("%d lane sums checked", checked)
    record("lstm_pe_array", vectors=checked)


@pytest.mark.sim
@pytest.mark.parametrize("lanes", [4, 8, 16])
def test_lstm_pe_array(lanes: int) -> None:
    run_block(toplevel="lstm_pe_array", test_module="tb.lstm.test_lstm_pe_array",
              parameters={"Lanes": lanes, "TagW": 5})
