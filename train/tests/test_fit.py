"""The whole pipeline on a tiny corpus: build -> train 2 epochs -> evaluate, and its
determinism (same data and seed: the same weight file bytes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

from refmodel.lstm.detector import run_fixed  # noqa: E402
from refmodel.lstm.weights import DetectorWeights  # noqa: E402
from train import corpus, evaluate, fit  # noqa: E402

HIDDEN = 8
ARGS = ["--hidden", str(HIDDEN), "--epochs", "2", "--batch", "16", "--seed", "5"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    corpus.build(root, seed=0, size="tiny")
    return root


@pytest.fixture(scope="module")
def trained(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("w") / "w.npz"
    assert fit.main(["--data", str(tiny), "--out", str(out), *ARGS]) == 0
    return out


def test_fit_writes_weights_and_record(tiny: Path, trained: Path) -> None:
    w = DetectorWeights.load(trained)
    rec = json.loads(trained.with_suffix(".json").read_text())
    sha = json.loads((tiny / "manifest.json").read_text())["content_sha256"]
    assert rec["data"]["sha256"] == sha and sha in w.note
    assert rec["seed"] == 5 and rec["epochs_run"] == 2 and len(rec["history"]) == 2
    assert rec["hyperparameters"]["hidden"] == HIDDEN == w.hidden
    # the recorded threshold reproduces its recorded validation operating point
    val = corpus.load(tiny, "val")
    s = run_fixed(val.codes.reshape(-1, 32), w).score_int
    flags = s >= rec["threshold_int"]
    assert rec["threshold"] == rec["threshold_int"] / 2**16
    assert rec["val"]["fixed"]["tp"] == int(np.sum(flags & (val.label == 1)))
    assert rec["val"]["fixed"]["fp"] == int(np.sum(flags & (val.label == 0)))


def test_same_seed_same_bytes(tiny: Path, trained: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.npz"
    assert fit.main(["--data", str(tiny), "--out", str(again), *ARGS]) == 0
    assert again.read_bytes() == trained.read_bytes()


def test_evaluate_reports_three_models(tiny: Path, trained: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main(["--data", str(tiny), "--weights", str(trained),
                          "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert text in capsys.readouterr().out
    for row in ("| float |", "| onnx |", "| fixed |", "max abs(fixed - float)"):
        assert row in text
    assert (tmp_path / f"roc_h{HIDDEN}.png").stat().st_size > 1000
    test = corpus.load(tiny, "test")
    for cat in np.unique(test.category):
        assert f"| {cat} |" in text


def test_bad_inputs_give_one_line(tmp_path: Path, trained: Path, tiny: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert fit.main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "w.npz")]) == 1
    err = capsys.readouterr().err
    assert "no manifest.json" in err and err.count("\n") == 1
    assert fit.main(["--data", str(tiny), "--hidden", "0"]) == 1
    assert "hidden=0" in capsys.readouterr().err
    assert evaluate.main(["--data", str(tiny), "--weights", str(trained), str(trained),
                          "--out", str(tmp_path)]) == 1
    assert "at most once" in capsys.readouterr().err
