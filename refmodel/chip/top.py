"""Transaction-level model of ``chip_top``: what the chip hands out for the audio it accepted,
with the weights and threshold its register writes put in it.

    audio samples -> mel front end (refmodel.mel.frontend.FrontendStream)
        -> feature vectors (the tap: frame index since reset, 32 codes)
        -> windows of ``window`` frames -> LSTM detector (refmodel.lstm.detector.run_fixed
           with the weights of the WLOAD load image) -> detections (window index since
           reset, score code, flag = score >= THRESHOLD)

The model is untimed: it gives every feature vector and detection in the order the chip
produces them, not the cycle.  Register side effects it follows (``refmodel/chip/regs.py``):
``WLOAD_ADDR`` and ``WLOAD_DATA`` (the weight load image and its auto-incrementing address),
``THRESHOLD`` (every detection computed after the write), ``CTRL.SOFT_RESET`` (a new stream:
front end, partial window, frame and window indices; registers and weights kept).  A hard
reset (:meth:`ChipModel.reset`) also returns ``THRESHOLD`` and ``WLOAD_ADDR`` to their reset
values; the weight memories have no reset, so the image stays.

Whether the chip refused an access is an input (:meth:`ChipModel.access` takes the chip's
``err`` response): the model cannot know the chip's state in the few thousand cycles between
a window's last frame and its detection.  A refused ``WLOAD_DATA`` write changes no weight;
refused with ``WLOAD_RANGE`` (past the load map) its address still advances, refused with
``WLOAD_BUSY`` (a window part-way) nothing changes (:meth:`ChipModel.wload_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from refmodel.chip import regs
from refmodel.lstm import rtl as lstm_rtl
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import Detection, DetectorWeights, run_fixed
from refmodel.lstm.head import flag_compare
from refmodel.mel.config import DEFAULT as FE_DEFAULT
from refmodel.mel.config import FrontendConfig
from refmodel.mel.frontend import FrontendStream

__all__ = ["ChipModel", "Feature", "TopConfig"]

_WADDR_MASK = (1 << regs.field("WLOAD_ADDR", "ADDR").width) - 1
_WDATA_MASK = (1 << regs.field("WLOAD_DATA", "DATA").width) - 1
_SOFT_RESET = regs.field("CTRL", "SOFT_RESET").lsb


@dataclass(frozen=True)
class TopConfig:
    """The ``chip_top`` parameters the model depends on (``Lanes`` changes no result).

    Attributes:
        hidden: LSTM hidden size (``Hidden``).
        window: frames per detection window (``Window``).
        frontend: the mel front end's configuration.
    """

    hidden: int = 32
    window: int = 198
    frontend: FrontendConfig = field(default=FE_DEFAULT)

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.window < 1:
            raise ValueError(f"hidden={self.hidden} and window={self.window} must be >= 1")


@dataclass(frozen=True, eq=False)
class Feature:
    """One feature vector as the chip hands it to the detector (``tap_frame_o``,
    ``tap_feat_o``).  Equal when the frame index and every code are equal.

    Attributes:
        frame: frame index since the last reset.
        codes: uint8 (32,) band codes.
    """

    frame: int
    codes: npt.NDArray[np.uint8]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Feature):
            return NotImplemented
        return self.frame == other.frame and np.array_equal(self.codes, other.codes)


class ChipModel:
    """The model of one ``chip_top`` instance from power-on (see the module docstring).

    Feed it what entered the chip, in order: :meth:`push` for accepted audio samples,
    :meth:`access` for completed register accesses, :meth:`reset` for a hard reset.
    :meth:`push` returns what the chip hands out for those samples.

    State (read-only for callers):
        threshold: ``THRESHOLD`` (UQ1.16) in force.
        waddr: ``WLOAD_ADDR``, the next weight write's load-port address.
        image: the load-port words written so far, address -> 16-bit word.
        frames: feature vectors handed out since the last reset (the next frame's index).
        windows: detections since the last reset (the next window's index).
    """

    def __init__(self, config: TopConfig | None = None) -> None:
        self.config = config or TopConfig()
        self.image: dict[int, int] = {}
        self._weights: DetectorWeights | None = None  # decoded image, until the next write
        self._power_on()
        self._new_stream()

    # ---------------------------------------------------------------- state
    def _power_on(self) -> None:
        self.threshold = regs.BY_NAME["THRESHOLD"].reset
        self.waddr = regs.BY_NAME["WLOAD_ADDR"].reset

    def _new_stream(self) -> None:
        self.stream = FrontendStream(self.config.frontend)  # samples not yet in a frame
        self.frames = 0
        self.windows = 0
        self.window_codes: list[npt.NDArray[np.uint8]] = []  # the current window's frames
        self._scores: dict[bytes, int] = {}  # announced windows' codes -> score code
        self._scored_with: DetectorWeights | None = None  # the weights of those scores

    @property
    def window_active(self) -> bool:
        """A detection window is part-way (some of its frames are in)."""
        return bool(self.window_codes)

    @property
    def load_size(self) -> int:
        """Load-port addresses that hold a weight (writes past them are refused)."""
        return lstm_rtl.load_map(DetectorConfig(hidden=self.config.hidden)).size

    def current_weights(self) -> DetectorWeights:
        """The weights the chip holds: the load image decoded.  Raises ``ValueError`` naming
        the first address never written."""
        if self._weights is None:
            self._weights = lstm_rtl.weights_from_load_image(self.image,
                                                             hidden=self.config.hidden)
        return self._weights

    # ---------------------------------------------------------------- inputs
    def push(self, samples: npt.ArrayLike) -> list[Feature | Detection]:
        """Samples the chip accepted, in order: int16 ``(n,)``, or their 16-bit patterns.

        Returns every feature vector they complete and every detection those complete, in
        the chip's order (a window's detection right after its last feature vector).
        Raises ``ValueError`` when a window completes before every weight was loaded.
        """
        x = np.asarray(samples).astype(np.uint16).view(np.int16)
        out: list[Feature | Detection] = []
        for codes in self.stream.push(x):
            out.append(Feature(frame=self.frames, codes=np.array(codes, dtype=np.uint8)))
            self.frames += 1
            self.window_codes.append(out[-1].codes)
            if len(self.window_codes) == self.config.window:
                out.append(self._detect())
        return out

    def expect(self, samples: npt.ArrayLike) -> None:
        """Announce samples the chip will probably accept next (as for :meth:`push`).

        Their feature vectors, and the scores of the windows they complete with the weights
        held now, are computed in one batch, which later pushes of those samples take their
        results from.  Changes no result: a push of other samples, a weight write or a reset
        leaves the batch unused.
        """
        x = np.asarray(samples).astype(np.uint16).view(np.int16)
        codes = self.stream.expect(x)
        self._scores, self._scored_with = {}, None
        window = self.config.window
        done = np.concatenate([np.stack(self.window_codes), codes]) if self.window_codes \
            else codes
        full = len(done) // window * window
        try:
            weights = self.current_weights()
        except ValueError:  # not every weight loaded yet: no detection to score
            return
        if full:
            scores = run_fixed(done[:full], weights, window).score_int
            self._scores = {done[w:w + window].tobytes(): int(scores[w // window])
                            for w in range(0, full, window)}
            self._scored_with = weights

    def _detect(self) -> Detection:
        weights = self.current_weights()
        window = self.config.window
        codes = np.stack(self.window_codes)
        score = self._scores.get(codes.tobytes()) if weights is self._scored_with else None
        if score is None:
            score = int(run_fixed(codes, weights, window).score_int[0])
        det = Detection(index=self.windows, score_int=score,
                        flag=bool(flag_compare(score, self.threshold, weights.config)),
                        start_frame=self.windows * window,
                        score=score / weights.config.sig_one, threshold_int=self.threshold)
        self.windows += 1
        self.window_codes = []
        return det

    def access(self, *, addr: int, write: bool, data: int = 0, err: bool = False) -> bool:
        """A completed register access at byte address ``addr`` with the chip's response
        ``err`` (refused); returns True when it soft-reset the chip (a new stream began).

        Reads and refused writes change nothing, except a ``WLOAD_DATA`` write refused with
        ``WLOAD_RANGE``, whose address still advances.
        """
        reg = next((r for r in regs.REGISTERS if r.offset == addr), None)
        if not write or reg is None:
            return False
        if reg.name == "WLOAD_DATA":
            if not err:
                self.image[self.waddr] = int(data) & _WDATA_MASK
                self._weights = None
            if not err or self.wload_refusal() == "WLOAD_RANGE":
                self.waddr = (self.waddr + 1) & _WADDR_MASK
            return False
        if err:
            return False
        if reg.name == "WLOAD_ADDR":
            self.waddr = int(data) & _WADDR_MASK
        elif reg.name == "THRESHOLD":
            self.threshold = int(data) & reg.mask
        elif reg.name == "CTRL" and int(data) >> _SOFT_RESET & 1:
            self._new_stream()
            return True
        return False

    def wload_refusal(self) -> str:
        """Why the chip refuses a ``WLOAD_DATA`` write now (the ``ERR_CAUSE`` field name):
        ``WLOAD_BUSY`` while a window is part-way (it wins over ``WLOAD_RANGE``), else
        ``WLOAD_RANGE``.  (Software writes weights between windows, after the last detection
        came out; the model does not know the chip's state between a window's last frame and
        its detection.)"""
        return "WLOAD_BUSY" if self.window_active else "WLOAD_RANGE"

    def reset(self, *, kind: str = "hard") -> None:
        """A reset: the chip forgets every sample and partial window (``kind="soft"``, as
        ``CTRL.SOFT_RESET``); a hard one also returns the registers to their reset values."""
        if kind not in ("hard", "soft"):
            raise ValueError(f"kind={kind!r}: a reset is 'hard' or 'soft'")
        self._new_stream()
        if kind == "hard":
            self._power_on()
