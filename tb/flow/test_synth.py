"""Tests of the synthesis checks (``tb/flow/synth.py``), and the quick check of the real blocks.

Small bad designs go through the same check code as the chip (:func:`synth.check_block`) and
must fail with the right check, naming the module and the offending line; a good design with a
RAM, a ROM and a multiplier must pass and be counted right; every block of ``rtl/files.f`` and
``chip_top`` must pass the check stage (front end, coarse synthesis, ``memory -nomap``; about
20 s for all of them).  The gate mapping of the real blocks and the ECP5 run are ``make synth``.

The first Yosys call on a machine compiles YoWASP's WebAssembly (about two minutes, cached in
``~/.cache/YoWASP``); :func:`synth.warm_up` makes parallel workers pay it once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tb.flow import synth

# id: (top, source, check, line of the finding, object name)
BAD = {
    "latch": ("bad_latch", """\
module bad_latch (
  input  logic       en_i,
  input  logic [3:0] d_i,
  output logic [3:0] q_o
);
  always @* begin
    if (en_i) q_o = d_i;
  end
endmodule
""", "latch", 6, "q_o"),
    "latch_in_always_comb": ("bad_comb_latch", """\
module bad_comb_latch (
  input  logic       en_i,
  input  logic [3:0] d_i,
  output logic [3:0] q_o
);
  always_comb begin
    if (en_i) q_o = d_i;
  end
endmodule
""", "latch", 7, "q_o"),
    "combinational_loop": ("bad_loop", """\
module bad_loop (
  input  logic a_i,
  output logic y_o
);
  logic x, z;
  assign x = a_i ^ z;
  assign z = ~x;
  assign y_o = z;
endmodule
""", "loop", 6, "x"),
    "multiply_driven_net": ("bad_multi", """\
module bad_multi (
  input  logic a_i,
  input  logic b_i,
  output logic y_o
);
  wire w;
  assign w = a_i;
  assign w = b_i;
  assign y_o = w;
endmodule
""", "multi-driven", 6, "w"),
    "multiply_driven_variable": ("bad_multi_var", """\
module bad_multi_var (
  input  logic a_i,
  input  logic b_i,
  output logic y_o
);
  always_comb y_o = a_i;
  assign y_o = b_i;
endmodule
""", "multi-driven", 4, "y_o"),
    "undriven_net": ("bad_undriven", """\
module bad_undriven (
  input  logic a_i,
  output logic y_o
);
  wire w;
  assign y_o = a_i & w;
endmodule
""", "undriven", 5, "w"),
    "unassigned_variable_bits": ("bad_unassigned", """\
module bad_unassigned (
  input  logic       a_i,
  output logic [3:0] y_o
);
  logic [3:0] w;
  assign w[1:0] = {a_i, a_i};
  assign y_o = w;
endmodule
""", "undriven", 5, "w"),
    "ram_with_reset_becomes_flip_flops": ("bad_ram_reset", """\
module bad_ram_reset (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       we_i,
  input  logic [3:0] waddr_i,
  input  logic [3:0] raddr_i,
  input  logic [7:0] d_i,
  output logic [7:0] q_o
);
  logic [7:0] mem_q [16];
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int i = 0; i < 16; i++) mem_q[i] <= '0;
    end else if (we_i) begin
      mem_q[waddr_i] <= d_i;
    end
  end
  always_ff @(posedge clk_i) q_o <= mem_q[raddr_i];
endmodule
""", "memory", 10, "mem_q"),
    "ram_read_combinationally": ("bad_ram_async", """\
module bad_ram_async (
  input  logic       clk_i,
  input  logic       we_i,
  input  logic [3:0] waddr_i,
  input  logic [3:0] raddr_i,
  input  logic [7:0] d_i,
  output logic [7:0] q_o
);
  logic [7:0] mem_q [16];
  always_ff @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= d_i;
  end
  assign q_o = mem_q[raddr_i] ^ 8'h5a;
endmodule
""", "async-read", 9, "mem_q"),
    "rom_module_without_a_rom": ("bad_rom", """\
module bad_rom (
  input  logic [3:0] addr_i,
  output logic [7:0] data_o
);
  assign data_o = {addr_i, ~addr_i};
endmodule
""", "rom", 1, "bad_rom"),
    "unsynthesizable_construct": ("bad_dual_edge", """\
module bad_dual_edge (
  input  logic clk_i,
  input  logic d_i,
  output logic q_o
);
  always @(edge clk_i) q_o <= d_i;
endmodule
""", "frontend", 6, ""),
}

GOOD = """\
// A clean design: a RAM with a registered read, a ROM, a multiplier, an FSM-free datapath.
module good_top (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        we_i,
  input  logic [4:0]  waddr_i,
  input  logic [4:0]  raddr_i,
  input  logic [11:0] d_i,
  input  logic [2:0]  k_i,
  output logic [19:0] y_o
);
  logic [11:0] ram_q [32];
  logic [11:0] rd_q;
  logic [7:0]  coef;
  logic [19:0] y_q, y_d;

  always_ff @(posedge clk_i) begin
    if (we_i) ram_q[waddr_i] <= d_i;
  end
  always_ff @(posedge clk_i) rd_q <= ram_q[raddr_i];

  always_comb begin
    unique case (k_i)
      3'd0: coef = 8'd3;   3'd1: coef = 8'd17;  3'd2: coef = 8'd40;  3'd3: coef = 8'd91;
      3'd4: coef = 8'd128; 3'd5: coef = 8'd200; 3'd6: coef = 8'd222; 3'd7: coef = 8'd255;
      default: coef = '0;
    endcase
  end

  assign y_d = 20'(rd_q) * 20'(coef);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) y_q <= '0;
    else         y_q <= y_d;
  end
  assign y_o = y_q;
endmodule
"""


def _write(tmp_path: Path, top: str, text: str) -> Path:
    path = tmp_path / f"{top}.sv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_bad_design_fails_naming_module_and_line(case: str, tmp_path: Path) -> None:
    top, text, check, line, name = BAD[case]
    src = _write(tmp_path, top, text)
    res = synth.check_block(top, out=tmp_path, sources=[src])
    assert not res.ok, f"{case}: the check passed a bad design"
    hits = [f for f in res.findings if f.check == check]
    assert hits, f"{case}: expected a {check!r} finding, got {[str(f) for f in res.findings]}"
    f = hits[0]
    assert f.module == top, str(f)
    assert Path(f.file).name == src.name and f.line == line, str(f)
    if name:
        assert f.name == name, str(f)
    # The printed form names the module and the line, as the terminal summary shows it.
    assert f"{top} (" in str(f) and f"{src.name}:{line})" in str(f)


def test_good_design_passes_and_is_counted(tmp_path: Path) -> None:
    src = _write(tmp_path, "good_top", GOOD)
    res = synth.check_block("good_top", out=tmp_path, sources=[src])
    assert res.ok, [str(f) for f in res.findings]
    kinds = sorted((m.kind, m.words, m.width) for m in res.memories)
    assert kinds == [("ram", 32, 12), ("rom", 8, 8)], kinds
    assert [(m.a_width, m.b_width, m.constant) for m in res.multipliers] == [(12, 8, False)]
    synth.map_block(res, out=tmp_path)
    assert res.ok, [str(f) for f in res.findings]
    assert res.bits("ram") == 32 * 12 and res.bits("rom") == 64
    # the RAM stays a macro: its 384 bits are not flip-flops; y_q is
    assert res.ffs == 20, res.cells
    assert res.nand2 == res.transistors / 4 > 0


def test_waiver_accepts_a_finding_with_its_reason(tmp_path: Path) -> None:
    top, text, *_ = BAD["ram_read_combinationally"]
    src = _write(tmp_path, top, text)
    waiver = synth.Waiver("async-read", top, "mem_q", "", "registers by design")
    res = synth.check_block(top, out=tmp_path, sources=[src], waivers=[waiver])
    assert res.ok and [w for _, w in res.waived] == [waiver]


@pytest.mark.parametrize("entry, error", [
    ({"check": "latch", "module": "x", "name": "q", "reason": "r"}, "cannot be waived"),
    ({"check": "async-read", "module": "x", "name": "q"}, "needs a reason"),
    ({"check": "warning", "module": "x", "reason": "r"}, "needs a pattern"),
    ({"check": "memory", "module": "x", "reason": "r"}, "names the object"),
])
def test_bad_waiver_is_refused(entry: dict, error: str, tmp_path: Path) -> None:
    path = tmp_path / "waivers.yml"
    path.write_text(yaml.safe_dump({"waivers": [entry]}))
    with pytest.raises(synth.SynthError, match=error):
        synth.load_waivers(path)


def test_project_waivers_name_real_objects() -> None:
    """Every waiver of docs/synth_waivers.yml names a module of the file list and, for the
    memory checks, an array declared in it (the flow itself fails on one that matches nothing,
    but only in a full `make synth`)."""
    mods = synth.scan_sources(synth.file_list())
    for w in synth.load_waivers():
        matching = [m for m in mods.values() if synth._glob(w.module, m.name)]
        assert matching, f"waiver {w}: no module {w.module!r} in rtl/files.f"
        if w.check in ("memory", "async-read"):
            assert any(synth._glob(w.name, a.name) for m in matching for a in m.arrays), \
                f"waiver {w}: no array {w.name!r} in {w.module}"


def test_array_scan_finds_every_declaration(tmp_path: Path) -> None:
    src = _write(tmp_path, "t", """\
module t;
  logic [7:0] a, b [4], c;
  bit signed [3:0] d [2][4], e;  // d is an array
  word_t ram [16];
  logic [3:0] f = 4'd1;
  logic g [2] = '{1'b0, 1'b1};
endmodule
""")
    arrays = synth.scan_sources([src])["t"].arrays
    assert [(a.name, a.line) for a in arrays] == [("b", 2), ("d", 3), ("ram", 4), ("g", 6)]


@pytest.mark.parametrize("top", synth.blocks())
def test_block_passes_synthesis_checks(top: str, tmp_path: Path) -> None:
    """The quick check of the real design: every block of rtl/files.f and chip_top, each with
    the project's waivers (`make synth-check` runs the same)."""
    res = synth.check_block(top, out=tmp_path, waivers=synth.load_waivers())
    assert res.ok, "\n".join([f"{top}: {len(res.findings)} synthesis finding(s):"]
                             + [str(f) for f in res.findings]
                             + [f"log: {tmp_path / top / 'check.log'}",
                                "rerun: make synth-check"])
