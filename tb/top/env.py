"""The pyuvm environment of ``melstm_top``: agents, monitors, predictor, scoreboard.

::

    AudioAgent (sequencer, AudioDriver) --samples--> Predictor --expected--> Scoreboard
    RegAgent   (sequencer, RegDriver)   --accesses-> Predictor                  ^
    FeatureMonitor (feature tap)        --actual features-----------------------+
    DetectionMonitor (det stream, backpressure) --actual detections------------+

The predictor runs the bit-accurate refmodel on exactly the samples the chip accepted, with
the weights and threshold the register traffic put in it, and starts a new stream at every
reset (hard or soft): expectations not yet met at a reset are dropped and counted.
The scoreboard compares every feature vector and every detection exactly and in order, stops
at the first mismatch with a report that says where to look, and fails at the end on
anything missing or extra.

Test variants swap components through the pyuvm factory (e.g. ``PacedAudioDriver`` for
real-time pacing, ``StallingDetectionMonitor`` for output backpressure).
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time
from pyuvm import (
    ConfigDB,
    uvm_agent,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequencer,
    uvm_subscriber,
)

from refmodel import detector, detector_rtl, frontend, regmap
from refmodel.config import DEFAULT as FE_CFG
from tb.common.stream import GapModel, StreamDriver, StreamMonitor, StreamSink, read_int
from tb.common.testkit import rerun_hint
from tb.top.sequences import AudioClip, RegItem


@dataclass(frozen=True)
class Feature:
    frame: int
    codes: np.ndarray  # uint8 (32,)
    time_ns: float = 0.0


@dataclass(frozen=True)
class Det:
    window: int
    score: int  # UQ0.16
    flag: bool
    time_ns: float = 0.0


@dataclass(frozen=True)
class ResetEvent:
    kind: str  # "hard" or "soft"
    time_ns: float


def unpack_codes(value: int) -> np.ndarray:
    """The 256-bit feature bus as uint8 (32,), band b at bits [8b+7:8b]."""
    return np.frombuffer(int(value).to_bytes(32, "little"), dtype=np.uint8).copy()


def _cfg(name: str):
    return ConfigDB().get(None, "", name)


# ---------------------------------------------------------------------------------- audio
class AudioDriver(uvm_driver):
    """Streams clips into ``audio_*`` with seeded random gaps; publishes accepted samples."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self):
        dut = _cfg("DUT")
        self.stream = self.make_stream(dut, _cfg("PERIOD_NS"), _cfg("RNG"))
        self.stream.on_sent.append(lambda item: self.ap.write(item["d"]))

    def make_stream(self, dut, period_ns: int, rng) -> StreamDriver:
        gap_p = ConfigDB().get(self, "", "GAP_PROB") if self._has("GAP_PROB") else 0.0
        return StreamDriver(dut.clk_i, dut.audio_valid_i, dut.audio_ready_o,
                            {"d": dut.audio_sample_i}, period_ns=period_ns,
                            gaps=GapModel(rng, gap_p, 12), name="audio")

    def _has(self, key: str) -> bool:
        try:
            ConfigDB().get(self, "", key)
            return True
        except Exception:  # pyuvm raises UVMConfigItemNotFound
            return False

    async def run_phase(self):
        while True:
            clip: AudioClip = await self.seq_item_port.get_next_item()
            await self.stream.send({"d": int(s) & 0xFFFF} for s in clip.samples)
            self.seq_item_port.item_done()


class PacedAudioDriver(AudioDriver):
    """Real-time pacing: one sample every ``PACE`` cycles; overruns are counted."""

    def make_stream(self, dut, period_ns: int, rng) -> StreamDriver:
        pace = ConfigDB().get(None, "", "PACE")
        return StreamDriver(dut.clk_i, dut.audio_valid_i, dut.audio_ready_o,
                            {"d": dut.audio_sample_i}, period_ns=period_ns, pace=pace,
                            name="audio")


class AudioAgent(uvm_agent):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = AudioDriver.create("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)


# ---------------------------------------------------------------------------- registers
class RegDriver(uvm_driver):
    """One access at a time on ``reg_*``; fills in the response; publishes completed items."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        dut = _cfg("DUT")
        dut.reg_req_i.value = 0
        while True:
            item: RegItem = await self.seq_item_port.get_next_item()
            await RisingEdge(dut.clk_i)
            dut.reg_req_i.value = 1
            dut.reg_we_i.value = int(item.write)
            dut.reg_addr_i.value = item.addr
            dut.reg_wdata_i.value = item.data if item.write else 0
            await RisingEdge(dut.clk_i)  # the request is taken at this edge
            dut.reg_req_i.value = 0
            await ReadOnly()
            assert read_int(dut.reg_rvalid_o, "reg_rvalid_o") == 1, \
                f"no register response to {item}; rerun: {rerun_hint()}"
            item.rdata = read_int(dut.reg_rdata_o, "reg_rdata_o")
            item.err = bool(read_int(dut.reg_err_o, "reg_err_o"))
            self.ap.write(item)
            self.seq_item_port.item_done()


class RegAgent(uvm_agent):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = RegDriver("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)


# ------------------------------------------------------------------------------ monitors
class FeatureMonitor(uvm_component):
    """Every feature vector handed to the detector (the tap strobe); X/Z fails."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        dut = _cfg("DUT")
        mon = StreamMonitor(dut.clk_i, dut.tap_valid_o, dut.tap_valid_o,
                            {"frame": dut.tap_frame_o, "feat": dut.tap_feat_o}, name="tap")
        mon.callbacks.append(lambda it: self.ap.write(
            Feature(it["frame"], unpack_codes(it["feat"]), get_sim_time("ns"))))
        await mon.run()


class DetectionMonitor(uvm_component):
    """Accepts detections (``det_ready_i``), checks ``det_irq_o`` with each; X/Z fails."""

    STALL_PROB = 0.0

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        dut = _cfg("DUT")
        sink = StreamSink(dut.clk_i, dut.det_valid_o, dut.det_ready_i,
                          {"window": dut.det_window_o, "score": dut.det_score_o,
                           "flag": dut.det_flag_o, "irq": dut.det_irq_o},
                          period_ns=_cfg("PERIOD_NS"),
                          stalls=GapModel(_cfg("RNG"), self.STALL_PROB, 4000) if self.STALL_PROB
                          else None, name="det")
        self.sink = sink

        def publish(it):
            assert it["irq"] == it["flag"], (
                f"det_irq_o={it['irq']} with a detection whose flag is {it['flag']} "
                f"(window {it['window']}); rerun: {rerun_hint()}")
            self.ap.write(Det(it["window"], it["score"], bool(it["flag"]), get_sim_time("ns")))

        sink.callbacks.append(publish)
        await sink.run()


class StallingDetectionMonitor(DetectionMonitor):
    """Output backpressure: holds ``det_ready_i`` low for long random stretches."""

    STALL_PROB = 0.7


# ----------------------------------------------------------------------------- predictor
class Predictor(uvm_component):
    """Runs the refmodel on what entered the chip; publishes expected features/detections."""

    def build_phase(self):
        self.feat_ap = uvm_analysis_port("feat_ap", self)
        self.det_ap = uvm_analysis_port("det_ap", self)
        self.reset_ap = uvm_analysis_port("reset_ap", self)
        self.hidden, self.lanes, self.window = _cfg("HIDDEN"), _cfg("LANES"), _cfg("WINDOW")
        self.load: dict[int, int] = {}  # weight load port image: address -> 16-bit word
        self.load_size = detector_rtl.load_map(detector.DetectorConfig(hidden=self.hidden)).size
        self.samples_total = 0  # every sample accepted since the start, across resets
        self._new_stream()
        self._power_on_registers()

    def _new_stream(self) -> None:
        self.buf: list[int] = []  # samples of this stream from absolute index buf_start
        self.buf_start = 0
        self.n = 0  # samples of this stream
        self.frames = 0  # expected feature vectors of this stream
        self.window_codes: list[np.ndarray] = []
        self.windows = 0

    def _power_on_registers(self) -> None:
        self.threshold = regmap.BY_NAME["THRESHOLD"].reset
        self.waddr = 0

    # -- inputs (called through the analysis exports wired in the env)
    def sample(self, s: int) -> None:
        """One sample the chip accepted (16-bit pattern)."""
        self.buf.append(s - 65536 if s >= 32768 else s)
        self.n += 1
        self.samples_total += 1
        start = self.frames * FE_CFG.hop
        if self.n == start + FE_CFG.frame_len:  # this sample completes the next frame
            lo = start - self.buf_start
            frame = np.array(self.buf[lo:lo + FE_CFG.frame_len], np.int16)
            codes = frontend.features_from_frames(frame[None, :])[0]
            self.feat_ap.write(Feature(self.frames, codes))
            self.frames += 1
            drop = self.frames * FE_CFG.hop - self.buf_start  # no later frame needs these
            if drop >= 8 * FE_CFG.frame_len:
                del self.buf[:drop]
                self.buf_start += drop
            self._detector_input(codes)

    def _detector_input(self, codes: np.ndarray) -> None:
        self.window_codes.append(codes)
        if len(self.window_codes) == self.window:
            run = detector.run_fixed(np.stack(self.window_codes), self.current_weights(),
                                     self.window)
            score = int(run.score_int[0])
            self.det_ap.write(Det(self.windows, score, score >= self.threshold))
            self.windows += 1
            self.window_codes = []

    def current_weights(self) -> detector.DetectorWeights:
        return detector_rtl.weights_from_load_image(self.load, hidden=self.hidden)

    def reg_access(self, item: RegItem) -> None:
        """A completed register access: accepted writes change what the chip computes."""
        reg = next((r for r in regmap.REGISTERS if r.offset == item.addr), None)
        if not item.write or reg is None:
            return
        if reg.name == "WLOAD_DATA":
            # refused past the load map (WLOAD_RANGE): the address still advances;
            # refused while a window runs (WLOAD_BUSY): nothing changes
            in_map = self.waddr < self.load_size
            if not item.err:
                self.load[self.waddr] = item.data & 0xFFFF
            if not item.err or not in_map:
                self.waddr = (self.waddr + 1) & 0xFFFF
            return
        if item.err:
            return
        if reg.name == "WLOAD_ADDR":
            self.waddr = item.data & 0xFFFF
        elif reg.name == "THRESHOLD":
            self.threshold = item.data & reg.mask
        elif reg.name == "CTRL" and item.data >> regmap.field("CTRL", "SOFT_RESET").lsb & 1:
            self.restart("soft")

    def restart(self, kind: str) -> None:
        """A reset: the chip forgets every sample and partial window; so does the model."""
        self.reset_ap.write(ResetEvent(kind, get_sim_time("ns")))
        self._new_stream()
        if kind == "hard":
            self._power_on_registers()  # weight memories have no reset: the image stays


class _Export(uvm_subscriber):
    """Analysis export that forwards to a callable (pyuvm subscribers have one write())."""

    def __init__(self, name, parent, fn):
        super().__init__(name, parent)
        self.fn = fn

    def write(self, tt):
        self.fn(tt)


# ---------------------------------------------------------------------------- scoreboard
class Mismatch(AssertionError):
    pass


class Scoreboard(uvm_component):
    """In-order exact comparison of features and detections; the failure report says where."""

    def build_phase(self):
        self.exp_feat: deque[Feature] = deque()
        self.exp_det: deque[Det] = deque()
        self.checked_features = 0
        self.checked_detections = 0
        self.dropped = 0  # expectations dropped by resets

    def expect_feature(self, f: Feature) -> None:
        self.exp_feat.append(f)

    def expect_detection(self, d: Det) -> None:
        self.exp_det.append(d)

    def on_reset(self, ev: ResetEvent) -> None:
        self.dropped += len(self.exp_feat) + len(self.exp_det)
        self.exp_feat.clear()
        self.exp_det.clear()

    def _fail(self, what: str) -> None:
        seed = cocotb.RANDOM_SEED
        msg = (f"SCOREBOARD MISMATCH in {os.environ.get('PYTEST_CURRENT_TEST', 'top test')} "
               f"(seed {seed}) at {get_sim_time('ns'):.0f} ns: {what}\n"
               f"  rerun with waveforms: {rerun_hint()}")
        self.logger.error(msg)
        raise Mismatch(msg)

    def actual_feature(self, f: Feature) -> None:
        if not self.exp_feat:
            self._fail(f"unexpected feature vector, frame {f.frame} (nothing expected)")
        e = self.exp_feat.popleft()
        if f.frame != e.frame:
            self._fail(f"feature frame index: expected {e.frame}, actual {f.frame}")
        if not np.array_equal(f.codes, e.codes):
            bands = np.flatnonzero(f.codes != e.codes)
            b = int(bands[0])
            self._fail(f"frame {f.frame}, band {b} ({len(bands)} bands differ): expected code "
                       f"{int(e.codes[b])}, actual {int(f.codes[b])}; expected "
                       f"{e.codes.tolist()}, actual {f.codes.tolist()}")
        self.checked_features += 1

    def actual_detection(self, d: Det) -> None:
        if not self.exp_det:
            self._fail(f"unexpected detection, window {d.window} (nothing expected)")
        e = self.exp_det.popleft()
        if (d.window, d.score, d.flag) != (e.window, e.score, e.flag):
            self._fail(f"window {d.window}: expected (window {e.window}, score {e.score}, "
                       f"flag {int(e.flag)}), actual (window {d.window}, score {d.score}, "
                       f"flag {int(d.flag)})")
        self.checked_detections += 1

    def check_phase(self):
        missing = [f"frame {f.frame}" for f in list(self.exp_feat)[:5]] + \
                  [f"window {d.window}" for d in list(self.exp_det)[:5]]
        if missing:
            self._fail(f"{len(self.exp_feat)} feature vectors and {len(self.exp_det)} "
                       f"detections expected but never seen (first: {', '.join(missing)})")


# ----------------------------------------------------------------------------------- env
class TopEnv(uvm_env):
    def build_phase(self):
        self.audio = AudioAgent("audio", self)
        self.regs = RegAgent("regs", self)
        self.feat_mon = FeatureMonitor("feat_mon", self)
        self.det_mon = DetectionMonitor.create("det_mon", self)
        self.predictor = Predictor("predictor", self)
        self.scoreboard = Scoreboard("scoreboard", self)
        p, sb = self.predictor, self.scoreboard
        self._exports = [
            _Export("x_sample", self, lambda s: p.sample(s)),
            _Export("x_reg", self, lambda it: p.reg_access(it)),
            _Export("x_exp_feat", self, lambda f: sb.expect_feature(f)),
            _Export("x_exp_det", self, lambda d: sb.expect_detection(d)),
            _Export("x_reset", self, lambda ev: sb.on_reset(ev)),
            _Export("x_feat", self, lambda f: sb.actual_feature(f)),
            _Export("x_det", self, lambda d: sb.actual_detection(d)),
        ]

    def connect_phase(self):
        x = {e.get_name(): e.analysis_export for e in self._exports}
        self.audio.driver.ap.connect(x["x_sample"])
        self.regs.driver.ap.connect(x["x_reg"])
        self.predictor.feat_ap.connect(x["x_exp_feat"])
        self.predictor.det_ap.connect(x["x_exp_det"])
        self.predictor.reset_ap.connect(x["x_reset"])
        self.feat_mon.ap.connect(x["x_feat"])
        self.det_mon.ap.connect(x["x_det"])
