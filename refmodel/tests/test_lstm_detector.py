"""Whole-detector tests: float golden, fixed-vs-float accuracy, windowing, detections."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from refmodel.lstm.detector import (
    Detection,
    DetectorConfig,
    DetectorWeights,
    detect,
    plot_timeline,
    run_fixed,
    scores_fixed,
    scores_float,
)

ROOT = Path(__file__).resolve().parents[2]
TOL = 0.02  # SPEC section 3: fixed-point score within 0.02 of the float score


def _walk(rng: np.random.Generator, n: int, step: float = 6.0) -> np.ndarray:
    """Smooth random walks per band, reflected into 0..255 (slowly varying 'real-ish' codes)."""
    x = np.cumsum(rng.normal(0.0, step, size=(n, 32)), axis=0) + rng.uniform(40, 215, 32)
    x = np.mod(x, 510.0)
    return np.rint(np.where(x > 255, 510 - x, x)).astype(np.uint8)


def _wav_features() -> np.ndarray | None:
    """Front-end codes of every WAV in vectors/, as windows at several frame offsets."""
    try:
        from refmodel.audio import load_wav
        from refmodel.mel.frontend import features
    except ImportError:
        return None
    wins = []
    for path in sorted((ROOT / "vectors").glob("*.wav")):
        q = features(load_wav(path))
        wins += [q[k:k + 198] for k in range(0, q.shape[0] - 198 + 1, 10)]
    return np.concatenate(wins) if wins else None


def _float_oracle(codes: np.ndarray, w: DetectorWeights) -> float:
    """One window, one frame at a time, scalar-by-scalar: the textbook LSTM equations."""
    hid = w.hidden
    h = [0.0] * hid
    c = [0.0] * hid
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731
    for q in codes:
        x = [(int(v) - 128) / 128 for v in q]
        pre = [sum(float(w.w_ih[r, j]) * x[j] for j in range(32))
               + sum(float(w.w_hh[r, j]) * h[j] for j in range(hid)) + float(w.b[r])
               for r in range(4 * hid)]
        for j in range(hid):
            i, f = sig(pre[j]), sig(pre[hid + j])
            g, o = math.tanh(pre[2 * hid + j]), sig(pre[3 * hid + j])
            c[j] = f * c[j] + i * g
            h[j] = o * math.tanh(c[j])
    return sig(sum(float(w.w_out[j]) * h[j] for j in range(hid)) + w.b_out)


def test_scores_float_matches_scalar_oracle() -> None:
    w = DetectorWeights.random(1, hidden=16)
    codes = np.random.default_rng(1).integers(0, 256, size=(2 * 20, 32), dtype=np.uint8)
    got = scores_float(codes, w, window=20)
    for j in range(2):
        assert abs(got[j] - _float_oracle(codes[20 * j:20 * j + 20], w)) < 1e-12


def _classes(rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {
        "random": rng.integers(0, 256, size=(198 * 40, 32), dtype=np.uint8),
        "loud": np.full((198, 32), 255, dtype=np.uint8),
        "silent": np.zeros((198, 32), dtype=np.uint8),
        "walk": _walk(rng, 198 * 40),
    }
    wav = _wav_features()
    if wav is not None:
        out["wav"] = wav
    return out


@pytest.mark.parametrize("hidden", [16, 32, 64])
@pytest.mark.parametrize("seed", [0, 1])
def test_fixed_within_tolerance_of_float(hidden: int, seed: int) -> None:
    w = DetectorWeights.random(seed, hidden=hidden)
    for name, codes in _classes(np.random.default_rng(100 + seed)).items():
        sf = scores_float(codes, w)
        sx = scores_fixed(codes, w)
        assert sf.shape == sx.shape == (codes.shape[0] // 198,)
        err = np.abs(sx - sf)
        assert err.max() <= TOL, f"{name}: window {err.argmax()} differs by {err.max():.4f}"


def test_wav_features_are_used() -> None:
    wav = _wav_features()
    assert wav is not None and wav.shape[0] >= 198 * 8


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_flags_agree_away_from_threshold(threshold: float) -> None:
    w = DetectorWeights.random(0, hidden=32)
    rng = np.random.default_rng(7)
    codes = np.concatenate([rng.integers(0, 256, size=(198 * 30, 32), dtype=np.uint8),
                            _walk(rng, 198 * 30)])
    sf = scores_float(codes, w)
    dets = detect(codes, w, threshold)
    far = np.abs(sf - threshold) > TOL
    flags = np.array([d.flag for d in dets])
    assert far.sum() > 30 and flags.any() and not flags.all()
    assert np.array_equal(flags[far], (sf >= threshold)[far])


def test_windows_are_independent_and_trailing_frames_dropped() -> None:
    w = DetectorWeights.random(2, hidden=16)
    codes = np.random.default_rng(2).integers(0, 256, size=(198 * 3 + 150, 32), dtype=np.uint8)
    full = run_fixed(codes, w)
    assert full.score_int.shape == (3,)
    for j in range(3):
        alone = run_fixed(codes[198 * j:198 * j + 198], w)
        assert alone.score_int[0] == full.score_int[j]  # h, c reset at every window start
    assert np.array_equal(run_fixed(codes[:198 * 3], w).score_int, full.score_int)
    assert scores_fixed(codes[:197], w).shape == (0,)
    assert scores_float(codes[:197], w).shape == (0,)
    assert detect(codes[:0], w, 0.5) == []
    assert scores_fixed(codes, w, window=50).shape == ((198 * 3 + 150) // 50,)


def test_input_validation() -> None:
    w = DetectorWeights.random(0, hidden=16)
    good = np.zeros((198, 32), dtype=np.uint8)
    for fn in (scores_float, scores_fixed):
        with pytest.raises(ValueError, match="uint8"):
            fn(good.astype(np.int16), w)
        with pytest.raises(ValueError, match="shape"):
            fn(np.zeros((198, 31), dtype=np.uint8), w)
        with pytest.raises(ValueError, match="shape"):
            fn(np.zeros(198 * 32, dtype=np.uint8), w)
        with pytest.raises(ValueError, match="numpy"):
            fn(good.tolist(), w)
        for bad in (0, -3, 2.5, True):
            with pytest.raises(ValueError, match="window"):
                fn(good, w, window=bad)
        with pytest.raises(ValueError, match="DetectorWeights"):
            fn(good, "weights.npz")
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            detect(good, w, bad)


def test_detect_records() -> None:
    w = DetectorWeights.random(0, hidden=32)
    codes = np.random.default_rng(3).integers(0, 256, size=(198 * 4 + 10, 32), dtype=np.uint8)
    dets = detect(codes, w, 0.5)
    run = run_fixed(codes, w)
    assert [d.index for d in dets] == [0, 1, 2, 3]
    assert [d.start_frame for d in dets] == [0, 198, 396, 594]
    for d, s in zip(dets, run.score_int, strict=True):
        assert isinstance(d, Detection)
        assert d.score_int == s and d.score == s / 65536 and d.threshold_int == 32768
        assert d.flag == (s >= 32768)
    assert all(d.flag for d in detect(codes, w, 0.0))
    assert not any(d.flag for d in detect(codes, w, 1.0))


def test_fixed_model_accepts_other_h_widths() -> None:
    w = DetectorWeights.random(0, hidden=16)
    w8 = w.with_config(DetectorConfig(hidden=16, h_bits=8))
    codes = np.random.default_rng(4).integers(0, 256, size=(198 * 10, 32), dtype=np.uint8)
    assert np.abs(scores_fixed(codes, w8) - scores_float(codes, w)).max() <= TOL
    with pytest.raises(ValueError, match="w_frac"):
        w.with_config(DetectorConfig(hidden=16, w_frac=4))


def test_plot_timeline_draws() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = DetectorWeights.random(0, hidden=16)
    codes = np.random.default_rng(5).integers(0, 256, size=(198 * 3, 32), dtype=np.uint8)
    dets = detect(codes, w, 0.5)
    fig, ax = plt.subplots()
    plot_timeline(ax, dets, 0.5)
    assert len(ax.collections) >= 3  # one score segment per window
    assert ax.get_xlabel() == "time (s)"
    plt.close(fig)
