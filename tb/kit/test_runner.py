"""The runner's build settings that no simulation shows directly: the control files it
generates, and the checks on its coverage scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from tb.chip.test_chip_top import TOP_COVERAGE_SCOPE
from tb.kit import runner


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
