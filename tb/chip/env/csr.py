"""The standard register tests, generated from the register map (``refmodel/chip/regs.py``),
the set OpenTitan runs on every IP: ``csr_hw_reset``, ``csr_rw``, ``csr_bit_bash``,
``csr_aliasing`` and ``mem_walk``.

Every sequence walks :data:`refmodel.chip.regs.REGISTERS` (and every byte address of the port),
so a register added to the map is in every test without editing them.  A sequence drives a
*port*, an async callable ``access(write, addr, data) -> (rdata, err)`` (the chip env's
register agent at the top, the block test's cycle driver in ``tb/chip/test_chip_regs.py``),
and checks each response against :class:`CsrOracle`, the register block's own model
(:class:`refmodel.chip.regs.RegisterModel`) stepped one access at a time on an idle chip:
``csr_hw_reset`` checks the map's reset values directly, the others every read value, every
error response and, through later reads, every side effect (a write that lands on another
register shows up when that one is read).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np

from refmodel.chip import regs

Port = Callable[[bool, int, int], Awaitable[tuple[int, bool]]]
WORD = regs.DATA_BITS // 8
ADDRESSES = range(1 << regs.ADDR_BITS)  # every byte address of the configuration port
FULL = (1 << regs.DATA_BITS) - 1


class CsrMismatch(AssertionError):
    """A register access answered other than the map says."""


class CsrOracle:
    """Expected responses of an idle chip (no audio moving, no window part-way): the register
    model stepped once per access, the weight memory (``wl_depth`` words) refusing, one cycle
    late, a write past its end."""

    def __init__(self, wl_depth: int):
        self.model = regs.RegisterModel()
        self.wl_depth = wl_depth

    def reset(self) -> None:
        self.model.reset()

    def access(self, write: bool, addr: int, data: int) -> tuple[int, bool]:
        m = self.model
        i = regs.RegInputs(req=True, we=write, addr=addr, wdata=data & FULL,
                           wl_err=self._late())
        m.clock(i)
        idle = regs.RegInputs(wl_err=self._late())
        out = m.outputs(idle)
        m.clock(idle)  # the response cycle (a late weight refusal is counted here)
        m.clock(regs.RegInputs())  # the soft-reset pulse, if any, has passed
        return out.rdata, out.err

    def _late(self) -> bool:
        return self.model.wl_sent and self.model.wl_sent_addr >= self.wl_depth


class Csr:
    """Runs the standard register tests on ``port``; ``rng`` seeds data and order; ``log``
    gets one line per test.  ``checked`` counts the responses compared."""

    def __init__(self, port: Port, oracle: CsrOracle, rng: np.random.Generator,
                 log: Callable[[str], None] = print, where: str = ""):
        self.port, self.oracle, self.rng, self.log, self.where = port, oracle, rng, log, where
        self.checked = 0

    async def access(self, write: bool, addr: int, data: int = 0, what: str = "") -> int:
        want = self.oracle.access(write, addr, data)
        got = await self.port(write, addr, data & FULL)
        self.checked += 1
        if (got[0] if not write else 0, got[1]) != (want[0] if not write else 0, want[1]):
            op = f"write {data:#x} to" if write else "read of"
            raise CsrMismatch(
                f"{what}{self.where}: {op} {_name(addr)}: expected (rdata {want[0]:#x}, "
                f"error {int(want[1])}), actual (rdata {got[0]:#x}, error {int(got[1])})")
        return got[0]

    async def read_all(self, what: str) -> None:
        for r in regs.REGISTERS:
            await self.access(False, r.offset, what=what)

    # ------------------------------------------------------------------ the tests
    async def hw_reset(self) -> None:
        """Every register read before any write equals its reset value in the map."""
        for k in self.rng.permutation(len(regs.REGISTERS)):
            r = regs.REGISTERS[int(k)]
            got = await self.access(False, r.offset, what="csr_hw_reset")
            want = 0 if r.access == "wo" else r.reset
            if got != want:
                raise CsrMismatch(f"csr_hw_reset{self.where}: {r.name} reads {got:#x}, its "
                                  f"reset value in refmodel/chip/regs.py is {want:#x}")
        self.log(f"csr_hw_reset: {len(regs.REGISTERS)} registers")

    async def rw(self) -> None:
        """Every register written with random data and read back; read-only ones refuse."""
        for k in self.rng.permutation(len(regs.REGISTERS)):
            r = regs.REGISTERS[int(k)]
            for _ in range(2):
                await self.access(True, r.offset, int(self.rng.integers(0, FULL + 1)),
                                  what="csr_rw")
                await self.access(False, r.offset, what="csr_rw")
        self.log(f"csr_rw: {len(regs.REGISTERS)} registers")

    async def bit_bash(self) -> None:
        """Walking ones and walking zeros over all 32 bits of every register."""
        for r in regs.REGISTERS:
            for b in range(regs.DATA_BITS):
                for data in (1 << b, FULL ^ (1 << b)):
                    await self.access(True, r.offset, data, what=f"csr_bit_bash bit {b}")
                    await self.access(False, r.offset, what=f"csr_bit_bash bit {b}")
        self.log(f"csr_bit_bash: {len(regs.REGISTERS)} registers x {regs.DATA_BITS} bits")

    async def aliasing(self) -> None:
        """Every byte address answers as the map says (unmapped and misaligned ones refused,
        nothing changed), and no write lands on another register: each register written and
        every register read after it; then every address written, then every address read."""
        for r in regs.REGISTERS:
            await self.access(True, r.offset, int(self.rng.integers(0, FULL + 1)),
                              what=f"csr_aliasing (after {r.name})")
            await self.read_all(f"csr_aliasing (after writing {r.name})")
        for a in self.rng.permutation(len(ADDRESSES)):
            await self.access(True, int(a), int(self.rng.integers(0, FULL + 1)),
                              what="csr_aliasing")
        for a in ADDRESSES:
            await self.access(False, a, what="csr_aliasing")
        await self.read_all("csr_aliasing (end)")
        self.log(f"csr_aliasing: {len(ADDRESSES)} byte addresses")

    async def mem_walk(self, words: list[int], start: int = 0) -> None:
        """The weight load space walked end to end from ``start``: WLOAD_ADDR set once, every
        word written in turn (WLOAD_ADDR read back as it advances), then one word past the
        end (refused) and WLOAD_ADDR read."""
        wa, wd = regs.offset("WLOAD_ADDR"), regs.offset("WLOAD_DATA")
        await self.access(True, wa, start, what="mem_walk")
        for k, w in enumerate(words):
            await self.access(True, wd, w, what=f"mem_walk word {start + k}")
            if k % 64 == 0 or k == len(words) - 1:
                await self.access(False, wa, what=f"mem_walk word {start + k}")
        await self.access(True, wd, 0, what="mem_walk past the end")
        await self.access(False, wa, what="mem_walk past the end")
        await self.read_all("mem_walk (end)")
        self.log(f"mem_walk: {len(words)} words from {start}")


def _name(addr: int) -> str:
    r = next((r for r in regs.REGISTERS if r.offset == addr), None)
    return f"{r.name} (0x{addr:02X})" if r else f"unmapped 0x{addr:02X}"
