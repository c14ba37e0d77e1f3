"""``codecov.py``: what it refuses (the merge and the annotated HTML are exercised by
``test_report.py`` and ``test_main.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tb.flow.signoff import codecov


def test_non_coverage_file_is_refused(tmp_path: Path) -> None:
    notdat = tmp_path / "x.dat"
    notdat.write_text("hello\n")
    with pytest.raises(codecov.CoverageError, match="not a Verilator coverage file"):
        codecov.read_points(notdat)
