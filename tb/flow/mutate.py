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
``bitselect``   a select index off by one, a range moved one bit as a window (its width kept)

Widths are never mutated (cast widths, replication counts, ``+:`` widths, one range bound
alone): Verilator rejects such an edit as a width error, it is no bug a test could catch.

Conditions that read ``rst_ni`` are not inverted or stuck (the reset is not logic to test).

A run (:func:`main`): the candidates of the selected modules (``--modules`` glob), a seeded
sample of valid mutants stratified over modules (:func:`draw`: ``--mutants N``, ``--seed``;
each drawn candidate linted by Verilator, an invalid one replaced by its module's next; the
same RTL, seed and N give the same mutants), then one job per mutant.  A job works in a
slot: a copy of ``rtl/`` under ``sim_build/mutate/`` with its own build folder (the runner's
``MELSTM_RTL`` and ``MELSTM_BUILD``), so the checkout is never touched and, the slot paths
being fixed, ccache reuses the compiled files a mutant does not change.  It applies the
edit, then runs the test cases that cover the module (:func:`plan_cases`: cheapest that can
kill first) with ``pytest -x`` (first failure stops it) under a timeout (a hang is *killed by
timeout*).  A build error in a test (a mutant that only elaborates wrongly at parameters the
lint did not see) is *invalid*.

Which tests judge (``--suite``):

``test``     the tests of ``make test`` on Verilator that cover the module: its block test
             (the finding rule, ``refmodel/blocks.py``), the tests the testplan
             (``docs/testplan.yml``) lists for ``code:<module>``, then the block tests of
             every block whose hierarchy holds the module, up to ``tb/chip/test_chip_top.py``:
             cheapest (own block) first
``regress``  the default regression (``make SIM=verilator``): the top-level tests over two
             seeds, for every module inside ``chip_top``

Before the mutants, a baseline runs the same tests on an unmutated copy: a test that fails
there would kill every mutant, so the run stops and names it; its durations order the cases
and set each mutant's timeout (``--timeout-factor`` times the baseline of its cases, plus
build time).  It is kept under ``results/mutate/cache/`` per RTL and tests content hash.

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
CHECKERS = ("prim_stream_check",)  # their instances' inputs are not design logic either
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


def _checker_spans(root, text: str) -> list[tuple[int, int]]:
    """Spans of the simulation-only checker instances (:data:`CHECKERS`) and of declarations."""
    out = []

    def walk(n):
        if _is_token(n):
            return
        k = _kind(n)
        if (k == "HierarchyInstantiation" and n.type.valueText in CHECKERS) or \
                k in ("DataDeclaration", "NetDeclaration"):
            out.append(_span(n))
            return
        for c in _children(n):
            walk(c)

    walk(root)
    return out


def _feeds_checkers_only(lhs, text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether ``lhs`` of an ``assign`` is a signal read only by checker instances (e.g. a
    checker's reset) or by nothing (a lint sink, ``unused_*``): no design output can depend on
    it, so its mutants are equivalent by construction."""
    if _kind(lhs) != "IdentifierName":
        return False
    name = text[slice(*_span(lhs))]
    a = _span(lhs)[0]
    uses = [m.start() for m in re.finditer(rf"\b{re.escape(name)}\b", text) if m.start() != a]
    return bool(uses) and all(any(x <= u < y for x, y in spans) for u in uses)


def _window_shifts(n, text: str) -> list[tuple[int, int, str]]:
    """(start, end, new) of a range select ``l:r`` moved by one bit each way, both bounds
    together so that its width stays (one bound alone changes the width: a width error, not a
    bug).  No shift below bit 0 of a literal bound."""
    la, _ = _span(n.left)
    _, rb = _span(n.right)
    lt, rt = text[la:_span(n.left)[1]], text[_span(n.right)[0]:rb]
    sep = text[_span(n.left)[1]:_span(n.right)[0]]  # ":" with its spacing
    out = []
    for d in (1, -1):
        if lt.isdigit() and rt.isdigit():
            if min(int(lt), int(rt)) + d >= 0:
                out.append((la, rb, f"{int(lt) + d}{sep}{int(rt) + d}"))
        elif d > 0 or "0" not in (lt, rt):
            op = "+" if d > 0 else "-"
            out.append((la, rb, f"({lt}) {op} 1{sep}({rt}) {op} 1"))
    return out


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
        if k == "ContinuousAssign" and all(_feeds_checkers_only(a.left, text, checkers)
                                           for a in n.assignments):
            return
        if k in _LOGIC:
            logic = True
            ff = ff or k == "AlwaysFFBlock"
        if k == "CastExpression":  # W'(x): the width W is not logic, x is
            walk(n.right, mod, logic, ff, sel)
            return
        if k == "MultipleConcatenationExpression":  # {N{x}}: the count N is a width, x logic
            walk(n.concatenation, mod, logic, ff, sel)
            return
        if k == "SimpleRangeSelect":  # x[l:r]: the window moves, its width stays
            if logic:
                for a, b, new in _window_shifts(n, text):
                    site(mod, a, b, new, "bitselect")
            return
        if k in ("AscendingRangeSelect", "DescendingRangeSelect"):  # x[b +: w]: w is a width
            walk(n.left, mod, logic, ff, True)
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
        inner = sel or k == "BitSelect"
        for c in _children(n):
            walk(c, mod, logic, ff, inner)

    checkers = _checker_spans(tree.root, text)
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


Check = Callable[[Sequence[Mutant]], dict[str, str]]  # mutant id -> Verilator's error ("": valid)


def _quotas(sizes: dict[str, int], n: int, seed: int) -> dict[str, int]:
    """Mutants per module: at least one each, the rest in proportion to its candidates
    (largest remainder); fewer mutants than modules: a seeded choice of modules, one each."""
    mods = sorted(sizes)
    if n < len(mods):
        mods = sorted(random.Random(seed).sample(mods, n))
    quota = {m: 1 for m in mods}
    left = n - len(mods)
    total = sum(sizes[m] - 1 for m in mods)
    if left and total:
        share = {m: left * (sizes[m] - 1) / total for m in mods}
        for m in mods:
            quota[m] += int(share[m])
        rest = left - sum(int(v) for v in share.values())
        for m in sorted(mods, key=lambda m: (-(share[m] - int(share[m])), m))[:rest]:
            quota[m] += 1
    return quota


def draw(cands: Sequence[Mutant], n: int, seed: int,
         check: Check | None = None) -> tuple[list[Mutant], list[tuple[Mutant, str]]]:
    """``n`` valid mutants (all when ``n`` is 0 or more than there are) stratified over modules,
    and the invalid ones drawn on the way with Verilator's error.

    Each module's candidates are put in a seeded order (``random.Random(f"{seed}:{module}")``)
    and its quota (:func:`_quotas`) is filled from the front of that order; ``check`` (a batch
    lint) rejects a candidate, the module's next one replaces it.  A module that runs out of
    valid candidates passes what it lacks on to the modules with candidates left (largest
    stratum first).  So the sample depends only on the candidates, ``n``, ``seed`` and which
    candidates are valid: the same for every run, whatever order the lints finish in."""
    by_mod: dict[str, list[Mutant]] = {}
    for m in cands:
        by_mod.setdefault(m.module, []).append(m)
    order = {mod: random.Random(f"{seed}:{mod}").sample(ms, len(ms))
             for mod, ms in by_mod.items()}
    want = len(cands) if n <= 0 or n >= len(cands) else n
    quota = _quotas({mod: len(ms) for mod, ms in by_mod.items()}, want, seed) \
        if want < len(cands) else {mod: len(ms) for mod, ms in by_mod.items()}
    nxt = dict.fromkeys(by_mod, 0)  # position of the next undrawn candidate per module
    valid: dict[str, list[Mutant]] = {mod: [] for mod in by_mod}
    rejected: list[tuple[Mutant, str]] = []
    while True:
        batch = []
        for mod in sorted(quota):
            need = quota[mod] - len(valid[mod])
            take = order[mod][nxt[mod]:nxt[mod] + max(need, 0)]
            nxt[mod] += len(take)
            batch += take
        if not batch:  # every module still short has no candidate left: pass it on
            short = 0
            for mod in quota:
                short += max(quota[mod] - len(valid[mod]), 0)
                quota[mod] = min(quota[mod], len(valid[mod]))
            spare = sorted((mod for mod in by_mod if nxt[mod] < len(order[mod])),
                           key=lambda mod: (-(len(order[mod]) - nxt[mod]), mod))
            if not short or not spare:
                break
            for i in range(short):  # round robin over the modules with candidates left
                mod = spare[i % len(spare)]
                quota[mod] = quota.get(mod, 0) + 1
            continue
        errors = check(batch) if check else {}
        for m in batch:
            if errors.get(m.id):
                rejected.append((m, errors[m.id]))
            else:
                valid[m.module].append(m)
    key = lambda m: (m.file, m.start, m.new)  # noqa: E731
    return sorted((m for ms in valid.values() for m in ms), key=key), \
        sorted(rejected, key=lambda r: key(r[0]))


def sample(cands: Sequence[Mutant], n: int, seed: int) -> list[Mutant]:
    """:func:`draw` without a validity check: the seeded, stratified choice alone."""
    return draw(cands, n, seed)[0]


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


def _testplan_selectors(module: str) -> list[str]:
    """The Verilator test selectors of the testpoints that cover ``code:<module>``, as written
    (``file::function[glob]``; the glob matches the pytest id without simulator and seed)."""
    plan = yaml.safe_load(TESTPLAN.read_text())
    out = []
    for tp in plan.get("testpoints", []):
        if f"code:{module}" not in tp.get("coverage", []):
            continue
        for sel in tp.get("tests", []):
            sim, _, rest = sel.partition(":") if re.match(r"(icarus|verilator):", sel) \
                else ("", "", sel)
            if sim != "icarus" and rest.startswith("tb/"):
                out.append(rest)
    return out


def _testplan_tests(module: str) -> list[str]:
    return [sel.split("[", 1)[0] for sel in _testplan_selectors(module)]  # [glob]: not an id


def _node_in(node: str, target: str) -> bool:
    """Whether pytest node ``node`` (``file::function[params]``) is one ``target`` selects: a
    file, ``file::function`` or ``file::function[glob]`` (the testplan's form)."""
    if "::" not in target:
        return node.split("::", 1)[0] == target
    head, _, glob = target.partition("[")
    if node != head and not node.startswith(head + "["):
        return False
    if not glob:
        return True
    params = node.partition("[")[2].rstrip("]")
    params = re.sub(r"^(icarus|verilator)-s\d+-?", "", params)  # the simulator and seed ids
    return fnmatch.fnmatchcase(params, glob.rstrip("]"))


def _case_costs(cases: dict[str, tuple[float, bool]]) -> dict[str, float]:
    """Each baseline case's seconds, less the build the file's first case paid for when the
    file's other cases reuse it (the chip test's cases share one build)."""
    cost = {k: v[0] for k, v in cases.items()}
    if len(cost) > 2:
        first, *rest = cost
        med = sorted(cost[k] for k in rest)[len(rest) // 2]
        cost[first] = min(cost[first], med)
    return cost


def plan_cases(module: str, files: Sequence[str],
               base: dict[str, dict[str, tuple[float, bool]]],
               mapped_only: Iterable[str] = ()) -> list[str]:
    """The pytest nodes that judge a mutant of ``module``, in the order they run: file by file
    as :func:`covering_tests` orders them (own block test first, the chip test last), and in a
    file the cases the testplan maps to ``code:<module>`` first, then the rest cheapest first
    (``base``: file -> node -> (baseline seconds, passed), in the baseline's run order).
    Of the files in ``mapped_only`` only the mapped cases run (``--chip-cases mapped``), unless
    the file is the module's own block test (``chip_top``'s is the chip test)."""
    from refmodel.blocks import all_blocks

    mapped = _testplan_selectors(module)
    mapped_only = set(mapped_only) - {b.test for b in all_blocks() if b.block == module}
    out: list[str] = []
    for target in files:
        f = target.split("::", 1)[0]
        cases = base.get(f, {})
        cost = _case_costs(cases)
        sel = [n for n in cases if _node_in(n, target)
               and (f not in mapped_only or any(_node_in(n, t) for t in mapped))]
        out += sorted(sel, key=lambda n: (not any(_node_in(n, t) for t in mapped), cost[n], n))
    return list(dict.fromkeys(out))


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


def lint_mutant(m: Mutant, src: Path, scratch: Path) -> str:
    """Verilator's first error on ``src`` (an RTL tree) with ``m`` applied and its module as the
    top (``""``: clean), with the warnings a test build treats as fatal.  The mutated file is
    written under ``scratch``; ``src`` is not touched."""
    from tb.kit import toolchain

    d = scratch / m.id
    d.mkdir(parents=True, exist_ok=True)
    mutated = d / Path(m.file).name
    mutated.write_text(m.apply((src / m.file).read_text()))
    files = [str(mutated if f == m.file else src / f) for f in _files_f(src)]
    try:
        proc = subprocess.run(["verilator", "--lint-only", "--quiet", *files,
                               "--top-module", m.module], env=toolchain.sim_env(),
                              capture_output=True, text=True, cwd=d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if proc.returncode == 0:
        return ""
    msgs = [ln for ln in proc.stderr.splitlines() if ln.startswith("%")]
    msg = msgs[0] if msgs else proc.stderr.strip()[:200]
    return msg.replace(str(mutated), f"rtl/{m.file}").replace(f"{src}/", "rtl/")


def lint_check(src: Path, jobs: int, cache: Path | None = None,
               say: Callable[[str], None] = lambda s: None) -> Check:
    """A :data:`Check` for :func:`draw`: lints a batch of mutants ``jobs`` at a time, each
    result kept in ``cache`` (a JSON file for this RTL tree) so a rerun lints nothing."""
    known: dict[str, str] = {}
    if cache is not None and cache.is_file():
        known = json.loads(cache.read_text())
    scratch = WORK / f"lint-{os.getpid()}"

    def check(batch: Sequence[Mutant]) -> dict[str, str]:
        todo = [m for m in batch if m.id not in known]
        if todo:
            t0 = time.monotonic()
            with cf.ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
                errs = list(pool.map(lambda m: lint_mutant(m, src, scratch), todo))
            known.update((m.id, e) for m, e in zip(todo, errs, strict=True))
            shutil.rmtree(scratch, ignore_errors=True)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(known, indent=0, sort_keys=True) + "\n")
            say(f"mutate: linted {len(todo)} candidates in {time.monotonic() - t0:.0f} s "
                f"({sum(1 for m in todo if known[m.id])} invalid)")
        return {m.id: known[m.id] for m in batch}

    return check


def content_hash(root: Path, paths: Iterable[str],
                 skip: Callable[[Path], bool] = lambda f: False) -> str:
    """SHA-1 over the names and bytes of the files under ``paths`` (files or folders,
    relative to ``root``; ``__pycache__``, missing paths and files ``skip`` names left out)."""
    h = hashlib.sha1()
    for rel in paths:
        p = root / rel
        files = sorted(p.rglob("*")) if p.is_dir() else [p] if p.is_file() else []
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts and not skip(f):
                h.update(f"{f.relative_to(root)}\0".encode())
                h.update(f.read_bytes())
    return h.hexdigest()


# What the tests' verdicts and times depend on besides the RTL: the baseline cache's key.
TEST_INPUTS = ("tb", "refmodel", "vectors", "conftest.py", "pyproject.toml", "docs/testplan.yml")


def baseline_keys(files: Iterable[str], root: Path = ROOT) -> dict[str, str]:
    """Test file -> the key its baseline is kept under: its own bytes and those of every shared
    test input (:data:`TEST_INPUTS` less the other ``test_*.py`` files, which no judging test
    imports, and this flow), so editing one test file reruns only its own baseline."""
    def not_shared(f: Path) -> bool:
        return (f.name.startswith("test_") and f.suffix == ".py") or f.resolve() == \
            Path(__file__).resolve()

    shared = content_hash(root, TEST_INPUTS, not_shared)
    return {f: hashlib.sha1(f"{shared}:{content_hash(root, [f])}".encode()).hexdigest()
            for f in files}


def rtl_hash(src: Path) -> str:
    return content_hash(src, ["files.f", *_files_f(src)])


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
            path.write_text(m.apply(original))  # linted when drawn (lint_check)
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
    tree = subprocess.run(["git", "rev-parse", f"{sha}:rtl"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip() or sha
    dest = WORK / f"src-{tree[:12]}"  # by rtl/'s tree: commits that leave rtl/ alone share it
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


def rerun_command(m: Mutant, suite: str, seed: int, rev: str = "", chip: str = "all") -> str:
    return f"make mutate MUTANT={m.id} SUITE={suite} SEED={seed}" + \
        (f" RTL_REV={rev}" if rev else "") + (f" CHIP_CASES={chip}" if chip != "all" else "")


def summarize(mutants: Sequence[Mutant], results: dict[str, dict],
              eqs: Sequence[Equivalent], rejected: Sequence[tuple[Mutant, str]] = ()) -> dict:
    """Per module: the sampled mutants by outcome, and ``replaced``: the invalid candidates
    drawn and replaced (not among the mutants, not in the kill rate)."""
    rows: dict[str, Counter] = {}
    for m, _ in rejected:
        rows.setdefault(m.module, Counter())["replaced"] += 1
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
    cols = ("mutants", "killed", "timeout", "survived", "equivalent", "invalid", "replaced")
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
                      "tests": r["tests"], "cases": r.get("cases", 0),
                      "equivalent_reason": equivalent_reason(m, eqs),
                      "rerun": rerun_command(m, meta["suite"], meta["seed"], meta["rtl_rev"],
                                             meta.get("chip_cases", "all"))})
    (out / "report.json").write_text(json.dumps({**meta, "summary": summary,
                                                 "mutants": items}, indent=1) + "\n")
    what = f"MUTANT={meta['only']}" if meta.get("only") else f"MUTANTS={meta['requested']}"
    md = [f"# Mutation testing: `make mutate {what} SUITE={meta['suite']} "
          f"SEED={meta['seed']}" + (f" CHIP_CASES={meta['chip_cases']}"
                                    if meta.get("chip_cases", "all") != "all" else "") + "`", "",
          f"RTL at commit {meta['commit']}; {meta['mutants']} mutants sampled from "
          f"{meta['candidates']} candidates; wall time {meta['wall_seconds']:.0f} s; "
          f"{meta['seconds_per_mutant']:.1f} s per mutant (median {meta['median_seconds']:.1f} s) "
          f"on {meta['workers']}.", "",
          f"Lint of the drawn candidates {meta.get('lint_seconds', 0):.0f} s; baseline "
          f"{meta['baseline_seconds']:.0f} s" + (" (cached)" if meta.get("baseline_cached")
                                                 else "") + ".", "",
          "Kill rate = (killed + timed out) / (mutants - invalid - equivalent); `replaced`: "
          "invalid candidates drawn and replaced, not among the mutants.", "",
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
                md.append(f"  - tests: {', '.join(it['tests']) or 'none'} "
                          f"({it['cases']} cases)")
            md.append(f"  - rerun: `{it['rerun']}`")
    sel = [it for it in items if it["outcome"] == "invalid"]
    md += ["", f"## Invalid in a test build ({len(sel)}: Verilator rejects the mutant at a "
           "test's parameters)", ""]
    md += [f"- `{it['id']}` `{it['change']}`: {it['detail']}" for it in sel]
    drawn = meta.get("invalid_drawn", [])
    md += ["", f"## Invalid when drawn ({len(drawn)}: Verilator's lint rejects the mutated "
           "source; replaced by the module's next candidate)", ""]
    md += [f"- `{d['id']}` `{d['change']}`: {d['error']}" for d in drawn]
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
    ap.add_argument("--chip-cases", choices=("all", "mapped"),
                    default=os.environ.get("CHIP_CASES") or "all",
                    help="cases of tb/chip/test_chip_top.py that judge: all (make test's), or "
                         "only those the testplan maps to code:<module> (quicker; a survivor "
                         "may still be killed by the others)")
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
    except (MutateError, farm.FarmError) as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    cache = out / "cache"
    rhash = rtl_hash(src)
    check = lint_check(src, jobs, cache / f"lint-{rhash[:16]}.json",
                       say=lambda s: print(s, flush=True))
    t_lint = time.monotonic()
    if args.only:
        errors = check([known[i] for i in ids])
        mutants = [known[i] for i in ids if not errors[i]]
        rejected = [(known[i], errors[i]) for i in ids if errors[i]]
    else:
        mutants, rejected = draw(cands, n, seed, check)
    lint_seconds = time.monotonic() - t_lint
    if args.list:
        for m in mutants:
            print(f"{m.id:24s} {m.op:10s} {m.change()}")
        for m, err in rejected:
            print(f"{m.id:24s} {'invalid':10s} {m.change()}: {err}")
        print(f"{len(mutants)} of {len(cands)} candidates ({len(rejected)} invalid drawn "
              f"and replaced)")
        return 0
    below = hierarchy(src)
    files_of = {m.module: covering_tests(m.module, args.suite, below) for m in mutants}
    run = f"{time.time():.0f}-{os.getpid()}"
    WORK.mkdir(parents=True, exist_ok=True)
    workers = f"the farm {args.cluster}" if on_farm else f"{jobs} local job(s)"
    commit = _git_commit(args.rtl_rev)
    print(f"mutate: {len(mutants)} mutants of {len(cands)} candidates over "
          f"{len({m.module for m in mutants})} modules ({len(rejected)} invalid drawn and "
          f"replaced); seed {seed}; suite {args.suite}; {workers}; RTL at {commit}", flush=True)

    def execute(job_list: list[dict], on_done: Callable[[dict], None]) -> None:
        if on_farm:
            _run_farm(args.cluster, job_list, on_done)
        else:
            _run_local(job_list, jobs, on_done)

    # Baseline: every test file involved, once on an unmutated copy; kept per RTL and per
    # test file's inputs (baseline_keys).
    base_file = cache / f"baseline-{args.suite}-s{seed}-{rhash[:16]}.json"
    keys = baseline_keys(sorted({t.split("::", 1)[0] for ts in files_of.values() for t in ts}))
    kept = json.loads(base_file.read_text()) if base_file.is_file() else {}
    base: dict[str, dict[str, tuple[float, bool]]] = {
        f: {k: tuple(v) for k, v in e["cases"].items()} for f, e in kept.items()
        if keys.get(f) == e.get("key")}
    need = sorted(set(keys) - set(base))
    failing: list[str] = []
    t0 = time.monotonic()

    def base_done(r: dict) -> None:
        times = json.loads(r["detail"] or "{}")
        f = r["tests"][0]
        if "error" in times or r["outcome"] == "timeout" or not times:
            print(f"mutate: baseline {f} did not run:\n{times.get('error', '')}",
                  file=sys.stderr)
            failing.append(f"{f} (did not run)")
        else:
            base[f] = {k: tuple(v) for k, v in times.items()}
            failing.extend(k for k, (_, ok) in base[f].items() if not ok)
        print(f"mutate: baseline {f}: {r['outcome']} ({r['seconds']:.0f} s)", flush=True)

    common = {"work": str(WORK), "run": run, "src": str(src), "suite": args.suite, "seed": seed}
    if need:
        try:
            execute([{**common, "mutant": None, "tests": [t], "timeout": 3600.0}
                     for t in need], base_done)
        except KeyboardInterrupt:
            print("mutate: interrupted", file=sys.stderr)
            return 130
    if len(need) < len(keys):
        print(f"mutate: baseline of {len(keys) - len(need)} test file(s) from {base_file} "
              "(same RTL and tests)", flush=True)
    if failing:
        print("mutate: these tests fail on the unmutated RTL, so they cannot judge mutants; "
              "fix them or run with MODULES= excluding them:\n  " + "\n  ".join(failing),
              file=sys.stderr)
        return 1
    if need:
        kept.update({f: {"key": keys[f], "cases": base[f]} for f in need})
        cache.mkdir(parents=True, exist_ok=True)
        base_file.write_text(json.dumps(kept, indent=1) + "\n")
    baseline_seconds = time.monotonic() - t0
    mapped_only = [CHIP_TOP_TEST] if args.chip_cases == "mapped" else []
    nodes = {mod: plan_cases(mod, fs, base, mapped_only) for mod, fs in files_of.items()}

    def budget(ns: Sequence[str]) -> float:
        secs = sum(base[n.split("::", 1)[0]][n][0] for n in ns)
        return args.timeout_factor * secs + args.build_seconds

    mjobs = [{**common, "mutant": asdict(m), "tests": nodes[m.module],
              "timeout": budget(nodes[m.module])} for m in mutants]
    # Seeded order: an interrupted run has judged a random subset, not the first files.
    random.Random(seed).shuffle(mjobs)
    results: dict[str, dict] = {}
    t1 = time.monotonic()
    width = len(str(len(mjobs)))

    def done(r: dict) -> None:
        m = next(x for x in mutants if x.id == r["id"])
        # the report names the files whose cases the job could run, and how many cases
        r["tests"] = list(dict.fromkeys(n.split("::", 1)[0] for n in nodes[m.module]))
        r["cases"] = len(nodes[m.module])
        results[r["id"]] = r
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
    summary = summarize(mutants, results, eqs, rejected)
    meta = {"commit": commit, "rtl_rev": args.rtl_rev, "suite": args.suite, "seed": seed,
            "chip_cases": args.chip_cases, "only": args.only,
            "requested": n,
            "modules_glob": args.modules, "candidates": len(cands), "mutants": len(mutants),
            "workers": workers, "baseline_seconds": round(baseline_seconds, 1),
            "baseline_cached": not need, "lint_seconds": round(lint_seconds, 1),
            "invalid_drawn": [{**asdict(m), "change": m.change(), "error": err}
                              for m, err in rejected],
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
            print(f"  {m.change()}\n    rerun: "
                  f"{rerun_command(m, args.suite, seed, args.rtl_rev, args.chip_cases)}")
    print(f"\nlint {lint_seconds:.0f} s ({len(rejected)} invalid drawn and replaced); "
          f"baseline {baseline_seconds:.0f} s{'' if need else ' (cached)'}; "
          f"mutants {wall:.0f} s wall, "
          f"{meta['seconds_per_mutant']:.1f} s per mutant (median {meta['median_seconds']:.1f} s)")
    print(f"report: {report} and {report.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
