"""The predictor: the chip model (``refmodel/chip/top.py``) fed with what entered the chip.

Analysis inputs (wired by the env): the audio driver's blocks of accepted samples, its clips
about to be played (computed ahead in one batch: ``ChipModel.expect``) and the register
driver's completed accesses.  Outputs: ``feat_ap`` (expected
:class:`~refmodel.chip.top.Feature`), ``det_ap`` (expected
:class:`~refmodel.lstm.detector.Detection`) and ``reset_ap`` (:class:`ResetEvent`, before the
stream starts again).  All the computing is the model's; this component only moves items.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_analysis_port, uvm_component

from refmodel.chip import regs
from refmodel.chip.top import ChipModel, Feature, TopConfig
from refmodel.lstm.detector import DetectorWeights
from tb.chip.env.items import ResetEvent
from tb.chip.env.sequences import RegItem


class Predictor(uvm_component):
    """Runs the chip model on exactly the samples the chip accepted, with the weights and
    threshold the register traffic put in it; a new stream at every reset (hard or soft)."""

    def build_phase(self):
        self.feat_ap = uvm_analysis_port("feat_ap", self)
        self.det_ap = uvm_analysis_port("det_ap", self)
        self.reset_ap = uvm_analysis_port("reset_ap", self)
        cfg = ConfigDB()
        self.hidden, self.lanes, self.window = (cfg.get(None, "", k)
                                                for k in ("HIDDEN", "LANES", "WINDOW"))
        self.model = ChipModel(TopConfig(hidden=self.hidden, window=self.window))
        # called before a soft reset: hands on the samples the chip took up to its clear
        # cycle that the audio driver has not published yet (wired by the env)
        self.flush_audio: Callable[[], None] | None = None
        # called before any reset is published: hands on the feature vectors the chip handed
        # out so far that the feature monitor has not read yet (wired by the env)
        self.flush_features: Callable[[], None] | None = None

    # -- inputs (called through the analysis exports wired in the env)
    def samples(self, block: np.ndarray) -> None:
        """Samples the chip accepted, in order (int16, or 16-bit patterns): one model call
        for every feature vector and detection they complete."""
        for item in self.model.push(block):
            (self.feat_ap if isinstance(item, Feature) else self.det_ap).write(item)

    def upcoming(self, clip: np.ndarray) -> None:
        """A clip the audio driver is about to play: the model computes its feature vectors
        and detections in one batch.  What :meth:`samples` publishes is still the model's
        result for the samples the chip accepted (the batch serves only samples equal to it)."""
        self.model.expect(clip)

    def reg_access(self, item: RegItem) -> None:
        """A completed register access: accepted writes change what the chip computes.  A soft
        reset is published after its clear cycle; the samples taken up to it go first."""
        soft = item.write and not item.err and item.addr == regs.offset("CTRL") and \
            item.data >> regs.field("CTRL", "SOFT_RESET").lsb & 1
        if soft and self.flush_audio is not None:
            self.flush_audio()
        if soft and self.flush_features is not None:
            self.flush_features()
        if self.model.access(addr=item.addr, write=item.write, data=item.data,
                             err=bool(item.err)):
            self.reset_ap.write(ResetEvent("soft", get_sim_time("ns")))

    def restart(self, kind: str) -> None:
        """A reset from the test (``"hard"``): the chip forgets every sample and partial
        window, and its registers; so does the model."""
        if self.flush_features is not None:
            self.flush_features()
        self.reset_ap.write(ResetEvent(kind, get_sim_time("ns")))
        self.model.reset(kind=kind)

    # -- the model's state, for tests and coverage
    @property
    def threshold(self) -> int:
        return self.model.threshold

    @property
    def frames(self) -> int:
        return self.model.frames

    @property
    def windows(self) -> int:
        return self.model.windows

    def current_weights(self) -> DetectorWeights:
        return self.model.current_weights()

    def wload_refusal(self) -> str:
        return self.model.wload_refusal()
