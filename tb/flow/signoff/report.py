"""The sign-off report: testplan, test results, code and functional coverage, and a verdict.

``python -m tb.flow.signoff.report [--results results]`` reads

- ``docs/testplan.yml`` (testpoints and thresholds) and ``docs/waivers.yml``;
- ``<results>/junit-signoff-*.xml`` (the regression's test results, one file per simulator);
- ``<results>/coverage/code/*.dat`` (Verilator code coverage, one per simulation run);
- ``<results>/coverage/func/*.yml`` (cocotb-coverage databases, one per simulation run);

merges the coverage, and writes ``<results>/signoff/index.html`` (one page: verdict,
thresholds, the testplan with each testpoint's tests and results, code coverage per module
with links to the annotated source, functional coverage per group with its holes, and every
waiver) plus a text summary on stdout.  Exit status 0 when every threshold holds, 1 when one
is missed, 2 when the inputs cannot be read.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tb.flow.signoff import codecov, waivers
from tb.kit.runner import COVERAGE_OFF_RTL, ROOT, SIMULATORS, file_list

TESTPLAN = ROOT / "docs" / "testplan.yml"
THRESHOLD_KEYS = ("tests_passing", "line", "toggle", "functional")


class ReportError(ValueError):
    """An input of the report is missing or malformed."""


# ---------------------------------------------------------------------------- test results
@dataclass(frozen=True)
class TestResult:
    path: str  # tb/chip/test_chip_top.py
    func: str  # test_top
    params: str  # pytest parameters without simulator and seed ("SmokeTest")
    sim: str | None
    seed: int | None
    outcome: str  # passed | failed | skipped
    seconds: float
    message: str = ""

    @property
    def ident(self) -> str:
        p = "-".join(x for x in (self.sim, f"s{self.seed}" if self.seed is not None else None,
                                 self.params) if x)
        return f"{self.path}::{self.func}" + (f"[{p}]" if p else "")


_SIM_SEED = re.compile(r"^(icarus|verilator)-s(\d+)-?")


def read_junit(path: Path) -> list[TestResult]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise ReportError(f"{path}: cannot read JUnit XML: {e}") from None
    out = []
    for case in root.iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        func, _, params = name.partition("[")
        params = params[:-1] if params.endswith("]") else params
        sim = seed = None
        if m := _SIM_SEED.match(params):
            sim, seed, params = m.group(1), int(m.group(2)), params[m.end():]
        outcome, message = "passed", ""
        for tag in ("failure", "error"):
            if (el := case.find(tag)) is not None:
                outcome, message = "failed", (el.get("message") or "")[:300]
        if case.find("skipped") is not None:
            outcome = "skipped"
        out.append(TestResult(classname.replace(".", "/") + ".py", func, params, sim, seed,
                              outcome, float(case.get("time", 0.0)), message))
    return out


def selector_matches(selector: str, r: TestResult) -> bool:
    """``[sim:]<file>[::<function>[<params glob>]]`` against one result."""
    sim, sep, rest = selector.partition(":")
    if sep and sim in SIMULATORS and not rest.startswith(":"):
        if r.sim != sim:
            return False
        selector = rest
    path, _, test = selector.partition("::")
    if not waivers.matches(path, r.path):
        return False
    if not test:
        return True
    func, _, params = test.partition("[")
    if not waivers.matches(func, r.func):
        return False
    return not params or waivers.matches(params.rstrip("]"), r.params)


# ---------------------------------------------------------------------------- testplan
@dataclass
class Testpoint:
    id: str
    title: str
    tests: list[str]
    coverage: list[str]
    results: dict[str, list[TestResult]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        ran = {s: [r for r in rs if r.outcome != "skipped"] for s, rs in self.results.items()}
        if any(r.outcome == "failed" for rs in ran.values() for r in rs):
            return "failed"
        if not self.tests or any(not rs for rs in ran.values()):
            return "not run"
        return "passed"


def load_testplan(path: Path = TESTPLAN) -> tuple[list[Testpoint], dict[str, float]]:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ReportError(f"{path}: cannot read the testplan: {e}") from None
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise ReportError(f"{path}: not a version-1 testplan")
    th = doc.get("thresholds") or {}
    if set(th) != set(THRESHOLD_KEYS):
        raise ReportError(f"{path}: thresholds must give exactly {', '.join(THRESHOLD_KEYS)}")
    points, seen = [], set()
    for i, tp in enumerate(doc.get("testpoints") or []):
        where = f"{path}: testpoint {i + 1}"
        if not isinstance(tp, dict) or not {"id", "title", "tests", "coverage"} <= set(tp):
            raise ReportError(f"{where}: needs id, title, tests and coverage")
        if tp["id"] in seen:
            raise ReportError(f"{where}: duplicate id {tp['id']}")
        seen.add(tp["id"])
        for ref in tp["coverage"]:
            if not re.fullmatch(r"(code|func):[\w.]+", str(ref)):
                raise ReportError(f"{where} ({tp['id']}): coverage {ref!r} is not "
                                  "code:<module> or func:<group>")
        points.append(Testpoint(tp["id"], tp["title"], list(tp["tests"]),
                                list(tp["coverage"])))
    if not points:
        raise ReportError(f"{path}: no testpoints")
    return points, {k: float(v) for k, v in th.items()}


# ---------------------------------------------------------------------------- functional
@dataclass
class FuncItem:
    name: str  # melstm.features.band03
    bins: dict[str, int]  # bin -> hits (waived bins removed)
    at_least: int
    waived: list[tuple[str, str]]  # (bin, reason)

    @property
    def group(self) -> str:
        return ".".join(self.name.split(".")[:2])

    @property
    def covered(self) -> int:
        return sum(1 for h in self.bins.values() if h >= self.at_least)

    @property
    def holes(self) -> list[str]:
        return [b for b, h in self.bins.items() if h < self.at_least]


def merge_functional(files: list[Path], out: Path, func_waivers: list[dict]) -> list[FuncItem]:
    """Merge the runs' databases with cocotb-coverage's own merger, then apply waivers."""
    if not files:
        return []
    from cocotb_coverage.coverage import merge_coverage

    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        merge_coverage(lambda *_: None, str(out), *[str(f) for f in sorted(files)])
        doc = yaml.safe_load(out.read_text())
    except Exception as e:  # the merger raises bare Exceptions on malformed input
        raise ReportError(f"cannot merge functional coverage {files[0].parent}: {e}") from None
    items = []
    for name, attrs in sorted(doc.items()):
        if "bins:_hits" not in attrs:
            continue
        bins, waived = {}, []
        for b, hits in attrs["bins:_hits"].items():
            w = next((w for w in func_waivers if waivers.matches(w["bin"], f"{name}/{b}")), None)
            if w is None:
                bins[str(b)] = int(hits)
            else:
                waived.append((str(b), w["reason"]))
        items.append(FuncItem(name, bins, int(attrs.get("at_least", 1)), waived))
    return items


def functional_percent(items: list[FuncItem], prefix: str = "") -> tuple[int, int]:
    sel = [it for it in items if it.name == prefix or it.name.startswith(prefix)]
    return sum(it.covered for it in sel), sum(len(it.bins) for it in sel)


# ---------------------------------------------------------------------------- verdict
@dataclass
class Criterion:
    name: str
    value: str
    threshold: str
    ok: bool


def rtl_modules() -> list[str]:
    """Every design module of ``rtl/files.f`` (one module per file): not the packages, nor the
    simulation-only files that are built with coverage off (``runner.COVERAGE_OFF_RTL``)."""
    return [Path(n).stem for n in file_list()
            if not n.endswith("_pkg.sv") and n not in COVERAGE_OFF_RTL]


def verdict(results: list[TestResult], points: list[Testpoint], code: codecov.CodeCoverage
            | None, items: list[FuncItem], th: dict[str, float]) -> list[Criterion]:
    ran = [r for r in results if r.outcome != "skipped"]
    passed = sum(r.outcome == "passed" for r in ran)
    pct = 100.0 * passed / len(ran) if ran else 0.0
    crit = [Criterion("tests passing", f"{passed}/{len(ran)} = {pct:.1f}%",
                      f">= {th['tests_passing']:g}%", bool(ran) and pct >= th["tests_passing"])]
    bad = [p.id for p in points if p.status != "passed"]
    crit.append(Criterion("testpoints shown", f"{len(points) - len(bad)}/{len(points)}"
                          + (f" (not: {', '.join(bad)})" if bad else ""), "all", not bad))
    missing = [m for m in rtl_modules() if code is None or m not in code.modules]
    for metric in ("line", "toggle"):
        if code is None:
            crit.append(Criterion(f"{metric} coverage (RTL)", "no data", f">= {th[metric]:g}%",
                                  False))
            continue
        hit, total = code.totals(metric)
        value = f"{hit}/{total} = {code.percent(metric):.2f}%"
        crit.append(Criterion(f"{metric} coverage (RTL)", value, f">= {th[metric]:g}%",
                              code.percent(metric) >= th[metric]))
    crit.append(Criterion("RTL modules with coverage data",
                          f"{len(rtl_modules()) - len(missing)}/{len(rtl_modules())}"
                          + (f" (none for: {', '.join(missing)})" if missing else ""), "all",
                          not missing))
    hit, total = functional_percent(items)
    fpct = 100.0 * hit / total if total else 0.0
    crit.append(Criterion("functional coverage", f"{hit}/{total} bins = {fpct:.2f}%",
                          f">= {th['functional']:g}%", bool(total) and fpct >= th["functional"]))
    return crit


# ---------------------------------------------------------------------------- HTML
_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:1400px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;
vertical-align:top;font-size:90%}th{background:#eee}.ok{background:#d8f5d8}.bad{background:#f8d0d0}
.warn{background:#fff0c0}code{font-size:90%}details{margin:0}h1 .ok,h1 .bad{padding:0 .3em}"""


def _e(x) -> str:
    return html.escape(str(x))


def _cls(ok: bool | None) -> str:
    return "" if ok is None else (" class='ok'" if ok else " class='bad'")


def _pct(hit: int, total: int, need: float | None = None) -> str:
    if not total:
        return "<td>-</td>"
    p = 100.0 * hit / total
    return f"<td{_cls(None if need is None else p >= need)}>{hit}/{total} ({p:.1f}%)</td>"


def render(*, crit: list[Criterion], points: list[Testpoint], results: list[TestResult],
           code: codecov.CodeCoverage | None, code_index: Path | None, items: list[FuncItem],
           th: dict[str, float], out: Path, run_info: dict) -> Path:
    ok = all(c.ok for c in crit)
    h = [f"<!doctype html><meta charset='utf-8'><title>melstm sign-off</title><style>{_CSS}"
         "</style>",
         f"<h1>melstm sign-off: <span{_cls(ok)}>{'PASS' if ok else 'FAIL'}</span></h1>",
         "<p>" + _e(", ".join(f"{k}: {v}" for k, v in run_info.items())) + "</p>",
         "<h2>Verdict</h2><table><tr><th>criterion</th><th>value</th><th>threshold</th>"
         "<th>result</th></tr>"]
    for c in crit:
        h.append(f"<tr><td>{_e(c.name)}</td><td>{_e(c.value)}</td><td>{_e(c.threshold)}</td>"
                 f"<td{_cls(c.ok)}>{'met' if c.ok else 'MISSED'}</td></tr>")
    h.append("</table>")
    # ---- testplan
    h.append("<h2>Testplan (docs/testplan.yml)</h2><table><tr><th>testpoint</th><th>what is "
             "shown</th><th>tests: passed/failed/skipped</th><th>coverage</th><th>status</th>"
             "</tr>")
    for p in points:
        rows = []
        for sel, rs in p.results.items():
            n = defaultdict(int)
            for r in rs:
                n[r.outcome] += 1
            fails = "".join(f"<br>&nbsp;&nbsp;failed: <code>{_e(r.ident)}</code>"
                            for r in rs if r.outcome == "failed")
            rows.append(f"<code>{_e(sel)}</code>: {n['passed']}/{n['failed']}/{n['skipped']}"
                        + (" <b>(none ran)</b>" if not n['passed'] + n['failed'] else "")
                        + fails)
        cov = []
        for ref in p.coverage:
            kind, _, what = ref.partition(":")
            if kind == "code":
                m = code.modules.get(what) if code else None
                cov.append(f"{_e(ref)}: " + (", ".join(
                    f"{k} {m.percent(k):.1f}%" for k in ("line", "toggle")
                    if m.percent(k) is not None) if m else "no data"))
            else:
                hit, total = functional_percent(items, what)
                cov.append(f"{_e(ref)}: " + (f"{100.0 * hit / total:.1f}% of {total} bins"
                                             if total else "no data"))
        st = p.status
        h.append(f"<tr><td>{_e(p.id)}</td><td>{_e(p.title)}</td><td>{'<br>'.join(rows)}</td>"
                 f"<td>{'<br>'.join(cov)}</td><td{_cls(st == 'passed')}>{st}</td></tr>")
    h.append("</table>")
    # ---- code coverage
    h.append("<h2>Code coverage (Verilator, merged over the regression)</h2>")
    if code is None:
        h.append("<p class='bad'>no code coverage data</p>")
    else:
        link = code_index.relative_to(out.parent) if code_index else None
        h.append(f"<p>{code.runs} simulation runs merged; points folded per module (every "
                 "instance and parameterisation). line = statement blocks and branch arms; "
                 "toggle = every bit both ways; expression = condition terms (reported, no "
                 "threshold). Annotated source: " + (f"<a href='{link}'>genhtml report</a>"
                                                     if link else "-") + ".</p>")
        h.append("<table><tr><th>module</th><th>line</th><th>toggle</th><th>expression</th>"
                 "<th>uncovered points</th></tr>")
        for name in sorted(code.modules):
            m = code.modules[name]
            page = codecov.source_page(code_index.parent, m.file) if code_index else None
            ref = f"<a href='{page.relative_to(out.parent)}'>{_e(name)}</a>" \
                if page and page.is_file() else _e(name)
            holes = "".join(f"<br><code>{_e(p.describe())}</code>" for p in m.holes[:200])
            more = f"<br>... {len(m.holes) - 200} more" if len(m.holes) > 200 else ""
            hole_cell = f"<details><summary>{len(m.holes)}</summary>{holes}{more}</details>" \
                if m.holes else "0"
            h.append(f"<tr><td>{ref}</td>{_pct(m.hit['line'], m.total['line'], th['line'])}"
                     f"{_pct(m.hit['toggle'], m.total['toggle'], th['toggle'])}"
                     f"{_pct(m.hit['expr'], m.total['expr'])}<td>{hole_cell}</td></tr>")
        h.append("<tr><th>all RTL</th>" + _pct(*code.totals("line"), th["line"])
                 + _pct(*code.totals("toggle"), th["toggle"]) + _pct(*code.totals("expr"))
                 + "<td></td></tr></table>")
    # ---- functional coverage
    h.append("<h2>Functional coverage (cocotb-coverage, merged over the regression)</h2>")
    groups: dict[str, list[FuncItem]] = defaultdict(list)
    for it in items:
        groups[it.group].append(it)
    if not items:
        h.append("<p class='bad'>no functional coverage data</p>")
    h.append("<table><tr><th>group</th><th>bins covered</th><th>holes</th></tr>")
    for g, its in sorted(groups.items()):
        holes = [f"{it.name}/{b}" for it in its for b in it.holes]
        cell = "".join(f"<br><code>{_e(x)}</code>" for x in holes) or "none"
        covered, size = sum(i.covered for i in its), sum(len(i.bins) for i in its)
        h.append(f"<tr><td>{_e(g)}</td>{_pct(covered, size, th['functional'])}"
                 f"<td>{len(holes)}{': ' + cell if holes else ''}</td></tr>")
    h.append("</table><details><summary>every cover point and bin</summary><table><tr><th>"
             "point</th><th>bins (hits)</th></tr>")
    for it in items:
        cells = ", ".join(f"<span{_cls(n >= it.at_least)}>{_e(b)}: {n}</span>"
                          for b, n in it.bins.items())
        h.append(f"<tr><td>{_e(it.name)}</td><td>{cells}</td></tr>")
    h.append("</table></details>")
    # ---- waivers
    h.append("<h2>Waivers (docs/waivers.yml)</h2><table><tr><th>what</th><th>reason</th></tr>")
    fw = [(f"{it.name}/{b}", why) for it in items for b, why in it.waived]
    cw = [(p.describe(), why) for p, why in (code.waived if code else [])]
    for what, why in fw + cw:
        h.append(f"<tr><td><code>{_e(what)}</code></td><td>{_e(why)}</td></tr>")
    if not fw + cw:
        h.append("<tr><td colspan=2>none applied</td></tr>")
    h.append("</table>")
    # ---- all results
    h.append("<h2>Test results</h2><details><summary>"
             f"{len(results)} results</summary><table><tr><th>test</th><th>outcome</th>"
             "<th>s</th><th>message</th></tr>")
    for r in sorted(results, key=lambda r: r.ident):
        h.append(f"<tr><td><code>{_e(r.ident)}</code></td><td{_cls(r.outcome != 'failed')}>"
                 f"{r.outcome}</td><td>{r.seconds:.1f}</td><td>{_e(r.message)}</td></tr>")
    h.append("</table></details>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(h) + "\n")
    return out


# ---------------------------------------------------------------------------- main
def build(results_dir: Path, testplan: Path = TESTPLAN,
          waiver_path: Path = waivers.DEFAULT) -> tuple[bool, str, Path]:
    """Everything the report does; returns (verdict, text summary, HTML path)."""
    points, th = load_testplan(testplan)
    w = waivers.load(waiver_path)
    junits = sorted(results_dir.glob("junit-signoff-*.xml"))
    results = [r for j in junits for r in read_junit(j)]
    for p in points:
        p.results = {sel: [r for r in results if selector_matches(sel, r)] for sel in p.tests}
    out_dir = results_dir / "signoff"
    dats = sorted((results_dir / "coverage" / "code").glob("*.dat"))
    code = code_index = None
    if dats:
        code, code_index = codecov.collect(dats, w["code"], out_dir / "code")
    items = merge_functional(sorted((results_dir / "coverage" / "func").glob("*.yml")),
                             out_dir / "functional.yml", w["func"])
    crit = verdict(results, points, code, items, th)
    info_file = results_dir / "signoff" / "run.json"
    run_info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    html_path = render(crit=crit, points=points, results=results, code=code,
                       code_index=code_index, items=items, th=th,
                       out=out_dir / "index.html", run_info=run_info)
    ok = all(c.ok for c in crit)
    lines = ["=" * 72, "sign-off: " + ("PASS" if ok else "FAIL")]
    lines += [f"  {'met   ' if c.ok else 'MISSED'} {c.name}: {c.value} (need {c.threshold})"
              for c in crit]
    if code is not None:
        lines += ["", codecov.table(code)]
    lines += ["", f"report: {html_path}", "=" * 72]
    return ok, "\n".join(lines), html_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.signoff.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=ROOT / "results")
    ap.add_argument("--testplan", type=Path, default=TESTPLAN)
    ap.add_argument("--waivers", type=Path, default=waivers.DEFAULT)
    args = ap.parse_args(argv)
    try:
        ok, text, _ = build(args.results, args.testplan, args.waivers)
    except (ReportError, waivers.WaiverError, codecov.CoverageError) as e:
        print(f"signoff report: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
