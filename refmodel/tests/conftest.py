"""Shared fixtures of the refmodel tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "vectors"


@pytest.fixture(scope="session")
def vector_files() -> list[Path]:
    files = sorted(VECTORS.glob("*.wav"))
    assert files, f"no WAV vectors in {VECTORS}"
    return files
