"""``python -m refmodel``: outputs, and one-line errors without stack traces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from refmodel import audio, frontend

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "refmodel", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("cli") / "in.wav"
    audio.write_wav(p, audio.chirp(1.0, 100.0, 4000.0, 0.4))
    return p


def test_features_writes_the_codes(wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.npy"
    r = _run("features", str(wav), "-o", str(out))
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(out), frontend.features(audio.load_wav(wav)))


def test_plot_writes_a_png(wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    r = _run("plot", str(wav), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("make", "args", "needle"), [
    (None, ["features", "{tmp}/missing.wav", "-o", "{tmp}/o.npy"], "missing.wav"),
    (b"RIFF\x10\x00\x00\x00WAVEjunkjunk", ["features", "{tmp}/bad.wav", "-o", "{tmp}/o.npy"],
     "bad.wav"),
    (None, ["plot", "{wav}", "-o", "{tmp}/o.jpg"], "o.jpg"),
    (None, ["features", "{wav}", "-o", "{tmp}/nodir/o.npy"], "nodir"),
    (None, ["features", "{wav}"], "--output"),
    (None, ["frobnicate"], "frobnicate"),
])
def test_bad_input_is_one_line(wav: Path, tmp_path: Path, make: bytes | None, args: list[str],
                               needle: str) -> None:
    if make is not None:
        (tmp_path / "bad.wav").write_bytes(make)
    r = _run(*[a.format(tmp=tmp_path, wav=wav) for a in args])
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0] and "Traceback" not in r.stderr
