"""GTKWave save files (``.gtkw``): a small writer, and a check of their names against an FST.

A save file is plain text that GTKWave reads line by line (``gtkwave dump.fst view.gtkw``, or
``gtkwave view.gtkw`` since the file names its dump):

=============================  ==============================================================
line                           meaning
=============================  ==============================================================
``[dumpfile] "path"``          the waveform file to open
``[timestart] T``              left edge of the view, in the dump's time unit
``*Z M a b ... z``             zoom Z (``2**-Z`` time units per 200 pixels), primary marker M
                               and the 26 named markers A..Z (``-1``: unset)
``[markername] Xtext``         label of named marker X
``@hex``                       display flags of the traces that follow (``TR_*`` bits below)
``-text``                      a blank/comment row; with the group flags, a group's begin/end
``scope.name[msb:lsb]``        a signal, by its full hierarchical name as GTKWave lists it
=============================  ==============================================================

Names: GTKWave joins the FST scopes with ``.``, drops the blanks of a variable's name and
writes every vector as ``name[msb:lsb]`` (the range the dump gives, else ``[len-1:0]``); a
one-bit variable is just ``name``.  :func:`fst_signal_names` lists the names of an FST file
that way (it reads the FST hierarchy block itself: gzip or LZ4, no GTKWave needed), and
:func:`missing_signals` says which signals of a save file are not in its dump.

Command line: ``python -m tb.debug.gtkw check VIEW.gtkw [DUMP.fst]`` (exit 1 if any signal
is missing).
"""

from __future__ import annotations

import gzip
import math
import re
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Trace flag bits (GTKWave's TraceEntFlagBits, analyzer.h).
TR_HEX = 1 << 1
TR_DEC = 1 << 2
TR_BIN = 1 << 3
TR_RJUSTIFY = 1 << 5
TR_BLANK = 1 << 9
TR_SIGNED = 1 << 10
TR_COLLAPSED = 1 << 12
TR_ANALOG_INTERPOLATED = 1 << 16
TR_ANALOG_BLANK_STRETCH = 1 << 17
TR_CLOSED = 1 << 22
TR_GRP_BEGIN = 1 << 23
TR_GRP_END = 1 << 24

FORMATS = {
    "bin": TR_BIN | TR_RJUSTIFY,
    "hex": TR_HEX | TR_RJUSTIFY,
    "dec": TR_DEC | TR_RJUSTIFY,
    "sdec": TR_SIGNED | TR_DEC | TR_RJUSTIFY,
    "analog": TR_ANALOG_INTERPOLATED | TR_SIGNED | TR_DEC | TR_RJUSTIFY,
}
ANALOG_ROWS = 4  # extra row height of an analog trace (blank-stretch rows after it)
NAMED_MARKERS = 26  # A..Z
PIXELS_PER_FRAME = 200  # GTKWave's zoom unit: 2**-zoom time units per 200 pixels


def signal_name(path: str, width: int = 1, msb: int | None = None,
                lsb: int | None = None) -> str:
    """GTKWave's name of a signal: ``path`` (dot-separated scopes) plus ``[msb:lsb]`` for a
    vector (``[width-1:0]`` unless the range is given)."""
    if width <= 1 and msb is None:
        return path
    if msb is None or lsb is None:
        msb, lsb = width - 1, 0
    return f"{path}[{msb}:{lsb}]"


@dataclass(frozen=True)
class Trace:
    """One signal row: full GTKWave name, display format (a key of :data:`FORMATS`)."""

    name: str
    fmt: str = "hex"

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"trace {self.name}: format {self.fmt!r} is not one of "
                             f"{', '.join(FORMATS)}")
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"trace name {self.name!r} is empty or has blanks")


@dataclass(frozen=True)
class Comment:
    """A blank row with a text (a heading or a note between traces)."""

    text: str


@dataclass
class Group:
    """A named, collapsible group of rows (traces, comments, nested groups)."""

    name: str
    rows: list[Trace | Comment | Group] = field(default_factory=list)
    open: bool = True


@dataclass(frozen=True)
class Marker:
    """A time in the dump's unit, with a label (named markers only)."""

    time: int
    label: str = ""


@dataclass
class SaveFile:
    """Everything one ``.gtkw`` holds; :meth:`text` renders it, :meth:`write` saves it.

    ``start``/``end``: the time range to show (dump time units); the zoom is chosen so that
    it fills ``wave_px`` pixels of the waveform pane.  ``marker``: the primary marker;
    ``named``: up to 26 labelled markers (A, B, ...).
    """

    dumpfile: str
    rows: list[Trace | Comment | Group]
    start: int = 0
    end: int | None = None
    marker: int | None = None
    named: list[Marker] = field(default_factory=list)
    window: tuple[int, int] = (1600, 900)
    signals_px: int = 330
    sst_px: int = 180
    comment: str = ""

    @property
    def wave_px(self) -> int:
        return max(200, self.window[0] - self.signals_px - self.sst_px - 40)

    def zoom(self) -> float:
        """GTKWave's zoom for ``start..end`` across the waveform pane (0 if no end)."""
        if self.end is None or self.end <= self.start:
            return 0.0
        return -math.log2(PIXELS_PER_FRAME * (self.end - self.start) / self.wave_px)

    def text(self) -> str:
        if len(self.named) > NAMED_MARKERS:
            raise ValueError(f"{len(self.named)} named markers; GTKWave has {NAMED_MARKERS}")
        out = ["[*]", "[*] written by tb/debug/gtkw.py"]
        out += [f"[*] {ln}" for ln in self.comment.splitlines()]
        out += ["[*]", f'[dumpfile] "{self.dumpfile}"', f"[timestart] {int(self.start)}",
                f"[size] {self.window[0]} {self.window[1]}", "[pos] -1 -1"]
        named = [m.time for m in self.named] + [-1] * (NAMED_MARKERS - len(self.named))
        primary = -1 if self.marker is None else int(self.marker)
        out.append(f"*{self.zoom():.6f} {primary} " + " ".join(str(int(t)) for t in named))
        for letter, m in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", self.named, strict=False):
            if m.label:
                out.append(f"[markername] {letter}{_one_line(m.label)}")
        out += [f"[sst_width] {self.sst_px}", f"[signals_width] {self.signals_px}",
                "[sst_expanded] 1", "[sst_vpaned_height] 200"]
        flags: list[int | None] = [None]  # the flags in force (one @ line per change)
        for row in self.rows:
            _render(row, out, flags)
        return "\n".join(out) + "\n"

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.text())
        return path

    def traces(self) -> list[Trace]:
        """Every trace, groups flattened, in order."""
        return list(_flatten(self.rows))


def _one_line(s: str) -> str:
    return " ".join(s.split())


def _set_flags(out: list[str], flags: list[int | None], value: int) -> None:
    if flags[0] != value:
        out.append(f"@{value:x}")
        flags[0] = value


def _render(row: Trace | Comment | Group, out: list[str], flags: list[int | None]) -> None:
    if isinstance(row, Trace):
        _set_flags(out, flags, FORMATS[row.fmt])
        out.append(row.name)
        if row.fmt == "analog":
            _set_flags(out, flags, TR_ANALOG_BLANK_STRETCH)
            out += ["-"] * ANALOG_ROWS
    elif isinstance(row, Comment):
        _set_flags(out, flags, TR_BLANK)
        out.append(f"-{_one_line(row.text)}")
    else:
        closed = 0 if row.open else TR_CLOSED
        _set_flags(out, flags, TR_GRP_BEGIN | TR_BLANK | closed)
        out.append(f"-{_one_line(row.name)}")
        for r in row.rows:
            _render(r, out, flags)
        _set_flags(out, flags, TR_GRP_END | TR_BLANK | closed
                   | (0 if row.open else TR_COLLAPSED))
        out.append(f"-{_one_line(row.name)}")


def _flatten(rows: Iterable[Trace | Comment | Group]) -> Iterable[Trace]:
    for r in rows:
        if isinstance(r, Trace):
            yield r
        elif isinstance(r, Group):
            yield from _flatten(r.rows)


# ------------------------------------------------------------------------ reading back
def read_save_file(text: str) -> dict:
    """The parts of a save file this module writes: ``dumpfile``, ``timestart``, ``zoom``,
    ``marker``, ``named`` (26 times), ``markernames`` ({letter: label}), ``signals`` (names in
    order), ``groups`` ([(name, open)] in order of their begin rows)."""
    info: dict = {"signals": [], "groups": [], "markernames": {}, "dumpfile": None,
                  "timestart": 0, "zoom": 0.0, "marker": -1, "named": []}
    flags = 0
    for line in text.splitlines():
        if not line or line.startswith("[*]"):
            continue
        if line.startswith("[dumpfile]"):
            info["dumpfile"] = line.split(None, 1)[1].strip().strip('"')
        elif line.startswith("[timestart]"):
            info["timestart"] = int(line.split()[1])
        elif line.startswith("[markername]"):
            rest = line.split(None, 1)[1]
            info["markernames"][rest[0]] = rest[1:]
        elif line.startswith("["):
            continue
        elif line.startswith("*"):
            parts = line[1:].split()
            info["zoom"], info["marker"] = float(parts[0]), int(parts[1])
            info["named"] = [int(p) for p in parts[2:]]
        elif line.startswith("@"):
            flags = int(line[1:], 16)
        elif line.startswith("-"):
            if flags & TR_GRP_BEGIN:
                info["groups"].append((line[1:], not flags & TR_CLOSED))
        else:
            info["signals"].append(line.strip())
    return info


# ------------------------------------------------------------------------ FST hierarchy
_FST_BL_HDR, _FST_BL_HIER, _FST_BL_HIER_LZ4, _FST_BL_HIER_LZ4DUO = 0, 4, 6, 7
_FST_ST_ATTRBEGIN, _FST_ST_ATTREND, _FST_ST_SCOPE, _FST_ST_UPSCOPE = 252, 253, 254, 255
_FST_VT_PORT = 18
# integer, parameter, real, string types: GTKWave shows them without a bit range
_FST_VT_NO_RANGE = frozenset({1, 2, 3, 4, 20, 21, 24, 25, 26, 29})


class FstError(ValueError):
    """Not an FST file, or one this reader cannot follow (for example, still being written)."""


@dataclass(frozen=True)
class FstInfo:
    """Header and hierarchy of an FST file.  ``timescale``: the time unit as a power of ten
    (-12: ps); ``names``: every variable as GTKWave names it."""

    start: int
    end: int
    timescale: int
    names: frozenset[str]


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def lz4_block_decompress(src: bytes, size: int) -> bytes:
    """Decompress one LZ4 *block* (no frame header) of known decompressed ``size``."""
    out = bytearray()
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        out += src[i:i + lit]
        i += lit
        if i >= n:  # the last sequence has literals only
            break
        offset = src[i] | src[i + 1] << 8
        i += 2
        if offset == 0 or offset > len(out):
            raise FstError(f"LZ4: bad match offset {offset} at output byte {len(out)}")
        mlen = token & 15
        if mlen == 15:
            while True:
                b = src[i]
                i += 1
                mlen += b
                if b != 255:
                    break
        mlen += 4
        start = len(out) - offset
        for k in range(mlen):  # byte by byte: a match may overlap its own output
            out.append(out[start + k])
    if len(out) != size:
        raise FstError(f"LZ4: {len(out)} bytes decompressed, {size} expected")
    return bytes(out)


def _hier_bytes(kind: int, body: bytes) -> bytes:
    uclen = struct.unpack(">Q", body[:8])[0]
    data = body[8:]
    if kind == _FST_BL_HIER:
        return gzip.decompress(data)[:uclen]
    if kind == _FST_BL_HIER_LZ4:
        return lz4_block_decompress(data, uclen)
    once, pos = _varint(data, 0)  # LZ4DUO: compressed twice
    return lz4_block_decompress(lz4_block_decompress(data[pos:], once), uclen)


def _var_name(raw: str, length: int, vartype: int = 16) -> str:
    """GTKWave's spelling of an FST variable name (its FST loader's ``handle_var``): blanks
    dropped; a trailing ``[msb:lsb]`` kept (``[len-1:0]`` for a packed 2-D vector, ``[msb]``
    when one bit wide); ``[len-1:0]`` added to a vector without a range; integer, real and
    string variables without any range."""
    name = raw.replace(" ", "")
    m = re.search(r"\[(-?\d+)(?::(-?\d+))?\]$", name)
    if vartype in _FST_VT_NO_RANGE:
        return name[:m.start()] if m is not None and m.group(2) is not None else name
    if m is None:
        return name if length <= 1 else f"{name}[{length - 1}:0]"
    if m.group(2) is None:  # one index: a bit of an array, or (length > 1) an array row
        return name if length <= 1 else f"{name}[{length - 1}:0]"
    base, msb, lsb = name[:m.start()], int(m.group(1)), int(m.group(2))
    if length == 1:
        return f"{base}[{msb}]"
    width = abs(msb - lsb) + 1
    if length > width and length % width == 0:
        return f"{base}[{length - 1}:0]"
    return name


def read_fst(path: str | Path) -> FstInfo:
    """Header times, time unit and every variable name of an FST file (closed by its writer)."""
    buf = Path(path).read_bytes()
    pos = 0
    start = end = None
    timescale = 0
    hier = None
    while pos + 9 <= len(buf):
        kind = buf[pos]
        seclen = struct.unpack(">Q", buf[pos + 1:pos + 9])[0]
        if seclen < 8 or pos + 1 + seclen > len(buf):
            raise FstError(f"{path}: block {kind} at byte {pos} runs past the end of the file")
        body = buf[pos + 9:pos + 1 + seclen]
        if kind == _FST_BL_HDR:
            start, end = struct.unpack(">QQ", body[:16])
            timescale = struct.unpack("b", body[64:65])[0]
        elif kind in (_FST_BL_HIER, _FST_BL_HIER_LZ4, _FST_BL_HIER_LZ4DUO):
            hier = _hier_bytes(kind, body)
        pos += 1 + seclen
    if start is None or hier is None:
        raise FstError(f"{path}: no header or no hierarchy block (is it still being written?)")
    names: set[str] = set()
    scopes: list[str] = []
    i = 0
    while i < len(hier):
        tag = hier[i]
        i += 1
        if tag == _FST_ST_SCOPE:
            i += 1  # scope type
            j = hier.index(0, i)
            scopes.append(hier[i:j].decode(errors="replace"))
            i = hier.index(0, j + 1) + 1  # component name
        elif tag == _FST_ST_UPSCOPE:
            scopes.pop()
        elif tag == _FST_ST_ATTRBEGIN:
            i += 2  # attribute type, subtype
            i = hier.index(0, i) + 1
            _, i = _varint(hier, i)
        elif tag == _FST_ST_ATTREND:
            pass
        else:  # a variable: direction, name, length, alias
            i += 1
            j = hier.index(0, i)
            raw = hier[i:j].decode(errors="replace")
            length, i = _varint(hier, j + 1)
            _, i = _varint(hier, i)
            if tag == _FST_VT_PORT:
                length = (length - 2) // 3
            names.add(".".join([*scopes, _var_name(raw, length, tag)]))
    return FstInfo(start, end, timescale, frozenset(names))


def fst_signal_names(path: str | Path) -> frozenset[str]:
    """Every variable of an FST file under the name GTKWave gives it."""
    return read_fst(path).names


def missing_signals(save_text: str, fst: str | Path | None = None) -> list[str]:
    """Signals of a save file that its dump (or ``fst``) does not have."""
    info = read_save_file(save_text)
    dump = fst if fst is not None else info["dumpfile"]
    if dump is None:
        raise FstError("the save file names no dump file and none was given")
    names = fst_signal_names(dump)
    return [s for s in info["signals"] if s not in names]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3) or args[0] != "check":
        print("usage: python -m tb.debug.gtkw check VIEW.gtkw [DUMP.fst]", file=sys.stderr)
        return 2
    text = Path(args[1]).read_text()
    try:
        missing = missing_signals(text, args[2] if len(args) == 3 else None)
    except (OSError, FstError) as exc:
        print(f"gtkw check: {exc}", file=sys.stderr)
        return 2
    n = len(read_save_file(text)["signals"])
    for s in missing:
        print(f"missing: {s}")
    print(f"{n - len(missing)} of {n} signals found in the dump")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
