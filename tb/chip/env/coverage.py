"""The pyuvm coverage collector of the top-level environment (model: ``tb/flow/signoff/funcov.py``).

It listens on the environment's analysis ports and samples the cover groups:

=====================  ==========================================================
port                   samples
=====================  ==========================================================
feature monitor        every band code of every feature vector the chip handed out, sampled
                       per block the monitor reads (one hit per band and code bin present)
detection monitor      score, flag, margin to the threshold in force, backpressure
audio driver           accepted samples (to tell idle / mid-frame resets apart)
predictor (features)   expected feature vectors (a frame still in flight)
register driver        every access, classified by the register map (and, for a refused
                       weight write, the predictor's view of why)
predictor (resets)     kind and phase of every reset
=====================  ==========================================================

Input gap lengths come from the audio driver's gap model at the end of the test (every gap
it drew), the pacing of every paced block from the driver, and the timing corners (samples in
event cycles, links stalled, a window ended under a held detection) from the protocol
monitor's reading of the harness.  With ``COV=1`` the runner names an export file and
the collector writes the process's coverage database there in its report phase.
It is connected to the register port before the predictor, so it classifies an access with
the state the access found.
"""

from __future__ import annotations

import numpy as np
from pyuvm import uvm_component, uvm_subscriber

from refmodel.chip import regs
from refmodel.chip.top import Feature
from refmodel.lstm.detector import Detection
from refmodel.mel.config import DEFAULT as FE_CFG
from tb.chip.env.items import Observed, ResetEvent
from tb.flow.signoff import funcov


class Forward(uvm_subscriber):
    """Analysis export that forwards to a callable (pyuvm subscribers have one write())."""

    def __init__(self, name, parent, fn):
        super().__init__(name, parent)
        self.fn = fn

    def write(self, tt):
        self.fn(tt)


class CoverageCollector(uvm_component):
    """Samples the functional cover groups of ``tb/flow/signoff/funcov.py``; see the module doc."""

    def build_phase(self):
        names = ("feature", "feature_block", "detection", "samples", "expected", "register",
                 "reset")
        self.ports = {n: Forward(f"x_{n}", self, getattr(self, f"on_{n}")) for n in names}
        self._since_reset()

    def export(self, name: str):
        return self.ports[name].analysis_export

    def _since_reset(self) -> None:
        self.samples = 0  # accepted since the last reset
        self.expected = 0  # feature vectors expected since the last reset
        self.actual = 0  # feature vectors seen since the last reset

    def start_of_simulation_phase(self):
        env = self.get_parent()
        self.predictor = env.predictor
        funcov.sample_config(self.predictor.lanes, self.predictor.hidden)

    # ---------------------------------------------------------------- ports
    def on_feature(self, seen: Observed[Feature]) -> None:
        self.actual += 1

    def on_feature_block(self, codes: np.ndarray) -> None:
        funcov.sample_feature_block(codes)

    def on_expected(self, f: Feature) -> None:
        self.expected += 1

    def on_samples(self, block: np.ndarray) -> None:
        self.samples += len(block)

    def on_detection(self, seen: Observed[Detection]) -> None:
        funcov.sample_detection(seen.item.score_int, seen.item.flag, self.predictor.threshold)
        funcov.sample_backpressure(seen.wait_cycles)

    def on_register(self, item) -> None:
        funcov.sample_register(self.register_bin(item))

    def on_reset(self, ev: ResetEvent) -> None:
        funcov.sample_reset(ev.kind, self.phases())
        self._since_reset()

    # ---------------------------------------------------------------- classification
    def phases(self) -> frozenset[str]:
        """Where the chip was when a reset came: nothing (idle), a frame part-way (samples of
        an incomplete hop buffered, or a completed frame not out of the front end yet), a
        detection window part-way (the detector holds some of its frames)."""
        out = set()
        n, frame, hop = self.samples, FE_CFG.frame_len, FE_CFG.hop
        partial = n > 0 and (n < frame or (n - frame) % hop != 0)
        if partial or self.expected > self.actual:
            out.add("mid-frame")
        if self.expected % self.predictor.window:
            out.add("mid-window")
        return frozenset(out)

    def register_bin(self, item) -> str:
        """The coverage bin of a completed access (``funcov.REGISTER_BINS``)."""
        rw = "write" if item.write else "read"
        reg = next((r for r in regs.REGISTERS if r.offset == item.addr), None)
        if reg is None:
            where = "misaligned" if item.addr % (regs.DATA_BITS // 8) else "unmapped"
            return f"{where} {rw} refused (BAD_ADDR)"
        if not item.write:
            return f"{reg.name} read ok"
        if reg.access == "ro":
            return f"{reg.name} write refused (RO_WRITE)"
        if reg.name == "WLOAD_DATA" and item.err:
            return f"WLOAD_DATA write refused ({self.predictor.wload_refusal()})"
        return f"{reg.name} write ok"

    def report_phase(self):
        gaps = self.get_parent().audio.driver.stream.gaps
        drawn = np.array(gaps.history, dtype=np.int64)
        sent = self.get_parent().audio.driver.stream.sent
        if sent > len(drawn):  # every sample without a drawn gap came back to back
            drawn = np.append(drawn, 0)
        funcov.sample_gaps(drawn)
        proto = self.get_parent().protocol
        funcov.sample_timing(event_hits=proto.event_hits, held=proto.held,
                             paces=self.get_parent().audio.driver.stream.paces)
        funcov.sample_links(proto.stalled)
        path = funcov.export()
        if path is not None:
            self.logger.info(f"functional coverage written to {path}")
