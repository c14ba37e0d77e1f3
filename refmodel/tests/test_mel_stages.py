"""Bit-accurate stages one by one: exact integer arithmetic against Python ints, numerical
accuracy against float transforms, and the no-overflow bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refmodel import audio
from refmodel.mel import fft, filterbank, framer, log2, power, quant, split, window
from refmodel.mel.config import FrontendConfig
from refmodel.mel.golden import hamming_window, mel_matrix
from refmodel.mel.tables import rom_tables

CFG = FrontendConfig()
TF = CFG.twiddle_frac


def _rhu(v: int, s: int) -> int:
    """Round half up of v / 2**s with Python ints (independent of refmodel.fixed)."""
    return math.floor(v / 2**s + 0.5) if s else v


def _sat(v: int, bits: int) -> int:
    return max(-(2 ** (bits - 1)), min(2 ** (bits - 1) - 1, v))


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    rng = np.random.default_rng(11)
    x = np.concatenate([audio.white_noise(0.3, 1.0, seed=rng), audio.pink_noise(0.3, 0.2, seed=rng),
                        audio.tone(0.3, 440.0, 0.9), audio.square(0.3, 300.0, 1.0)])
    return framer.frame_stage(x)


def test_frame_stage_layout() -> None:
    x = np.arange(1000, dtype=np.int16)
    f = framer.frame_stage(x)
    assert f.shape == (4, 400) and f.dtype == np.int16
    np.testing.assert_array_equal(f[3], np.arange(480, 880))


def test_window_table_and_stage(frames: np.ndarray) -> None:
    w = window.window_table()
    assert w.dtype == np.int64 and w.max() < 2**16 and w.min() > 0
    np.testing.assert_array_equal(w, w[::-1])
    assert np.abs(w / 2**16 - hamming_window()).max() <= 2**-17
    v = window.window_stage(frames)
    assert v.shape == frames.shape and v.dtype == np.int64
    i, n = 5, 123
    assert v[i, n] == _rhu(int(frames[i, n]) * int(w[n]), 16 - CFG.fft_in_frac)
    # |v| stays inside the 20-bit word without saturating
    assert np.abs(v).max() < 2 ** (CFG.fft_in_bits - 1)


@pytest.mark.parametrize("lim", [2**21, 2**23])
def test_butterfly_matches_python_ints(lim: int) -> None:
    # every output word of four stages; full-scale words (2**23) make the outputs saturate
    rng = np.random.default_rng(5)
    re = rng.integers(-lim, lim, (2, 256))
    im = rng.integers(-lim, lim, (2, 256))
    twr, twi = fft.twiddle_table()
    saturated = 0
    for stage in (0, 3, 4, 7):
        out_r, out_i = fft.fft_butterfly_stage(re, im, stage)
        h = 1 << stage
        sh = TF + CFG.fft_stage_shifts[stage]
        for p in (p for p in range(256) if p % (2 * h) < h):
            kk = (p % h) * (512 // (2 * h))
            ar, ai = int(re[1, p]), int(im[1, p])
            br, bi = int(re[1, p + h]), int(im[1, p + h])
            tr = br * int(twr[kk]) - bi * int(twi[kk])
            ti = br * int(twi[kk]) + bi * int(twr[kk])
            want = [_rhu((ar << TF) + tr, sh), _rhu((ai << TF) + ti, sh),
                    _rhu((ar << TF) - tr, sh), _rhu((ai << TF) - ti, sh)]
            got = [out_r[1, p], out_i[1, p], out_r[1, p + h], out_i[1, p + h]]
            assert got == [_sat(w, 24) for w in want], (stage, p)
            saturated += sum(_sat(w, 24) != w for w in want)
    assert (saturated > 0) == (lim == 2**23)


def test_fft_and_split_against_float_dft(frames: np.ndarray) -> None:
    v = window.window_stage(frames)
    zr, zi = fft.fft_stage(v)
    # output in PCM-LSB units: the stage shifts remove exactly the fft_in_frac guard bits
    z = (v[:, 0::2] + 1j * v[:, 1::2]) / 2**CFG.fft_in_frac
    ref_z = np.fft.fft(z, 256)
    # error = rounding noise (a few LSB) + twiddle quantisation (relative, ~2**-17 per stage)
    allowed = 4.0 + 2.0**-15 * np.abs(ref_z).max(axis=1, keepdims=True)
    err_z = np.abs(zr + 1j * zi - ref_z)
    assert (err_z < allowed).all()
    xr, xi = split.split_stage(zr, zi)
    assert xr.shape == (len(frames), 257)
    ref_x = np.fft.rfft(v / 2**CFG.fft_in_frac, 512)
    err_x = np.abs(xr + 1j * xi - ref_x)
    assert (err_x < 4.0 + 2.0**-15 * np.abs(ref_x).max(axis=1, keepdims=True)).all()
    quiet = np.abs(ref_x).max(axis=1) < 2**18  # the noise frames: rounding noise only
    assert quiet.any() and np.sqrt(np.mean(err_x[quiet] ** 2)) < 1.0
    # DC and Nyquist bins of a real signal are real
    assert not xi[:, 0].any() and not xi[:, 256].any()


@pytest.mark.parametrize("lim", [2**22, 2**23])
def test_split_stage_python_ints(lim: int) -> None:
    # every bin; full-scale words (2**23) make some outputs saturate
    rng = np.random.default_rng(9)
    zr = rng.integers(-lim, lim, 256)
    zi = rng.integers(-lim, lim, 256)
    xr, xi = split.split_stage(zr, zi)
    twr, twi = fft.twiddle_table()
    saturated = 0
    for k in range(129):
        m = (256 - k) % 256
        sar, sai = int(zr[k] + zr[m]), int(zi[k] - zi[m])
        sbr, sbi = int(zi[k] + zi[m]), int(zr[m] - zr[k])
        tr = sbr * int(twr[k]) - sbi * int(twi[k])
        ti = sbr * int(twi[k]) + sbi * int(twr[k])
        want = [_rhu((sar << TF) + tr, TF + 1), _rhu((sai << TF) + ti, TF + 1),
                _rhu((sar << TF) - tr, TF + 1), _rhu(-(sai << TF) + ti, TF + 1)]
        got = [xr[k], xi[k], xr[256 - k], xi[256 - k]]
        assert got == [_sat(w, 24) for w in want], k
        saturated += sum(_sat(w, 24) != w for w in want)
    assert (saturated > 0) == (lim == 2**23)


def test_no_overflow_bound() -> None:
    b = fft.stage_bounds()
    assert len(b) == CFG.fft_stages + 2
    # worst case over every int16 frame, plus a generous 2**10 LSB for accumulated rounding
    assert b.max() + 2**10 < 2 ** (CFG.fft_bits - 1)
    # the bound is tight enough to mean something: a full-scale square comes within 2x
    x = audio.square(0.1, 1000.0, 1.0)
    v = window.window_stage(framer.frame_stage(x))
    xr, xi = split.split_stage(*fft.fft_stage(v))
    assert max(np.abs(xr).max(), np.abs(xi).max()) > b[-1] / 2


@pytest.mark.parametrize("k", [2, 31, 64, 121, 200, 255])
def test_adversarial_frames_do_not_saturate(k: int) -> None:
    # sign pattern that maximises Re X[k] (and for k even, the FFT word that feeds it)
    n = np.arange(400)
    x = np.where(np.cos(2 * np.pi * k * n / 512) >= 0, 32767, -32768).astype(np.int16)
    v = window.window_stage(x[None, :])
    re, im = fft.fft_load(v)
    limit = 2 ** (CFG.fft_bits - 1) - 1
    for s in range(CFG.fft_stages):
        re, im = fft.fft_butterfly_stage(re, im, s)
        assert np.abs(re).max() < limit and np.abs(im).max() < limit
    xr, xi = split.split_stage(re, im)
    assert np.abs(xr).max() < limit and np.abs(xi).max() < limit
    assert abs(xr[0, k]) > 0.6 * 32768 * window.window_table().sum() / 2**16


def test_power_stage_exact() -> None:
    xr = np.array([[0, 1, -2**23, 2**23 - 1, 12345, -777]])
    xi = np.array([[0, 128, -2**23, 2**23 - 1, -54321, 999]])
    p = power.power_stage(xr, xi)
    for j in range(xr.shape[1]):
        full = int(xr[0, j]) ** 2 + int(xi[0, j]) ** 2
        assert p[0, j] == _rhu(full, CFG.power_shift)
    assert p.max() < 2**CFG.power_bits


def test_mel_tables_consistent() -> None:
    wq = filterbank.mel_weight_table()
    assert np.abs(wq / 2**15 - mel_matrix()).max() <= 2**-16
    assert (wq > 0).sum() == 231
    t = filterbank.mel_bin_tables()
    dense = np.zeros_like(wq)
    for i, k in enumerate(range(t.first_bin, t.last_bin + 1)):
        s = int(t.segment[i])
        if s < 32:
            dense[s, k] += t.w_rise[i]
        if s >= 1:
            dense[s - 1, k] += t.w_fall[i]
    np.testing.assert_array_equal(dense, wq)
    assert np.all(np.diff(t.segment) >= 0)


def test_mel_stage_exact_against_python_ints() -> None:
    rng = np.random.default_rng(3)
    p = rng.integers(0, 2**39, (4, 257))
    p[0] = 2**40 - 1  # the largest power word
    p[1] = 0
    m = filterbank.mel_stage(p)
    wq = filterbank.mel_weight_table()
    for f in range(4):
        for b in (0, 13, 31):
            want = sum(int(wq[b, k]) * int(p[f, k]) for k in range(257))
            assert int(m[f, b]) == want
    assert m.max() < 2**CFG.mel_acc_bits


def test_log2_stage_accuracy_and_corners() -> None:
    rng = np.random.default_rng(4)
    m = np.unique(np.concatenate([
        (2.0 ** rng.uniform(0, 57.9, 20000)).astype(np.int64),
        2 ** np.arange(58, dtype=np.int64), 2 ** np.arange(1, 58, dtype=np.int64) - 1,
        np.arange(1, 300)]))
    y = log2.log2_stage(m)
    err = y / 2**16 - np.log2(m.astype(np.float64))
    assert np.abs(err).max() < 3e-4  # log2 units; one code step is 0.104
    # exact powers of two are exact
    p = 2 ** np.arange(58, dtype=np.int64)
    np.testing.assert_array_equal(log2.log2_stage(p), np.arange(58) * 2**16)
    assert log2.log2_stage(np.array([0]))[0] == 0


def test_quantise_stage_against_formula() -> None:
    y = np.arange(20 * 2**16, 58 * 2**16, 997, dtype=np.int64)
    codes = quant.quantise_stage(y)
    db = 10 * math.log10(2) * (y / 2**16 - CFG.mel_exponent)
    real = (db + 35) * 255 / 80
    ref = np.clip(np.floor(real + 0.5), 0, 255)
    diff = codes.astype(int) - ref
    near = np.abs(real - np.round(real) - 0.5 * np.sign(real - np.round(real))) < 2e-3
    assert np.all((diff == 0) | near)
    assert codes.dtype == np.uint8 and codes.min() == 0 and codes.max() == 255


def test_rom_tables_fit_their_widths() -> None:
    tabs = rom_tables()
    assert {"window", "twiddle_re", "twiddle_im", "mel_w_rise", "mel_w_fall", "mel_segment",
            "log2_table", "quant"} <= set(tabs)
    assert tabs["mel_weights_by_band"].values.size == 231
    assert tabs["twiddle_re"].values[0] == 2**16  # 1.0 exactly representable in Q2.16


def test_stages_reject_bad_shapes() -> None:
    with pytest.raises(ValueError):
        window.window_stage(np.zeros((2, 399), dtype=np.int16))
    with pytest.raises(ValueError):
        fft.fft_butterfly_stage(np.zeros(256), np.zeros(256), 8)
    with pytest.raises(ValueError):
        filterbank.mel_stage(np.full((1, 257), 2**40))
    with pytest.raises(ValueError):
        log2.log2_stage(np.array([-1]))


def test_config_refuses_words_too_wide_for_the_exact_fft() -> None:
    # the FFT and split compute in float64 (exact below 2**53): wider words are refused
    with pytest.raises(ValueError, match="fft_bits \\+ twiddle_bits"):
        FrontendConfig(twiddle_bits=30)
