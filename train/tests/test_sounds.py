"""The noise and tonal generators (train/sounds/noise.py, tonal.py): every kind is a pure
function of its generator (same seed, same samples; another seed, other samples), gives
``n`` finite samples at the documented peak, and is never silent (but for ``silence``)."""

from __future__ import annotations

import numpy as np
import pytest

from train.sounds import noise, tonal

N = 31920 + 4000  # one window and the corpus's pre-roll
KINDS = [(f"noise/{k}", f) for k, f in noise.KINDS.items()] + [
    (f"tonal/{k}", f) for k, f in tonal.KINDS.items()
]


@pytest.mark.parametrize("name,gen", KINDS, ids=[k for k, _ in KINDS])
def test_generator(name: str, gen) -> None:
    for seed in (1, 2, 3):
        x = gen(np.random.default_rng(seed), N)
        assert x.shape == (N,) and x.dtype == np.float64 and np.isfinite(x).all(), name
        assert np.array_equal(x, gen(np.random.default_rng(seed), N)), f"{name}: not seeded"
        peak = float(np.abs(x).max())
        if name == "noise/silence":
            assert peak <= 1e-3 * 6, name
            continue
        assert peak == pytest.approx(0.5), name
        # sound in at least 1 % of the 10 ms frames (gated and impulsive kinds pause)
        frames = np.sqrt(np.mean(x[: N // 160 * 160].reshape(-1, 160) ** 2, axis=1))
        assert (frames > 1e-3).mean() >= 0.01, f"{name} seed {seed}: nearly silent"
    other = gen(np.random.default_rng(4), N)
    assert name == "noise/silence" or not np.array_equal(other, x), f"{name}: ignores its seed"


def test_new_hard_negatives_are_in_the_corpus() -> None:
    from train import corpus

    for kind in ("engine", "sweep", "buzzer", "motor", "siren"):
        assert f"tonal/{kind}" in corpus.WEIGHTS
    assert "noise/periodic" in corpus.WEIGHTS and "scene" in corpus.WEIGHTS
    assert corpus.WEIGHTS["noise/periodic"] == 3 * corpus.WEIGHTS["noise/rain"]


def test_spaced_speech_puts_pauses_between_the_pieces() -> None:
    """speech.spaced: five 0.2 s "words" 50 ms apart come out in order, 0.15-1.0 s apart."""
    from train.sounds import speech

    word = np.sin(2 * np.pi * 200 * np.arange(3200) / 16000)
    gap = np.zeros(800)
    utt = np.concatenate([np.concatenate([word * (k + 1), gap]) for k in range(5)])
    n = 16000 * 8
    for seed in range(5):
        y = speech.spaced(utt, np.random.default_rng(seed), n)
        assert y.shape == (n,)
        on = np.flatnonzero(np.diff(np.concatenate([[0], (y != 0).astype(int), [0]])))
        starts, ends = on[::2], on[1::2]
        gaps = (starts[1:] - ends[:-1]) / 16000
        assert ((gaps >= 0.15) & (gaps <= 1.0 + 0.011)).all(), gaps
        peaks = [np.abs(y[a:b]).max() for a, b in zip(starts, ends, strict=True)]
        assert np.all(np.diff(peaks) > 0)  # the words in their order, none twice
        assert 1 <= len(peaks) <= 5 and all((ends - starts) <= 3200 + 160)


def test_silent_utterance_read_as_words_is_silence() -> None:
    from train.sounds import speech

    y = speech.spaced(np.zeros(16000), np.random.default_rng(0), 8000)
    assert y.shape == (8000,) and not y.any()


@pytest.mark.parametrize("source", sorted(noise.PERIODIC))
def test_periodic_sources_repeat_at_their_period(source: str) -> None:
    """Every periodic source beats: its 10 ms level track correlates with itself one period
    later (the bouncing ball's period shrinks, so it only has to sound)."""
    for seed in (1, 2, 3, 4):
        x = noise.periodic(np.random.default_rng(seed), N, source)
        assert np.isfinite(x).all() and float(np.abs(x).max()) == pytest.approx(0.5)
        if source == "bouncing_ball":
            continue
        env = np.sqrt(np.mean(x[: N // 160 * 160].reshape(-1, 160) ** 2, axis=1))
        env = np.convolve(env, np.ones(5) / 5, "same")  # 50 ms: a little timing jitter
        env = env - env.mean()
        ac = np.correlate(env, env, "full")[len(env) - 1:] / np.dot(env, env)
        lo, hi = noise.PERIODIC[source][0]
        lags = np.arange(int(lo * 100) - 2, int(hi * 100) + 3)
        assert ac[lags].max() > 0.3, f"{source} seed {seed}: no beat ({ac[lags].max():.2f})"


def test_compressor_narrows_the_dynamics_and_never_amplifies() -> None:
    """effects.compress: a tone 20 dB louder in its first half comes out with a smaller level
    step, and no sample grows."""
    from train.sounds import effects

    t = np.arange(32000) / 16000
    x = np.sin(2 * np.pi * 440 * t) * np.where(t < 1.0, 1.0, 0.1)
    steps = []
    for seed in range(8):
        y, note = effects.compress(x, np.random.default_rng(seed))
        assert note.startswith("comp") and np.all(np.abs(y) <= np.abs(x) + 1e-12)
        loud, quiet = (np.sqrt(np.mean(y[a:a + 8000] ** 2)) for a in (4000, 20000))
        steps.append(20 * np.log10(loud / quiet))
    assert max(steps) <= 20 + 1e-6 and min(steps) < 15, steps
