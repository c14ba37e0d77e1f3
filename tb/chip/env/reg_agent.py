"""The register agent: accesses on the configuration port, one at a time or (weight loads)
in bursts through the harness's burst player; publishes every completed access, response
included, to the coverage collector and the predictor."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge
from pyuvm import ConfigDB, uvm_agent, uvm_analysis_port, uvm_driver, uvm_sequencer

from refmodel.chip import regs
from refmodel.link import pack
from tb.chip.env.sequences import RegBurst, RegItem
from tb.kit.stream import read_int
from tb.kit.testkit import rerun_hint


class RegDriver(uvm_driver):
    """One access at a time on ``reg_*``; fills in the response; publishes completed items.

    A :class:`RegBurst` goes through the harness's burst player instead (one wake-up per
    ``BurstLen`` WLOAD_DATA writes); each of its writes is published as the :class:`RegItem`
    the one-at-a-time path would have produced, response included.
    """

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)
        # what the port ignores: write data of a read, and address, write enable and data
        # while no request is made; driven with seeded junk so that a register block that
        # looks at them shows (its own generator: the tests' stimulus stays as it was)
        self.junk = np.random.default_rng([cocotb.RANDOM_SEED, 0x7E6])

    def _idle_junk(self, dut) -> None:
        dut.reg_we_i.value = int(self.junk.integers(2))
        dut.reg_addr_i.value = int(self.junk.integers(1 << len(dut.reg_addr_i)))
        dut.reg_wdata_i.value = int(self.junk.integers(1 << len(dut.reg_wdata_i)))

    async def _burst(self, dut, burst: RegBurst) -> None:
        size = int(dut.BurstLen.value)
        burst.errs = []
        for lo in range(0, len(burst.words), size):
            words = np.array(burst.words[lo:lo + size], np.uint16)
            await RisingEdge(dut.clk_i)
            dut.wb_words.value = pack(words, 16)
            dut.wb_len_i.value = len(words)
            dut.wb_valid_i.value = 1
            await dut.wb_done_o.value_change
            dut.wb_valid_i.value = 0
            await ReadOnly()  # the last write's error bit lands at the done edge
            errs = read_int(dut.wb_errs_o, "wb_errs_o")
            for k, w in enumerate(words):
                it = RegItem("w_WLOAD_DATA", True, regs.offset("WLOAD_DATA"), int(w))
                it.rdata, it.err = 0, bool(errs >> k & 1)
                burst.errs.append(it.err)
                self.ap.write(it)

    async def run_phase(self):
        dut = ConfigDB().get(None, "", "DUT")
        dut.reg_req_i.value = 0
        self._idle_junk(dut)
        while True:
            item: RegItem | RegBurst = await self.seq_item_port.get_next_item()
            if isinstance(item, RegBurst):
                await self._burst(dut, item)
                self.seq_item_port.item_done()
                continue
            await RisingEdge(dut.clk_i)
            dut.reg_req_i.value = 1
            dut.reg_we_i.value = int(item.write)
            dut.reg_addr_i.value = item.addr
            dut.reg_wdata_i.value = (item.data if item.write else
                                     int(self.junk.integers(1 << len(dut.reg_wdata_i))))
            await RisingEdge(dut.clk_i)  # the request is taken at this edge
            dut.reg_req_i.value = 0
            self._idle_junk(dut)
            await ReadOnly()
            assert read_int(dut.reg_rvalid_o, "reg_rvalid_o") == 1, \
                f"no register response to {item}; rerun: {rerun_hint()}"
            item.rdata = read_int(dut.reg_rdata_o, "reg_rdata_o")
            item.err = bool(read_int(dut.reg_err_o, "reg_err_o"))
            if item.write and item.addr == regs.offset("CTRL"):
                # published after the soft-reset clear cycle, so that the predictor splits the
                # audio stream where the chip did
                await RisingEdge(dut.clk_i)
                await ReadOnly()
            self.ap.write(item)
            self.seq_item_port.item_done()


class RegAgent(uvm_agent):
    """Sequencer and driver of the configuration port."""

    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        self.driver = RegDriver("driver", self)

    def connect_phase(self):
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
