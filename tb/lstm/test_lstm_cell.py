"""Block test of ``lstm_cell`` (cell and hidden-state arithmetic) against ``refmodel.lstm.cell``.

Seeded random gate codes and cell states over their whole ranges plus the corners (extreme
codes, c at both saturation limits so that the cell sum clips, rounding ties of c).  Ports are
encoded and decoded by the stage table (``refmodel.lstm.stages``: i, f, o unsigned UQ0.16, g and
t signed Q0.15, c Q8.16, the tanh input Q4.11, h Q0.15).
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time

from refmodel.lstm.cell import cell_state, hidden_state, tanh_input
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.stages import stage
from tb.kit.runner import run_block
from tb.kit.stream import read_int
from tb.kit.testkit import make_rng, record, rerun_hint

RANDOM_VECTORS = 4000


def _vectors(rng: np.random.Generator, cfg: DetectorConfig) -> dict[str, np.ndarray]:
    smax, tmax = cfg.sig_max, (1 << cfg.tanh_frac) - 1
    clo, chi = -(1 << (cfg.c_bits - 1)), (1 << (cfg.c_bits - 1)) - 1
    n = RANDOM_VECTORS
    v = {
        "i": rng.integers(1, smax + 1, n), "f": rng.integers(1, smax + 1, n),
        "g": rng.integers(-tmax, tmax + 1, n), "c": rng.integers(clo, chi + 1, n),
        "o": rng.integers(1, smax + 1, n), "t": rng.integers(-tmax, tmax + 1, n),
    }
    # small cell states (the common case) and corners: extremes of every operand
    v["c"][: n // 2] = rng.integers(-(8 << cfg.c_frac), 8 << cfg.c_frac, n // 2)
    corners = [(a, b, g, c) for a in (1, smax) for b in (1, smax) for g in (-tmax, 0, tmax)
               for c in (clo, -1, 0, 1, chi)]
    k = len(corners)
    for j, name in enumerate(("i", "f", "g", "c")):
        v[name][-k:] = [cc[j] for cc in corners]
    v["o"][-k:] = smax
    v["t"][-k:] = np.resize([-tmax, tmax, 0], k)
    return {key: np.asarray(val, dtype=np.int64) for key, val in v.items()}


@cocotb.test()
async def check_cell(dut):
    """c, tanh input and h bit-exact for every vector."""
    cfg = DetectorConfig()
    st = stage("lstm_cell", config=cfg)
    rng = make_rng(dut._log)
    v = _vectors(rng, cfg)
    c_new = cell_state(v["i"], v["f"], v["g"], v["c"], cfg)
    want = {"c_o": c_new, "tanh_in_o": tanh_input(c_new, cfg),
            "h_o": hidden_state(v["o"], v["t"], cfg)}
    n = len(v["i"])
    ins = {"c_in": ("i", "f", "g", "c"), "h_in": ("o", "t")}  # interface: vector columns
    for k in range(n):
        for name, cols in ins.items():
            for port, word in st.encode(name, [v[c][k] for c in cols]).items():
                getattr(dut, port).value = word
        await Timer(1, unit="ns")
        for port, exp in want.items():
            (got,) = st.field(port).decode(read_int(getattr(dut, port), port))
            if got != int(exp[k]):
                raise AssertionError(
                    f"lstm_cell vector {k}: {port} expected {int(exp[k])}, got {got} for "
                    f"i={v['i'][k]} f={v['f'][k]} g={v['g'][k]} c_prev={v['c'][k]} "
                    f"o={v['o'][k]} t={v['t'][k]} at {get_sim_time('ns')} ns; seed "
                    f"{cocotb.RANDOM_SEED}; rerun: {rerun_hint()}")
    dut._log.info("%d cell vectors checked", n)
    record("lstm_cell", vectors=n)


@pytest.mark.sim
def test_lstm_cell() -> None:
    run_block(toplevel="lstm_cell", test_module="tb.lstm.test_lstm_cell")
