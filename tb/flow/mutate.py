"""``make mutate``: mutation testing of the project's RTL -- what share of planted bugs fail a test.

Mutants are generated from the RTL's syntax tree (``pyslang``, the slang SystemVerilog front
end, parsing each file of ``rtl/files.f`` with ``SYNTHESIS`` defined, so the `ifndef SYNTHESIS
assertion blocks are not code here), never hand-listed.  Each mutant is one edit: a file, a
byte span, the original text and its replacement.  Only synthesizable logic is mutated: the
bodies of ``assign``, ``always_comb``/``always_ff`` and functions.  Never mutated: parameter
and localparam declarations (widths and constants come from the refmodel configs through the
generated packages; ``make gen`` and the configuration tests own them), declarations, event
controls, cast widths, assertions, ``initial`` blocks, the generated ``gen/`` files, packages
and the simulation-only ``prim_stream_check``.  Operators (:data:`OPS`):

``relational``  ``<`` -> ``<=``, ``<=`` -> ``<``, ``>`` -> ``>=``, ``>=`` -> ``>``
``equality``    ``==`` <-> ``!=``
``arith``       ``+`` <-> ``-``
``logical``     ``&&`` <-> ``||``
``bitwise``     ``&`` <-> ``|``, ``^`` -> ``|``
``shift``       ``<<`` <-> ``>>``, ``>>>`` -> ``>>`` (signedness)
``drop``        ``a op b`` -> ``a`` (and -> ``b`` for ``&&``/``||``): a dropped term or guard
``invert``      ``if (c)`` -> ``if (!(c))``, ``c ? a : b`` -> ``!(c) ? a : b``
``stuck``       the enable of a guarded ``always_ff`` update forced to ``1'b1`` and ``1'b0``
``constant``    a literal +1 and -1 (``'0`` <-> ``'1``)
``bitselect``   a select index or range off by one

Conditions that read ``rst_ni`` are not inverted or stuck (the reset is not logic to test).

A run (:func:`main`): the candidates of the selected modules (``--modules`` glob), a seeded
sample stratified over modules (``--mutants N``, ``--seed``: the same seed and N give the
same mutants), then one job per mutant.  A job works in a slot: a copy of ``rtl/`` under
``sim_build/mutate/`` with its own build folder (the runner's ``MELSTM_RTL`` and
``MELSTM_BUILD``), so the checkout is never touched and, the slot paths being fixed, ccache
reuses the compiled files a mutant does not change.  It applies the edit, lints the mutated
tree with Verilator (the module as top; an error there makes the mutant *invalid*, not
killed), then runs the tests that cover the module with ``pytest -x`` (first failure stops
it) under a timeout (a hang is *killed by timeout*).  A build error in a test (a mutant that
only elaborates wrongly at some parameters) is *invalid* too.

Which tests judge (``--suite``):

``test``     the tests of ``make test`` on Verilator that cover the module: its block test
             (the finding rule, ``refmodel/blocks.py``), the tests the testplan
             (``docs/testplan.yml``) lists for ``code:<module>``, then the block tests of
             every block whose hierarchy holds the module, up to ``tb/chip/test_chip_top.py``:
             cheapest (own block) first
``regress``  the default regression (``make SIM=verilator``): the top-level tests over two
             seeds, for every module inside ``chip_top``

Before the mutants, a baseline runs the same tests on an unmutated copy: a test that fails
there would kill every mutant, so the run stops and names it; its durations set each
mutant's timeout (``--timeout-factor`` times the baseline of its tests, plus build time).

Mutants shown equivalent (no test can kill them: the change does not alter behaviour) are
listed with a reason in ``docs/mutate_equivalent.yml`` (by id, or by file, line, old and new
text); a survivor listed there counts as equivalent.  Kill rate = (killed + timed out) /
(valid - equivalent), valid = all - invalid.  The kill table is printed and written to
``results/mutate/report.md`` and ``report.json``, with every survivor's change and the one
command that reruns it (``make mutate MUTANT=<id>``).

``CLUSTER`` (``tcp://host:port`` or ``slurm|lsf|sge|pbs``) runs the jobs on the project's Dask
farm (``tb/flow/farm.py``: same checkout on a shared filesystem); otherwise ``-j`` jobs run
in parallel on this machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import fnmatch
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from tb.kit.runner import RESULTS, ROOT, file_list

RTL = ROOT / "rtl"  # the checkout's RTL (the runner's RTL may point at a slot)
WORK = ROOT / "sim_build" / "mutate"  # slots: RTL copies and their builds
OUT = RESULTS / "mutate"
EQUIVALENT = ROOT / "docs" / "mutate_equivalent.yml"
TESTPLAN = ROOT / "docs" / "testplan.yml"
CHIP_TOP_TEST = "tb/chip/test_chip_top.py"
# Not design: the simulation-only stream checker (its own test breaks every rule it checks).
SKIP_FILES = ("prim/prim_stream_check.sv",)
TEST_MARKERS = "not slow and not bench and not signoff"  # make test's
REGRESS_MARKERS = "sim and not slow and not bench"  # tb.flow.regress's default
REGRESS_NSEEDS = 2
OPS = ("relational", "equality", "arith", "logical", "bitwise", "shift", "drop", "invert",
       "stuck", "constant", "bitselect")
OUTCOMES = ("killed", "timeout", "survived", "equivalent", "invalid")


class MutateError(ValueError):
    """Bad input (a knob, the equivalence file): one message, exit status 2."""


# ------------------------------------------------------------------------------- mutants
@dataclass(frozen=True)
class Mutant:
    """One edit of one RTL file: ``text[start:end]`` (``old``) becomes ``new``."""

    id: str
    module: str
    file: str  # relative to rtl/, as in rtl/files.f
    line: int
    col: int  # 1-based
    start: int
    end: int
    old: str
    new: str
    op: str

    @property
    def where(self) -> str:
        return f"rtl/{self.file}:{self.line}"

    def apply(self, text: str) -> str:
        if text[self.start:self.end] != self.old:
            raise MutateError(f"{self.id}: rtl/{self.file} changed under the mutant "
                              f"({self.start}..{self.end} is not {self.old!r})")
        return text[:self.start] + self.new + text[self.end:]

    def change(self) -> str:
        return f"{self.where}:{self.col}: {_short(self.old)} -> {_short(self.new)}"


def _short(s: str, n: int = 70) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n - 3] + "..."


_SWAP = {  # node kind -> (op, replacement operator)
    "LessThanExpression": ("relational", "<="),
    "LessThanEqualExpression": ("relational", "<"),
    "GreaterThanExpression": ("relational", ">="),
    "GreaterThanEqualExpression": ("relational", ">"),
    "EqualityExpression": ("equality", "!="),
    "InequalityExpression": ("equality", "=="),
    "AddExpression": ("arith", "-"),
    "SubtractExpression": ("arith", "+"),
    "LogicalAndExpression": ("logical", "||"),
    "LogicalOrExpression": ("logical", "&&"),
    "BinaryAndExpression": ("bitwise", "|"),
    "BinaryOrExpression": ("bitwise", "&"),
    "BinaryXorExpression": ("bitwise", "|"),
    "LogicalShiftLeftExpression": ("shift", ">>"),
    "LogicalShiftRightExpression": ("shift", "<<"),
    "ArithmeticShiftRightExpression": ("shift", ">>"),
}
_DROP = {"AddExpression", "SubtractExpression", "LogicalAndExpression", "LogicalOrExpression",
         "BinaryAndExpression", "BinaryOrExpression", "BinaryXorExpression"}
_DROP_LEFT_TOO = {"LogicalAndExpression", "LogicalOrExpression"}
# Subtrees that are not synthesizable logic, or whose numbers are not logic (widths).
_EXCLUDE = {"ParameterDeclaration", "ParameterDeclarationStatement", "TypeParameterDeclaration",
            "DataDeclaration", "NetDeclaration", "TypedefDeclaration", "FunctionPrototype",
            "EventControlWithExpression", "EventControl", "ImmediateAssertStatement",
            "ImmediateAssumeStatement", "ImmediateCoverStatement", "ImmediateAssertionMember",
            "DeferredAssertion", "AssertPropertyStatement", "AssumePropertyStatement",
            "CoverPropertyStatement", "ConcurrentAssertionMember", "InitialBlock",
            "FinalBlock", "ElabSystemTask", "HierarchyInstantiation", "GenvarDeclaration",
            "LocalVariableDeclaration"}
_LOGIC = {"ContinuousAssign", "AlwaysCombBlock", "AlwaysFFBlock", "AlwaysBlock",
          "FunctionDeclaration"}
_VECTOR = re.compile(r"(?i)'(s?)([dhbo])")
_RADIX = {"d": 10, "h": 16, "b": 2, "o": 8}


def _kind(n) -> str:
    return str(n.kind).rsplit(".", 1)[-1]


def _is_token(n) -> bool:
    import pyslang

    return isinstance(n, pyslang.parsing.Token)


def _span(n) -> tuple[int, int]:
    if _is_token(n):
        return n.range.start.offset, n.range.end.offset
    r = n.sourceRange
    return r.start.offset, r.end.offset


def parse(path: Path):
    """The syntax tree of one RTL file, parsed with ``SYNTHESIS`` defined."""
    import pyslang

    opts = pyslang.parsing.PreprocessorOptions()
    opts.predefines = ["SYNTHESIS"]
    tree = pyslang.syntax.SyntaxTree.fromText(path.read_text(), pyslang.SourceManager(),
                                              name=path.name, path=str(path),
                                              options=pyslang.Bag([opts]))
    errors = [d for d in tree.diagnostics if d.isError()]
    if errors:
        raise MutateError(f"{path}: pyslang cannot parse it ({len(errors)} error(s))")
    return tree


def _children(n) -> Iterator:
    if _is_token(n):
        return
    for c in n:
        if c is not None:
            yield c


def _reads_reset(n, text: str) -> bool:
    a, b = _span(n)
    return "rst_ni" in text[a:b]


def _has_nonblocking(n) -> bool:
    if _is_token(n):
        return False
    if _kind(n) == "NonblockingAssignmentExpression":
        return True
    return any(_has_nonblocking(c) for c in _children(n))


def _literal_edits(n, text: str) -> list[tuple[int, int, str]]:
    """(start, end, new) of a literal's +1 and -1 (``'0``/``'1`` flipped)."""
    a, b = _span(n)
    k = _kind(n)
    if k == "UnbasedUnsizedLiteralExpression":
        old = text[a:b]
        return [(a, b, {"'0": "'1", "'1": "'0"}[old])] if old in ("'0", "'1") else []
    if k == "IntegerLiteralExpression":
        raw = text[a:b].replace("_", "")
        if not raw.isdigit():
            return []
        v = int(raw)
        return [(a, b, str(v + 1))] + ([(a, b, str(v - 1))] if v > 0 else [])
    if k == "IntegerVectorExpression":
        src = text[a:b]
        m = _VECTOR.search(src)
        if not m:
            return []
        size_txt, digits = src[:m.start()].strip(), src[m.end():].replace("_", "").strip()
        radix = _RADIX[m.group(2).lower()]
        try:
            v = int(digits, radix)
        except ValueError:  # x/z digits
            return []
        width = int(size_txt) if size_txt.isdigit() else None
        out = []
        for nv in (v + 1, v - 1):
            if nv < 0 or (width is not None and nv >= 1 << width):
                continue
            body = {10: str(nv), 16: f"{nv:x}", 2: f"{nv:b}", 8: f"{nv:o}"}[radix]
            if radix == 2 and width is not None:
                body = body.zfill(width)
            out.append((a, b, src[:m.end()] + body))
        return out
    return []


def candidates_in(text: str, tree, rel: str) -> list[Mutant]:
    """Every mutant of one parsed RTL file (``rel``: its name relative to ``rtl/``)."""
    found: list[tuple[str, int, int, str, str]] = []  # module, start, end, new, op

    def site(mod: str, a: int, b: int, new: str, op: str) -> None:
        found.append((mod, a, b, new, op))

    def walk(n, mod: str, logic: bool, ff: bool, sel: bool) -> None:
        if _is_token(n):
            return
        k = _kind(n)
        if k in _EXCLUDE:
            return
        if k == "ModuleDeclaration":
            mod = n.header.name.valueText
        if k in _LOGIC:
            logic = True
            ff = ff or k == "AlwaysFFBlock"
        if k == "CastExpression":  # W'(x): the width W is not logic, x is
            walk(n.right, mod, logic, ff, sel)
            return
        if logic:
            a, b = _span(n)
            if k in _SWAP:
                op, rep = _SWAP[k]
                ta, tb = _span(n.operatorToken)
                site(mod, ta, tb, rep, op)
            if k in _DROP:
                la, lb = _span(n.left)
                ra, rb = _span(n.right)
                site(mod, a, b, text[la:lb], "drop")
                if k in _DROP_LEFT_TOO:
                    site(mod, a, b, text[ra:rb], "drop")
            if k == "ConditionalStatement" and len(n.predicate.conditions) == 1:
                cond = n.predicate.conditions[0]
                if not _reads_reset(cond, text):
                    ca, cb = _span(cond)
                    site(mod, ca, cb, f"!({text[ca:cb]})", "invert")
                    if ff and _has_nonblocking(n.statement):
                        site(mod, ca, cb, "1'b1", "stuck")
                        site(mod, ca, cb, "1'b0", "stuck")
            if k == "ConditionalExpression" and len(n.predicate.conditions) == 1:
                cond = n.predicate.conditions[0]
                if not _reads_reset(cond, text):
                    ca, cb = _span(cond)
                    site(mod, ca, cb, f"!({text[ca:cb]})", "invert")
            for la, lb, new in _literal_edits(n, text):
                site(mod, la, lb, new, "bitselect" if sel else "constant")
            if k == "BitSelect" and _kind(n.expr) not in (
                    "IntegerLiteralExpression", "IntegerVectorExpression"):
                ea, eb = _span(n.expr)
                site(mod, ea, eb, f"{text[ea:eb]} + 1'b1", "bitselect")
            if k == "SimpleRangeSelect":
                for side in (n.left, n.right):
                    if _kind(side) not in ("IntegerLiteralExpression",
                                           "IntegerVectorExpression"):
                        sa, sb = _span(side)
                        site(mod, sa, sb, f"({text[sa:sb]}) - 1", "bitselect")
        inner = sel or k in ("BitSelect", "SimpleRangeSelect", "AscendingRangeSelect",
                             "DescendingRangeSelect")
        for c in _children(n):
            walk(c, mod, logic, ff, inner)

    walk(tree.root, "", False, False, False)
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))
    out: dict[tuple[int, int, str], Mutant] = {}
    seen: Counter = Counter()
    for mod, a, b, new, op in found:
        if (a, b, new) in out or text[a:b] == new:
            continue
        line = _line_of(starts, a)
        col = a - starts[line - 1]
        line_text = lines[line - 1].strip()
        # The id names the edit by its line's text, not its line number: it survives edits
        # elsewhere in the file.
        key = f"{rel}|{line_text}|{col}|{text[a:b]}|{new}"
        seen[key] += 1
        h = hashlib.sha1(f"{key}|{seen[key]}".encode()).hexdigest()[:8]
        out[(a, b, new)] = Mutant(id=f"{mod}.{h}", module=mod, file=rel, line=line,
                                  col=col + 1, start=a, end=b, old=text[a:b], new=new, op=op)
    return sorted(out.values(), key=lambda m: (m.start, m.end, m.new))


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi - 1:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


def design_files(rtl: Path = RTL) -> list[str]:
    """The RTL files whose modules are mutated: ``rtl/files.f`` less packages, generated files
    and :data:`SKIP_FILES`."""
    return [f for f in _files_f(rtl) if not f.endswith("_pkg.sv") and "/gen/" not in f
            and f not in SKIP_FILES]


def _files_f(rtl: Path) -> list[str]:
    if rtl == RTL:
        return file_list()
    lines = (rtl / "files.f").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def generate(rtl: Path = RTL, modules: str = "*") -> list[Mutant]:
    """Every candidate mutant of the design modules matching the glob ``modules``."""
    out: list[Mutant] = []
    for rel in design_files(rtl):
        if not fnmatch.fnmatch(Path(rel).stem, modules):
            continue
        path = rtl / rel
        out += candidates_in(path.read_text(), parse(path), rel)
    return out


def sample(cands: Sequence[Mutant], n: int, seed: int) -> list[Mutant]:
    """``n`` mutants (all when ``n`` is 0 or more than there are), stratified over modules:
    every module gets at least one, the rest in proportion to its candidates (largest
    remainder); the same candidates, ``n`` and ``seed`` give the same list."""
    by_mod: dict[str, list[Mutant]] = {}
    for m in cands:
        by_mod.setdefault(m.module, []).append(m)
    if n <= 0 or n >= len(cands):
        return list(cands)
    mods = sorted(by_mod)
    if n < len(mods):  # fewer mutants than modules: a seeded choice of modules, one each
        mods = sorted(random.Random(seed).sample(mods, n))
    quota = {m: 1 for m in mods}
    left = n - len(mods)
    total = sum(len(by_mod[m]) - 1 for m in mods)
    if left and total:
        share = {m: left * (len(by_mod[m]) - 1) / total for m in mods}
        for m in mods:
            quota[m] += int(share[m])
        rest = left - sum(int(s) for s in share.values())
        for m in sorted(mods, key=lambda m: (-(share[m] - int(share[m])), m))[:rest]:
            quota[m] += 1
    picked: list[Mutant] = []
    for m in mods:
        rng = random.Random(f"{seed}:{m}")
        picked += rng.sample(by_mod[m], min(quota[m], len(by_mod[m])))
    return sorted(picked, key=lambda m: (m.file, m.start, m.new))


# ------------------------------------------------------------------------ equivalence file
@dataclass(frozen=True)
class Equivalent:
    reason: str
    id: str = ""
    file: str = ""
    line: int = 0
    old: str = ""
    new: str = ""

    def matches(self, m: Mutant) -> bool:
        if self.id:
            return self.id == m.id
        return (self.file in (m.file, f"rtl/{m.file}") and self.line == m.line
                and " ".join(self.old.split()) == " ".join(m.old.split())
                and " ".join(self.new.split()) == " ".join(m.new.split()))


def load_equivalent(path: Path = EQUIVALENT) -> list[Equivalent]:
    """The documented equivalent mutants; :class:`MutateError` naming the bad entry."""
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise MutateError(f"{path}: not valid YAML: {e}") from None
    entries = data.get("equivalent") if isinstance(data, dict) else None
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise MutateError(f"{path}: 'equivalent' must be a list")
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: entry {i + 1}"
        if not isinstance(e, dict):
            raise MutateError(f"{where}: must be a mapping")
        unknown = set(e) - {"id", "file", "line", "old", "new", "reason"}
        if unknown:
            raise MutateError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not str(e.get("reason") or "").strip():
            raise MutateError(f"{where}: needs a 'reason'")
        if e.get("id"):
            out.append(Equivalent(reason=str(e["reason"]).strip(), id=str(e["id"])))
            continue
        missing = [k for k in ("file", "line", "old", "new") if k not in e]
        if missing:
            raise MutateError(f"{where}: needs 'id', or 'file', 'line', 'old' and 'new' "
                              f"(missing {', '.join(missing)})")
        if not isinstance(e["line"], int):
            raise MutateError(f"{where}: 'line' must be an integer")
        out.append(Equivalent(reason=str(e["reason"]).strip(), file=str(e["file"]),
                              line=e["line"], old=str(e["old"]), new=str(e["new"])))
    return out


def equivalent_reason(m: Mutant, eqs: Iterable[Equivalent]) -> str:
    return next((e.reason for e in eqs if e.matches(m)), "")


# ------------------------------------------------------------------------ which tests judge
def hierarchy(rtl: Path = RTL) -> dict[str, set[str]]:
    """Module -> every module below it (itself included), from the instantiations."""
    direct: dict[str, set[str]] = {}
    for rel in _files_f(rtl):
        tree = parse(rtl / rel)

        def walk(n, mod):
            if _is_token(n):
                return
            k = _kind(n)
            if k == "ModuleDeclaration":
                mod = n.header.name.valueText
                direct.setdefault(mod, set())
            if k == "HierarchyInstantiation" and mod:
                direct[mod].add(n.type.valueText)
            for c in _children(n):
                walk(c, mod)

        walk(tree.root, "")
    below: dict[str, set[str]] = {}

    def close(m: str, stack: tuple = ()) -> set[str]:
        if m not in below:
            s = {m}
            for c in direct.get(m, ()):
                if c not in stack:
                    s |= close(c, (*stack, m))
            below[m] = s
        return below[m]

    for m in direct:
        close(m)
    return below


def covering_tests(module: str, suite: str, below: dict[str, set[str]]) -> list[str]:
    """The pytest targets that judge mutants of ``module``, cheapest first."""
    from refmodel.blocks import all_blocks

    if suite == "regress":
        return [CHIP_TOP_TEST] if module in below.get("chip_top", ()) else []
    tests: list[str] = []
    own = [b.test for b in all_blocks() if b.block == module]
    tests += [t for t in own if (ROOT / t).is_file()]
    tests += _testplan_tests(module)
    holders = sorted((b for b in all_blocks() if b.block != module
                      and module in below.get(b.block, ())),
                     key=lambda b: (len(below.get(b.block, ())), b.block))
    tests += [b.test for b in holders if (ROOT / b.test).is_file()]
    files: list[str] = []
    for t in tests:  # a whole file replaces its functions; keep the first position
        f = t.split("::", 1)[0]
        if t == f:
            files = [x for x in files if x.split("::", 1)[0] != f]
        if not any(x == f or x == t for x in files):
            files.append(t)
    return files


def _testplan_tests(module: str) -> list[str]:
    plan = yaml.safe_load(TESTPLAN.read_text())
    out = []
    for tp in plan.get("testpoints", []):
        if f"code:{module}" not in tp.get("coverage", []):
            continue
        for sel in tp.get("tests", []):
            sim, _, rest = sel.partition(":") if re.match(r"(icarus|verilator):", sel) \
                else ("", "", sel)
            if sim == "icarus" or not rest.startswith("tb/"):
                continue
            out.append(rest.split("[", 1)[0])  # [params] are JUnit globs, not pytest ids
    return out


# ---------------------------------------------------------------------------------- jobs
@dataclass
class Result:
    id: str  # the mutant's id, or "baseline:<test>"
    outcome: str  # killed, timeout, survived, invalid, no-tests; baseline: passed / failed
    seconds: float
    tests: list[str] = field(default_factory=list)
    detail: str = ""  # the failing test, the lint error, ...
    host: str = ""


_SLOT_LOCK = threading.Lock()
_SLOTS: dict[int, int] = {}


def _slot(work: Path, run: str, src: Path) -> Path:
    """This thread's slot (a fixed path per host and thread index, so ccache finds the
    translation units a mutant leaves alone): a fresh copy of ``src`` (the RTL tree) once per
    run."""
    with _SLOT_LOCK:
        idx = _SLOTS.setdefault(threading.get_ident(), len(_SLOTS))
    slot = work / f"slot-{socket.gethostname()}-{idx}"
    stamp = slot / "run"
    if not stamp.is_file() or stamp.read_text() != run:
        shutil.rmtree(slot / "rtl", ignore_errors=True)
        slot.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, slot / "rtl")
        stamp.write_text(run)
    return slot


def _lint(rtl: Path, top: str) -> str:
    """Verilator's errors on the tree with ``top`` as the top module (``""``: clean), with
    the warnings a test build treats as fatal."""
    from tb.kit import toolchain

    files = [str(rtl / f) for f in _files_f(rtl)]
    proc = subprocess.run(["verilator", "--lint-only", "--quiet", *files, "--top-module", top],
                          env=toolchain.sim_env(), capture_output=True, text=True, cwd=rtl)
    if proc.returncode == 0:
        return ""
    msgs = [ln for ln in proc.stderr.splitlines() if ln.startswith("%")]
    return msgs[0] if msgs else proc.stderr.strip()[:200]


def _pytest_cmd(suite: str, tests: Sequence[str], junit: Path, *,
                first_failure: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
           "--sim=verilator", f"--junitxml={junit}", *(["-x"] if first_failure else [])]
    if suite == "regress":
        cmd += [f"--nseeds={REGRESS_NSEEDS}", "-m", REGRESS_MARKERS]
    else:
        cmd += ["-m", TEST_MARKERS]
    return cmd + list(tests)


def _failed_case(junit: Path) -> str:
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return ""
    for c in root.iter("testcase"):
        if c.find("failure") is not None or c.find("error") is not None:
            return f"{c.get('classname', '').replace('.', '/')}.py::{c.get('name')}"
    return ""


def _case_times(junit: Path) -> dict[str, tuple[float, bool]]:
    """node id -> (seconds, passed) from a JUnit file."""
    out = {}
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return out
    for c in root.iter("testcase"):
        node = f"{c.get('classname', '').replace('.', '/')}.py::{c.get('name')}"
        bad = c.find("failure") is not None or c.find("error") is not None
        out[node] = (float(c.get("time") or 0), not bad)
    return out


def run_job(job: dict) -> dict:
    """One mutant (or one baseline test file) in this thread's slot.  Runs on a local thread
    or a Dask worker; returns a :class:`Result` as a dict."""
    t0 = time.monotonic()
    work, run = Path(job["work"]), job["run"]
    slot = _slot(work, run, Path(job["src"]))
    rtl = slot / "rtl"
    m = Mutant(**job["mutant"]) if job.get("mutant") else None
    rid = m.id if m else f"baseline:{job['tests'][0]}"
    res = Result(id=rid, outcome="", seconds=0.0, tests=list(job["tests"]),
                 host=socket.gethostname())
    original = None
    try:
        if m is not None:
            path = rtl / m.file
            original = path.read_text()
            path.write_text(m.apply(original))
            err = _lint(rtl, m.module)
            if err:
                res.outcome, res.detail = "invalid", err
                return asdict(res) | {"seconds": time.monotonic() - t0}
        if not job["tests"]:
            res.outcome = "no-tests"
            return asdict(res) | {"seconds": time.monotonic() - t0}
        junit = slot / "junit.xml"
        junit.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(MELSTM_RTL=str(rtl), MELSTM_BUILD=str(slot / "sim_build"),
                   MELSTM_RESULTS=str(slot / "results"), SIM="verilator",
                   SEED=str(job["seed"]), WAVES="0", COV="0")
        env.pop("AUDIO", None)
        if job["suite"] == "test":
            env["MELSTM_SUITE"] = "ci"
        else:
            env.pop("MELSTM_SUITE", None)
        cmd = _pytest_cmd(job["suite"], job["tests"], junit, first_failure=m is not None)
        log = slot / "pytest.log"
        with open(log, "w") as fh:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                rc = proc.wait(timeout=job["timeout"])
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                rc = None
        text = log.read_text(errors="replace")
        if m is None:
            res.detail = json.dumps(_case_times(junit))
            res.outcome = "passed" if rc == 0 else "timeout" if rc is None else "failed"
            if rc not in (0, None) and not _case_times(junit):
                res.detail = json.dumps({"error": text[-2000:]})
        elif rc is None:
            res.outcome = "timeout"
            res.detail = f"no result after {job['timeout']:.0f} s"
        elif rc == 0:
            res.outcome = "survived"
        elif re.search(r"^%Error: Exiting due to", text, re.M):  # Verilator's build failed
            res.outcome = "invalid"
            res.detail = next(ln for ln in text.splitlines()
                              if re.match(r"%(Error|Warning)", ln))[:200]
        elif rc == 1:
            res.outcome = "killed"
            res.detail = _failed_case(junit)
        else:
            res.outcome = "error"
            res.detail = f"pytest exit status {rc}: " + " | ".join(text.splitlines()[-3:])
    finally:
        if original is not None:
            (rtl / m.file).write_text(original)
    return asdict(res) | {"seconds": time.monotonic() - t0}


def _run_local(jobs: list[dict], n: int, on_done: Callable[[dict], None]) -> None:
    with cf.ThreadPoolExecutor(max_workers=n) as pool:
        futs = [pool.submit(run_job, j) for j in jobs]
        handled = set()
        try:
            for f in cf.as_completed(futs):
                handled.add(f)
                on_done(f.result())
        except KeyboardInterrupt:
            for f in futs:
                f.cancel()
            print("mutate: stopping: waiting for the running mutants", file=sys.stderr)
            for f in futs:  # the running ones end normally and are reported
                if f not in handled and not f.cancelled():
                    on_done(f.result())
            raise


def _run_farm(cluster: str, jobs: list[dict], on_done: Callable[[dict], None]) -> None:
    """The jobs on the Dask farm of ``tb/flow/farm.py`` (its connection, worker checks)."""
    import secrets

    from distributed import as_completed

    from tb.flow import farm

    kind, where = farm.parse_cluster(cluster)
    run_dir = OUT / "farm"
    run_dir.mkdir(parents=True, exist_ok=True)
    token, token_file = secrets.token_hex(16), WORK / f"farm-{secrets.token_hex(4)}.token"
    token_file.write_text(token)
    check = {"root": str(ROOT), "token_file": str(token_file), "token": token,
             "run_dir": str(run_dir), "python": sys.executable}
    try:
        with farm._connect(kind, where, log_dir=run_dir / "logs", say=print) as (client, batch):
            farm._wait_for_workers(client, kind, where, batch, len(jobs), print)
            farm._check_workers(client, check)
            futs = [client.submit(run_job, j, pure=False) for j in jobs]
            for f in as_completed(futs):
                on_done(f.result())
    finally:
        token_file.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------- report
def _rtl_source(rev: str) -> Path:
    """The RTL tree to mutate: the working tree's ``rtl/``, or ``rev``'s, extracted once."""
    if not rev:
        return RTL
    sha = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                         cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if not sha:
        raise MutateError(f"RTL_REV={rev!r} is not a git revision of this checkout")
    dest = WORK / f"src-{sha[:12]}"
    if not (dest / "rtl" / "files.f").is_file():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", sha, "rtl"], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "rtl"


def _git_commit(rev: str = "") -> str:
    if rev:
        return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rtl"], cwd=ROOT,
                               capture_output=True, text=True).stdout.split("\n")
    except OSError:
        return "unknown"
    changed = sorted(ln[3:] for ln in dirty if ln.strip())
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def rerun_command(m: Mutant, suite: str, seed: int, rev: str = "") -> str:
    return f"make mutate MUTANT={m.id} SUITE={suite} SEED={seed}" + \
        (f" RTL_REV={rev}" if rev else "")


def summarize(mutants: Sequence[Mutant], results: dict[str, dict],
              eqs: Sequence[Equivalent]) -> dict:
    rows: dict[str, Counter] = {}
    for m in mutants:
        r = results[m.id]
        out = r["outcome"]
        if out == "survived" and equivalent_reason(m, eqs):
            out = "equivalent"
        r["final"] = out
        rows.setdefault(m.module, Counter())[out] += 1
        rows[m.module]["mutants"] += 1
    total = sum(rows.values(), Counter())
    table = {mod: dict(c) for mod, c in sorted(rows.items())}
    return {"modules": table, "total": dict(total), "kill_rate": _rate(total),
            "module_rates": {mod: _rate(c) for mod, c in rows.items()}}


def _rate(c: Counter | dict) -> float | None:
    judged = c.get("mutants", 0) - c.get("invalid", 0) - c.get("equivalent", 0) \
        - c.get("no-tests", 0) - c.get("error", 0)
    return None if judged <= 0 else 100.0 * (c.get("killed", 0) + c.get("timeout", 0)) / judged


def table_lines(summary: dict) -> list[str]:
    cols = ("mutants", "killed", "timeout", "survived", "equivalent", "invalid")
    head = f"{'module':18s} " + " ".join(f"{c:>10s}" for c in cols) + f" {'kill %':>7s}"
    lines = [head, "-" * len(head)]

    def row(name: str, c: dict, rate: float | None) -> str:
        pct = "-" if rate is None else f"{rate:.1f}"
        return f"{name:18s} " + " ".join(f"{c.get(k, 0):10d}" for k in cols) + f" {pct:>7s}"

    for mod, c in summary["modules"].items():
        lines.append(row(mod, c, summary["module_rates"][mod]))
    lines.append("-" * len(head))
    lines.append(row("all", summary["total"], summary["kill_rate"]))
    return lines


def write_report(meta: dict, mutants: Sequence[Mutant], results: dict[str, dict],
                 summary: dict, eqs: Sequence[Equivalent], out: Path = OUT) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for m in mutants:
        r = results[m.id]
        items.append({**asdict(m), "change": m.change(), "outcome": r["final"],
                      "seconds": round(r["seconds"], 1), "detail": r["detail"],
                      "tests": r["tests"], "equivalent_reason": equivalent_reason(m, eqs),
                      "rerun": rerun_command(m, meta["suite"], meta["seed"], meta["rtl_rev"])})
    (out / "report.json").write_text(json.dumps({**meta, "summary": summary,
                                                 "mutants": items}, indent=1) + "\n")
    md = [f"# Mutation testing: `make mutate MUTANTS={meta['requested']} SUITE={meta['suite']} "
          f"SEED={meta['seed']}`", "",
          f"RTL at commit {meta['commit']}; {meta['mutants']} mutants sampled from "
          f"{meta['candidates']} candidates; wall time {meta['wall_seconds']:.0f} s; "
          f"{meta['seconds_per_mutant']:.1f} s per mutant (median {meta['median_seconds']:.1f} s) "
          f"on {meta['workers']}.", "",
          "Kill rate = (killed + timed out) / (mutants - invalid - equivalent).", "",
          "```", *table_lines(summary), "```", ""]
    by_op: dict[str, Counter] = {}
    for it in items:
        by_op.setdefault(it["op"], Counter())[it["outcome"]] += 1
        by_op[it["op"]]["mutants"] += 1
    md += ["## By operator", "", "| operator | mutants | killed | timeout | survived | "
           "equivalent | invalid |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for op in OPS:
        if op in by_op:
            c = by_op[op]
            md.append(f"| {op} | {c['mutants']} | {c['killed']} | {c['timeout']} | "
                      f"{c['survived']} | {c['equivalent']} | {c['invalid']} |")
    for title, want in (("Survivors", "survived"), ("Equivalent (docs/mutate_equivalent.yml)",
                                                    "equivalent"),
                        ("Killed by timeout", "timeout"), ("Errors", "error")):
        sel = [it for it in items if it["outcome"] == want]
        if not sel and want in ("timeout", "error"):
            continue
        md += ["", f"## {title} ({len(sel)})", ""]
        for it in sel:
            md.append(f"- `{it['id']}` ({it['op']}) `{it['change']}`")
            if want == "equivalent":
                md.append(f"  - reason: {it['equivalent_reason']}")
            elif want == "error":
                md.append(f"  - {it['detail']}")
            else:
                md.append(f"  - tests: {', '.join(it['tests']) or 'none'}")
            md.append(f"  - rerun: `{it['rerun']}`")
    sel = [it for it in items if it["outcome"] == "invalid"]
    md += ["", f"## Invalid ({len(sel)}: Verilator rejects the mutated source)", ""]
    md += [f"- `{it['id']}` `{it['change']}`: {it['detail']}" for it in sel]
    (out / "report.md").write_text("\n".join(md) + "\n")
    return out / "report.md"


# ------------------------------------------------------------------------------------ main
def _positive_int(name: str, raw: str | int) -> int:
    try:
        v = int(raw)
    except (TypeError, ValueError):
        raise MutateError(f"{name}={raw!r} is not an integer") from None
    if v < 0:
        raise MutateError(f"{name}={v} must be 0 or more")
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.mutate",
                                 description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--mutants", default=os.environ.get("MUTANTS") or "40",
                    help="mutants sampled (0: every candidate; default 40)")
    ap.add_argument("--seed", default=os.environ.get("SEED") or "1",
                    help="sampling seed, also the tests' seed (default 1)")
    ap.add_argument("--suite", choices=("test", "regress"), default="test",
                    help="which tests judge: make test's that cover the module, or the "
                         "default regression")
    ap.add_argument("--modules", default="*", help="glob over module names (default *)")
    ap.add_argument("--only", default="", help="run exactly these mutant ids (comma-separated)")
    ap.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 1),
                    help="mutants in parallel on this machine")
    ap.add_argument("--cluster", default=os.environ.get("CLUSTER", "local"),
                    help="local, tcp://host:port or slurm|lsf|sge|pbs (tb/flow/farm.py)")
    ap.add_argument("--timeout-factor", type=float, default=4.0,
                    help="a mutant's timeout: this times its tests' baseline time, plus "
                         "--build-seconds (default 4)")
    ap.add_argument("--build-seconds", type=float, default=240.0,
                    help="allowance for the mutant's rebuilds (default 240)")
    ap.add_argument("--rtl-rev", default="",
                    help="mutate the RTL of this git revision (e.g. HEAD) instead of the "
                         "working tree's rtl/")
    ap.add_argument("--list", action="store_true", help="print the sampled mutants and stop")
    ap.add_argument("--out", default=str(OUT), help="report folder (default results/mutate)")
    args = ap.parse_args(argv)
    if args.list or threading.current_thread() is not threading.main_thread():
        return _main(args)

    def stop(signum, frame):  # SIGTERM, and SIGINT even where a shell started us ignoring it
        raise KeyboardInterrupt

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _main(args)
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _main(args: argparse.Namespace) -> int:
    from tb.flow import farm

    try:
        n = _positive_int("MUTANTS", args.mutants)
        seed = _positive_int("SEED", int(str(args.seed), 0) if str(args.seed).strip()
                             .lower().startswith("0x") else args.seed)
        jobs = _positive_int("-j", args.jobs) or 1
        eqs = load_equivalent()
        on_farm = farm.parse_cluster(args.cluster)[0] != "local"
        src = _rtl_source(args.rtl_rev)
        cands = generate(src, args.modules)
        if not cands:
            names = sorted({Path(f).stem for f in design_files(src)})
            raise MutateError(f"MODULES={args.modules!r} matches no design module "
                              f"(modules: {', '.join(names)})")
        if args.only:
            ids = [i.strip() for i in args.only.split(",") if i.strip()]
            known = {m.id: m for m in cands}
            bad = [i for i in ids if i not in known]
            if bad:
                raise MutateError(f"MUTANT: no mutant {', '.join(bad)} in the current RTL "
                                  f"(ids come from results/mutate/report.md)")
            mutants = [known[i] for i in ids]
        else:
            mutants = sample(cands, n, seed)
    except (MutateError, farm.FarmError) as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    if args.list:
        for m in mutants:
            print(f"{m.id:24s} {m.op:10s} {m.change()}")
        print(f"{len(mutants)} of {len(cands)} candidates")
        return 0
    out = Path(args.out)
    below = hierarchy(src)
    tests = {m.module: covering_tests(m.module, args.suite, below) for m in mutants}
    run = f"{time.time():.0f}-{os.getpid()}"
    WORK.mkdir(parents=True, exist_ok=True)
    workers = f"the farm {args.cluster}" if on_farm else f"{jobs} local job(s)"
    commit = _git_commit(args.rtl_rev)
    print(f"mutate: {len(mutants)} mutants of {len(cands)} candidates over "
          f"{len({m.module for m in mutants})} modules; seed {seed}; suite {args.suite}; "
          f"{workers}; RTL at {commit}", flush=True)

    def execute(job_list: list[dict], on_done: Callable[[dict], None]) -> None:
        if on_farm:
            _run_farm(args.cluster, job_list, on_done)
        else:
            _run_local(job_list, jobs, on_done)

    # Baseline: every test file involved, on an unmutated copy.
    base_files = sorted({t for ts in tests.values() for t in ts})
    base: dict[str, tuple[float, bool]] = {}
    t0 = time.monotonic()

    def base_done(r: dict) -> None:
        times = json.loads(r["detail"] or "{}")
        if "error" in times or r["outcome"] == "timeout":
            print(f"mutate: baseline {r['tests'][0]} did not run:\n{times.get('error', '')}",
                  file=sys.stderr)
            base[f"{r['tests'][0]} (did not run)"] = (0.0, False)
        base.update({k: tuple(v) for k, v in times.items() if k != "error"})
        print(f"mutate: baseline {r['tests'][0]}: {r['outcome']} ({r['seconds']:.0f} s)",
              flush=True)

    common = {"work": str(WORK), "run": run, "src": str(src), "suite": args.suite, "seed": seed}
    base_jobs = [{**common, "mutant": None, "tests": [t], "timeout": 3600.0}
                 for t in base_files]
    try:
        execute(base_jobs, base_done)
    except KeyboardInterrupt:
        print("mutate: interrupted", file=sys.stderr)
        return 130
    failing = sorted(k for k, (_, ok) in base.items() if not ok)
    if failing:
        print("mutate: these tests fail on the unmutated RTL, so they cannot judge mutants; "
              "fix them or run with MODULES= excluding them:\n  " + "\n  ".join(failing),
              file=sys.stderr)
        return 1
    baseline_seconds = time.monotonic() - t0

    def budget(ts: Sequence[str]) -> float:
        secs = sum(s for node, (s, _) in base.items()
                   if any(node.startswith(t.split("::")[0]) for t in ts))
        return args.timeout_factor * secs + args.build_seconds

    mjobs = [{**common, "mutant": asdict(m), "tests": tests[m.module],
              "timeout": budget(tests[m.module])} for m in mutants]
    # Seeded order: an interrupted run has judged a random subset, not the first files.
    random.Random(seed).shuffle(mjobs)
    results: dict[str, dict] = {}
    t1 = time.monotonic()
    width = len(str(len(mjobs)))

    def done(r: dict) -> None:
        results[r["id"]] = r
        m = next(x for x in mutants if x.id == r["id"])
        print(f"[{len(results):{width}d}/{len(mjobs)}] {r['outcome']:8s} {r['seconds']:6.1f} s "
              f"{m.id:24s} {m.change()}" + (f"  ({r['detail']})" if r["detail"] and
                                             r["outcome"] != "survived" else ""), flush=True)

    try:
        execute(mjobs, done)
    except KeyboardInterrupt:
        print("mutate: interrupted; report of the finished mutants", file=sys.stderr)
        mutants = [m for m in mutants if m.id in results]
    wall = time.monotonic() - t1
    secs = sorted(r["seconds"] for r in results.values())
    summary = summarize(mutants, results, eqs)
    meta = {"commit": commit, "rtl_rev": args.rtl_rev, "suite": args.suite, "seed": seed,
            "requested": n,
            "modules_glob": args.modules, "candidates": len(cands), "mutants": len(mutants),
            "workers": workers, "baseline_seconds": round(baseline_seconds, 1),
            "wall_seconds": round(wall, 1),
            "seconds_per_mutant": sum(secs) / len(secs) if secs else 0.0,
            "median_seconds": secs[len(secs) // 2] if secs else 0.0}
    report = write_report(meta, mutants, results, summary, eqs, out)
    print()
    print("\n".join(table_lines(summary)))
    survivors = [m for m in mutants if results[m.id]["final"] == "survived"]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}):")
        for m in survivors:
            print(f"  {m.change()}\n    rerun: {rerun_command(m, args.suite, seed, args.rtl_rev)}")
    print(f"\nbaseline {baseline_seconds:.0f} s; mutants {wall:.0f} s wall, "
          f"{meta['seconds_per_mutant']:.1f} s per mutant (median {meta['median_seconds']:.1f} s)")
    print(f"report: {report} and {report.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
