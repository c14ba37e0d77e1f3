"""The pyuvm environment of ``chip_top``: how its components are wired.

::

    AudioAgent (sequencer, AudioDriver) --clips, blocks-> Predictor --expected--> Scoreboard
    RegAgent   (sequencer, RegDriver)   --accesses-----> Predictor                  ^
    FeatureMonitor (harness's tap log)  --actual features---------------------------+
    DetectionMonitor (det stream, backpressure) --actual detections----------------+
    CoverageCollector: samples the functional cover groups from the monitors, the drivers
    and the predictor's expectations and resets
    ProtocolMonitor: the harness's cycle-by-cycle checks of strobes, pulses, counters and
    enable (fails the test at its end); event, link and held-window observations for coverage

One component per file in ``tb/chip/env/``: ``audio_agent.py``, ``reg_agent.py``,
``feature_monitor.py``, ``detection_monitor.py``, ``predictor.py``, ``scoreboard.py``,
``coverage.py``, ``protocol_monitor.py``; ``csr.py`` the standard register tests;
``sequences.py`` holds the sequence items and sequences, ``items.py`` what
the monitors and the predictor publish.

The test bench's top level is the harness ``chip_tb`` (``tb/chip/chip_tb.sv``): the audio
driver hands it whole blocks of samples (one wake-up per block) and the register driver hands
it bursts of weight words; monitors and single register accesses use the chip's own ports,
passed through.
The predictor runs the chip model (``refmodel/chip/top.py``) on exactly the samples the chip
accepted, with the weights and threshold the register traffic put in it, and starts a new
stream at every reset (hard or soft): expectations not yet met at a reset are dropped and
counted.  Expected and observed items are the model's records (``refmodel.chip.top.Feature``,
``refmodel.lstm.detector.Detection``); the monitors wrap theirs with the time they moved.
The scoreboard compares every feature vector and every detection exactly and in order, stops
at the first mismatch with the rerun command, and fails at the end on anything missing or
extra; what a mismatch leaves behind to debug it from is ``tb/debug/report.py``'s, which the
scoreboard notifies.

Test variants swap components through the pyuvm factory (e.g. ``PacedAudioDriver`` for
real-time pacing, ``StallingDetectionMonitor`` for output backpressure).
"""

from __future__ import annotations

from pyuvm import uvm_env

from tb.chip.env.audio_agent import AudioAgent
from tb.chip.env.coverage import CoverageCollector, Forward
from tb.chip.env.detection_monitor import DetectionMonitor
from tb.chip.env.feature_monitor import FeatureMonitor
from tb.chip.env.predictor import Predictor
from tb.chip.env.protocol_monitor import ProtocolMonitor
from tb.chip.env.reg_agent import RegAgent
from tb.chip.env.scoreboard import Scoreboard
from tb.kit.stream import read_int


class TopEnv(uvm_env):
    """The agents, monitors, predictor, scoreboard and coverage collector, connected as in
    the module docstring."""

    def build_phase(self):
        self.audio = AudioAgent("audio", self)
        self.regs = RegAgent("regs", self)
        self.feat_mon = FeatureMonitor("feat_mon", self)
        self.det_mon = DetectionMonitor.create("det_mon", self)
        self.predictor = Predictor("predictor", self)
        self.scoreboard = Scoreboard("scoreboard", self)
        self.coverage = CoverageCollector("coverage", self)
        self.protocol = ProtocolMonitor("protocol", self)
        p, sb = self.predictor, self.scoreboard
        self._exports = [
            Forward("x_sample", self, lambda block: p.samples(block)),
            Forward("x_clip", self, lambda clip: p.upcoming(clip)),
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
        self.audio.driver.clip_ap.connect(x["x_clip"])
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
        self.feat_mon.block_ap.connect(cov.export("feature_block"))
        self.det_mon.ap.connect(cov.export("detection"))
        # a detection mismatch is localised with the weights the model holds
        self.scoreboard.debug.model = self.predictor.model
        # a soft reset splits the audio stream where the chip did (the harness's count of
        # samples taken up to the clear cycle), even in the middle of a block
        self.predictor.flush_audio = self._flush_audio
        # the feature vectors the harness logged so far are compared before any reset
        self.predictor.flush_features = self.feat_mon.collect

    def _flush_audio(self) -> None:
        dut = self.protocol.dut
        self.audio.driver.stream.flush(read_int(dut.clear_taken_o, "clear_taken_o"))
