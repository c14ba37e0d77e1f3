"""The scoreboard: every feature vector and every detection the chip handed out, compared
exactly and in order with the predictor's expectations; the first mismatch fails the test
with its rerun command, and anything missing or extra fails it at the end.

What a mismatch leaves behind to debug it from (pictures, stage localisation, the GTKWave
view of ``WAVES=1`` reruns) is ``tb/debug/report.py``'s business: the scoreboard notifies its
:class:`~tb.debug.report.MismatchDebug` of each compared pair, reset and mismatch.
"""

from __future__ import annotations

import os
from collections import deque

import cocotb
import numpy as np
from cocotb.triggers import Timer
from cocotb.utils import get_sim_time
from pyuvm import uvm_component

from refmodel.chip.top import Feature
from refmodel.lstm.detector import Detection
from tb.chip.env.items import Observed, ResetEvent
from tb.debug.report import MismatchDebug
from tb.kit.testkit import rerun_hint


class Mismatch(AssertionError):
    """The chip handed out something other than the model's expectation (or nothing)."""


class Scoreboard(uvm_component):
    """In-order exact comparison of features and detections.

    The predictor learns the accepted samples a block at a time (when the harness reports the
    block done), so the chip may hand out a feature vector or detection up to one audio block
    before its expectation exists: such an actual waits (in order) for its expectation.  One
    still waiting at a reset or at the end of the test is a failure ("nothing expected").
    Expectations not yet met at a reset are dropped and counted (``dropped``).
    """

    def build_phase(self):
        self.exp_feat: deque[Feature] = deque()
        self.exp_det: deque[Detection] = deque()
        self.act_feat: deque[Observed[Feature]] = deque()  # seen before their expectation
        self.act_det: deque[Observed[Detection]] = deque()
        self.checked_features = 0
        self.checked_detections = 0
        self.dropped = 0  # expectations dropped by resets
        self.failure: str | None = None  # the first mismatch's message
        self.debug = MismatchDebug(log=self.logger)  # the env connects the chip model

    async def run_phase(self):
        await self.debug.run()

    # -- inputs (called through the analysis exports wired in the env)
    def expect_feature(self, f: Feature) -> None:
        self.exp_feat.append(f)
        self._compare()

    def expect_detection(self, d: Detection) -> None:
        self.exp_det.append(d)
        self._compare()

    def actual_feature(self, seen: Observed[Feature]) -> None:
        self.act_feat.append(seen)
        self._compare()

    def actual_detection(self, seen: Observed[Detection]) -> None:
        self.act_det.append(seen)
        self._compare()

    def on_reset(self, ev: ResetEvent) -> None:
        self._unexpected()
        self.debug.reset()
        self.dropped += len(self.exp_feat) + len(self.exp_det)
        self.exp_feat.clear()
        self.exp_det.clear()

    # -- comparison
    def _compare(self) -> None:
        while self.exp_feat and self.act_feat:
            self._compare_feature(self.exp_feat.popleft(), self.act_feat.popleft())
        while self.exp_det and self.act_det:
            self._compare_detection(self.exp_det.popleft(), self.act_det.popleft())

    def _compare_feature(self, e: Feature, seen: Observed[Feature]) -> None:
        f = seen.item
        self.debug.compared_feature(e, f, seen.time_ns)
        if f.frame != e.frame:
            self._fail(f"feature frame index: expected {e.frame}, actual {f.frame}",
                       at_ns=seen.time_ns, expected=e)
        if not np.array_equal(f.codes, e.codes):
            bands = np.flatnonzero(f.codes != e.codes)
            b = int(bands[0])
            self._fail(f"frame {f.frame}, band {b} ({len(bands)} bands differ): expected code "
                       f"{int(e.codes[b])}, actual {int(f.codes[b])}; expected "
                       f"{e.codes.tolist()}, actual {f.codes.tolist()}",
                       at_ns=seen.time_ns, expected=e)
        self.checked_features += 1

    def _compare_detection(self, e: Detection, seen: Observed[Detection]) -> None:
        d = seen.item
        self.debug.compared_detection(e, d, seen.time_ns)
        if d != e:  # a Detection compares its window index, score code and flag
            self._fail(f"window {d.index}: expected (window {e.index}, score {e.score_int}, "
                       f"flag {int(e.flag)}), actual (window {d.index}, score {d.score_int}, "
                       f"flag {int(d.flag)})", at_ns=seen.time_ns, expected=e, actual=d)
        self.checked_detections += 1

    def _unexpected(self, final: bool = False) -> None:
        """Actuals still waiting when no expectation can come any more."""
        if self.act_feat:
            f = self.act_feat[0]
            self._fail(f"unexpected feature vector, frame {f.item.frame} at {f.time_ns:.0f} ns "
                       f"(nothing expected)", at_ns=f.time_ns, final=final)
        if self.act_det:
            d = self.act_det[0]
            self._fail(f"unexpected detection, window {d.item.index} at {d.time_ns:.0f} ns "
                       f"(nothing expected)", at_ns=d.time_ns, final=final)

    # -- failing
    def _fail(self, what: str, *, at_ns: float | None = None, final: bool = False,
              expected: Feature | Detection | None = None,
              actual: Detection | None = None) -> None:
        """Report the first mismatch and stop.  The debug side may ask for a short tail of
        simulation before the test fails (``WAVES=1`` runs, so that the waveform shows what
        follows the mismatch); ``final``: no time is left."""
        if self.failure is not None:  # only the first mismatch counts
            return
        msg = (f"SCOREBOARD MISMATCH in {os.environ.get('PYTEST_CURRENT_TEST', 'top test')} "
               f"(seed {cocotb.RANDOM_SEED}) at {get_sim_time('ns'):.0f} ns: {what}\n"
               f"  rerun with waveforms: {rerun_hint()}")
        msg, tail_ns = self.debug.mismatch(msg, at_ns=at_ns, final=final, expected=expected,
                                           actual=actual)
        self.failure = msg
        self.logger.error(msg)
        if tail_ns is not None:
            cocotb.start_soon(self._fail_later(msg, tail_ns))
            return
        raise Mismatch(msg)

    async def _fail_later(self, msg: str, tail_ns: float) -> None:
        await Timer(max(1, round(tail_ns)), unit="ns")
        raise Mismatch(msg)

    def check_phase(self):
        if self.failure is not None:  # e.g. the run ended inside a WAVES=1 mismatch's tail
            raise Mismatch(self.failure)
        self._unexpected(final=True)
        missing = [f"frame {f.frame}" for f in list(self.exp_feat)[:5]] + \
                  [f"window {d.index}" for d in list(self.exp_det)[:5]]
        if missing:
            self._fail(f"{len(self.exp_feat)} feature vectors and {len(self.exp_det)} "
                       f"detections expected but never seen (first: {', '.join(missing)})",
                       final=True)
