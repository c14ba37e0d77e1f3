"""Block test of ``lstm_act`` (sigmoid / tanh unit) against ``refmodel.lstm.act``.

Every one of the 65536 Q4.11 arguments in both modes on Verilator (exhaustive); on Icarus
every 3rd argument plus every argument within 300 LSBs of 0, of each knot-segment edge region
and of the saturation thresholds (|z| near 8 for tanh, near 16 for sigmoid), which is dense
enough to cover every ROM entry and both saturated ends in much less time.  The argument is
encoded and the result decoded by the stage table (``refmodel.lstm.stages``: ``act_o`` is an
unsigned UQ0.16 sigmoid code or a signed Q0.15 tanh code).
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from refmodel.lstm.act import sigmoid_unit, tanh_unit
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.stages import stage
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint, sim_name


def _arguments(cfg: DetectorConfig, exhaustive: bool) -> np.ndarray:
    lo, hi = -(1 << (cfg.z_bits - 1)), 1 << (cfg.z_bits - 1)
    if exhaustive:
        return np.arange(lo, hi, dtype=np.int64)
    pts = [np.arange(lo, hi, 3, dtype=np.int64)]
    for centre in (0, 1 << (cfg.act_frac + 3), 1 << (cfg.act_frac + 4)):  # 0, |z|=8, |z|=16
        for sign in (1, -1):
            pts.append(np.arange(sign * centre - 300, sign * centre + 301, dtype=np.int64))
    pts.append(np.array([lo, lo + 1, hi - 2, hi - 1], dtype=np.int64))
    v = np.unique(np.concatenate(pts))
    return v[(v >= lo) & (v < hi)]


@cocotb.test()
async def check_act(dut):
    """sigmoid and tanh codes bit-exact for every tested argument."""
    cfg = DetectorConfig()
    st = stage("lstm_act", config=cfg)
    z_f, tanh_f = st.field("z_i"), st.field("tanh_i")
    make_rng(dut._log)  # logs the seed; the sweep itself is deterministic
    z = _arguments(cfg, exhaustive=sim_name() == "verilator")
    z_words = [z_f.encode((x,)) for x in z.tolist()]
    n = 0
    for mode, model in (("sigmoid", sigmoid_unit), ("tanh", tanh_unit)):
        want = model(z, cfg).tolist()
        out = st.link(mode).fields[0]  # act_o as a sigmoid or a tanh code
        dut.tanh_i.value = tanh_f.encode((int(mode == "tanh"),))
        for x, word, w in zip(z.tolist(), z_words, want, strict=True):
            dut.z_i.value = word
            await Timer(1, unit="ns")
            (got,) = out.decode(read_int(dut.act_o, "act_o"))
            if got != w:
                raise AssertionError(
                    f"lstm_act {mode}: z={x} ({x / 2**cfg.act_frac:+.5f}) expected {w}, got "
                    f"{got} at {get_sim_time('ns')} ns; seed {cocotb.RANDOM_SEED}; rerun: "
                    f"{rerun_hint()}")
            n += 1
    dut._log.info("%d activation vectors checked", n)
    record("lstm_act", vectors=n)


@pytest.mark.sim
def test_lstm_act() -> None:
    run_block(toplevel="lstm_act", test_module="tb.lstm.test_lstm_act")
