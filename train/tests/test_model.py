"""The JAX training model mirrors the chip's float golden and its integer weight grid."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from refmodel.lstm.config import DetectorConfig  # noqa: E402
from refmodel.lstm.detector import run_fixed, scores_float  # noqa: E402
from refmodel.lstm.weights import DetectorWeights  # noqa: E402
from refmodel.mel.config import DEFAULT as FRONTEND  # noqa: E402
from train import model  # noqa: E402
from train.fit import band_shift_codes, gain_shift, mix_codes, window_weights  # noqa: E402


def _codes(rng: np.random.Generator, windows: int, window: int) -> np.ndarray:
    """Slowly varying codes over the whole 0..255 range (a reflected random walk per band)."""
    walk = np.cumsum(rng.integers(-12, 13, size=(windows * window, 32)), axis=0)
    return np.abs(walk % 510 - 255).astype(np.uint8)


@pytest.mark.parametrize("hidden", [8, 32])
def test_forward_matches_the_float_golden(hidden: int) -> None:
    w = DetectorWeights.random(seed=hidden, hidden=hidden)
    window = 40
    codes = _codes(np.random.default_rng(1), 6, window)
    golden = scores_float(codes, w, window)
    x = model.codes_to_x(codes.reshape(6, window, 32), w.config)
    ours = np.asarray(jax.nn.sigmoid(model.logits(model.from_weights(w), x)))
    assert golden.std() > 0.05  # scores spread out, so a wrong gate order would show
    np.testing.assert_allclose(ours, golden, atol=2e-5)
    # the quantised forward on already-quantised parameters is the same network
    ours_q = np.asarray(jax.nn.sigmoid(model.qat_logits(model.from_weights(w), x, w.config)))
    np.testing.assert_allclose(ours_q, golden, atol=2e-5)


def test_export_rounds_like_the_forward_pass_and_clips_to_the_ranges() -> None:
    cfg = DetectorConfig(hidden=8)
    params = model.init_params(jax.random.PRNGKey(3), cfg)
    params = {k: v * 40.0 + 0.3 for k, v in params.items()}  # many beyond the int8 ranges
    w = model.to_weights(params, cfg)
    assert w.w_ih_q.min() == -128 and w.w_ih_q.max() == 127
    q = model.quantize(params, cfg)
    for name in model.GRIDS:
        np.testing.assert_array_equal(np.asarray(q[name], np.float64),
                                      np.asarray(getattr(w, name), np.float64))
    back = model.to_weights(model.from_weights(w), cfg)
    for name in ("w_ih_q", "w_hh_q", "b_q", "w_out_q", "b_out_q"):
        np.testing.assert_array_equal(getattr(back, name), getattr(w, name))
    clipped = model.clip_to_range(params, cfg)
    assert float(jnp.max(clipped["w_ih"])) == 127 / 32 and float(jnp.min(clipped["w_ih"])) == -4


def test_rounding_is_straight_through() -> None:
    cfg = DetectorConfig(hidden=4)
    params = model.init_params(jax.random.PRNGKey(0), cfg)
    grads = jax.grad(lambda p: sum(jnp.sum(v * 1.5) for v in model.quantize(p, cfg).values()))(
        params)
    for g in grads.values():
        np.testing.assert_array_equal(np.asarray(g), 1.5)


def test_gain_shift_moves_codes_by_the_frontend_scale() -> None:
    codes = np.array([[[0, 1, 100, 254, 255]]], np.uint8)
    up = gain_shift(codes, np.array([2.0]))
    step = round(2.0 * FRONTEND.codes_per_db)  # 80 dB over 255 codes: 6 codes for 2 dB
    assert step == 6
    np.testing.assert_array_equal(up, [[[0, 1 + step, 100 + step, 255, 255]]])
    down = gain_shift(codes, np.array([-2.0]))
    np.testing.assert_array_equal(down, [[[0, 0, 100 - step, 254 - step, 255 - step]]])


def test_gain_shift_per_band() -> None:
    codes = np.full((2, 3, 32), 100, np.uint8)
    gains = np.zeros((2, 32))
    gains[0, 31] = 2.0
    gains[1, 0] = -2.0
    moved = gain_shift(codes, gains)
    expect = np.full((2, 3, 32), 100)
    expect[0, :, 31] = 106
    expect[1, :, 0] = 94
    np.testing.assert_array_equal(moved, expect)


def test_band_shift_moves_bands_and_repeats_the_edge() -> None:
    codes = np.tile(np.arange(1, 33, dtype=np.uint8), (3, 2, 1))  # band k holds k + 1
    moved = band_shift_codes(codes, np.array([1, 0, -2]))
    np.testing.assert_array_equal(moved[0, 1], [1] + list(range(1, 32)))
    np.testing.assert_array_equal(moved[1], codes[1])
    np.testing.assert_array_equal(moved[2, 0], list(range(3, 33)) + [32, 32])
    assert moved.dtype == np.uint8


def test_window_weights_balance_classes_and_categories() -> None:
    label = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    cat = np.array(["m", "m", "m", "a", "a", "a", "a", "b"])
    plain = window_weights(label, cat, 0.0)
    np.testing.assert_allclose(plain, [4 / 3] * 3 + [0.8] * 5)  # classes weigh the same
    even = window_weights(label, cat, 1.0)  # categories a and b weigh the same
    np.testing.assert_allclose(even, [4 / 3] * 3 + [0.5] * 4 + [2.0])
    assert even.mean() == pytest.approx(1.0)


@pytest.mark.parametrize("ratio_db", [-5.0, 0.0, 10.0])
def test_mixing_codes_follows_the_front_end_on_the_summed_audio(ratio_db: float) -> None:
    """mix_codes of a chord's and a noise's codes is close to the bit-accurate front end's
    codes of the summed audio, and closer than either part alone."""
    from refmodel.mel.frontend import features

    rng = np.random.default_rng(0)
    t = np.arange(2 * 16000) / 16000
    chord = 3000 * sum(np.sin(2 * np.pi * f * t) for f in (262.0, 330.0, 392.0))
    noise = np.convolve(rng.normal(0, 2000, t.size), np.ones(4) / 4, "same")
    noise *= np.sqrt(np.mean(chord**2) / np.mean(noise**2) / 10 ** (ratio_db / 10))

    def codes(x: np.ndarray) -> np.ndarray:
        return features(np.rint(x).astype(np.int16)).astype(np.int64)

    summed = codes(chord + noise)
    made = mix_codes(codes(chord)[None].astype(np.uint8),
                     codes(noise / 3)[None].astype(np.uint8),  # its level is set by ratio_db
                     np.array([ratio_db]))[0].astype(np.int64)
    err = np.abs(made - summed)
    assert err.mean() < 3.5 and np.percentile(err, 90) <= 6  # about 1 dB and 2 dB
    for part in (codes(chord), codes(noise)):
        assert np.abs(part - summed).mean() > 1.3 * err.mean()


@pytest.mark.parametrize("arith", ["float", "chip"])
def test_every_frame_logits_are_those_of_the_shorter_windows(arith: str) -> None:
    """The auxiliary loss's logit after frame t is the head on h_t: the window logit of the
    window's first t + 1 frames."""
    cfg = DetectorConfig(hidden=8)
    params = model.from_weights(DetectorWeights.random(seed=4, hidden=8))
    x = model.codes_to_x(_codes(np.random.default_rng(4), 3, 30).reshape(3, 30, 32), cfg)
    fn = model.qat_logits if arith == "float" else model.chip_logits
    every = np.asarray(fn(params, x, cfg, every_frame=True))
    assert every.shape == (3, 30)
    for t in (0, 11, 29):
        np.testing.assert_allclose(every[:, t], np.asarray(fn(params, x[:, :t + 1], cfg)),
                                   atol=1e-6)
    assert np.std(every[:, -1] - every[:, 11]) > 0.01  # the frames differ


def test_state_noise_is_added_to_the_pre_activations() -> None:
    """Training's state noise enters z: the same noise at every frame is a bias change, and
    noise that varies by frame moves the window's score."""
    cfg = DetectorConfig(hidden=8)
    params = model.from_weights(DetectorWeights.random(seed=6, hidden=8))
    x = model.codes_to_x(_codes(np.random.default_rng(6), 3, 30).reshape(3, 30, 32), cfg)
    delta = jnp.linspace(-0.3, 0.3, 4 * 8, dtype=jnp.float32)
    same = jnp.broadcast_to(delta, (30, 3, 4 * 8))
    shifted = dict(params, b=params["b"] + delta)
    np.testing.assert_allclose(np.asarray(model.logits(params, x, noise=same)),
                               np.asarray(model.logits(shifted, x)), atol=1e-5)
    noisy = model.qat_logits(params, x, cfg, noise=0.05 * jax.random.normal(
        jax.random.PRNGKey(0), (30, 3, 4 * 8)))
    assert np.min(np.abs(np.asarray(noisy) - np.asarray(model.logits(params, x)))) > 1e-4


@pytest.mark.parametrize("hidden", [8, 32])
def test_chip_forward_follows_the_bit_accurate_model(hidden: int) -> None:
    """chip_logits is the chip's arithmetic in float32: the same head logits as run_fixed
    but for an occasional last-bit difference of a product (the chip's sums are exact), and
    much closer to the chip than the float golden is."""
    w = DetectorWeights.random(seed=hidden, hidden=hidden)
    cfg, window = w.config, 60
    codes = _codes(np.random.default_rng(2), 16, window)
    run = run_fixed(codes, w, window)
    x = model.codes_to_x(codes.reshape(16, window, 32), cfg)
    ours = np.asarray(model.chip_logits(model.from_weights(w), x, cfg), np.float64)
    chip = run.logit / 2.0**cfg.act_frac
    assert chip.std() > 0.5  # logits spread out
    np.testing.assert_array_equal(ours * 2**cfg.act_frac, np.rint(ours * 2**cfg.act_frac))
    assert np.mean(ours == chip) >= 0.8
    np.testing.assert_allclose(ours, chip, atol=4 / 2**cfg.act_frac)
    golden = np.asarray(model.logits(model.from_weights(w), x), np.float64)
    assert np.max(np.abs(golden - chip)) > 4 * np.max(np.abs(ours - chip))


def test_chip_forward_has_straight_through_gradients() -> None:
    cfg = DetectorConfig(hidden=8, window=20)
    params = model.init_params(jax.random.PRNGKey(1), cfg)
    x = model.codes_to_x(_codes(np.random.default_rng(3), 4, 20).reshape(4, 20, 32), cfg)
    grads = jax.grad(lambda p: jnp.sum(model.chip_logits(p, x, cfg)))(params)
    exact = jax.grad(lambda p: jnp.sum(model.qat_logits(p, x, cfg)))(params)
    for name, g in grads.items():
        g = np.asarray(g)
        assert np.all(np.isfinite(g)) and np.any(g != 0), name
        # the gradient of the exact functions at the chip's values: close to the float one's
        np.testing.assert_allclose(g, np.asarray(exact[name]), atol=0.05 * np.abs(g).max())
