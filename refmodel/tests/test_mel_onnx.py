"""ONNX golden (onnxruntime, float32) against the float64 numpy golden."""

from __future__ import annotations

import numpy as np
import pytest

from refmodel import audio
from refmodel.mel import frontend
from refmodel.mel.onnx_golden import OnnxFrontend, build_model, top_db_codes

DB_TOL = 1e-3  # dB, above the floor
TIE_TOL = DB_TOL * frontend.DEFAULT.codes_per_db  # codes: closer than this to x.5 is a tie


@pytest.fixture(scope="module")
def sessions() -> dict[str, OnnxFrontend]:
    return {m: OnnxFrontend(mode=m) for m in ("fixed", "top_db")}


def _pre_round(db: np.ndarray) -> np.ndarray:
    return (db - frontend.DEFAULT.db_floor) * frontend.DEFAULT.codes_per_db


def _is_tie(v: np.ndarray) -> np.ndarray:
    return np.abs(v - np.floor(v) - 0.5) < TIE_TOL


def test_graph_has_the_background_form() -> None:
    ops = [n.op_type for n in build_model().graph.node]
    for op in ("Conv", "Pow", "Add", "MatMul", "Clip", "Log", "Round"):
        assert op in ops
    assert ops.count("Conv") == 2
    shapes = {i.name: tuple(i.dims) for i in build_model().graph.initializer}
    assert shapes["dft_re"] == (257, 1, 512) and shapes["mel"] == (257, 32)
    assert "ReduceMax" in [n.op_type for n in build_model(mode="top_db").graph.node]
    with pytest.raises(ValueError):
        build_model(mode="per_frame")


def test_fixed_mode_agrees(sessions: dict[str, OnnxFrontend]) -> None:
    ties = total = 0
    signals = dict(audio.synthetic_suite(7, 2.0))
    signals["short"] = audio.white_noise(0.0251, 0.5, seed=1)  # 401 samples: one frame
    for name, x in signals.items():
        db, codes = sessions["fixed"].run(x)
        ref = frontend.logmel_db(x)
        assert db.shape == ref.shape == codes.shape, name
        above = ref > frontend.DEFAULT.db_floor
        assert np.all(np.abs(db - ref)[above] < DB_TOL), name
        gold = frontend.ideal_codes(x)
        diff = codes != gold
        assert np.all(np.abs(codes.astype(int) - gold)[diff] == 1), name
        assert np.all(_is_tie(_pre_round(ref))[diff]), name  # only at rounding ties
        ties += int(diff.sum())
        total += diff.size
    assert ties <= 1e-3 * total


def test_top_db_mode_agrees(sessions: dict[str, OnnxFrontend]) -> None:
    for name, x in audio.synthetic_suite(8, 1.0).items():
        if not x.any():
            continue
        _, codes = sessions["top_db"].run(x)
        gold = top_db_codes(x)
        ref = frontend.logmel_db(x)
        v = (np.maximum(ref, ref.max() - 80) - (ref.max() - 80)) * frontend.DEFAULT.codes_per_db
        diff = codes != gold
        assert np.all(_is_tie(v)[diff]), name
        assert codes.max() == 255  # normalised to the clip maximum
