"""The pyuvm environment of ``chip_top``: agents, monitors, predictor, scoreboard.

::

    AudioAgent (sequencer, AudioDriver) --blocks---> Predictor --expected--> Scoreboard
    RegAgent   (sequencer, RegDriver)   --accesses-> Predictor                  ^
    FeatureMonitor (feature tap)        --actual features-----------------------+
    DetectionMonitor (det stream, backpressure) --actual detections------------+
    CoverageCollector (tb/chip/env/coverage.py): samples the functional cover groups from the
    monitors, the drivers and the predictor's expectations and resets

The test bench's top level is the harness ``chip_tb`` (``tb/chip/chip_tb.sv``): the audio
driver hands it whole blocks of samples (one wake-up per block) and the register driver hands
it bursts of weight words; monitors and single register accesses use the chip's own ports,
passed through.
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
from collections.abc import Callable
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time
from pyuvm import (
    ConfigDB,
    uvm_agent,
    uvm_analysis_port,
    uvm_component,
    uvm_driver,
    uvm_env,
    uvm_sequencer,
)

from refmodel.chip import regs
from refmodel.lstm import detector
from refmodel.lstm import rtl as lstm_rtl
from refmodel.mel import frontend
from tb.chip.env.coverage import CoverageCollector, Forward
from tb.chip.env.sequences import AudioClip, RegBurst, RegItem
from tb.debug import report as debug_report
from tb.debug import stage_probe
from tb.kit.stream import GapModel, StreamMonitor, StreamSink, read_int
from tb.kit.testkit import pack, rerun_hint


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
    wait_cycles: int = 0  # cycles it waited for det_ready_i (actual detections only)


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
class BlockPlayer:
    """Python side of the harness's audio block player (``tb/chip/chip_tb.sv``).

    Each block of up to ``BlockLen`` samples is one write of the packed samples, their idle
    gaps (seeded, drawn per sample from ``gaps``) and the pacing, then one wake-up when the
    harness toggles ``blk_done_o`` (the block's last sample was taken).  Every sample of a
    finished block was accepted by the chip, in order; ``on_block`` callbacks receive each
    finished block (a copy).  ``overruns`` counts the harness's paced-mode overruns.
    """

    def __init__(self, dut, *, gaps: GapModel | None = None, pace: int = 0,
                 name: str = "audio"):
        self.dut, self.gaps, self.pace, self.name = dut, gaps or GapModel(None), pace, name
        self.block_len = int(dut.BlockLen.value)
        self.gap_bits = int(dut.GapW.value)
        self.sent = 0
        self.blocks = 0
        self.overruns = 0
        self.on_block: list[Callable[[np.ndarray], None]] = []

    async def send(self, samples: np.ndarray) -> None:
        """Play every sample in order; returns once the last one was accepted."""
        dut = self.dut
        x = np.asarray(samples, np.int16)
        await RisingEdge(dut.clk_i)  # callers may come from ReadOnly (a register response)
        for lo in range(0, len(x), self.block_len):
            block = x[lo:lo + self.block_len]
            if self.gaps.prob == 0.0:  # no gaps: nothing to draw
                gaps = np.zeros(len(block), np.uint8)
            else:
                gaps = np.array([self.gaps.draw() for _ in block], np.uint8)
            if gaps.size and int(gaps.max()) >> self.gap_bits:
                raise ValueError(f"{self.name}: gap {int(gaps.max())} needs more than "
                                 f"{self.gap_bits} bits (GapW)")
            # the harness's block buffers (internal variables, not ports: see chip_tb.sv)
            dut.blk_samples.value = pack(block, 16)
            dut.blk_gaps.value = pack(gaps, self.gap_bits) if gaps.any() else 0
            dut.blk_len_i.value = len(block)
            dut.pace_i.value = self.pace
            dut.blk_valid_i.value = 1
            # overruns_o cannot change at the edge that ends a block (a sample moves there),
            # so reading it right after the done toggle is safe on both simulators
            before = read_int(dut.overruns_o, f"{self.name} overruns_o")
            await dut.blk_done_o.value_change
            # the player is idle now: offer the next block, or nothing, before the next edge
            dut.blk_valid_i.value = 0
            self.overruns += read_int(dut.overruns_o, f"{self.name} overruns_o") - before
            self.sent += len(block)
            self.blocks += 1
            for cb in self.on_block:
                cb(block.copy())


class AudioDriver(uvm_driver):
    """Streams clips through the harness's block player with seeded random gaps; publishes
    each block of accepted samples (int16 array) to the predictor."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self):
        dut = _cfg("DUT")
        self.stream = self.make_stream(dut, _cfg("RNG"))
        self.stream.on_block.append(self.ap.write)

    def make_stream(self, dut, rng) -> BlockPlayer:
        gap_p = ConfigDB().get(self, "", "GAP_PROB") if self._has("GAP_PROB") else 0.0
        return BlockPlayer(dut, gaps=GapModel(rng, gap_p, 12), name="audio")

    def _has(self, key: str) -> bool:
        try:
            ConfigDB().get(self, "", key)
            return True
        except Exception:  # pyuvm raises UVMConfigItemNotFound
            return False

    async def run_phase(self):
        while True:
            clip: AudioClip = await self.seq_item_port.get_next_item()
            await self.stream.send(clip.samples)
            self.seq_item_port.item_done()


class PacedAudioDriver(AudioDriver):
    """Real-time pacing: one sample every ``PACE`` cycles; the harness counts overruns."""

    def make_stream(self, dut, rng) -> BlockPlayer:
        return BlockPlayer(dut, pace=ConfigDB().get(None, "", "PACE"), name="audio")


class AudioAgent(uvm_agent):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = AudioDriver.create("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)


# ---------------------------------------------------------------------------- registers
class RegDriver(uvm_driver):
    """One access at a time on ``reg_*``; fills in the response; publishes completed items.

    A :class:`RegBurst` goes through the harness's burst player instead (one wake-up per
    ``BurstLen`` WLOAD_DATA writes); each of its writes is published as the :class:`RegItem`
    the one-at-a-time path would have produced, response included.
    """

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def _burst(self, dut, burst: RegBurst) -> None:
        size = int(dut.BurstLen.value)
        burst.errs = []
        for lo in range(0, len(burst.words), size):
            words = np.array(burst.words[lo:lo + size], np.uint16)
            await RisingEdge(dut.clk_i)
            dut.wb_words_i.value = pack(words, 16)
            dut.wb_len_i.value = len(words)
            dut.wb_valid_i.value = 1
            await dut.wb_done_o.value_change
            dut.wb_valid_i.value = 0
            await ReadOnly()  # the last write's error bit lands at the done edge
            errs = read_int(dut.wb_errs_o, "wb_errs_o")
            for k, w in enumerate(words):
                it = RegItem("w_WLOAD_DATA", True, regs.offset("WLOAD_DATA"), int(w))
                it.rdata, it.err = 0, bool(errs >> k & 1)
                burst.errs.append(it.err)
                self.ap.write(it)

    async def run_phase(self):
        dut = _cfg("DUT")
        dut.reg_req_i.value = 0
        while True:
            item: RegItem | RegBurst = await self.seq_item_port.get_next_item()
            if isinstance(item, RegBurst):
                await self._burst(dut, item)
                self.seq_item_port.item_done()
                continue
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

    STALLS = False  # True: backpressure from StallCycler

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        dut = _cfg("DUT")
        sink = StreamSink(dut.clk_i, dut.det_valid_o, dut.det_ready_i,
                          {"window": dut.det_window_o, "score": dut.det_score_o,
                           "flag": dut.det_flag_o, "irq": dut.det_irq_o,
                           "wait": dut.det_wait_o},
                          period_ns=_cfg("PERIOD_NS"),
                          stalls=StallCycler(_cfg("RNG")) if self.STALLS else None,
                          stall_on_valid=True, name="det")
        self.sink = sink

        def publish(it):
            assert it["irq"] == it["flag"], (
                f"det_irq_o={it['irq']} with a detection whose flag is {it['flag']} "
                f"(window {it['window']}); rerun: {rerun_hint()}")
            self.ap.write(Det(it["window"], it["score"], bool(it["flag"]), get_sim_time("ns"),
                              it["wait"]))

        sink.callbacks.append(publish)
        await sink.run()


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


class StallingDetectionMonitor(DetectionMonitor):
    """Output backpressure: once a detection is offered, holds ``det_ready_i`` low for a
    stretch from :class:`StallCycler` (up to 6000 cycles)."""

    STALLS = True


# ----------------------------------------------------------------------------- predictor
class Predictor(uvm_component):
    """Runs the refmodel on what entered the chip; publishes expected features/detections."""

    def build_phase(self):
        self.feat_ap = uvm_analysis_port("feat_ap", self)
        self.det_ap = uvm_analysis_port("det_ap", self)
        self.reset_ap = uvm_analysis_port("reset_ap", self)
        self.hidden, self.lanes, self.window = _cfg("HIDDEN"), _cfg("LANES"), _cfg("WINDOW")
        self.load: dict[int, int] = {}  # weight load port image: address -> 16-bit word
        self.load_size = lstm_rtl.load_map(detector.DetectorConfig(hidden=self.hidden)).size
        self.samples_total = 0  # every sample accepted since the start, across resets
        self._new_stream()
        self._power_on_registers()

    def _new_stream(self) -> None:
        self.fe = frontend.FrontendStream()  # this stream's samples not yet in a frame
        self.frames = 0  # expected feature vectors of this stream
        self.window_codes: list[np.ndarray] = []
        self.windows = 0

    def _power_on_registers(self) -> None:
        self.threshold = regs.BY_NAME["THRESHOLD"].reset
        self.waddr = 0

    # -- inputs (called through the analysis exports wired in the env)
    def sample(self, s: int) -> None:
        """One sample the chip accepted (16-bit pattern)."""
        self.samples(np.array([s]))

    def samples(self, block: np.ndarray) -> None:
        """Samples the chip accepted, in order (int16, or 16-bit patterns); one refmodel
        call (the streaming front end) for all the feature vectors they complete."""
        x = np.asarray(block).astype(np.uint16).view(np.int16)
        self.samples_total += len(x)
        for codes in self.fe.push(x):
            self.feat_ap.write(Feature(self.frames, codes))
            self.frames += 1
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
        return lstm_rtl.weights_from_load_image(self.load, hidden=self.hidden)

    def wload_refusal(self) -> str:
        """Why the chip refuses a WLOAD_DATA write now: WLOAD_BUSY while a window is part-way
        (it wins over WLOAD_RANGE), else WLOAD_RANGE.  (Software writes weights between
        windows, after the last detection came out; the model does not know the chip's state
        in the few thousand cycles between a window's last frame and its detection.)"""
        return "WLOAD_BUSY" if self.window_codes else "WLOAD_RANGE"

    def reg_access(self, item: RegItem) -> None:
        """A completed register access: accepted writes change what the chip computes."""
        reg = next((r for r in regs.REGISTERS if r.offset == item.addr), None)
        if not item.write or reg is None:
            return
        if reg.name == "WLOAD_DATA":
            # refused past the load map (WLOAD_RANGE): the address still advances;
            # refused while a window runs (WLOAD_BUSY): nothing changes
            if not item.err:
                self.load[self.waddr] = item.data & 0xFFFF
            if not item.err or self.wload_refusal() == "WLOAD_RANGE":
                self.waddr = (self.waddr + 1) & 0xFFFF
            return
        if item.err:
            return
        if reg.name == "WLOAD_ADDR":
            self.waddr = item.data & 0xFFFF
        elif reg.name == "THRESHOLD":
            self.threshold = item.data & reg.mask
        elif reg.name == "CTRL" and item.data >> regs.field("CTRL", "SOFT_RESET").lsb & 1:
            self.restart("soft")

    def restart(self, kind: str) -> None:
        """A reset: the chip forgets every sample and partial window; so does the model."""
        self.reset_ap.write(ResetEvent(kind, get_sim_time("ns")))
        self._new_stream()
        if kind == "hard":
            self._power_on_registers()  # weight memories have no reset: the image stays


# ---------------------------------------------------------------------------- scoreboard
class Mismatch(AssertionError):
    pass


class Scoreboard(uvm_component):
    """In-order exact comparison of features and detections; the failure report says where.

    The predictor learns the accepted samples a block at a time (when the harness reports the
    block done), so the chip may hand out a feature vector or detection up to one audio block
    before its expectation exists: such an actual waits (in order) for its expectation.  One
    still waiting at a reset or at the end of the test is a failure ("nothing expected").

    Every compared pair goes into a bounded history; a failure also writes pictures (and with
    ``WAVES=1`` a GTKWave view) into the run folder and names the stage where the values
    first diverge, from probes on the internal streams (``tb/debug/report.py``,
    ``tb/debug/stage_probe.py``).
    """

    def build_phase(self):
        self.exp_feat: deque[Feature] = deque()
        self.exp_det: deque[Det] = deque()
        self.act_feat: deque[Feature] = deque()  # seen before their expectation
        self.act_det: deque[Det] = deque()
        self.checked_features = 0
        self.checked_detections = 0
        self.dropped = 0  # expectations dropped by resets
        self.history = debug_report.History()
        self.probes: stage_probe.ProbeSet | None = None
        self.pending: str | None = None  # WAVES=1: the first mismatch, raised a little later
        debug_report.clear_old(debug_report.run_dir())

    async def run_phase(self):
        # WAVES=1 reruns watch the internal streams, so that a report can name the stage
        if stage_probe.probes_requested():
            self.probes = stage_probe.start_probes(_cfg("DUT"), hidden=_cfg("HIDDEN"),
                                                   window=_cfg("WINDOW"), log=self.logger)
            if self.probes is not None:
                await self.probes.run()

    def expect_feature(self, f: Feature) -> None:
        self.exp_feat.append(f)
        self._compare()

    def expect_detection(self, d: Det) -> None:
        self.exp_det.append(d)
        self._compare()

    def actual_feature(self, f: Feature) -> None:
        self.act_feat.append(f)
        self._compare()

    def actual_detection(self, d: Det) -> None:
        self.act_det.append(d)
        self._compare()

    def on_reset(self, ev: ResetEvent) -> None:
        self._unexpected()
        self.history.new_stream()
        self.dropped += len(self.exp_feat) + len(self.exp_det)
        self.exp_feat.clear()
        self.exp_det.clear()

    def _fail(self, what: str, *, at_ns: float | None = None, final: bool = False,
              **where) -> None:
        """Report and stop; ``where``: ``frame``/``expected_codes`` or ``window``/
        ``expected_det``/``actual_det`` for the debug report.  In a ``WAVES=1`` run the
        simulation goes on for a short tail before the test fails (with the same message), so
        that the waveform also shows what follows the mismatch; ``final``: no time is left."""
        if self.pending is not None:  # only the first mismatch of a WAVES=1 run counts
            return
        seed = cocotb.RANDOM_SEED
        msg = (f"SCOREBOARD MISMATCH in {os.environ.get('PYTEST_CURRENT_TEST', 'top test')} "
               f"(seed {seed}) at {get_sim_time('ns'):.0f} ns: {what}\n"
               f"  rerun with waveforms: {rerun_hint()}")
        tail_ns = 200 * _cfg("PERIOD_NS")
        try:
            lines, tail_ns = debug_report.scoreboard_report(self, msg, at_ns=at_ns, **where)
            msg += "\n" + "\n".join(lines)
        except Exception as exc:  # the debug helpers never hide the mismatch itself
            msg += f"\n  (debug report failed: {exc!r})"
        self.logger.error(msg)
        if debug_report.waves_requested() and not final:
            self.pending = msg
            cocotb.start_soon(self._fail_later(msg, tail_ns))
            return
        raise Mismatch(msg)

    async def _fail_later(self, msg: str, tail_ns: float) -> None:
        await Timer(max(1, round(tail_ns)), unit="ns")
        raise Mismatch(msg)

    def _threshold(self) -> int | None:
        return getattr(getattr(self.get_parent(), "predictor", None), "threshold", None)

    def _unexpected(self, final: bool = False) -> None:
        """Actuals still waiting when no expectation can come any more."""
        if self.act_feat:
            f = self.act_feat[0]
            self._fail(f"unexpected feature vector, frame {f.frame} at {f.time_ns:.0f} ns "
                       f"(nothing expected)", at_ns=f.time_ns, final=final)
        if self.act_det:
            d = self.act_det[0]
            self._fail(f"unexpected detection, window {d.window} at {d.time_ns:.0f} ns "
                       f"(nothing expected)", at_ns=d.time_ns, final=final)

    def _compare(self) -> None:
        while self.exp_feat and self.act_feat:
            self._compare_feature(self.exp_feat.popleft(), self.act_feat.popleft())
        while self.exp_det and self.act_det:
            self._compare_detection(self.exp_det.popleft(), self.act_det.popleft())

    def _compare_feature(self, e: Feature, f: Feature) -> None:
        self.history.add_feature(e.frame, e.codes, f.frame, f.codes, f.time_ns)
        where = {"at_ns": f.time_ns, "frame": e.frame, "expected_codes": e.codes}
        if f.frame != e.frame:
            self._fail(f"feature frame index: expected {e.frame}, actual {f.frame}", **where)
        if not np.array_equal(f.codes, e.codes):
            bands = np.flatnonzero(f.codes != e.codes)
            b = int(bands[0])
            self._fail(f"frame {f.frame}, band {b} ({len(bands)} bands differ): expected code "
                       f"{int(e.codes[b])}, actual {int(f.codes[b])}; expected "
                       f"{e.codes.tolist()}, actual {f.codes.tolist()}", **where)
        self.checked_features += 1

    def _compare_detection(self, e: Det, d: Det) -> None:
        self.history.add_detection(e.window, e.score, e.flag, d.window, d.score, d.flag,
                                   self._threshold(), d.time_ns)
        if (d.window, d.score, d.flag) != (e.window, e.score, e.flag):
            self._fail(f"window {d.window}: expected (window {e.window}, score {e.score}, "
                       f"flag {int(e.flag)}), actual (window {d.window}, score {d.score}, "
                       f"flag {int(d.flag)})", at_ns=d.time_ns, window=e.window,
                       expected_det=(e.window, e.score, e.flag),
                       actual_det=(d.window, d.score, d.flag))
        self.checked_detections += 1

    def check_phase(self):
        if self.pending is not None:  # the run ended inside a WAVES=1 mismatch's tail
            raise Mismatch(self.pending)
        self._unexpected(final=True)
        missing = [f"frame {f.frame}" for f in list(self.exp_feat)[:5]] + \
                  [f"window {d.window}" for d in list(self.exp_det)[:5]]
        if missing:
            self._fail(f"{len(self.exp_feat)} feature vectors and {len(self.exp_det)} "
                       f"detections expected but never seen (first: {', '.join(missing)})",
                       final=True)


# ----------------------------------------------------------------------------------- env
class TopEnv(uvm_env):
    def build_phase(self):
        self.audio = AudioAgent("audio", self)
        self.regs = RegAgent("regs", self)
        self.feat_mon = FeatureMonitor("feat_mon", self)
        self.det_mon = DetectionMonitor.create("det_mon", self)
        self.predictor = Predictor("predictor", self)
        self.scoreboard = Scoreboard("scoreboard", self)
        self.coverage = CoverageCollector("coverage", self)
        p, sb = self.predictor, self.scoreboard
        self._exports = [
            Forward("x_sample", self, lambda block: p.samples(block)),
            Forward("x_reg", self, lambda it: p.reg_access(it)),
            Forward("x_exp_feat", self, lambda f: sb.expect_feature(f)),
            Forward("x_exp_det", self, lambda d: sb.expect_detection(d)),
            Forward("x_reset", self, lambda ev: sb.on_reset(ev)),
            Forward("x_feat", self, lambda f: sb.actual_feature(f)),
            Forward("x_det", self, lambda d: sb.actual_detection(d)),
        ]

    def connect_phase(self):
        x = {e.get_name(): e.analysis_export for e in self._exports}
        cov = self.coverage
        self.audio.driver.ap.connect(x["x_sample"])
        self.regs.driver.ap.connect(cov.export("register"))  # before the predictor updates
        self.regs.driver.ap.connect(x["x_reg"])
        self.predictor.feat_ap.connect(x["x_exp_feat"])
        self.predictor.det_ap.connect(x["x_exp_det"])
        self.predictor.reset_ap.connect(x["x_reset"])
        self.feat_mon.ap.connect(x["x_feat"])
        self.det_mon.ap.connect(x["x_det"])
        self.audio.driver.ap.connect(cov.export("samples"))
        self.predictor.feat_ap.connect(cov.export("expected"))
        self.predictor.reset_ap.connect(cov.export("reset"))
        self.feat_mon.ap.connect(cov.export("feature"))
        self.det_mon.ap.connect(cov.export("detection"))
