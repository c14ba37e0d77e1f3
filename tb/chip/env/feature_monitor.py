"""The feature monitor: every feature vector the front end hands to the detector (the tap).

The harness logs each vector with the number of its transfer edge (clock edges since the
clock started, at time 0 with its first rising edge half a period later) in a ring (``chip_tb.sv``,
Tap log), and the monitor reads the ring half a ring at a time: one wake-up per
``TapRing / 2`` vectors, not four per vector.  :meth:`FeatureMonitor.collect` reads whatever
was logged so far; the env calls it before every reset and the test before it looks for
missing items, so a vector is never held back past the point where it is compared.

The codes are decoded with the front end's stage table (:data:`refmodel.mel.stages.FEATURES`,
the layout of ``mel_quant``'s ``out_feat_o``, which the chip brings out as ``tap_feat_o``), so
the monitor, the block tests and the probes read the same layout.  X or Z in a logged
vector fails the test.
"""

from __future__ import annotations

import numpy as np
from cocotb.triggers import ReadOnly
from pyuvm import ConfigDB, uvm_analysis_port, uvm_component

from refmodel.chip.top import Feature
from refmodel.mel.stages import FEATURES
from tb.chip.env.items import Observed
from tb.kit.stream import read_int
from tb.kit.testkit import rerun_hint

FEAT_BITS = sum(f.bits * f.count for f in FEATURES.fields)  # the tap word, 256 bits
ENTRY_BITS = 64 + 32 + FEAT_BITS  # {edge, frame, codes}, as chip_tb.sv logs them


class TapXError(AssertionError):
    """A logged feature vector holds X or Z."""


class FeatureMonitor(uvm_component):
    """Publishes an :class:`Observed` :class:`~refmodel.chip.top.Feature` for each feature
    vector the harness logged, in order, and (``block_ap``) the codes of each batch read,
    uint8 (n, bands), for coverage."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.block_ap = uvm_analysis_port("block_ap", self)
        self.read = 0  # vectors read since the harness's reset
        self.dut = None

    async def run_phase(self):
        dut = ConfigDB().get(None, "", "DUT")
        self.dut = dut
        self.ring = int(dut.TapRing.value)
        self.period_ns = ConfigDB().get(None, "", "PERIOD_NS")
        while True:
            await dut.tap_half_o.value_change
            await ReadOnly()  # every entry logged at this edge is in place
            self.collect()

    def extract_phase(self):
        self.collect()  # the last vectors, before the scoreboard looks for missing ones

    def restart(self) -> None:
        """The harness was reset: its count starts again from 0."""
        self.read = 0

    def collect(self) -> None:
        """Read and publish every vector logged since the last read."""
        if self.dut is None:
            return
        count = read_int(self.dut.tap_count_o, "tap_count_o")
        n = count - self.read
        if n <= 0:
            return
        if n > self.ring:
            raise AssertionError(f"tap log overrun: {n} vectors logged since the last read, "
                                 f"the ring holds {self.ring}; rerun: {rerun_hint()}")
        bits = str(self.dut.tap_ring.value)  # MSB first
        width = len(bits)
        rows = []
        for k in range(self.read, count):
            lo = (k % self.ring) * ENTRY_BITS
            entry = bits[width - lo - ENTRY_BITS:width - lo]
            if not set(entry) <= {"0", "1"}:
                raise TapXError(f"X/Z in logged feature vector {k} since reset: {entry!r}; "
                                f"rerun: {rerun_hint()}")
            rows.append(entry)
        self.read = count
        words = [int(e, 2) for e in rows]
        codes = np.array([FEATURES.decode([w & ((1 << FEAT_BITS) - 1)]) for w in words],
                         dtype=np.uint8)
        for w, c in zip(words, codes, strict=True):
            frame = w >> FEAT_BITS & 0xFFFF_FFFF
            time_ns = ((w >> (FEAT_BITS + 32)) + 0.5) * self.period_ns  # the transfer edge
            self.ap.write(Observed(Feature(frame, c.copy()), time_ns))
        self.block_ap.write(codes)
