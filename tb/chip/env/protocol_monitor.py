"""The protocol monitor: the harness's cycle-by-cycle checks of the chip's strobes, pulses,
counters and enable (``tb/chip/chip_tb.sv``, Monitors), read once at the end of the test.

The harness compares, on every clock cycle and under any backpressure, ``det_irq_o`` with the
detection handshake, the tap strobe with the handshake into the detector, the FRAMES and
WINDOWS registers with shadow counts of those handshakes, and ``audio_ready_o`` with
CTRL.ENABLE as written on the register port; each check that ever failed stays set in
``mon_bad_o`` with the cycle of the first failure.  Python does no per-cycle work for it.

It also reads what the coverage collector samples: the samples taken in each event's cycle,
the links seen stalled while valid, and whether a window ended while a detection was held.
"""

from __future__ import annotations

from pyuvm import ConfigDB, uvm_component

from tb.flow.signoff.funcov import EVENT_BINS, LINK_BINS
from tb.kit.stream import read_int
from tb.kit.testkit import rerun_hint

# mon_bad_o bit k, as in chip_tb.sv (Monitors)
CHECKS = (
    "det_irq_o high other than in the cycle a flagged detection is handed out",
    "tap_valid_o other than in the cycle a feature vector moves to the detector",
    "FRAMES other than the count of feature handshakes into the detector",
    "WINDOWS other than the count of detection handshakes",
    "audio_ready_o high while CTRL.ENABLE is 0",
    "reg_rvalid_o other than in the cycle after a register request",
    "LAST_DET other than the score and flag of the last detection handshake",
)


class ProtocolViolation(AssertionError):
    """A strobe, pulse, counter or ready broke its promise in some cycle."""


class ProtocolMonitor(uvm_component):
    """Fails the test on any harness monitor check (names in :data:`CHECKS`); keeps the
    timing and link observations for coverage (``event_hits``, ``stalled``, ``held``)."""

    def start_of_simulation_phase(self):
        self.dut = ConfigDB().get(None, "", "DUT")
        self.event_hits = {name: 0 for name in EVENT_BINS}
        self.stalled: list[str] = []
        self.held = False

    def observe(self) -> None:
        """Read the harness's event counts, link stalls and held-window flag now."""
        dut = self.dut
        hits = read_int(dut.ev_hits_o, "ev_hits_o")
        self.event_hits = {name: hits >> (16 * k) & 0xFFFF for k, name in enumerate(EVENT_BINS)}
        stalled = read_int(dut.stalled_o, "stalled_o")
        self.stalled = [name for k, name in enumerate(LINK_BINS) if stalled >> k & 1]
        self.held = bool(read_int(dut.det_held_win_o, "det_held_win_o"))

    def check_phase(self):
        dut = self.dut
        bad = read_int(dut.mon_bad_o, "mon_bad_o")
        self.observe()
        self.logger.info(f"samples taken in event cycles: {self.event_hits}; links stalled "
                         f"while valid: {len(self.stalled)} of {len(LINK_BINS)}")
        if bad:
            failed = [c for k, c in enumerate(CHECKS) if bad >> k & 1]
            cycle = read_int(dut.mon_cycle_o, "mon_cycle_o")
            raise ProtocolViolation(
                f"PROTOCOL MONITOR: {'; '.join(failed)} (first at cycle {cycle} after reset, "
                f"at {cycle * ConfigDB().get(None, '', 'PERIOD_NS')} ns plus the reset); "
                f"rerun with waveforms: {rerun_hint()}")
