"""Block test of ``lstm_head`` (dot product, sigmoid, threshold) against ``refmodel.lstm.head``.

Random final hidden states and head weights (also extreme ones, so that the logit saturates at
both ends), random thresholds including 0 and 65536; every detection's window index, score
and flag compared exactly.  The port words (``h_i``, ``wout_i``, ``bout_i``, ``threshold_i``,
``window_i`` and the detection) go through the stage table (``refmodel.lstm.stages``).

Flow control under the block-test traffic profiles (``tb/kit/blocktb.TRAFFIC``): starts come
after random gaps, and are offered as soon as the last one's h may change (``busy_o`` low),
also while the previous detection still waits for ``det_ready_i`` (``ready_o`` low: the start
must wait, held); the detection output is stalled while valid.  In the sequencer the head is
started only when ready and its detection is rarely stalled; its interface says more, and is
tested.  The ``full`` profile (no gaps, no stalls) checks the documented throughput, the
stage table's ``lstm_head`` rate (cycles between taken starts).
"""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, SimTimeoutError, Timer, with_timeout
from cocotb.utils import get_sim_time

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.head import flag_compare, head_score
from refmodel.lstm.stages import stage
from refmodel.lstm.weights import DetectorWeights
from tb.kit import linkcov
from tb.kit.blocktb import PROFILES, TRAFFIC, check_rate
from tb.kit.runner import run_block
from tb.kit.stream import StreamSink, read_int
from tb.kit.testkit import make_rng, record, rerun_hint, reset, start_clock

CASES = 40


@cocotb.test()
@cocotb.parametrize(profile=PROFILES)
async def check_head(dut, profile):
    """Every detection bit-exact and in order."""
    hidden = int(dut.Hidden.value)
    cfg = DetectorConfig(hidden=hidden)
    st = stage("lstm_head", hidden, config=cfg)
    start, state, weights = st.inputs["start"], st.inputs["state"], st.inputs["weights"]
    det = st.outputs["det"]  # (det_window, det_score, det_flag)
    period = await start_clock(dut.clk_i)
    rng = make_rng(dut._log)
    traffic = TRAFFIC[profile]
    gaps = traffic.gaps(rng, CASES)
    dut.start_i.value = 0
    dut.clear_i.value = 0
    await reset(dut.clk_i, dut.rst_ni)
    sink = StreamSink(dut.clk_i, dut.det_valid_o, dut.det_ready_i,
                      {p: getattr(dut, f"{p}_o") for p in det.ports}, period_ns=period,
                      stalls=traffic.stalls(rng, CASES), stall_on_valid=True, name="det")
    cocotb.start_soon(sink.run())
    expected = []
    starts: list[int] = []  # transfer times of the starts
    held: list[int] = []    # per start: cycles it was offered while ready_o was low
    await RisingEdge(dut.clk_i)
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
        gap = gaps.draw()
        if gap:  # start_i low for `gap` edges, then offered in the middle of a cycle
            await Timer(gap * period + period // 2, unit="ns")
        words = {**state.encode(h), **weights.encode((*wout.tolist(), bout)),
                 **start.encode((1000 + k, thr))}
        for port, word in words.items():
            getattr(dut, f"{port}_i").value = word
        dut.start_i.value = 1
        await ReadOnly()
        offered = get_sim_time("ns")
        # held until the head is ready: within the busy time, the score cycle and the
        # longest stall of the detection before it
        wait = (hidden + 4 + traffic.stall_len[1]) * period
        while not read_int(dut.ready_o, "ready_o"):
            try:
                await with_timeout(RisingEdge(dut.ready_o), wait, "ns")
            except SimTimeoutError:
                raise AssertionError(
                    f"lstm_head H={hidden}: start {k} offered at {offered} ns, ready_o still "
                    f"low {wait // period} cycles later; seed {cocotb.RANDOM_SEED}; rerun: "
                    f"{rerun_hint()}") from None
            await ReadOnly()
        await RisingEdge(dut.clk_i)  # the edge that takes the start
        now = get_sim_time("ns")
        starts.append(now)
        held.append(max(0, -(-(now - offered) // period) - 1))
        dut.start_i.value = 0
        # h_i and w_out may change once the head has read them (busy_o falls)
        await with_timeout(FallingEdge(dut.busy_o), 10 * (hidden + 4) * period, "ns")
    stall_budget = sum(traffic.stall_len) * CASES
    await with_timeout(sink.wait_count(CASES), (200 * CASES + stall_budget) * period, "ns")
    for k, (want, item) in enumerate(zip(expected, sink.items, strict=True)):
        got = det.decode(item)
        assert want == got, (f"lstm_head H={hidden} detection {k}: expected "
                             f"{dict(zip(det.labels, want, strict=True))}, got "
                             f"{dict(zip(det.labels, got, strict=True))} at "
                             f"{get_sim_time('ns')} ns; seed {cocotb.RANDOM_SEED}; rerun: "
                             f"{rerun_hint()}")
    if profile == "full":
        check_rate(f"lstm_head H={hidden}", starts, st.rates["start"], period, log=dut._log)
    linkcov.sample_link("lstm_head", "start", gaps=gaps.history, held=held)
    linkcov.sample_link("lstm_head", "det", held=sink.stalled)
    linkcov.export()
    dut._log.info("%d detections checked (%d starts held by the head, %d detections stalled)",
                  CASES, sum(h > 0 for h in held), sum(s > 0 for s in sink.stalled))
    record("lstm_head", vectors=CASES)


@pytest.mark.sim
@pytest.mark.parametrize("hidden", [16, 32, 64])
def test_lstm_head(hidden: int) -> None:
    run_block(toplevel="lstm_head", test_module="tb.lstm.test_lstm_head",
              parameters={"Hidden": hidden})
