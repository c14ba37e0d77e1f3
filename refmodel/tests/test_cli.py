"""``python -m refmodel``: outputs, and one-line errors without stack traces."""

from __future__ import annotations

import json
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


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    p = tmp_path_factory.mktemp("cli") / "long.wav"
    x = audio.pink_noise(4.5, 0.3, seed=5)  # 448 frames: two windows and 52 frames left over
    audio.write_wav(p, x)
    return p, x


@pytest.fixture(scope="module")
def weights16(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, detector.DetectorWeights]:
    w = detector.DetectorWeights.random(3, hidden=16)
    p = tmp_path_factory.mktemp("w") / "w.npz"
    w.save(p)
    return p, w


def test_detect_prints_a_timeline_and_a_summary(long_wav, weights16) -> None:
    (wav, x), (wfile, weights) = long_wav, weights16
    r = _run("detect", str(wav), "--weights", str(wfile), "--threshold", "0.25")
    assert r.returncode == 0, r.stderr
    want = detector.detect(frontend.features(x), weights, 0.25)
    rows = [ln.split() for ln in r.stdout.splitlines() if ln[:6].strip().isdigit()]
    assert [int(row[0]) for row in rows] == [0, 1]
    # window j covers samples [31680 j, 31680 j + 31920): frames 198 j .. 198 j + 197
    assert [(row[1], row[3]) for row in rows] == [("0.000", "1.995"), ("1.980", "3.975")]
    assert [row[4] for row in rows] == [f"{d.score:6.4f}" for d in want]
    assert [row[5] == "MUSIC" for row in rows] == [d.flag for d in want]
    assert "threshold 0.2500 (--threshold)" in r.stdout
    summary = r.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"summary: MUSIC in {sum(d.flag for d in want)} of 2 windows")
    assert "the last 0.52 s do not fill a window" in summary


def test_detect_json_is_one_object_per_window(long_wav, weights16) -> None:
    (wav, x), (wfile, weights) = long_wav, weights16
    r = _run("detect", str(wav), "--weights", str(wfile), "--threshold", "0.25", "--json")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    want = detector.detect(frontend.features(x), weights, 0.25)
    assert objs == [{"window": d.index, "start_s": 1.98 * d.index,
                     "end_s": 1.98 * d.index + 1.995, "score": d.score_int / 65536,
                     "flag": d.flag} for d in want]


def test_threshold_comes_from_the_training_record(long_wav, tmp_path: Path) -> None:
    wav, x = long_wav
    w = detector.DetectorWeights.random(4, hidden=16)
    wfile = tmp_path / "w.npz"
    w.save(wfile)
    scores = [d.score_int for d in detector.detect(frontend.features(x), w, 0.5)]
    # a threshold between the two windows' scores flags exactly the higher one
    thr = (min(scores) + max(scores)) / 2 / 65536
    assert min(scores) != max(scores)
    r = _run("detect", str(wav), "--weights", str(wfile), "--json")
    assert "0.5" not in r.stderr and [json.loads(ln)["flag"] for ln in r.stdout.splitlines()] \
        == [s >= 32768 for s in scores]  # no record: 0.5
    (tmp_path / "w.json").write_text(json.dumps({"threshold": thr}))
    r = _run("detect", str(wav), "--weights", str(wfile), "--json")
    assert [json.loads(ln)["flag"] for ln in r.stdout.splitlines()] == [
        s == max(scores) for s in scores]
    r = _run("detect", str(wav), "--weights", str(wfile))
    assert f"threshold {thr:.4f} (training record w.json)" in r.stdout
    (tmp_path / "w.json").write_text(json.dumps({"threshold": 7}))
    r = _run("detect", str(wav), "--weights", str(wfile))
    assert r.returncode == 1 and "w.json: threshold 7 is not a number in 0..1" in r.stderr


def test_default_detector_is_the_trained_set() -> None:
    from refmodel import cli

    assert cli.DEFAULT_WEIGHTS.name == "detector_weights_music_h32.npz"
    rec = json.loads(cli.DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert 0.0 < rec["threshold"] < 1.0
    assert detector.DetectorWeights.load(cli.DEFAULT_WEIGHTS).hidden == 32


def _bad_weights(path: Path, **change: object) -> None:
    """A copy of a valid weight file with members replaced."""
    w = detector.DetectorWeights.random(0, hidden=16)
    w.save(path)
    with np.load(path) as npz:
        members = {k: npz[k] for k in npz.files}
    members.update(change)
    with path.open("wb") as fh:
        np.savez(fh, **members)


@pytest.mark.parametrize(("change", "needle"), [
    ({"version": np.int64(2)}, "version 2 is not supported"),
    ({"hidden": np.int64(32)}, "w_ih_q has shape (64, 32), expected (128, 32) for hidden=32"),
    ({"hidden": np.int64(0)}, "hidden=0"),
    ({"w_hh": np.full((64, 16), 300, np.int16)}, "w_hh_q must be a numpy int8 array"),
])
def test_bad_weight_files_are_refused_naming_the_field(wav: Path, tmp_path: Path, change,
                                                        needle: str) -> None:
    bad = tmp_path / "bad.npz"
    _bad_weights(bad, **change)
    for cmd in (["detect", str(wav)], ["plot", str(wav), "-o", str(tmp_path / "p.png")]):
        r = _run(*cmd, "--weights", str(bad))
        assert r.returncode == 1
        assert r.stderr.count("\n") == 1 and "bad.npz" in r.stderr and needle in r.stderr, \
            r.stderr


@pytest.mark.parametrize(("make", "args", "needle"), [
    (None, ["detect", "{wav}", "--threshold", "1.5"], "1.5"),
    (None, ["detect", "{wav}", "--weights", "{tmp}/nope.npz"], "nope.npz"),
    (b"not an npz", ["detect", "{wav}", "--weights", "{tmp}/bad.wav"], "bad.wav"),
    (None, ["detect", "{wav}"], "1.00 s of audio (98 frames) is shorter than one "
     "detection window (198 frames = 1.995 s)"),
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
