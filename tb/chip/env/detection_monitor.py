"""The detection monitor: takes every detection off the chip's output stream (it drives
``det_ready_i``), checks the interrupt line with it, and publishes it.  The stalling variant
(a factory override) holds ready low for stretches of every length class."""

from __future__ import annotations

import numpy as np
from cocotb.triggers import RisingEdge, Timer
from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_analysis_port, uvm_component

from refmodel.lstm.detector import Detection
from tb.chip.env.items import Observed
from tb.kit.stream import StreamSink
from tb.kit.testkit import rerun_hint


class StallCycler:
    """Stall lengths for sparse outputs: each draw takes the next range in turn (from a seeded
    start) and a seeded length inside it, so a handful of detections meets every
    backpressure class of the coverage model (none, short, medium, long, very long)."""

    RANGES = ((0, 0), (2, 12), (20, 200), (300, 3000), (4200, 6000))

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.k = int(rng.integers(len(self.RANGES)))
        self.history: list[int] = []

    def draw(self) -> int:
        lo, hi = self.RANGES[self.k % len(self.RANGES)]
        self.k += 1
        stall = int(self.rng.integers(lo, hi + 1))
        self.history.append(stall)
        return stall


class DetectionMonitor(uvm_component):
    """Accepts detections (``det_ready_i``) and publishes each as an :class:`Observed`
    :class:`~refmodel.lstm.detector.Detection` (its wait for ready included); checks
    ``det_irq_o`` with each; X/Z fails."""

    STALLS = False  # True: backpressure from StallCycler

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        cfg = ConfigDB()
        dut = cfg.get(None, "", "DUT")
        sink = StreamSink(dut.clk_i, dut.det_valid_o, dut.det_ready_i,
                          {"window": dut.det_window_o, "score": dut.det_score_o,
                           "flag": dut.det_flag_o, "irq": dut.det_irq_o,
                           "wait": dut.det_wait_o},
                          period_ns=cfg.get(None, "", "PERIOD_NS"),
                          stalls=StallCycler(cfg.get(None, "", "RNG")) if self.STALLS else None,
                          stall_on_valid=True, name="det")
        self.sink = sink

        def publish(it: dict[str, int]) -> None:
            assert it["irq"] == it["flag"], (
                f"det_irq_o={it['irq']} with a detection whose flag is {it['flag']} "
                f"(window {it['window']}); rerun: {rerun_hint()}")
            det = Detection(index=it["window"], score_int=it["score"], flag=bool(it["flag"]))
            self.ap.write(Observed(det, get_sim_time("ns"), it["wait"]))

        sink.callbacks.append(publish)
        await sink.run()


class StallingDetectionMonitor(DetectionMonitor):
    """Output backpressure: once a detection is offered, holds ``det_ready_i`` low for a
    stretch from :class:`StallCycler` (up to 6000 cycles)."""

    STALLS = True


class HoldingDetectionMonitor(DetectionMonitor):
    """Backpressure that stalls the whole chip: holds ``det_ready_i`` low from the first
    detection on until the stall has reached the audio input (the harness's
    ``chain_stalled_o``: detection, feature and audio links stalled in one cycle) and every
    link between them has been stalled while valid (``stalled_o`` all ones: the front end's
    inner links stall only once the packed vector waits and the next frame's bands arrive,
    up to a frame time later), and a seeded 100..2000 cycles more; then takes detections as
    the plain monitor does."""

    POLL_CYCLES = 256  # how often the hold looks at stalled_o (no wake-up per cycle)
    MAX_POLLS = 400  # ~100 k cycles: far beyond a frame time; then the test's check fails

    async def run_phase(self):
        cfg = ConfigDB()
        dut = cfg.get(None, "", "DUT")
        period = cfg.get(None, "", "PERIOD_NS")
        dut.det_ready_i.value = 0
        if not dut.det_valid_o.value.is_resolvable or int(dut.det_valid_o.value) != 1:
            await RisingEdge(dut.det_valid_o)
        if int(dut.chain_stalled_o.value) != 1:
            await RisingEdge(dut.chain_stalled_o)
        every = (1 << len(dut.stalled_o)) - 1
        for _ in range(self.MAX_POLLS):
            if dut.stalled_o.value.is_resolvable and int(dut.stalled_o.value) == every:
                break
            await Timer(self.POLL_CYCLES * period, unit="ns")
        extra = int(cfg.get(None, "", "RNG").integers(100, 2001))
        await Timer(extra * period, unit="ns")
        await super().run_phase()
