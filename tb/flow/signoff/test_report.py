"""``report.py``: the testplan file, selector matching, and the report and its verdict on
synthetic inputs (JUnit XML, Verilator coverage files, functional coverage YAML)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import yaml

from tb.flow.signoff import funcov, report
from tb.kit.runner import ROOT, SIMULATORS


# ---------------------------------------------------------------------------- plan file
def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def test_testplan_names_real_tests_modules_and_groups() -> None:
    points, th = report.load_testplan()
    assert set(th) == set(report.THRESHOLD_KEYS)
    top_tests = _functions(ROOT / "tb/chip/test_chip_top.py")
    from tb.chip.test_chip_top import DEFAULT_TESTS
    items = set(funcov.cv.coverage_db)
    modules = set(report.rtl_modules())
    for p in points:
        assert p.tests, f"{p.id}: no tests"
        for sel in p.tests:
            sel = sel.split(":", 1)[1] if sel.split(":", 1)[0] in SIMULATORS else sel
            path, _, test = sel.partition("::")
            assert (ROOT / path).is_file(), f"{p.id}: {path} does not exist"
            func, _, params = test.partition("[")
            if func:
                assert func in _functions(ROOT / path), f"{p.id}: {path} has no {func}"
            if params and func == "test_top":
                name = params.rstrip("]")
                assert name in DEFAULT_TESTS and name in top_tests, f"{p.id}: no {name}"
        for ref in p.coverage:
            kind, _, what = ref.partition(":")
            if kind == "code":
                assert what in modules, f"{p.id}: {what} is not an RTL module"
            else:
                assert any(i.startswith(what) for i in items), f"{p.id}: no group {what}"
    measured = {r.partition(":")[2] for p in points for r in p.coverage}
    unplanned = [m for m in modules if m not in measured and not m.endswith("_rom")]
    assert not unplanned, f"RTL modules no testpoint measures: {unplanned}"


# ---------------------------------------------------------------------------- matching
def _result(path="tb/chip/test_chip_top.py", func="test_top", params="SmokeTest", sim="verilator",
            outcome="passed") -> report.TestResult:
    return report.TestResult(path, func, params, sim, 1, outcome, 1.0)


def test_selectors() -> None:
    r = _result()
    assert report.selector_matches("tb/chip/test_chip_top.py", r)
    assert report.selector_matches("tb/chip/test_chip_top.py::test_top", r)
    assert report.selector_matches("tb/chip/test_chip_top.py::test_top[SmokeTest]", r)
    assert report.selector_matches("verilator:tb/chip/test_chip_top.py::test_top[Smoke*]", r)
    assert not report.selector_matches("icarus:tb/chip/test_chip_top.py::test_top[SmokeTest]", r)
    assert not report.selector_matches("tb/chip/test_chip_top.py::test_top[RealTimeTest]", r)
    assert not report.selector_matches("tb/chip/test_chip_top.py::test_top_bench", r)
    assert not report.selector_matches("tb/prim/test_prim_round_sat.py", r)


# ---------------------------------------------------------------------------- synthetic run
def _junit(path: Path, cases: list[tuple[str, str, str]]) -> None:
    body = []
    for cls, name, outcome in cases:
        inner = {"failed": "<failure message='boom'/>", "skipped": "<skipped/>"}.get(outcome, "")
        body.append(f"<testcase classname='{cls}' name='{name}' time='1.0'>{inner}</testcase>")
    path.write_text("<testsuites><testsuite>" + "".join(body) + "</testsuite></testsuites>")


def _dat(path: Path, points: list[tuple[str, str, int, str, int]]) -> None:
    """A Verilator coverage file: (module, page type, line, comment, count) per point."""
    lines = ["# SystemC::Coverage-3"]
    for mod, page, line, comment, count in points:
        src = ROOT / "rtl" / next(f for f in report.Path(ROOT / "rtl/files.f").read_text()
                                  .split() if Path(f).stem == mod)
        t = page[2:]
        key = (f"\x01f\x02{src}\x01l\x02{line}\x01n\x021\x01t\x02{t}\x01page\x02{page}/{mod}"
               f"\x01o\x02{comment}\x01h\x02tb.u_{mod}")
        lines.append(f"C '{key}' {count}")
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")


def _plan(path: Path, tests: list[str]) -> Path:
    path.write_text(yaml.safe_dump({
        "version": 1,
        "thresholds": {"tests_passing": 100, "line": 95, "toggle": 90, "functional": 95},
        "testpoints": [{"id": "a.b", "title": "t", "tests": tests,
                        "coverage": ["code:prim_fifo", "func:melstm.config"]}]}))
    return path


def _func_yaml(path: Path, hits: dict[str, int]) -> None:
    doc = {"melstm": {"size": 9, "coverage": 0},
           "melstm.config": {"size": 9, "coverage": 0},
           "melstm.config.lanes_hidden": {"size": 9, "coverage": sum(1 for v in hits.values()
                                                                      if v), "weight": 1,
                                          "at_least": 1, "bins:_hits": hits}}
    path.write_text(yaml.safe_dump(doc))


@pytest.mark.skipif(not Path("/usr/bin/verilator_coverage").exists(),
                    reason="Debian's verilator (verilator_coverage) not installed")
def test_report_verdicts_on_synthetic_inputs(tmp_path: Path) -> None:
    res = tmp_path / "results"
    (res / "coverage" / "code").mkdir(parents=True)
    (res / "coverage" / "func").mkdir(parents=True)
    mods = report.rtl_modules()
    good = [(m, "v_line", 10, "block", 5) for m in mods] + \
           [(m, "v_toggle", 3, "x[0]:0->1", 2) for m in mods]
    _dat(res / "coverage/code/a.dat", good)
    _dat(res / "coverage/code/b.dat", [(mods[0], "v_toggle", 3, "x[0]:1->0", 0)])
    bins = {f"P={p} H={h}": 1 for p in funcov.LANES for h in funcov.HIDDEN}
    _func_yaml(res / "coverage/func/a.yml", bins)
    plan = _plan(tmp_path / "plan.yml", ["tb/prim/test_prim_round_sat.py"])
    nowaive = tmp_path / "w.yml"
    nowaive.write_text("waivers: []\n")
    _junit(res / "junit-signoff-verilator.xml",
           [("tb.prim.test_prim_round_sat", "test_prim_round_sat[verilator-s1-8-4-3]", "passed")])

    # one toggle point of one module is unhit: still over 90 % toggle -> pass
    ok, text, page = report.build(res, plan, nowaive)
    assert ok, text
    assert "PASS" in page.read_text()
    assert (res / "signoff/code/html/index.html").is_file()

    # a failing test, a hole in functional coverage: both reported, verdict FAIL
    _junit(res / "junit-signoff-verilator.xml",
           [("tb.prim.test_prim_round_sat", "test_prim_round_sat[verilator-s1-8-4-3]", "failed")])
    _func_yaml(res / "coverage/func/b.yml", {b: 0 for b in bins})
    bins_missing = dict(bins, **{"P=16 H=64": 0})
    _func_yaml(res / "coverage/func/a.yml", bins_missing)
    ok, text, page = report.build(res, plan, nowaive)
    assert not ok
    assert "MISSED tests passing: 0/1" in text
    assert "MISSED functional coverage: 8/9" in text
    html = page.read_text()
    assert "melstm.config.lanes_hidden/P=16 H=64" in html
    assert "test_prim_round_sat[verilator-s1-8-4-3]" in html

    # the waiver takes the hole out and the report lists it with its reason
    waive = tmp_path / "w2.yml"
    waive.write_text(yaml.safe_dump({"waivers": [
        {"func": {"bin": "melstm.config.lanes_hidden/P=16 H=64", "reason": "not built"}},
        {"code": {"module": mods[0], "metric": "toggle", "point": "x[0]:1->0",
                  "reason": "tied off"}}]}))
    _junit(res / "junit-signoff-verilator.xml",
           [("tb.prim.test_prim_round_sat", "test_prim_round_sat[verilator-s1-8-4-3]", "passed")])
    ok, text, page = report.build(res, plan, waive)
    assert ok, text
    html = page.read_text()
    assert "not built" in html and "tied off" in html

    # modules without data and a testpoint whose tests never ran fail the verdict
    _dat(res / "coverage/code/a.dat", good[:3])
    ok, text, _ = report.build(res, _plan(tmp_path / "p2.yml", ["tb/nothing.py"]), waive)
    assert not ok
    assert "MISSED testpoints shown: 0/1" in text
    assert "MISSED RTL modules with coverage data" in text


def test_report_refuses_bad_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "plan.yml"
    bad.write_text("version: 1\nthresholds: {line: 95}\ntestpoints: []\n")
    with pytest.raises(report.ReportError, match="thresholds"):
        report.load_testplan(bad)
    bad.write_text(yaml.safe_dump({"version": 1, "thresholds": dict.fromkeys(
        report.THRESHOLD_KEYS, 1), "testpoints": [
        {"id": "x", "title": "t", "tests": [], "coverage": ["lines:foo"]}]}))
    with pytest.raises(report.ReportError, match="lines:foo"):
        report.load_testplan(bad)
    garbage = tmp_path / "junit.xml"
    garbage.write_text("<testsuites><testcase")
    with pytest.raises(report.ReportError, match="JUnit"):
        report.read_junit(garbage)


def test_feature_block_sampling_hits_each_present_bin_once() -> None:
    """``sample_feature_block``: one hit per band and per code bin that some vector of the
    block has, by the bins' own definition (brute force here), none elsewhere."""
    rng = np.random.default_rng(5)
    codes = rng.integers(0, funcov.CODE_MAX + 1, (32, funcov.BANDS)).astype(np.uint8)
    codes[:, 3] = 0                     # a band stuck at one bin
    codes[7, 4] = funcov.CODE_MAX       # the top bin once
    codes[:, 5] = rng.choice([84, 85], 32)  # both sides of a bin edge
    points = [funcov.cv.coverage_db[f"{funcov.ROOT_NAME}.features.band{b:02d}"]
              for b in range(funcov.BANDS)]
    before = [dict(p.detailed_coverage) for p in points]
    funcov.sample_feature_block(codes)
    for b, p in enumerate(points):
        for name, (lo, hi) in funcov.CODE_BINS.items():
            want = int(bool(np.any((codes[:, b] >= lo) & (codes[:, b] <= hi))))
            got = p.detailed_coverage[name] - before[b][name]
            assert got == want, f"band {b} bin {name}: {got} hits, expected {want}"
