"""Self-test of the mismatch report: a fault injected into the chip must give a complete one.

One cocotb test (:class:`QuantFaultTest`) runs the top-level environment of
``tb/chip/test_chip_top.py`` with ``WAVES=1`` and, while the chip runs, flips every bit of band 0
in ``mel_quant``'s output register (``u_quant.feat_q``) when frame :data:`FAULT_FRAME` is
offered: a real RTL-level divergence at the last front-end stage.  The scoreboard must stop
with a :class:`~tb.chip.env.scoreboard.Mismatch` (the cocotb test expects exactly that
error); then the pytest checks what the run folder holds:

- ``mismatch.txt``: the report, with frame and band, the rerun command, and the diverging
  stage ``mel_quant`` with every earlier stage found equal to the refmodel;
- ``mismatch_features.png`` and ``mismatch_detections.png``;
- ``mismatch.gtkw``: its dump is the run's FST, every signal in it exists in that FST, the
  groups come in order (the diverging stage first after the audio), the primary marker and
  marker A lie inside the dump.

``make test`` runs it on Icarus only (about 15 s with the Icarus ``WAVES=1`` build); on
Verilator (a separate all-public waveform build of the whole chip) run it by hand:
``make sim-one SIM=verilator TESTS=tb/debug``.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotb
import pytest
import pyuvm
from cocotb.triggers import RisingEdge

from tb.chip.env.scoreboard import Mismatch
from tb.chip.env.sequences import synthetic_mix
from tb.chip.test_chip_top import HARNESS_BUILD, HDL_CONFIG, BaseTest
from tb.debug import gtkw
from tb.kit.runner import run_block

FAULT_FRAME = 2
AUDIO_SECONDS = 0.06  # frames 0..3


async def _flip_band0(dut, frame: int) -> None:
    """Flip band 0's code in mel_quant's output register when ``frame`` is offered."""
    fe = dut.u_top.u_frontend
    for _ in range(frame + 1):
        await RisingEdge(fe.out_valid_o)
    reg = fe.u_quant.feat_q
    reg.value = int(reg.value) ^ 0xFF


@pyuvm.test(expect_error=(Mismatch,))
class QuantFaultTest(BaseTest):
    """A short clip with a fault in frame FAULT_FRAME's codes: the scoreboard must stop."""

    async def stimulus(self):
        cocotb.start_soon(_flip_band0(self.dut, FAULT_FRAME))
        x, label = synthetic_mix(self.rng, AUDIO_SECONDS)
        await self.play(x, label)


@pytest.mark.sim
def test_mismatch_report(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = os.environ["SIM"]
    if os.environ.get("MELSTM_SUITE") == "ci" and sim == "verilator":
        pytest.skip("make test runs it on Icarus; on Verilator it needs a waveform build of "
                    "the whole chip: make sim-one SIM=verilator TESTS=tb/debug")
    monkeypatch.setenv("WAVES", "1")
    results = run_block(test_module="tb.debug.test_mismatch_selftest",
                        testcase="QuantFaultTest", parameters=HDL_CONFIG[sim], **HARNESS_BUILD)
    run = Path(results).parent

    report = (run / "mismatch.txt").read_text()
    assert "SCOREBOARD MISMATCH" in report, report
    assert f"frame {FAULT_FRAME}, band 0 " in report, report
    assert f"make sim-one SIM={sim} SEED=" in report and "WAVES=1" in report, report
    assert "diverging stage: mel_quant: " in report, report
    before = ", ".join(f"mel_{s}" for s in ("framer", "window", "fft", "split", "power",
                                            "filterbank", "log2"))
    assert f"equal to the refmodel before it: {before}" in report, report
    for name in ("mismatch_features.png", "mismatch_detections.png"):
        png = run / name
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png

    view = (run / "mismatch.gtkw").read_text()
    info = gtkw.read_save_file(view)
    dump = run / ("dump.fst" if sim == "verilator" else "chip_tb.fst")
    assert Path(info["dumpfile"]) == dump, info["dumpfile"]
    fst = gtkw.read_fst(dump)
    assert len(info["signals"]) > 60, info["signals"]
    missing = [s for s in info["signals"] if s not in fst.names]
    assert not missing, f"signals of the view missing in {dump}: {missing}"
    groups = [name for name, _ in info["groups"]]
    top = groups[:groups.index("front-end stages")]
    assert top == ["clock and reset", "audio in", "mel_quant: values diverge here",
                   "feature tap", "detection"], groups
    assert ("mel_framer", False) in info["groups"], info["groups"]  # collapsed
    assert "mel_quant" not in groups, groups  # only once: first, open
    assert fst.timescale == -12, fst.timescale  # the marker's unit: ps
    marker, a = info["marker"], info["named"][0]
    assert info["timestart"] < a <= marker < fst.end, (info["timestart"], a, marker, fst.end)
    assert "mel_quant" in info["markernames"]["A"], info["markernames"]
    # GTKWave honours [timestart] only if a whole page from there is inside the dump: the
    # run went on past the mismatch for that (with slack for a wider waveform pane)
    page = 2 ** -info["zoom"] / gtkw.PIXELS_PER_FRAME * gtkw.SaveFile("", []).wave_px
    assert info["timestart"] + 1.25 * page <= fst.end, (info["timestart"], page, fst.end)
    assert marker < info["timestart"] + page, (marker, info["timestart"], page)
