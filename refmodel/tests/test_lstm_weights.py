"""Tests of the detector weight set: seeded random set, float views, versioned file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from refmodel.lstm.detector import DetectorConfig, DetectorWeights, run_fixed, scores_float

ROOT = Path(__file__).resolve().parents[2]
VECTOR_FILE = ROOT / "vectors" / "detector_weights_random_h32.npz"


def _walk(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.cumsum(rng.normal(0.0, 6.0, size=(n, 32)), axis=0) + rng.uniform(40, 215, 32)
    x = np.mod(x, 510.0)
    return np.rint(np.where(x > 255, 510 - x, x)).astype(np.uint8)


def test_random_is_seeded_and_shaped() -> None:
    a, b, c = (DetectorWeights.random(s, hidden=16) for s in (1, 1, 2))
    assert np.array_equal(a.w_ih_q, b.w_ih_q) and np.array_equal(a.w_hh_q, b.w_hh_q)
    assert not np.array_equal(a.w_ih_q, c.w_ih_q)
    assert a.w_ih_q.shape == (64, 32) and a.w_hh_q.shape == (64, 16) and a.b_q.shape == (64,)
    assert a.w_ih_q.dtype == np.int8 and a.b_q.dtype == np.int16 and a.b_out_q.shape == ()


def test_float_views_are_the_exact_dequantised_values() -> None:
    w = DetectorWeights.random(0, hidden=32)
    assert np.array_equal(w.w_ih * 32, w.w_ih_q.astype(float))
    assert np.array_equal(w.w_hh * 32, w.w_hh_q.astype(float))
    assert np.array_equal(w.b * 2048, w.b_q.astype(float))
    assert np.array_equal(w.w_out * 32, w.w_out_q.astype(float))
    assert w.b_out * 2048 == float(w.b_out_q)
    assert w.w_ih.shape == (128, 32) and w.w_hh.shape == (128, 32) and w.w_out.shape == (32,)
    with pytest.raises(ValueError):
        w.w_ih_q[0, 0] = 1  # read-only


@pytest.mark.parametrize("hidden", [16, 32, 64])
def test_random_set_drives_every_activation_through_its_range(hidden: int) -> None:
    """Histogram regions of every gate row / cell and of the score, on random and walk codes."""
    w = DetectorWeights.random(0, hidden=hidden)
    rng = np.random.default_rng(10)
    rand = rng.integers(0, 256, size=(198 * 20, 32), dtype=np.uint8)
    walk = _walk(rng, 198 * 20)
    r = run_fixed(rand, w, trace=True)
    z = r.z.reshape(-1, 4 * hidden) / 2048.0
    sig_rows = np.r_[0:2 * hidden, 3 * hidden:4 * hidden]
    g_rows = np.r_[2 * hidden:3 * hidden]
    # every sigmoid row (i, f, o): saturated low (< 0.25 %), linear middle, saturated high
    assert (z[:, sig_rows] < -6).mean(axis=0).min() > 0.002
    assert (np.abs(z[:, sig_rows]) < 1).mean(axis=0).min() > 0.05
    assert (z[:, sig_rows] > 6).mean(axis=0).min() > 0.002
    # every g row (tanh): below -3, linear middle, above +3
    assert (z[:, g_rows] < -3).mean(axis=0).min() > 0.02
    assert (np.abs(z[:, g_rows]) < 0.5).mean(axis=0).min() > 0.01
    assert (z[:, g_rows] > 3).mean(axis=0).min() > 0.02
    # tanh(c): slowly varying inputs push the cells into both saturated ends and the middle
    c = run_fixed(walk, w, trace=True).c / 65536.0
    assert (c < -3).mean() > 0.05 and (np.abs(c) < 0.5).mean() > 0.05 and (c > 3).mean() > 0.05
    assert np.abs(c).max() > 8  # tanh input beyond the table range
    # score: both tails and the middle over windows
    s = np.concatenate([scores_float(rand, w), scores_float(walk, w)])
    assert s.min() < 0.12 and s.max() > 0.88 and ((s > 0.3) & (s < 0.7)).any()


def test_save_load_round_trip(tmp_path: Path) -> None:
    w = DetectorWeights.random(5, hidden=16)
    p = tmp_path / "w.npz"
    w.save(p)
    r = DetectorWeights.load(p)
    assert r.config == w.config and r.note == w.note
    for name in ("w_ih_q", "w_hh_q", "b_q", "w_out_q", "b_out_q"):
        assert np.array_equal(getattr(r, name), getattr(w, name))
        assert getattr(r, name).dtype == getattr(w, name).dtype
    cfg = DetectorConfig(hidden=16, h_bits=8)
    assert DetectorWeights.load(p, config=cfg).config == cfg
    with pytest.raises(ValueError, match="hidden=16 in the file"):
        DetectorWeights.load(p, config=DetectorConfig(hidden=32))


def test_vector_file_is_the_documented_seeded_set() -> None:
    w = DetectorWeights.load(VECTOR_FILE)
    ref = DetectorWeights.random(0, hidden=32)
    assert w.config == DetectorConfig()
    for name in ("w_ih_q", "w_hh_q", "b_q", "w_out_q", "b_out_q"):
        assert np.array_equal(getattr(w, name), getattr(ref, name)), name


def _members(w: DetectorWeights, tmp_path: Path) -> dict[str, np.ndarray]:
    p = tmp_path / "good.npz"
    w.save(p)
    with np.load(p) as npz:
        return {k: npz[k] for k in npz.files}


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(version=np.int64(2)), "version 2 is not supported"),
    (lambda m: m.update(format=np.array("something-else")), "format is"),
    (lambda m: m.pop("w_hh"), "missing member 'w_hh'"),
    (lambda m: m.pop("hidden"), "missing member 'hidden'"),
    (lambda m: m.update(w_ih=np.zeros((64, 31), np.int8)), r"w_ih_q has shape \(64, 31\)"),
    (lambda m: m.update(w_hh=np.zeros((64, 16), np.int16)), "must be a numpy int8"),
    (lambda m: m.update(hidden=np.int64(32)), "shape"),
    (lambda m: m.update(b=np.full(64, 1.5)), "int16"),
    (lambda m: m.update(w_frac=np.int64(40)), "not a legal configuration"),
    (lambda m: m.update(version=np.array([1, 1])), "integer scalar"),
])
def test_load_rejects_bad_contents(tmp_path: Path, change, message: str) -> None:
    m = _members(DetectorWeights.random(5, hidden=16), tmp_path)
    change(m)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **m)
    with pytest.raises(ValueError, match=message) as err:
        DetectorWeights.load(bad)
    assert str(bad) in str(err.value)


def test_load_rejects_corrupt_and_truncated_files(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    DetectorWeights.random(5, hidden=16).save(good)
    data = good.read_bytes()
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(data[: len(data) // 2])
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not an npz file" * 10)
    for path in (trunc, junk):
        with pytest.raises(ValueError, match="bad detector weight file") as err:
            DetectorWeights.load(path)
        assert str(path) in str(err.value)
    with pytest.raises(FileNotFoundError, match="not found"):
        DetectorWeights.load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=".npz"):
        DetectorWeights.random(0).save(tmp_path / "w.bin")


def test_constructor_validates_ranges() -> None:
    w = DetectorWeights.random(0, hidden=16)
    with pytest.raises(ValueError, match="shape"):
        DetectorWeights(config=DetectorConfig(hidden=32), w_ih_q=w.w_ih_q, w_hh_q=w.w_hh_q,
                        b_q=w.b_q, w_out_q=w.w_out_q, b_out_q=w.b_out_q)
    cfg4 = DetectorConfig(hidden=16, w_bits=4)
    with pytest.raises(ValueError, match="4-bit"):
        DetectorWeights(config=cfg4, w_ih_q=w.w_ih_q, w_hh_q=w.w_hh_q, b_q=w.b_q,
                        w_out_q=w.w_out_q, b_out_q=w.b_out_q)
