"""``make mutate`` (tb/flow/mutate.py): mutant generation, sampling, the equivalence file, the
module-to-test map, bad input, and one real mutant of ``prim_fifo`` killed by its block test."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tb.flow import mutate
from tb.kit.runner import RTL

SNIPPET = textwrap.dedent("""\
    module snip #(
      parameter int W = 8  // never mutated: a parameter
    ) (
      input  logic         clk_i,
      input  logic         rst_ni,
      input  logic         en_i,
      input  logic [W-1:0] a_i,
      input  logic [W-1:0] b_i,
      output logic [W-1:0] y_o,
      output logic         f_o
    );
      localparam int Half = W / 2;
      logic [W-1:0] x_q, x_d;
      assign f_o = (a_i < b_i) && (a_i != 8'd3) || (a_i >>> 1) == b_i;
      always_comb begin
        x_d = x_q;
        if (en_i) x_d = a_i + b_i - x_q[Half-1:0];
        y_o = (x_q & a_i) | {{(W-1){1'b0}}, x_q[1]} | {4'd0, a_i[2 +: 3], b_i[5:4]};
        assert (W > 1);  // never mutated: an assertion
      end
      logic chk_rst_n, unused_bit;
      assign chk_rst_n = rst_ni && !en_i;  // never mutated: feeds only a checker
      assign unused_bit = ^a_i;  // never mutated: a lint sink
      prim_stream_check #(.Width(W)) u_chk (.clk_i(clk_i), .rst_ni(chk_rst_n), .data_i(a_i));
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) x_q <= '0;
        else if (en_i) x_q <= x_d;
      end
    `ifndef SYNTHESIS
      always_comb begin
        if (a_i > 8'd200) $display("big");  // never mutated: simulation only
      end
    `endif
    endmodule
    """)


def _snippet_mutants(tmp_path: Path) -> tuple[str, list[mutate.Mutant]]:
    path = tmp_path / "snip.sv"
    path.write_text(SNIPPET)
    return SNIPPET, mutate.candidates_in(SNIPPET, mutate.parse(path), "x/snip.sv")


def test_snippet_every_operator_and_exact_spans(tmp_path):
    text, ms = _snippet_mutants(tmp_path)
    kinds = Counter(m.op for m in ms)
    assert set(kinds) == set(mutate.OPS), f"operators not produced: {set(mutate.OPS) - set(kinds)}"
    for m in ms:
        assert text[m.start:m.end] == m.old, m
        assert m.module == "snip"
        assert text.count("\n", 0, m.start) + 1 == m.line
        mutated = m.apply(text)
        assert mutated != text and mutated[:m.start] == text[:m.start]
    assert len({m.id for m in ms}) == len(ms), "ids are unique"
    # the stuck enable forces the guard of `x_q <= x_d`, never the reset condition
    stuck = sorted((m.old, m.new) for m in ms if m.op == "stuck")
    assert stuck == [("en_i", "1'b0"), ("en_i", "1'b1")]
    assert not any("rst_ni" in m.old for m in ms)


def test_snippet_nothing_outside_synthesizable_logic(tmp_path):
    text, ms = _snippet_mutants(tmp_path)
    lines = text.splitlines()
    banned = [i + 1 for i, ln in enumerate(lines)
              if "never mutated" in ln or ln.startswith(("  localparam", "  input", "  output"))]
    sim_only = (text.index("`ifndef"), text.index("`endif"))
    for m in ms:
        assert m.line not in banned, f"mutated a line that is not logic: {m.change()}"
        assert not sim_only[0] <= m.start < sim_only[1], f"mutated simulation-only code: {m}"
    # nothing in the event control, a declaration's range or a cast's width
    assert not any(m.old in ("posedge", "W-1", "W") for m in ms)


def test_snippet_widths_stay(tmp_path):
    """A replication count and an indexed select's width are widths, not logic; a range
    select moves as a window (both bounds), never one bound alone (a width error)."""
    text, ms = _snippet_mutants(tmp_path)
    count = text.index("(W-1){1'b0}")
    width = text.index("+: 3") + 3
    brace = text.rindex("{", 0, count)
    bracket = text.rindex("[", 0, width)
    assert not any(brace < m.start <= count < m.end for m in ms), "a replication count mutated"
    assert not any(bracket < m.start <= width < m.end for m in ms), "a select's width mutated"
    assert any(m.old == "2" and m.op == "bitselect" for m in ms), "the indexed select's base"
    ranges = sorted((m.old, m.new) for m in ms if m.op == "bitselect" and ":" in m.old)
    assert ranges == [("5:4", "4:3"), ("5:4", "6:5"), ("Half-1:0", "(Half-1) + 1:(0) + 1")]
    for rng in ("Half-1:0", "5:4"):  # nothing inside a range's bounds but the window shift
        a = text.index(rng)
        assert all(m.start == a and m.old == rng for m in ms if a <= m.start < a + len(rng))


def test_generation_is_deterministic_and_sampling_is_seeded_and_stratified():
    cands = mutate.generate()
    assert cands == mutate.generate(), "same RTL, same candidates"
    mods = {m.module for m in cands}
    assert {"prim_fifo", "mel_fft", "lstm_seq", "chip_regs", "chip_top"} <= mods
    assert "prim_stream_check" not in mods and not any("/gen/" in m.file for m in cands)
    for m in cands:
        assert (RTL / m.file).read_text()[m.start:m.end] == m.old
    a = mutate.sample(cands, 40, 7)
    assert a == mutate.sample(cands, 40, 7) and len(a) == 40
    assert a != mutate.sample(cands, 40, 8)
    assert {m.module for m in mutate.sample(cands, len(mods), 3)} == mods, "one per module"
    assert len({m.id for m in a}) == 40


def _every_fourth_invalid(calls: list | None = None):
    def check(batch):
        if calls is not None:
            calls.append([m.id for m in batch])
        return {m.id: "%Warning-WIDTH: fake" if int(m.id[-8:], 16) % 4 == 0 else ""
                for m in batch}
    return check


def test_invalid_draws_are_replaced_from_the_same_module_deterministically():
    cands = mutate.generate()
    plain = mutate.sample(cands, 40, 7)
    calls: list = []
    picked, rejected = mutate.draw(cands, 40, 7, _every_fourth_invalid(calls))
    assert len(picked) == 40 and len({m.id for m in picked}) == 40
    assert rejected and all(int(m.id[-8:], 16) % 4 == 0 for m, _ in rejected)
    assert not any(int(m.id[-8:], 16) % 4 == 0 for m in picked), "an invalid one kept a slot"
    # the valid ones of the plain draw stay; each invalid one is replaced within its module
    assert {m.id for m in plain} - {m.id for m, _ in rejected} <= {m.id for m in picked}
    assert Counter(m.module for m in picked) == Counter(m.module for m in plain)
    # the same seed gives the same sample, whatever order a batch lint answers in
    def reversed_check(batch):
        return dict(reversed(list(_every_fourth_invalid()(batch[::-1]).items())))
    assert mutate.draw(cands, 40, 7, reversed_check) == (picked, rejected)
    assert mutate.draw(cands, 40, 8, _every_fourth_invalid())[0] != picked
    assert len(calls) >= 2, "replacements come in a second round"


def test_a_module_without_valid_candidates_passes_its_share_on():
    cands = mutate.generate(modules="prim_*")
    dead = "prim_round_sat"

    def check(batch):
        return {m.id: "%Error: fake" if m.module == dead else "" for m in batch}

    picked, rejected = mutate.draw(cands, 6, 3, check)
    assert len(picked) == 6 and dead not in {m.module for m in picked}
    assert {m.module for m, _ in rejected} == {dead}
    assert mutate.draw(cands, 6, 3, check) == (picked, rejected)
    n_fifo = sum(m.module == "prim_fifo" for m in cands)
    picked, _ = mutate.draw(cands, 0, 3, check)  # every candidate: all the valid ones
    assert len(picked) == n_fifo


def test_cases_run_cheapest_block_first_mapped_chip_cases_first():
    chip = "tb/chip/test_chip_top.py::test_top"
    base = {
        "tb/chip/test_chip_regs.py": {"tb/chip/test_chip_regs.py::test_chip_regs[verilator-s1]":
                                      (3.0, True)},
        "tb/chip/test_chip_top.py": {f"{chip}[verilator-s1-{c}]": (t, True) for c, t in (
            ("SmokeTest", 90.0), ("RecordingsTest", 20.0), ("CsrTest", 9.0),
            ("ResetMidWindowTest", 3.0), ("RegisterWalkTest", 6.0))},
    }
    files = mutate.covering_tests("chip_regs", "test", mutate.hierarchy())
    assert files == ["tb/chip/test_chip_regs.py", "tb/chip/test_chip_top.py"]
    nodes = mutate.plan_cases("chip_regs", files, base)
    names = [n.rsplit("-", 1)[-1].rstrip("]") if "top" in n else n for n in nodes]
    # own block test; the chip cases the testplan maps to code:chip_regs; the rest cheapest
    # first, the first case's build (it ran first in the baseline) not counted against it
    assert names == ["tb/chip/test_chip_regs.py::test_chip_regs[verilator-s1]",
                     "RegisterWalkTest", "CsrTest", "ResetMidWindowTest", "SmokeTest",
                     "RecordingsTest"]
    assert mutate.plan_cases("chip_top", ["tb/chip/test_chip_top.py"], base)[0].endswith(
        "SmokeTest]"), "code:chip_top is mapped to the smoke test"
    # CHIP_CASES=mapped: only the mapped chip cases, but all of a block's own test
    quick = mutate.plan_cases("chip_regs", files, base, [mutate.CHIP_TOP_TEST])
    assert quick == nodes[:3]
    assert len(mutate.plan_cases("chip_top", ["tb/chip/test_chip_top.py"], base,
                                 [mutate.CHIP_TOP_TEST])) == 5


def test_baseline_key_follows_content(tmp_path):
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "t.py").write_text("a")
    h = mutate.content_hash(tmp_path, ["tb", "missing.py"])
    assert h == mutate.content_hash(tmp_path, ["tb", "missing.py"])
    (tmp_path / "tb" / "t.py").write_text("b")
    assert mutate.content_hash(tmp_path, ["tb"]) != h
    assert mutate.rtl_hash(RTL) == mutate.rtl_hash(RTL)
    (tmp_path / "tb" / "test_a.py").write_text("1")
    (tmp_path / "tb" / "test_b.py").write_text("1")
    keys = mutate.baseline_keys(["tb/test_a.py", "tb/test_b.py"], tmp_path)
    (tmp_path / "tb" / "test_b.py").write_text("2")  # another test file: a's baseline stays
    assert mutate.baseline_keys(["tb/test_a.py"], tmp_path)["tb/test_a.py"] == keys["tb/test_a.py"]
    assert mutate.baseline_keys(["tb/test_b.py"], tmp_path)["tb/test_b.py"] != keys["tb/test_b.py"]
    (tmp_path / "tb" / "t.py").write_text("c")  # a shared input: every baseline reruns
    assert mutate.baseline_keys(["tb/test_a.py"], tmp_path)["tb/test_a.py"] != keys["tb/test_a.py"]


def test_equivalence_file(tmp_path):
    assert isinstance(mutate.load_equivalent(), list)  # the project's own file parses
    m = mutate.Mutant(id="prim_fifo.0000aaaa", module="prim_fifo", file="prim/prim_fifo.sv",
                      line=30, col=5, start=0, end=2, old="!=", new="==", op="equality")
    f = tmp_path / "eq.yml"
    f.write_text("equivalent:\n"
                 "  - id: prim_fifo.0000aaaa\n    reason: by id\n"
                 "  - file: rtl/prim/prim_fifo.sv\n    line: 30\n    old: '!='\n"
                 "    new: '=='\n    reason: by place\n")
    eqs = mutate.load_equivalent(f)
    assert [e.reason for e in eqs if e.matches(m)] == ["by id", "by place"]
    other = mutate.Mutant(**{**m.__dict__, "id": "x.1", "line": 31})
    assert mutate.equivalent_reason(other, eqs) == ""
    for bad, why in (("equivalent:\n  - id: a.b\n", "reason"),
                     ("equivalent:\n  - file: x\n    reason: r\n", "missing line, old, new"),
                     ("equivalent:\n  - id: a\n    reason: r\n    colour: red\n", "unknown"),
                     ("equivalent: {a: 1}\n", "must be a list")):
        f.write_text(bad)
        with pytest.raises(mutate.MutateError, match=why):
            mutate.load_equivalent(f)


def test_covering_tests_cheapest_first():
    below = mutate.hierarchy()
    t = mutate.covering_tests("mel_fft", "test", below)
    assert t[0] == "tb/mel/test_mel_fft.py" and t[-1] == "tb/chip/test_chip_top.py"
    assert "tb/mel/test_mel_frontend.py" in t
    t = mutate.covering_tests("prim_round_sat", "test", below)
    assert t[0] == "tb/prim/test_prim_round_sat.py" and len(t) == len(set(t))
    assert mutate.covering_tests("lstm_seq", "regress", below) == ["tb/chip/test_chip_top.py"]


def test_bad_input_one_message(capsys):
    assert mutate.main(["--modules", "nosuch*", "--list"]) == 2
    assert "matches no design module" in capsys.readouterr().err
    assert mutate.main(["--only", "prim_fifo.ffffffff", "--list"]) == 2
    assert "no mutant prim_fifo.ffffffff" in capsys.readouterr().err
    assert mutate.main(["--mutants", "-3", "--list"]) == 2
    assert "MUTANTS=-3" in capsys.readouterr().err

def test_list_lints_the_draw(tmp_path, capsys):
    out = ["--out", str(tmp_path)]
    assert mutate.main(["--mutants", "3", "--modules", "prim_*", "--list", *out]) == 0
    assert "3 of " in capsys.readouterr().out
    (cache,) = (tmp_path / "cache").glob("lint-*.json")
    assert len(json.loads(cache.read_text())) >= 3, "every drawn candidate's lint is kept"


def test_a_fifo_mutant_is_killed_in_a_copy(tmp_path):
    """End to end: the FIFO's pop computed with || instead of && fails its block test, in a
    copy of rtl/ (the checkout untouched); Verilator's lint rejects an edit that is not
    valid SystemVerilog and passes the real one."""
    cands = {(m.line, m.old, m.new): m for m in mutate.generate(modules="prim_fifo")}
    src = RTL / "prim/prim_fifo.sv"
    before = src.read_text()
    line = next(i + 1 for i, ln in enumerate(before.splitlines())
                if "assign pop" in ln and "out_valid_o && out_ready_i" in ln)
    m = cands[(line, "&&", "||")]
    job = {"work": str(tmp_path), "run": "t", "src": str(RTL), "suite": "test", "seed": 1,
           "mutant": m.__dict__, "tests": ["tb/prim/test_prim_fifo.py"], "timeout": 600}
    r = mutate.run_job(job)
    assert r["outcome"] == "killed", r
    assert "test_prim_fifo" in r["detail"]
    broken = mutate.Mutant(**{**m.__dict__, "id": "prim_fifo.broken", "new": "&&&"})
    err = mutate.lint_mutant(broken, RTL, tmp_path)
    assert err.startswith("%Error") and "rtl/prim/prim_fifo.sv" in err, err
    assert mutate.lint_mutant(m, RTL, tmp_path) == ""
    assert src.read_text() == before, "the checkout's RTL is never touched"


def test_report_counts_invalid_draws_apart(tmp_path):
    ms = mutate.sample(mutate.generate(modules="prim_*"), 3, 1)
    res = {m.id: {"outcome": o, "seconds": 1.0, "detail": "", "tests": ["tb/x.py"], "cases": 2}
           for m, o in zip(ms, ["killed", "survived", "killed"], strict=True)}
    drawn = [(ms[0], "%Warning-WIDTHTRUNC: fake")]
    summary = mutate.summarize(ms, res, [], drawn)
    assert summary["total"]["replaced"] == 1 and summary["total"]["mutants"] == 3
    assert summary["kill_rate"] == pytest.approx(200 / 3), "replaced draws are not in the rate"
    meta = {"commit": "c", "rtl_rev": "", "suite": "test", "seed": 1, "chip_cases": "mapped",
            "only": "", "requested": 3, "candidates": 9, "mutants": 3, "workers": "1 job",
            "baseline_seconds": 0.0, "baseline_cached": True, "lint_seconds": 0.0,
            "wall_seconds": 1.0, "seconds_per_mutant": 1.0, "median_seconds": 1.0,
            "invalid_drawn": [{"id": ms[0].id, "change": ms[0].change(), "error": e}
                              for _, e in drawn]}
    md = mutate.write_report(meta, ms, res, summary, [], tmp_path).read_text()
    assert "CHIP_CASES=mapped" in md and "Invalid when drawn (1" in md and "WIDTHTRUNC" in md
    assert "(2 cases)" in md
