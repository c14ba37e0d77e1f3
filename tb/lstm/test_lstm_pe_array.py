"""Block test of ``lstm_pe_array`` (the MAC lanes) against the exact integer sum.

Each lane's closed sum must equal ``(b << BiasShift) + sum w*v`` (the model's ``gate_acc``
arithmetic, ``refmodel.lstm.pe_array``) for random passes of random lengths, with random idle
cycles inside passes, passes back to back (the header's throughput: one MAC per lane per cycle,
back to back across passes) or with idle cycles between them, extreme operands (-128 x -32768
products at full length) and the tag carried along; each closed sum must be on ``res_o`` with
``res_valid_o`` exactly one cycle after its last MAC. A soft reset (``clear_i``) in the cycle of
a pass's last MAC must drop that pass's ``res_valid_o`` pulse (the header's promise; in the chip
a pulse after a soft reset would start an update of a cleared detector). The driver writes one
MAC per clock: this block test wakes per cycle on purpose (it is small); the detector test
does not. Every port
word (``w_i``, ``b_i``, ``v_i``, ``mac_tag_i``, ``res_o``, ``res_tag_o``) is encoded and
decoded by the stage table (``refmodel.lstm.stages``) for the (H, P) of the run, whose pass tag
width is ``TagW``.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.stages import dims, stage
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

PASSES = 60


@cocotb.test()
async def check_mac(dut):
    """Every closed sum of every lane bit-exact, with its tag."""
    hidden = int(os.environ["LSTM_HIDDEN"])  # the stage table's H (TagW = its pass bits)
    cfg = DetectorConfig(hidden=hidden)
    lanes = int(dut.Lanes.value)
    st = stage("lstm_pe_array", hidden, lanes, cfg)
    w_f, b_f, v_f, tag_f = (st.field(p) for p in ("w_i", "b_i", "v_i", "mac_tag_i"))
    res_link = st.outputs["res"]  # (res_tag, acc[lane 0..P-1])
    tag_w = tag_f.bits
    assert tag_w == int(dut.TagW.value), "TagW is not the stage table's pass tag width"
    await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    for sig in (dut.mac_valid_i, dut.mac_first_i, dut.mac_last_i, dut.clear_i):
        sig.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    await FallingEdge(dut.clk_i)
    checked = cleared_passes = 0
    for p in range(PASSES):
        extreme = p % 5 == 4
        cleared = p % 6 == 5  # a soft reset in the cycle of this pass's last MAC
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
        dut.b_i.value = b_f.encode(b)
        dut.mac_tag_i.value = tag_f.encode([tag])
        for k in range(length):
            while rng.random() < 0.15:  # idle cycle inside a pass
                dut.mac_valid_i.value = 0
                await FallingEdge(dut.clk_i)
            dut.mac_valid_i.value = 1
            dut.mac_first_i.value = int(k == 0)
            dut.mac_last_i.value = int(k == length - 1)
            dut.w_i.value = w_f.encode(w[k])
            dut.v_i.value = v_f.encode(v[k:k + 1])
            dut.clear_i.value = int(cleared and k == length - 1)
            await FallingEdge(dut.clk_i)
        dut.clear_i.value = 0
        if cleared:
            assert read_int(dut.res_valid_o, "res_valid_o") == 0, (
                f"lstm_pe_array pass {p}: res_valid_o pulsed although clear_i was high in the "
                f"cycle of the last MAC, at {get_sim_time('ns')} ns; rerun: {rerun_hint()}")
            cleared_passes += 1
            continue
        # Half a cycle after the edge that took the last MAC: registered outputs, settled.
        assert read_int(dut.res_valid_o, "res_valid_o") == 1, (
            f"lstm_pe_array pass {p}: no res_valid_o one cycle after the last MAC at "
            f"{get_sim_time('ns')} ns; rerun: {rerun_hint()}")
        got = res_link.decode({"res_tag": read_int(dut.res_tag_o, "res_tag_o"),
                               "res": read_int(dut.res_o, "res_o")})
        for lab, g, e in zip(res_link.labels, got, (tag, *want.tolist()), strict=True):
            assert g == e, (
                f"lstm_pe_array P={lanes} TagW={tag_w} pass {p} (length {length}): {lab} "
                f"expected {e}, got {g} at {get_sim_time('ns')} ns; seed "
                f"{cocotb.RANDOM_SEED}; rerun: {rerun_hint()}")
        checked += lanes
        if rng.random() < 0.5:  # idle cycles before the next pass; else it starts at once
            dut.mac_valid_i.value = 0
            dut.mac_last_i.value = 0
            # Between passes the tag input means nothing; the closed sum and its tag must hold
            # until the next closed sum (the header's promise), whatever the inputs do.
            dut.mac_tag_i.value = tag_f.encode([int(rng.integers(0, 1 << tag_w))])
            for _ in range(int(rng.integers(1, 4))):
                await FallingEdge(dut.clk_i)
            held = res_link.decode({"res_tag": read_int(dut.res_tag_o, "res_tag_o"),
                                    "res": read_int(dut.res_o, "res_o")})
            assert list(held) == list(got), (
                f"lstm_pe_array pass {p}: res_o/res_tag_o changed before the next closed sum "
                f"at {get_sim_time('ns')} ns; rerun: {rerun_hint()}")
    assert cleared_passes > 0
    dut._log.info("%d lane sums checked, %d passes cleared", checked, cleared_passes)
    record("lstm_pe_array", vectors=checked)


@pytest.mark.sim
@pytest.mark.parametrize("hidden,lanes", [(32, 4), (32, 8), (16, 16)])
def test_lstm_pe_array(hidden: int, lanes: int) -> None:
    """As instanced in lstm_detector: TagW is the pass tag width of (H, P) (5, 4, 2 bits)."""
    run_block(toplevel="lstm_pe_array", test_module="tb.lstm.test_lstm_pe_array",
              parameters={"Lanes": lanes, "TagW": dims(hidden, lanes).pass_bits},
              extra_env={"LSTM_HIDDEN": str(hidden)})
