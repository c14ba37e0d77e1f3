"""``python -m refmodel``: outputs, and one-line errors without stack traces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from refmodel import audio
from refmodel.lstm import detector
from refmodel.mel import frontend

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


def test_detect_prints_one_line_per_window(tmp_path: Path) -> None:
    wav = tmp_path / "long.wav"
    x = audio.pink_noise(4.5, 0.3, seed=5)  # 448 frames: two windows and 52 frames left over
    audio.write_wav(wav, x)
    weights = detector.DetectorWeights.random(3, hidden=16)
    wfile = tmp_path / "w.npz"
    weights.save(wfile)
    r = _run("detect", str(wav), "--weights", str(wfile), "--threshold", "0.25")
    assert r.returncode == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.splitlines() if not ln.startswith("#")]
    want = detector.detect(frontend.features(x), weights, 0.25)
    assert [int(row[0]) for row in rows] == [0, 1]
    assert [float(row[1]) for row in rows] == [0.0, 1.98]
    assert [int(row[3]) for row in rows] == [d.score_int for d in want]
    assert [int(row[4]) for row in rows] == [int(d.flag) for d in want]


@pytest.mark.parametrize(("make", "args", "needle"), [
    (None, ["detect", "{wav}", "--threshold", "1.5"], "1.5"),
    (None, ["detect", "{wav}", "--weights", "{tmp}/nope.npz"], "nope.npz"),
    (b"not an npz", ["detect", "{wav}", "--weights", "{tmp}/bad.wav"], "bad.wav"),
    (None, ["detect", "{wav}"], "fewer than one detection window"),
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
