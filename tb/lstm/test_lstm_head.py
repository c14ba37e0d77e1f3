"""Block test of ``lstm_head`` (dot product, sigmoid, threshold) against ``refmodel.lstm.head``.

Random final hidden states and head weights (also extreme ones, so that the logit saturates at
both ends), random thresholds including 0 and 65536, output backpressure; every detection's
window index, score and flag compared exactly.  The port words (``h_i``, ``wout_i``, ``bout_i``,
``threshold_i``, ``window_i`` and the detection) go through the stage table
(``refmodel.lstm.stages``).
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, with_timeout
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.head import flag_compare, head_score
from refmodel.lstm.stages import stage
from refmodel.lstm.weights import DetectorWeights
from tb.kit.runner import run_block
from tb.kit.stream import GapModel, StreamSink
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

CASES = 40


@cocotb.test()
async def check_head(dut):
    """Every detection bit-exact and in order."""
    hidden = int(dut.Hidden.value)
    cfg = DetectorConfig(hidden=hidden)
    st = stage("lstm_head", hidden, config=cfg)
    start, state, weights = st.inputs["start"], st.inputs["state"], st.inputs["weights"]
    det = st.outputs["det"]  # (det_window, det_score, det_flag)
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    dut.start_i.value = 0
    dut.clear_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    sink = StreamSink(dut.clk_i, dut.det_valid_o, dut.det_ready_i,
                      {p: getattr(dut, f"{p}_o") for p in det.ports},
                      period_ns=period, stalls=GapModel(rng, 0.5, 60), name="det")
    cocotb.start_soon(sink.run())
    expected = []
    for k in range(CASES):
        w = DetectorWeights.random(int(rng.integers(1 << 30)), hidden=hidden)
        h = rng.integers(-32768, 32768, hidden)
        wout, bout = w.w_out_q.astype(np.int64), int(w.b_out_q)
        if k % 4 == 1:  # logit saturates high / low
            h = np.full(hidden, 32767 if k % 8 == 1 else -32768)
            wout, bout = np.full(hidden, 127), 32767 if k % 8 == 1 else -32768
            wout = wout if k % 8 == 1 else -wout - 1
        w = DetectorWeights(config=cfg, w_ih_q=w.w_ih_q, w_hh_q=w.w_hh_q, b_q=w.b_q,
                            w_out_q=wout.astype(np.int8), b_out_q=np.int16(bout))
        thr = int(rng.choice([0, 1 << 16, int(rng.integers(0, (1 << 16) + 1))]))
        score = int(head_score(h, w))
        if k % 4 == 2:
            thr = score + int(rng.integers(-1, 2))  # at the comparator's edge
        flag = bool(flag_compare(score, thr, cfg))
        expected.append((1000 + k, score, int(flag)))
        while True:  # start when the head is ready (event driven: wake on ready rising)
            await ReadOnly()
            if int(dut.ready_o.value):
                break
            await RisingEdge(dut.ready_o)
        await RisingEdge(dut.clk_i)
        words = {**state.encode(h), **weights.encode((*wout.tolist(), bout)),
                 **start.encode((1000 + k, thr))}
        for port, word in words.items():
            getattr(dut, f"{port}_i").value = word
        dut.start_i.value = 1
        await RisingEdge(dut.clk_i)
        dut.start_i.value = 0
        await with_timeout(FallingEdge(dut.busy_o), 10 * (hidden + 4) * period, "ns")
    await with_timeout(sink.wait_count(CASES), 200 * CASES * period, "ns")
    for k, (want, item) in enumerate(zip(expected, sink.items, strict=True)):
        got = det.decode(item)
        assert want == got, (f"lstm_head H={hidden} detection {k}: expected "
                             f"{dict(zip(det.labels, want, strict=True))}, got "
                             f"{dict(zip(det.labels, got, strict=True))} at "
                             f"{get_sim_time('ns')} ns; seed {cocotb.RANDOM_SEED}; rerun: "
                             f"{rerun_hint()}")
    dut._log.info("%d detections checked", CASES)
    record("lstm_head", vectors=CASES)


@pytest.mark.sim
@pytest.mark.parametrize("hidden", [16, 32, 64])
def test_lstm_head(hidden: int) -> None:
    run_block(toplevel="lstm_head", test_module="tb.lstm.test_lstm_head",
              parameters={"Hidden": hidden})
