"""The runner's settings that no simulation shows directly: its knobs, the control files it
generates, the checks on its coverage scope, and the Verilator build command it relies on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cocotb
import pytest

from tb.chip.test_chip_top import TOP_COVERAGE_SCOPE
from tb.kit import runner, toolchain


# ---------------------------------------------------------------------------- knobs
def test_seed_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEED", raising=False)
    assert runner.selected_seed(default=1) == 1
    assert 0 <= runner.selected_seed() < 2**31  # fresh, random
    monkeypatch.setenv("SEED", "0x10")
    assert runner.selected_seed(default=1) == 16
    monkeypatch.setenv("SEED", str(runner.SEED_MAX))
    assert runner.selected_seed() == runner.SEED_MAX
    with pytest.raises(runner.ConfigError, match=r"^SEED=4294967295 \(and the 1 after it\)"):
        runner.selected_seed(count=2)
    for bad, why in (("abc", "is not an integer"), ("1.5", "is not an integer"),
                     ("-1", "is outside"), ("0x100000000", "is outside")):
        monkeypatch.setenv("SEED", bad)
        with pytest.raises(runner.ConfigError, match=f"^SEED=.*{why}"):
            runner.selected_seed()


def test_bad_knobs_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM", "xyz")
    with pytest.raises(runner.ConfigError, match="^SIM='xyz' is not one of icarus, verilator"):
        runner.selected_sim()
    monkeypatch.setenv("WAVES", "2")
    with pytest.raises(runner.ConfigError, match="^WAVES='2' must be 0 or 1"):
        runner.waves_requested()
    monkeypatch.setenv("WAVES", "1")
    assert runner.waves_requested()


# ---------------------------------------------------------------------------- build command
_DUT = """module t(input logic clk_i, input logic [7:0] a_i, output logic [7:0] y_o);
  logic [7:0] mid, r_q;
  assign mid = a_i + 8'd1;
  always_ff @(posedge clk_i) r_q <= mid;
  assign y_o = r_q;
endmodule
"""


def _cocotb_verilator_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              build_args: list[str]) -> list[str]:
    """The Verilator command cocotb's runner would run to build a tiny DUT (not run here)."""
    from cocotb_tools.runner import get_runner

    monkeypatch.delenv("WAVES", raising=False)  # cocotb's build() reads it too
    monkeypatch.setenv("PATH", toolchain.sim_env()["PATH"])
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "t.sv").write_text(_DUT)
    (tmp_path / "t.vlt").write_text('`verilator_config\npublic_flat_rw -module "t" -var "a_i"\n')
    sim = get_runner("verilator")
    commands: list[list[str]] = []
    sim._execute = lambda cmds, cwd: commands.extend(cmds)
    sim.build(sources=[tmp_path / "t.sv", tmp_path / "t.vlt"], hdl_toplevel="t",
              build_args=build_args, build_dir=tmp_path / "build")
    return commands[0]


def test_cocotb_verilator_command_is_what_no_public_flat_rw_undoes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cocotb's Verilator command carries ``--public-flat-rw`` once, before the build arguments:
    the runner's :data:`runner.NO_PUBLIC_FLAT_RW` build argument comes after it and wins."""
    cmd = _cocotb_verilator_command(tmp_path, monkeypatch, [runner.NO_PUBLIC_FLAT_RW])
    flag = "--public-flat-rw"
    assert cmd.count(flag) == 1 and cmd.count(runner.NO_PUBLIC_FLAT_RW) == 1, (
        f"cocotb {cocotb.__version__} changed its Verilator build command: {flag} appears "
        f"{cmd.count(flag)} times (cocotb 2.1: once).  Revisit runner.NO_PUBLIC_FLAT_RW: "
        f"{cmd}")
    assert cmd.index(flag) < cmd.index(runner.NO_PUBLIC_FLAT_RW), (
        f"cocotb {cocotb.__version__} now puts {flag} after the build arguments, so "
        f"{runner.NO_PUBLIC_FLAT_RW} no longer undoes it (tb/kit/runner.py): {cmd}")


def _public_signals(cmd: list[str]) -> str:
    """Run the Verilator front end of ``cmd`` (no C++ build) and return the generated table of
    VPI-visible signals."""
    r = subprocess.run(cmd, env=toolchain.sim_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    mdir = Path(cmd[cmd.index("-Mdir") + 1])
    return "".join(p.read_text() for p in mdir.glob("*__Syms*.cpp"))


def test_verilator_takes_the_last_public_flat_rw_switch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With :data:`runner.NO_PUBLIC_FLAT_RW` only the control file's signals are public: the
    internal ``mid`` is not, although cocotb's command still says ``--public-flat-rw``."""
    plain = _public_signals(_cocotb_verilator_command(tmp_path / "a", monkeypatch, []))
    undone = _public_signals(_cocotb_verilator_command(tmp_path / "b", monkeypatch,
                                                       [runner.NO_PUBLIC_FLAT_RW]))
    assert 'varInsert("mid"' in plain, "this check no longer sees which signals are public"
    assert 'varInsert("a_i"' in undone, "the control file's signal should stay public"
    assert 'varInsert("mid"' not in undone, (
        f"Verilator no longer takes {runner.NO_PUBLIC_FLAT_RW} after --public-flat-rw: every "
        "signal stays public (tb/kit/runner.py)")


# ---------------------------------------------------------------------------- control files


def test_block_builds_make_internals_read_only(tmp_path: Path) -> None:
    vlt = runner._read_only_internals(tmp_path / "build-mel_fft-0123", "mel_fft")
    lines = vlt.read_text().splitlines()
    assert lines[0] == "`verilator_config"
    assert 'public_flat_rd -module "*" -var "*"' in lines
    writable = [ln for ln in lines if ln.startswith("public_flat_rw")]
    assert writable == ['public_flat_rw -module "mel_fft" -var "*_i"',
                        'public_flat_rw -module "mel_fft" -var "*_ni"']


def test_control_files_are_rewritten_only_when_they_change(tmp_path: Path) -> None:
    path = tmp_path / "x.vlt"
    runner._write_if_changed(path, "a\n")
    before = path.stat().st_mtime_ns
    runner._write_if_changed(path, "a\n")
    assert path.stat().st_mtime_ns == before  # unchanged text: no forced rebuild
    runner._write_if_changed(path, "b\n")
    assert path.read_text() == "b\n"


def test_top_coverage_scope_names_rtl_files() -> None:
    files = runner.file_list()
    assert set(TOP_COVERAGE_SCOPE) <= set(files), set(TOP_COVERAGE_SCOPE) - set(files)
    assert "chip/chip_top.sv" in TOP_COVERAGE_SCOPE  # only the top-level runs instantiate it


def test_unknown_coverage_scope_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM", "verilator")
    monkeypatch.setenv("SEED", "1")
    with pytest.raises(runner.ConfigError, match="mel_ffft.sv"):
        runner.run_block(toplevel="mel_fft", test_module="tb.mel.test_mel_fft",
                         coverage_scope=["mel/mel_fft.sv", "mel/mel_ffft.sv"])
