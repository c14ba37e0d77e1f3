"""The real-recordings probe (train/recordings.py): per-file and per-folder windows flagged by
the bit-accurate model, short files listed as skipped, and bad input in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from refmodel import audio
from refmodel.cli import main as refmodel_main
from train import recordings

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "music").mkdir()
    (tmp_path / "not_music").mkdir()
    shutil.copy(VECTORS / "task_music_16k.wav", tmp_path / "music" / "song.wav")
    shutil.copy(VECTORS / "task_mix_16k.wav", tmp_path / "music" / "song_and_talk.wav")
    shutil.copy(VECTORS / "task_speech_16k.wav", tmp_path / "not_music" / "talk.wav")
    audio.write_wav(tmp_path / "not_music" / "click.wav", np.zeros(8000, np.int16))
    return tmp_path


def test_score_counts_the_cli_detections(folder: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert recordings.main(["score", str(folder), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert (out / "report.md").read_text().strip() == text.split("\nwrote ")[0].strip()
    # every file's flags are those `python -m refmodel detect --json` prints for it
    flagged, scores = {}, {}
    for c in recordings.CLASSES:
        for wav in sorted((folder / c).glob("*.wav")):
            refmodel_main(["detect", str(wav), "--json"])
            rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()
                    if line.startswith("{")]
            flagged[wav.name] = (len(rows), sum(r["flag"] for r in rows))
            scores[wav.name] = np.array([r["score"] for r in rows])
    assert flagged["click.wav"] == (0, 0)
    for name in ("song.wav", "song_and_talk.wav", "talk.wav"):
        windows, k = flagged[name]
        assert windows == 2
        assert f"| {name} | 4.0 | 2 | {k} |" in text
    music = flagged["song.wav"][1] + flagged["song_and_talk.wav"][1]
    assert f"| `music/` | 2 | 4 | {music} | **{100 * music / 4:.1f} %** | true-positive rate |" \
        in text
    talk = flagged["talk.wav"][1]
    assert f"| `not_music/` | 1 | 2 | {talk} | **{100 * talk / 2:.1f} %** |" in text
    assert "| click.wav | 0.5 | skipped: shorter than one window (1.995 s) | | |" in text

    # the goal lines, against every threshold tried one by one
    m = np.concatenate([scores["song.wav"], scores["song_and_talk.wav"]])
    o = scores["talk.wav"]
    shares = [(np.mean(m >= t), np.mean(o >= t)) for t in np.r_[m, o, 2.0]]
    most = max(tp for tp, fp in shares if fp <= recordings.GOAL_OTHER)
    fewest = min(fp for tp, fp in shares if tp >= recordings.GOAL_MUSIC)
    assert f"flags {100 * most:.1f} % of music, " in text.split("- the most music")[1]
    assert f"of music, {100 * fewest:.1f} % of the others" in text.split("- the fewest")[1]
    both = "met" if fewest <= recordings.GOAL_OTHER else "not met"
    assert f"both goals at one threshold: **{both}**" in text
    assert recordings.goal_lines({"music": [], "not_music": []}) == [
        "(the goals need windows in both folders)"]


def test_bad_input_is_one_line(folder: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "out")
    assert recordings.main(["score", str(tmp_path / "nowhere"), "--out", out]) == 1
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'}: no such folder"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert recordings.main(["score", str(empty), "--out", out]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no WAV files" in err
    (folder / "not_music" / "broken.wav").write_bytes(b"RIFF\x00\x00")
    assert recordings.main(["score", str(folder), "--out", out]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "broken.wav" in err
    assert recordings.main(["score", str(folder), "--out", out, "--threshold", "1.5"]) == 1
    assert "--threshold 1.5: must be in 0..1" in capsys.readouterr().err


def test_debian_fetch_names_a_missing_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("apt-get", "dpkg-deb"):  # everything but sox
        if shutil.which(tool):
            (bindir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bindir))
    if not (bindir / "apt-get").exists() or not (bindir / "dpkg-deb").exists():
        pytest.skip("apt-get or dpkg-deb not on this machine")
    assert recordings.main(["debian", "--out", str(tmp_path / "rec")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("error: 'sox' not found on PATH: install the Debian package 'sox' "
                   "(apt-get install -y sox)")
    assert not (tmp_path / "rec").exists()
