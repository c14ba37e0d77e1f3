"""Link words: how the values a block hands on are laid out in the bits of its ports.

A **field** is one port of a stream link (``out_pair_o`` of ``mel_framer`` is the field
``pair``): ``count`` values of ``bits`` bits each, value ``k`` at bits
``[bits*k + bits-1 : bits*k]``, signed values in two's complement.  A **link** is the fields
that move together on one valid/ready handshake, in port order; an item of a link is the flat
tuple of its values in that order (:attr:`Link.labels` names them).

The stage tables (``refmodel/<ip>/stages.py``) declare every link of the chip with these
classes, and everything that turns link words into numbers or back (block tests, the chip's
monitors, the mismatch probes, the docs) goes through them, so each layout is written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def pack(values: npt.ArrayLike, bits: int) -> int:
    """Words as one bus value: ``values[k]`` at bits ``[bits*k + bits-1 : bits*k]``.

    Signed values are stored as two's complement.  8- and 16-bit words take a fast path.
    """
    arr = np.asarray(values)
    if bits in (8, 16) and arr.size:
        dtype = "<u1" if bits == 8 else "<u2"
        return int.from_bytes((arr.astype(np.int64) & ((1 << bits) - 1)).astype(dtype)
                              .tobytes(), "little")
    mask = (1 << bits) - 1
    return sum((int(v) & mask) << (bits * k) for k, v in enumerate(arr.ravel().tolist()))


def unpack(word: int, bits: int, n: int, *, signed: bool = True) -> list[int]:
    """The inverse of :func:`pack`: ``n`` words of ``bits`` bits (signed by default)."""
    mask = (1 << bits) - 1
    vals = [(int(word) >> (bits * k)) & mask for k in range(n)]
    if signed:
        vals = [v - (1 << bits) if v >> (bits - 1) else v for v in vals]
    return vals


@dataclass(frozen=True)
class Field:
    """One port of a link: ``count`` values of ``bits`` bits (``labels`` names each value)."""

    port: str  # the port's name without its direction suffix (and, in the front end's
    #            stream links, without the in_/out_ prefix: out_<port>_o)
    bits: int
    labels: tuple[str, ...]
    signed: bool = True

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def width(self) -> int:
        """Bits of the port."""
        return self.bits * self.count

    def encode(self, values: Sequence[int] | npt.ArrayLike) -> int:
        """The port's word for ``count`` values."""
        vals = np.asarray(values, dtype=np.int64).ravel()
        if vals.size != self.count:
            raise ValueError(f"field {self.port}: {vals.size} values for {self.count}")
        lo, hi = ((-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1) if self.signed
                  else (0, (1 << self.bits) - 1))
        if vals.size and (vals.min() < lo or vals.max() > hi):
            raise ValueError(f"field {self.port}: a value is outside {lo}..{hi}")
        return pack(vals, self.bits)

    def decode(self, word: int) -> tuple[int, ...]:
        """The ``count`` values of the port's word."""
        return tuple(unpack(word, self.bits, self.count, signed=self.signed))


@dataclass(frozen=True)
class Link:
    """The fields that move on one handshake; an item is the flat tuple of their values."""

    fields: tuple[Field, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(lab for f in self.fields for lab in f.labels)

    @property
    def ports(self) -> tuple[str, ...]:
        return tuple(f.port for f in self.fields)

    def _split(self, item: Sequence[int]) -> list[Sequence[int]]:
        item = tuple(int(v) for v in item)
        if len(item) != len(self.labels):
            raise ValueError(f"link ({', '.join(self.ports)}): {len(item)} values for "
                             f"{len(self.labels)}")
        out, at = [], 0
        for f in self.fields:
            out.append(item[at:at + f.count])
            at += f.count
        return out

    def encode(self, item: Sequence[int]) -> dict[str, int]:
        """``{port: word}`` for one item."""
        return {f.port: f.encode(v) for f, v in zip(self.fields, self._split(item), strict=True)}

    def decode(self, words: Mapping[str, int] | Sequence[int]) -> tuple[int, ...]:
        """One item from ``{port: word}`` (or the words in port order)."""
        if isinstance(words, Mapping):
            words = [words[p] for p in self.ports]
        return tuple(v for f, w in zip(self.fields, words, strict=True) for v in f.decode(w))
