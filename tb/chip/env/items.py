"""What the top-level environment's analysis ports carry, besides the sequence items
(``sequences.py``).

Expected and observed items are the chip model's own records (``refmodel/chip/top.py``):
:class:`refmodel.chip.top.Feature` (frame index, 32 codes) and
:class:`refmodel.lstm.detector.Detection` (window index, score code, flag compare; the
model's extra fields do not).  A monitor wraps what it read off a port in :class:`Observed`,
with what only it knows: when the item moved and how long it waited for ``ready``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Observed(Generic[T]):
    """An item the chip handed out, as a monitor saw it."""

    item: T  # a refmodel.chip.top.Feature or refmodel.lstm.detector.Detection
    time_ns: float  # when it moved
    wait_cycles: int = 0  # cycles it was offered with ready low (detections)


@dataclass(frozen=True)
class ResetEvent:
    """A reset the predictor followed: the chip starts a new stream."""

    kind: str  # "hard" or "soft"
    time_ns: float
