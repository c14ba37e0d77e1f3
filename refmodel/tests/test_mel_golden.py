"""Float golden: filterbank, window, framing, dB and codes checked against first principles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refmodel.mel import frontend
from refmodel.mel.config import FrontendConfig


def _htk(f: float) -> float:
    return 2595.0 * math.log10(1.0 + f / 700.0)


def _tri(f: float, lo: float, mid: float, hi: float) -> float:
    if lo < f <= mid:
        return (f - lo) / (mid - lo)
    if mid < f < hi:
        return (hi - f) / (hi - mid)
    return 0.0


def test_mel_matrix_matches_scalar_htk_triangles() -> None:
    m = frontend.mel_matrix()
    assert m.shape == (32, 257) and m.dtype == np.float64
    lo_m, hi_m = _htk(60.0), _htk(3800.0)
    edges = [700.0 * (10 ** ((lo_m + (hi_m - lo_m) * i / 33) / 2595.0) - 1.0)
             for i in range(34)]
    for b in range(32):
        for k in range(257):
            want = _tri(k * 16000 / 512, edges[b], edges[b + 1], edges[b + 2])
            assert m[b, k] == pytest.approx(want, abs=1e-12), (b, k)


def test_mel_matrix_shape_facts() -> None:
    m = frontend.mel_matrix()
    f = np.arange(257) * 31.25
    assert not m[:, f <= 60.0].any() and not m[:, f >= 3800.0].any()
    # adjacent triangles cross-fade: inside the support the weights sum to 1
    inside = (f >= frontend.mel_edges_hz()[1]) & (f <= frontend.mel_edges_hz()[-2])
    np.testing.assert_allclose(m[:, inside].sum(axis=0), 1.0, atol=1e-12)
    assert ((m > 0).sum(axis=0) <= 2).all()


def test_mel_matrix_equals_librosa_if_available() -> None:
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=32, fmin=60, fmax=3800, htk=True,
                              norm=None)
    np.testing.assert_allclose(frontend.mel_matrix(), ref, atol=1e-6)


def test_hamming_window() -> None:
    w = frontend.hamming_window()
    assert w.shape == (400,)
    assert w[0] == pytest.approx(0.08) and w[399] == pytest.approx(0.08)
    np.testing.assert_allclose(w, w[::-1], atol=1e-15)
    assert w[137] == pytest.approx(0.54 - 0.46 * math.cos(2 * math.pi * 137 / 399))


@pytest.mark.parametrize(("n", "frames"), [(0, 0), (399, 0), (400, 1), (559, 1), (560, 2),
                                           (32000, 198), (16000, 98)])
def test_frame_count(n: int, frames: int) -> None:
    x = np.zeros(n, dtype=np.int16)
    assert frontend.logmel_db(x).shape == (frames, 32)
    assert frontend.features(x).shape == (frames, 32)
    assert FrontendConfig().n_frames(n) == frames


def test_logmel_db_of_a_bin_centred_tone() -> None:
    # cos at bin 40 (1250 Hz): |X[40]|^2 = (A/2 * sum(w))^2 up to the tiny image term
    a, k = 0.25, 40
    n = np.arange(400)
    x = np.round(a * 32768 * np.cos(2 * np.pi * k * n / 512)).astype(np.int16)
    w = frontend.hamming_window()
    xs = x / 32768.0
    power_k = abs(np.sum(xs * w * np.exp(-2j * np.pi * k * n / 512))) ** 2
    assert power_k == pytest.approx((a / 2 * w.sum()) ** 2, rel=1e-3)
    db = frontend.logmel_db(x)[0]
    m = frontend.mel_matrix()
    b = int(np.argmax(m[:, k]))
    # the band holding bin 40 gets at least its weight times the bin power
    assert db[b] >= 10 * math.log10(m[b, k] * power_k) - 1e-9
    # and exactly the weighted sum of a direct (non-FFT) DFT of the frame
    kk = np.arange(257)[:, None]
    direct = np.abs((xs * w * np.exp(-2j * np.pi * kk * n / 512)).sum(axis=1)) ** 2
    np.testing.assert_allclose(db, 10 * np.log10(np.maximum(m @ direct, 1e-10)), atol=1e-9)


def test_silence_is_floor_and_codes_formula() -> None:
    db = frontend.logmel_db(np.zeros(800, dtype=np.int16))
    np.testing.assert_array_equal(db, -100.0)
    assert not frontend.ideal_codes(np.zeros(800, dtype=np.int16)).any()
    got = frontend.db_to_codes(np.array([-100.0, -35.0, -34.9, 5.0, 44.9, 45.0, 60.0]))
    np.testing.assert_array_equal(got, [0, 0, 0, 128, 255, 255, 255])  # 127.5 -> 128 (even)
    assert frontend.db_to_codes(np.array([-35 + 80 / 255 * 100.49]))[0] == 100


def test_bad_samples_rejected() -> None:
    with pytest.raises(ValueError, match="1-D"):
        frontend.features(np.zeros((2, 400), dtype=np.int16))
    with pytest.raises(ValueError, match="int16"):
        frontend.logmel_db(np.zeros(400, dtype=np.float32))
    with pytest.raises(ValueError, match="range"):
        frontend.features(np.full(400, 40000, dtype=np.int32))
