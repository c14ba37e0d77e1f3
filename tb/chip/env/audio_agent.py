"""The audio agent: streams clips into the chip through the harness's block player and
publishes the samples the chip accepted (int16 arrays, one per block) to the predictor."""

from __future__ import annotations

from collections.abc import Callable

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge, Timer
from cocotb.utils import get_sim_time
from pyuvm import ConfigDB, uvm_agent, uvm_analysis_port, uvm_driver, uvm_sequencer

from refmodel.link import pack
from tb.chip.env.sequences import AudioClip
from tb.kit.stream import GapModel, read_int
from tb.kit.testkit import rerun_hint


class BlockPlayer:
    """Python side of the harness's audio block player (``tb/chip/chip_tb.sv``).

    Each block of up to ``BlockLen`` samples is one write of the packed samples, their idle
    gaps (seeded, drawn per sample from ``gaps``) and the pacing, then one wake-up when the
    harness toggles ``blk_done_o`` (the block's last sample was taken).  Every sample of a
    finished block was accepted by the chip, in order; ``on_block`` callbacks receive each
    finished block (a copy).  ``overruns`` counts the harness's paced-mode overruns.

    ``send(..., pace=N, sync=e)``: that clip paced at N cycles per sample (instead of the
    player's own ``pace``), and its first sample held until a cycle with harness event ``e``
    (``EVENTS``: it arrives in that very cycle).  :meth:`flush` hands the callbacks, before
    the block ends, the samples the chip took so far (the harness counts them), so that a
    soft reset in the middle of a block splits the stream where the chip did.
    """

    # the harness's events (chip_tb.sv, Events), by sync_i value
    EVENTS = {"frame_release": 1, "window_end": 2, "soft_reset": 3, "reg_write": 4}
    # A block whose samples stop moving for this many clock cycles fails the test: the chip
    # hangs.  Far above any stall a test makes on purpose (ChainStallTest holds the
    # detection output for about 10^5 cycles; a 40-cycle pace is 4 * 10^4 cycles per block).
    STALL_CYCLES = 1_000_000

    def __init__(self, dut, *, gaps: GapModel | None = None, pace: int = 0,
                 name: str = "audio"):
        self.dut, self.gaps, self.pace, self.name = dut, gaps or GapModel(None), pace, name
        self._watch = None  # the stall watchdog task, started with the first block
        self.block_len = int(dut.BlockLen.value)
        self.gap_bits = int(dut.GapW.value)
        self.sent = 0
        self.blocks = 0
        self.overruns = 0
        self.on_block: list[Callable[[np.ndarray], None]] = []
        self.paces: list[int] = []  # the pacing of every paced block (coverage)
        self.restart()

    def restart(self) -> None:
        """The harness was reset: its sample count starts again from 0."""
        self.before = 0  # samples of finished blocks since the harness's reset
        self.block = np.zeros(0, np.int16)  # the block being played
        self.published = 0  # samples of it handed to the callbacks

    def _publish(self, upto: int) -> None:
        part = self.block[self.published:upto]
        self.published = max(self.published, upto)
        if len(part):
            for cb in self.on_block:
                cb(part.copy())

    def flush(self, taken: int) -> None:
        """Hand on the samples up to harness count ``taken`` (samples taken since reset)."""
        self._publish(min(max(taken - self.before, 0), len(self.block)))

    async def send(self, samples: np.ndarray, *, pace: int | None = None,
                   sync: str | None = None) -> None:
        """Play every sample in order; returns once the last one was accepted."""
        dut = self.dut
        x = np.asarray(samples, np.int16)
        pace = self.pace if pace is None else pace
        await RisingEdge(dut.clk_i)  # callers may come from ReadOnly (a register response)
        for lo in range(0, len(x), self.block_len):
            block = x[lo:lo + self.block_len]
            if self.gaps.prob == 0.0:  # no gaps: nothing to draw
                gaps = np.zeros(len(block), np.uint8)
            else:
                gaps = np.array([self.gaps.draw() for _ in block], np.uint8)
            if gaps.size and int(gaps.max()) >> self.gap_bits:
                raise ValueError(f"{self.name}: gap {int(gaps.max())} needs more than "
                                 f"{self.gap_bits} bits (GapW)")
            # the harness's block buffers (internal variables, not ports: see chip_tb.sv)
            dut.blk_samples.value = pack(block, 16)
            dut.blk_gaps.value = pack(gaps, self.gap_bits) if gaps.any() else 0
            dut.blk_len_i.value = len(block)
            dut.pace_i.value = pace
            dut.sync_i.value = self.EVENTS[sync] if sync and lo == 0 else 0
            if pace:
                self.paces.append(pace)
            self.block, self.published = block, 0
            dut.blk_valid_i.value = 1
            # overruns_o cannot change at the edge that ends a block (a sample moves there),
            # so reading it right after the done toggle is safe on both simulators
            before = read_int(dut.overruns_o, f"{self.name} overruns_o")
            if self._watch is None:
                self._watch = cocotb.start_soon(self._watchdog())
            await dut.blk_done_o.value_change
            # the player is idle now: offer the next block, or nothing, before the next edge
            dut.blk_valid_i.value = 0
            self.overruns += read_int(dut.overruns_o, f"{self.name} overruns_o") - before
            self.sent += len(block)
            self.blocks += 1
            self._publish(len(block))
            self.before += len(block)
            self.block, self.published = np.zeros(0, np.int16), 0

    async def _watchdog(self) -> None:
        """Fail the test when one block stays on offer for a whole STALL_CYCLES interval
        while the chip takes none of its samples (one background task per player: no cost
        per block)."""
        dut = self.dut
        last = None  # (block number, samples taken) at the previous look, if a block was on
        while True:
            period_ns = max(2 * read_int(dut.clk_half_ns_i, "clk_half_ns_i"), 2)  # 0: stopped
            await Timer(self.STALL_CYCLES * period_ns, unit="ns")
            if not len(self.block):
                last = None
                continue
            now = (self.blocks, read_int(dut.taken_o, f"{self.name} taken_o"))
            if now == last:
                raise AssertionError(
                    f"{self.name}: the chip took no audio sample for {self.STALL_CYCLES} "
                    f"cycles ({now[1]} taken since reset, a block of {len(self.block)} on "
                    f"offer at {get_sim_time('ns')} ns): it hangs; rerun: {rerun_hint()}")
            last = now


class AudioDriver(uvm_driver):
    """Streams clips through the harness's block player with seeded random gaps; publishes
    each block of accepted samples (int16 array) to the predictor, and (``clip_ap``) each clip
    before it plays."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        self.clip_ap = uvm_analysis_port("clip_ap", self)

    def start_of_simulation_phase(self):
        cfg = ConfigDB()
        self.stream = self.make_stream(cfg.get(None, "", "DUT"), cfg.get(None, "", "RNG"))
        self.stream.on_block.append(self.ap.write)

    def make_stream(self, dut, rng) -> BlockPlayer:
        gap_p = ConfigDB().get(self, "", "GAP_PROB") if self._has("GAP_PROB") else 0.0
        return BlockPlayer(dut, gaps=GapModel(rng, gap_p, 12), name="audio")

    def _has(self, key: str) -> bool:
        try:
            ConfigDB().get(self, "", key)
            return True
        except Exception:  # pyuvm raises UVMConfigItemNotFound
            return False

    async def run_phase(self):
        while True:
            clip: AudioClip = await self.seq_item_port.get_next_item()
            self.clip_ap.write(clip.samples)
            await self.stream.send(clip.samples, pace=clip.pace, sync=clip.sync)
            self.seq_item_port.item_done()


class PacedAudioDriver(AudioDriver):
    """Real-time pacing: one sample every ``PACE`` cycles; the harness counts overruns."""

    def make_stream(self, dut, rng) -> BlockPlayer:
        return BlockPlayer(dut, pace=ConfigDB().get(None, "", "PACE"), name="audio")


class AudioAgent(uvm_agent):
    """Sequencer and driver (``AudioDriver``, or a factory override) of the audio input."""

    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = AudioDriver.create("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
