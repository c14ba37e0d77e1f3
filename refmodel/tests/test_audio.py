"""WAV reader (every format, every error) and the synthetic generators."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from refmodel import audio


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_16k_mono_16bit_is_verbatim(tmp_path: Path) -> None:
    x = np.random.default_rng(1).integers(-32768, 32768, 5000).astype(np.int16)
    p = tmp_path / "a.wav"
    wavfile.write(p, 16000, x)  # written by scipy, not by us
    y = audio.load_wav(p)
    assert y.dtype == np.int16
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize(("bits", "is_float", "ext"), [
    (8, False, False), (24, False, False), (32, False, False), (32, True, False),
    (64, True, False), (16, False, True), (24, False, True), (32, True, True)])
def test_every_sample_format(tmp_path: Path, bits: int, is_float: bool, ext: bool) -> None:
    ref = audio.tone(0.2, 500.0, 0.5)
    if is_float:
        data = ref / 32768.0
    elif bits == 8:
        data = np.round(ref / 256.0)
    else:
        data = ref.astype(np.int64) << (bits - 16)
    p = _write(tmp_path, "f.wav", audio.wav_bytes(data, 16000, bits=bits, is_float=is_float,
                                                  extensible=ext))
    y = audio.load_wav(p)
    tol = 128 if bits == 8 else 0
    assert np.abs(y.astype(int) - ref).max() <= tol


def test_formats_scipy_can_read_agree(tmp_path: Path) -> None:
    x = np.random.default_rng(2).integers(-2**31, 2**31, (700, 3)).astype(np.int32)
    p = _write(tmp_path, "s.wav", audio.wav_bytes(x, 16000, bits=32))
    rate, ref = wavfile.read(p)
    assert rate == 16000
    np.testing.assert_array_equal(ref, x)
    want = np.round(ref.astype(np.float64).mean(axis=1) / 65536.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", audio.ClippingWarning)
        got = audio.load_wav(p)
    np.testing.assert_array_equal(got, np.clip(want, -32768, 32767))


def test_stereo_44k1_is_mixed_and_resampled(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    left = np.round(8000 * np.sin(2 * np.pi * 1000 * t))
    right = np.round(8000 * np.sin(2 * np.pi * 1000 * t) + 4000 * np.sin(2 * np.pi * 11000 * t))
    st = np.stack([left, right], axis=1).astype(np.int16)
    y = audio.load_wav(_write(tmp_path, "st.wav", audio.wav_bytes(st, 44100)))
    assert len(y) == 16000
    spec = np.abs(np.fft.rfft(y[2000:-2000] * np.hanning(12000)))
    f = np.fft.rfftfreq(12000, 1 / 16000)
    peak = f[np.argmax(spec)]
    assert abs(peak - 1000) < 5
    # 11 kHz is above the new Nyquist: the resampler removes it instead of aliasing to 5 kHz
    alias = spec[np.abs(f - 5000) < 50].max()
    assert alias < 1e-3 * spec.max()


def test_clipping_is_reported(tmp_path: Path) -> None:
    p = _write(tmp_path, "loud.wav", audio.wav_bytes(np.array([0.5, 1.5, -2.0, 0.0]), 16000,
                                                     bits=32, is_float=True))
    with pytest.warns(audio.ClippingWarning, match=r"loud\.wav: 2 samples clipped"):
        y = audio.load_wav(p)
    np.testing.assert_array_equal(y, [16384, 32767, -32768, 0])


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "empty file"),
    (b"hello world, not audio", "not a RIFF/WAVE"),
    (b"RIFX" + b"\x00" * 40, "big-endian"),
])
def test_garbage_files(tmp_path: Path, content: bytes, problem: str) -> None:
    p = _write(tmp_path, "bad.wav", content)
    with pytest.raises(audio.AudioError, match=problem) as exc:
        audio.load_wav(p)
    assert "bad.wav" in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_truncated_and_corrupt(tmp_path: Path) -> None:
    good = audio.wav_bytes(audio.tone(0.1, 440.0), 16000)
    with pytest.raises(audio.AudioError, match="truncated"):
        audio.load_wav(_write(tmp_path, "t.wav", good[:-101]))
    # header fixed up to the shorter length but the data chunk still claims the old size
    cut = bytearray(good[:-100])
    cut[4:8] = (len(cut) - 8).to_bytes(4, "little")
    with pytest.raises(audio.AudioError, match="truncated"):
        audio.load_wav(_write(tmp_path, "t2.wav", bytes(cut)))
    bad = bytearray(good)
    bad[32:34] = (3).to_bytes(2, "little")  # block align
    with pytest.raises(audio.AudioError, match="block align"):
        audio.load_wav(_write(tmp_path, "c.wav", bytes(bad)))
    with pytest.raises(audio.AudioError, match="no samples"):
        audio.load_wav(_write(tmp_path, "e.wav", audio.wav_bytes(np.zeros(0), 16000)))
    with pytest.raises(audio.AudioError, match="cannot read"):
        audio.load_wav(tmp_path / "missing.wav")


def test_unsupported_encodings(tmp_path: Path) -> None:
    good = bytearray(audio.wav_bytes(audio.tone(0.1, 440.0), 16000))
    good[20:22] = (6).to_bytes(2, "little")
    with pytest.raises(audio.AudioError, match="A-law"):
        audio.load_wav(_write(tmp_path, "alaw.wav", bytes(good)))
    with pytest.raises(audio.AudioError, match="NaN"):
        audio.load_wav(_write(tmp_path, "nan.wav", audio.wav_bytes(
            np.array([0.0, np.nan]), 16000, bits=32, is_float=True)))


def test_generators_are_int16_seeded_and_sized() -> None:
    a = audio.synthetic_suite(3, 0.5)
    b = audio.synthetic_suite(3, 0.5)
    c = audio.synthetic_suite(4, 0.5)
    for name in a:
        assert a[name].dtype == np.int16 and a[name].shape == (8000,), name
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["white_mid"], c["white_mid"])
    sq = audio.square(0.01, 1000.0)
    assert set(np.unique(sq)) == {-32768, 32767}
    assert audio.white_noise(10.0, 1.0, seed=1).min() < -32700
    assert (audio.impulse_train(0.1, 160) != 0).sum() == 10
    assert not audio.silence(0.1).any() and (audio.dc(0.1, -0.5) == -16384).all()
    assert np.abs(audio.pink_noise(1.0, 0.5, seed=2)).max() == 16384


def test_pink_noise_slope() -> None:
    x = audio.pink_noise(4.0, 0.5, seed=9).astype(np.float64)
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / 16000)
    lo = spec[(f > 100) & (f < 200)].mean()
    hi = spec[(f > 1000) & (f < 2000)].mean()
    assert 10 * np.log10(lo / hi) == pytest.approx(10.0, abs=1.5)  # -10 dB per decade


def test_generator_arguments_checked() -> None:
    with pytest.raises(audio.AudioError):
        audio.tone(1.0, 440.0, 1.5)
    with pytest.raises(audio.AudioError):
        audio.white_noise(1.0, 0.5, seed=None)
    with pytest.raises(audio.AudioError):
        audio.silence(-1.0)


@pytest.mark.parametrize("method, f0, f1", [("linear", 30.0, 7900.0),
                                            ("logarithmic", 50.0, 5000.0)])
def test_chirp_matches_scipy(method: str, f0: float, f1: float) -> None:
    """The sweep is written in numpy (scipy.signal is slow to import); scipy's is the
    reference, sample for sample."""
    from scipy import signal

    x = audio.chirp(1.5, f0, f1, 0.4, method=method)
    t = np.arange(len(x)) / audio.SAMPLE_RATE
    want = np.round(0.4 * 32767 * signal.chirp(t, f0=f0, t1=1.5, f1=f1, method=method))
    np.testing.assert_array_equal(x, want.astype(np.int16))


def test_chirp_arguments_checked() -> None:
    with pytest.raises(audio.AudioError, match="method 'quadratic'"):
        audio.chirp(1.0, method="quadratic")
    with pytest.raises(audio.AudioError, match="must be above 0"):
        audio.chirp(1.0, 0.0, 100.0, method="logarithmic")
