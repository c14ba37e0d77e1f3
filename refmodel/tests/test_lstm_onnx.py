"""The ONNX golden (ONNX LSTM operator in onnxruntime) against the numpy float golden."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import pytest

from refmodel.lstm.detector import DetectorWeights, scores_float
from refmodel.lstm.onnx_golden import build_model, run_model, scores_onnx, to_onnx_gate_order


def test_gate_order_conversion_moves_blocks() -> None:
    h = 3
    ours = np.repeat(np.arange(4), h)  # block ids in our order i, f, g, o = 0, 1, 2, 3
    onnx_order = to_onnx_gate_order(ours, h)
    # ONNX order i, o, f, c(=g)
    assert onnx_order.tolist() == [0] * h + [3] * h + [1] * h + [2] * h
    m = np.arange(4 * h * 2).reshape(4 * h, 2)
    assert np.array_equal(to_onnx_gate_order(m, h)[h:2 * h], m[3 * h:])
    with pytest.raises(ValueError, match="gate rows"):
        to_onnx_gate_order(np.zeros(10), h)


def test_graph_uses_the_lstm_operator() -> None:
    model = build_model(DetectorWeights.random(0, hidden=16))
    ops = [n.op_type for n in model.graph.node]
    assert "LSTM" in ops and "Gather" in ops and ops[-2:] == ["Sigmoid", "Reshape"]
    onnx.checker.check_model(model)


@pytest.mark.parametrize("hidden", [16, 32, 64])
def test_onnx_agrees_with_float_golden(hidden: int) -> None:
    w = DetectorWeights.random(3, hidden=hidden)
    rng = np.random.default_rng(hidden)
    codes = np.concatenate([rng.integers(0, 256, size=(198 * 12 + 17, 32), dtype=np.uint8)])
    loud = np.full((198, 32), 255, dtype=np.uint8)
    for c in (codes, loud, np.zeros_like(loud)):
        so = scores_onnx(c, w)
        sf = scores_float(c, w)
        assert so.shape == sf.shape == (c.shape[0] // 198,)
        assert np.abs(so - sf).max() < 1e-5


def test_wrong_gate_order_fails_to_match() -> None:
    w = DetectorWeights.random(0, hidden=16)
    codes = np.random.default_rng(0).integers(0, 256, size=(198 * 8, 32), dtype=np.uint8)
    sf = scores_float(codes, w)
    right = (0, 3, 1, 2)
    for perm in itertools.permutations(range(4)):
        got = run_model(build_model(w, gate_order=perm), codes, 198)
        err = np.abs(got - sf).max()
        if perm == right:
            assert err < 1e-5
        else:
            assert err > 1e-2, f"order {perm} should not match (err {err})"


def test_other_window_and_empty_input() -> None:
    w = DetectorWeights.random(1, hidden=16)
    codes = np.random.default_rng(1).integers(0, 256, size=(3 * 25 + 4, 32), dtype=np.uint8)
    assert np.abs(scores_onnx(codes, w, window=25) - scores_float(codes, w, window=25)).max() < 1e-5
    assert scores_onnx(codes[:10], w, window=25).shape == (0,)
