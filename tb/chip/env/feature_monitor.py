"""The feature monitor: every feature vector the front end hands to the detector (the tap).

The tap word is decoded with the front end's stage table (:data:`refmodel.mel.stages.FEATURES`,
the layout of ``mel_quant``'s ``out_feat_o``, which the chip brings out as ``tap_feat_o``), so
the monitor, the block tests and the probes read the same layout.
"""

from __future__ import annotations

import numpy as np
from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_analysis_port, uvm_component

from refmodel.chip.top import Feature
from refmodel.mel.stages import FEATURES
from tb.chip.env.items import Observed
from tb.kit.stream import StreamMonitor


class FeatureMonitor(uvm_component):
    """Publishes an :class:`Observed` :class:`~refmodel.chip.top.Feature` for each tap strobe
    (``tap_valid_o``; the tap has no ready); X/Z fails."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    async def run_phase(self):
        dut = ConfigDB().get(None, "", "DUT")
        ports = {p: getattr(dut, f"tap_{p}_o") for p in FEATURES.ports}
        mon = StreamMonitor(dut.clk_i, dut.tap_valid_o, dut.tap_valid_o,
                            {"frame": dut.tap_frame_o, **ports}, name="tap")

        def publish(it: dict[str, int]) -> None:
            codes = np.array(FEATURES.decode(it), dtype=np.uint8)
            self.ap.write(Observed(Feature(it["frame"], codes), get_sim_time("ns")))

        mon.callbacks.append(publish)
        await mon.run()
