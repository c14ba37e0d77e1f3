"""Sequence items and sequences of the top-level pyuvm environment.

Audio: :class:`AudioClip` items carry int16 samples (a recording via
``refmodel.audio.load_wav`` or any seeded synthetic generator).  Registers: :class:`RegItem`
is one access on the configuration port; its response fields are filled in by the driver.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyuvm import uvm_sequence, uvm_sequence_item

from refmodel import audio
from refmodel.chip import regs

# Every synthetic generator of refmodel.audio, as (name, callable(seconds, rng) -> int16)
GENERATORS = {
    "tone": lambda s, r: audio.tone(s, float(r.uniform(100, 3500)), float(r.uniform(0.05, 0.9))),
    "chirp": lambda s, r: audio.chirp(s, 60.0, 7500.0, float(r.uniform(0.1, 0.9))),
    "white": lambda s, r: audio.white_noise(s, float(r.uniform(0.01, 0.8)), seed=r),
    "pink": lambda s, r: audio.pink_noise(s, float(r.uniform(0.01, 0.8)), seed=r),
    "silence": lambda s, r: audio.silence(s),
    "square": lambda s, r: audio.square(s, float(r.uniform(100, 2000)), 1.0),
    "impulses": lambda s, r: audio.impulse_train(s, int(r.integers(40, 400)), 1.0),
    "dc": lambda s, r: audio.dc(s, float(r.uniform(-1.0, 1.0))),
    "bursts": lambda s, r: audio.bursts(s, amplitude=float(r.uniform(0.1, 0.9)), seed=r),
}


class AudioClip(uvm_sequence_item):
    """A stretch of int16 audio to stream into the chip; ``pace``: cycles per sample (None:
    the driver's own); ``sync``: hold its first sample for a harness event
    (``BlockPlayer.EVENTS``)."""

    def __init__(self, name: str = "clip", samples: np.ndarray | None = None,
                 label: str = "", pace: int | None = None, sync: str | None = None):
        super().__init__(name)
        self.samples = np.zeros(0, np.int16) if samples is None else np.asarray(samples,
                                                                                 np.int16)
        self.label, self.pace, self.sync = label, pace, sync

    def __str__(self) -> str:
        return f"AudioClip({self.label}, {len(self.samples)} samples)"


class RegItem(uvm_sequence_item):
    """One configuration-port access; ``rdata``/``err`` are the chip's response."""

    def __init__(self, name: str = "reg", write: bool = False, addr: int = 0, data: int = 0):
        super().__init__(name)
        self.write, self.addr, self.data = write, addr, data
        self.rdata: int | None = None
        self.err: bool | None = None

    def __str__(self) -> str:
        op = f"write 0x{self.data:x}" if self.write else "read"
        return f"RegItem({op} @0x{self.addr:02x} -> rdata={self.rdata} err={self.err})"


class RegBurst(uvm_sequence_item):
    """WLOAD_DATA writes of ``words`` in a row, played by the harness's burst player (the same
    register port, one write every 2 cycles); ``errs`` is each write's ``reg_err_o``."""

    def __init__(self, name: str = "burst", words=()):
        super().__init__(name)
        self.words = [int(w) & 0xFFFF for w in words]
        self.errs: list[bool] | None = None

    @property
    def err(self) -> bool | None:
        """Any write refused (``None`` before the burst ran)."""
        return None if self.errs is None else any(self.errs)

    def __str__(self) -> str:
        refused = "?" if self.errs is None else sum(self.errs)
        return f"RegBurst({len(self.words)} WLOAD_DATA writes, {refused} refused)"


class ClipSeq(uvm_sequence):
    """Send one clip, optionally cut into pieces (the driver treats them as one stream)."""

    def __init__(self, name: str, samples: np.ndarray, label: str = "", pieces: int = 1,
                 pace: int | None = None, sync: str | None = None):
        super().__init__(name)
        self.samples, self.label, self.pieces = samples, label, max(1, pieces)
        self.pace, self.sync = pace, sync

    async def body(self):
        for k, part in enumerate(np.array_split(self.samples, self.pieces)):
            item = AudioClip(f"{self.label}[{k}]", part, self.label, self.pace,
                             self.sync if k == 0 else None)
            await self.start_item(item)
            await self.finish_item(item)


def recording(path: str | Path, seconds: float | None = None) -> tuple[np.ndarray, str]:
    """A WAV file's samples (any format, via ``refmodel.audio.load_wav``), optionally cut."""
    x = audio.load_wav(path)
    if seconds is not None:
        x = x[: int(seconds * audio.SAMPLE_RATE)]
    return x, Path(path).name


def synthetic_mix(rng: np.random.Generator, seconds: float, pieces: int = 4
                  ) -> tuple[np.ndarray, str]:
    """Seeded concatenation of random generators (every generator is reachable)."""
    names = list(rng.choice(sorted(GENERATORS), size=pieces))
    parts = [GENERATORS[n](seconds / pieces, rng) for n in names]
    return np.concatenate(parts).astype(np.int16), "+".join(names)


class RegSeq(uvm_sequence):
    """Run a list of register accesses; keeps the completed items in ``done``."""

    def __init__(self, name: str, items: list[RegItem]):
        super().__init__(name)
        self.items = items
        self.done: list[RegItem] = []

    async def body(self):
        for item in self.items:
            await self.start_item(item)
            await self.finish_item(item)
            self.done.append(item)


def reg_write(name: str, value: int) -> RegItem:
    return RegItem(f"w_{name}", True, regs.offset(name), value)


def reg_read(name: str) -> RegItem:
    return RegItem(f"r_{name}", False, regs.offset(name))


def weight_writes(words: list[int]) -> list[RegItem]:
    """WLOAD_ADDR = 0, then one WLOAD_DATA write per 16-bit load-port word, in address order."""
    items = [reg_write("WLOAD_ADDR", 0)]
    items += [reg_write("WLOAD_DATA", w & 0xFFFF) for w in words]
    return items
