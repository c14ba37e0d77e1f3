"""The chip IP's stage table: the blocks around the two IPs, in data order.

    audio -> [mel_frontend] -> feature tap -> [lstm_detector] -> detections   (chip_top)
             configuration registers, counters, error causes                 (chip_regs)

``chip_top`` wires the front end (``refmodel/mel/stages.py``) to the detector
(``refmodel/lstm/stages.py``); its feature tap carries the front end's feature word
(``refmodel.mel.stages.FEATURES``) and its detection port the detector's.  Its model,
:class:`refmodel.chip.top.ChipModel`, runs both IPs' models on what the chip accepted, with the
weights and threshold the register traffic put in it.
"""

from __future__ import annotations

from refmodel.blocks import Block
from refmodel.mel.stages import FEATURES, words


def blocks() -> tuple[Block, ...]:
    """The chip's own blocks for the finding table (:mod:`refmodel.blocks`)."""
    return (
        Block("chip", "chip_regs", "u_regs", "refmodel.chip.regs.RegisterModel", "",
              "cycle-accurate register model; the map is docs/registers.md"),
        Block("chip", "chip_top", "", "refmodel.chip.top.ChipModel",
              words(FEATURES).replace("out_feat_o", "tap_feat_o"),
              "the chip: mel_frontend -> lstm_detector, chip_regs"),
    )
