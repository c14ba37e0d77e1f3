"""The whole pipeline on a tiny corpus: build -> train 2 epochs -> evaluate, and its
determinism (same data and seed: the same weight file bytes).  One test, so that pytest-xdist
builds the corpus and compiles the model once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from refmodel.lstm.detector import run_fixed  # noqa: E402
from refmodel.lstm.weights import DetectorWeights  # noqa: E402
from train import corpus, evaluate, fit, metrics, probe  # noqa: E402

HIDDEN = 8
ARGS = ["--hidden", str(HIDDEN), "--epochs", "2", "--chip-epochs", "1", "--batch", "16",
        "--seed", "5", "--aux-weight", "0.5", "--consistency", "2", "--tilt-db", "6",
        "--mix-fraction", "0.5", "--state-noise", "0.02", "--band-shift", "1"]


def test_pipeline_on_a_tiny_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "corpus"
    corpus.build(data, seed=0, size="tiny")

    # train: weight file and training record
    trained = tmp_path / "w.npz"
    assert fit.main(["--data", str(data), "--out", str(trained), *ARGS]) == 0
    w = DetectorWeights.load(trained)
    rec = json.loads(trained.with_suffix(".json").read_text())
    sha = json.loads((data / "manifest.json").read_text())["content_sha256"]
    assert rec["data"]["sha256"] == sha and sha in w.note
    assert rec["seed"] == 5 and rec["epochs_run"] == 3
    # two epochs in float arithmetic, then the chip's: its starting point scored, one epoch
    assert [(h["arithmetic"], h["epoch"]) for h in rec["history"]] == [
        ("float", 1), ("float", 2), ("chip", 0), ("chip", 1)]
    assert rec["hyperparameters"]["hidden"] == HIDDEN == w.hidden
    assert rec["hyperparameters"]["state_noise"] == 0.02
    assert rec["hyperparameters"]["band_shift"] == 1
    # the float phase keeps the lowest val loss of the parameters or their moving average
    flt = [h for h in rec["history"] if h["arithmetic"] == "float"]
    best = min(flt, key=lambda h: min(h["val_loss"], h["val_loss_average"]))
    assert rec["best_epoch"] == best["epoch"]
    assert rec["best_is_average"] == (best["val_loss_average"] < best["val_loss"])
    assert ("its average" in w.note) == rec["best_is_average"]
    # the chip phase keeps the lowest val loss among epochs within max_gap (else the smallest
    # gap), and its float32 gap is the bit-accurate models' difference up to the last bits
    chip = [h for h in rec["history"] if h["arithmetic"] == "chip"]
    limit = rec["hyperparameters"]["max_gap"]
    kept = min(chip, key=lambda h: (max(h["val_max_gap"] - limit, 0.0), h["val_loss"]))
    assert rec["best_chip_epoch"] == kept["epoch"]
    assert abs(kept["val_max_gap"] - rec["val"]["max_abs_fixed_minus_float"]) < 1e-3
    # the recorded threshold reproduces its recorded validation operating point
    val = corpus.load(data, "val")
    s = run_fixed(val.codes.reshape(-1, 32), w).score_int
    flags = s >= rec["threshold_int"]
    assert rec["threshold"] == rec["threshold_int"] / 2**16
    assert rec["val"]["fixed"]["tp"] == int(np.sum(flags & (val.label == 1)))
    assert rec["val"]["fixed"]["fp"] == int(np.sum(flags & (val.label == 0)))

    # deterministic: the same seed gives the same bytes
    again = tmp_path / "again.npz"
    assert fit.main(["--data", str(data), "--out", str(again), *ARGS]) == 0
    assert again.read_bytes() == trained.read_bytes()

    # data parallel: the batch split over two CPU devices (a subprocess: JAX fixes its
    # device count when it starts) trains the same epochs with the same losses up to float
    # rounding; asking for two devices in this process, where JAX already has one, is refused
    par = tmp_path / "par.npz"
    subprocess.run([sys.executable, "-m", "train.fit", "--data", str(data), "--out", str(par),
                    *ARGS, "--devices", "2"], check=True, capture_output=True, cwd=fit.ROOT)
    rec2 = json.loads(par.with_suffix(".json").read_text())
    assert rec2["hyperparameters"]["devices"] == 2
    for one, two in zip(rec["history"], rec2["history"], strict=True):
        for key in ("train_loss", "val_loss", "val_loss_average", "val_max_gap"):
            if one.get(key) is not None:
                assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-6), (one, key)
    capsys.readouterr()
    if len(jax.devices("cpu")) == 1:
        assert fit.main(["--data", str(data), "--out", str(par), *ARGS, "--devices", "2"]) == 1
        err = capsys.readouterr().err
        assert "--devices 2: JAX has 1 CPU device(s)" in err and err.count("\n") == 1

    # evaluate: the three models, errors by category, ROC plot
    capsys.readouterr()
    out = tmp_path / "eval"
    assert evaluate.main(["--data", str(data), "--weights", str(trained), "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert text in capsys.readouterr().out
    for row in ("| float |", "| onnx |", "| fixed |", "max abs(fixed - float)", "95 % intervals"):
        assert row in text
    assert (out / f"roc_h{HIDDEN}.png").stat().st_size > 1000
    for cat in np.unique(corpus.load(data, "test").category):
        assert f"| {cat} |" in text
    assert evaluate.main(["--data", str(data), "--weights", str(trained), str(trained),
                          "--out", str(out)]) == 1
    assert "at most once" in capsys.readouterr().err

    # the ceiling probe: a CNN on the same codes against the detector; seeded
    tables = []
    for _ in range(2):
        assert probe.main(["--data", str(data), "--weights", str(trained), "--epochs", "1",
                           "--channels", "4", "--out", str(out / "probe.md")]) == 0
        text = (out / "probe.md").read_text()
        rows = [line for line in text.splitlines() if line.startswith("| ")]
        # 4 channels: 5*32*4+4 + 3*(5*4*4+4) convolutions, 8*64+64 hidden, 64+1 logit
        assert [r.split(" | ")[0] for r in rows[2:]] == [
            "| detector `w.npz` (fixed)", "| probe CNN (1537 parameters, float)",
            "| mean of the two scores"]
        tables.append(rows + [line for line in text.splitlines() if "both" in line])
    assert tables[0] == tables[1] and len(tables[0]) == 6
    capsys.readouterr()
    assert probe.main(["--data", str(data), "--weights", str(trained), "--epochs", "1",
                       "--channels", "4", "--train-fraction", "0.5",
                       "--out", str(out / "probe.md")]) == 0
    assert "(50 % of the training sources)" in (out / "probe.md").read_text()
    # with more detector sets (another size among them): the mean of their fixed scores
    rnd = fit.ROOT / "vectors" / "detector_weights_random_h32.npz"
    capsys.readouterr()
    assert probe.main(["--data", str(data), "--weights", str(trained), "--epochs", "1",
                       "--channels", "4", "--ensemble", str(par), str(rnd),
                       "--out", str(out / "probe.md")]) == 0
    text = (out / "probe.md").read_text()
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| ")]
    assert [r[0] for r in rows[5:]] == ["| mean of the 3 detectors (fixed)",
                                        "| mean of the 3 detectors and the probe"]
    te = corpus.load(data, "test")
    mean = np.mean([run_fixed(te.codes.reshape(-1, 32), DetectorWeights.load(p)).score_int
                    for p in (trained, par, rnd)], axis=0) / 2**16
    assert rows[5][5] == f"{metrics.auc(mean, te.label):.4f}"
    assert rows[5][3] == f"{100 * metrics.best_accuracy(mean, te.label):.2f} %"
    assert text.split("k = 1 to 3")[1].split("): ")[1].count(" / ") == 3
    assert probe.main(["--data", str(data), "--weights", str(trained), "--epochs", "1",
                       "--ensemble", str(trained)]) == 1
    assert "at most once" in capsys.readouterr().err
    assert probe.main(["--data", str(data), "--weights", str(trained), "--epochs", "0"]) == 1
    assert "--epochs 0" in capsys.readouterr().err


def test_bad_inputs_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fit.main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "w.npz")]) == 1
    err = capsys.readouterr().err
    assert "none: no manifest.json" in err and err.count("\n") == 1
    assert fit.main(["--data", str(tmp_path), "--hidden", "0"]) == 1
    assert "hidden=0" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--chip-epochs", "-1"]) == 1
    assert "chip_epochs=-1" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--aux-from", "197"]) == 1
    assert "aux_from=197 must be below the window's last frame (197)" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--consistency", "-1"]) == 1
    assert "consistency=-1.0 must be >= 0" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--state-noise", "-0.1"]) == 1
    assert "state_noise=-0.1 must be >= 0" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--band-shift", "5"]) == 1
    assert "band_shift=5 must be in 0..4" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--ema-decay", "1"]) == 1
    assert "ema_decay=1.0 must be in [0, 1)" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--out", str(tmp_path / "w.txt")]) == 1
    assert "w.txt: must be a .npz file" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--devices", "9"]) == 1
    assert "devices=9 must be in 1..8" in capsys.readouterr().err
    assert fit.main(["--data", str(tmp_path), "--train-fraction", "0"]) == 1
    assert "train_fraction=0.0 must be in (0, 1]" in capsys.readouterr().err
    DetectorWeights.random(0, hidden=16).save(tmp_path / "w.npz")
    assert evaluate.main(["--data", str(tmp_path / "none"), "--weights",
                          str(tmp_path / "w.npz")]) == 1
    assert "no manifest.json" in capsys.readouterr().err


def test_keep_sources_keeps_whole_sources_nested() -> None:
    # 40 songs of 3 windows each (alone or under a voice), 60 single-source windows
    groups = [f"song{k}" if j else f"espeak:en+v{j}|song{k}" for k in range(40) for j in range(3)]
    groups += [f"gen1.0.{k}" for k in range(60)]
    n = len(groups)
    split = corpus.Split(name="train", codes=np.zeros((n, 2, 2), np.uint8),
                         label=np.arange(n, dtype=np.uint8) % 2,
                         category=np.array(["x"] * n), group=np.array(groups),
                         snr_db=np.zeros(n, np.float32), level_dbfs=np.arange(n, dtype=np.float32))
    assert fit.keep_sources(split, 1.0, 0) is split
    kept = {f: set(fit.keep_sources(split, f, 3).group) for f in (0.25, 0.5)}
    half = fit.keep_sources(split, 0.5, 3)
    songs = {g.split("|")[-1] for g in half.group if "song" in g}
    others = [g for g in half.group if g.startswith("gen")]
    assert len(songs) + len(others) == 50  # half of the 100 sources
    for song in songs:  # a song's three windows stay together
        assert sum(g.endswith(song) for g in half.group) == 3
    assert kept[0.25] < kept[0.5]  # the smaller set is inside the larger one
    # the other arrays follow the kept windows
    assert [groups[int(i)] for i in half.level_dbfs] == list(half.group)
    assert set(fit.keep_sources(split, 0.5, 4).group) != kept[0.5]
    with pytest.raises(fit.FitError, match="train_fraction=0 must be in"):
        fit.keep_sources(split, 0, 0)
