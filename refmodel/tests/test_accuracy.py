"""Fixed-point features against the float golden (SPEC.md section 2 accuracy goal), the
streaming form against the batch call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from refmodel import audio
from refmodel.mel import frontend

SEEDS = (1, 2, 3)


def _compare(x: np.ndarray) -> tuple[int, int, int]:
    """(max |diff|, identical codes, total codes)."""
    d = np.abs(frontend.features(x).astype(int) - frontend.ideal_codes(x).astype(int))
    return int(d.max(initial=0)), int((d == 0).sum()), d.size


def test_vectors_within_one_code_and_97_percent(vector_files: list[Path]) -> None:
    for path in vector_files:
        mx, same, total = _compare(audio.load_wav(path))
        assert total > 0
        assert mx <= 1, path.name
        assert same / total >= 0.97, f"{path.name}: {100 * same / total:.2f} % identical"


def test_synthetic_suite_within_one_code_and_97_percent() -> None:
    same_all = total_all = 0
    for seed in SEEDS:
        for name, x in audio.synthetic_suite(seed, 2.0).items():
            mx, same, total = _compare(x)
            assert mx <= 1, f"seed {seed} {name}"
            same_all += same
            total_all += total
    assert same_all / total_all >= 0.97


def test_codes_cover_the_range() -> None:
    # the accuracy test means something only if it sees low, mid and saturated codes
    codes = np.concatenate([frontend.ideal_codes(x).ravel()
                            for x in audio.synthetic_suite(1, 2.0).values()])
    assert (codes == 0).any() and (codes >= 250).any()
    assert ((codes > 50) & (codes < 200)).mean() > 0.2


def test_streaming_equals_batch_for_any_chunking() -> None:
    rng = np.random.default_rng(21)
    x = audio.bursts(1.7, seed=rng)
    want = frontend.features(x)
    for trial in range(4):
        stream = frontend.FrontendStream()
        cuts = np.sort(rng.integers(0, len(x), 3 + trial * 10))
        parts = np.split(x, cuts)
        got = [stream.push(p) for p in parts] + [stream.push(np.zeros(0, np.int16))]
        np.testing.assert_array_equal(np.concatenate(got), want)
        assert stream.frames_out == len(want) and stream.samples_in == len(x)
    stream = frontend.FrontendStream()
    one = [stream.push(x[i:i + 1]) for i in range(0, 2000)]
    assert sum(len(o) for o in one) == frontend.DEFAULT.n_frames(2000)
    np.testing.assert_array_equal(np.concatenate(one), want[: len(np.concatenate(one))])


def test_announced_samples_change_no_result() -> None:
    rng = np.random.default_rng(22)
    x = audio.bursts(1.3, seed=rng)
    want = frontend.features(x)
    other = x.copy()
    other[9000:] //= 2  # other samples from 9000 on: the batch must be dropped there
    for pushed in (x, other):
        stream = frontend.FrontendStream()
        stream.push(x[:300])
        ahead = stream.expect(x[300:])
        assert len(ahead) == len(want)  # the frames of the 300 pushed samples plus the rest
        parts = np.split(pushed[300:], np.sort(rng.integers(300, len(x) - 300, 12)))
        got = np.concatenate([stream.push(p) for p in parts])
        np.testing.assert_array_equal(got, frontend.features(pushed))
    assert not np.array_equal(frontend.features(other), want)
    # samples past the announced ones are computed from the stream's own samples
    stream = frontend.FrontendStream()
    stream.expect(x[:5000])
    got = np.concatenate([stream.push(x[:4000]), stream.push(x[4000:])])
    np.testing.assert_array_equal(got, want)


def test_chunk_size_does_not_change_result() -> None:
    x = audio.pink_noise(1.0, 0.3, seed=4)
    ref = frontend.features(x, chunk_frames=1000)
    for c in (1, 7, 128):
        np.testing.assert_array_equal(frontend.features(x, chunk_frames=c), ref)


@pytest.mark.parametrize("name", ["square_full", "white_full"])
def test_full_scale_signals_stay_accurate(name: str) -> None:
    x = audio.synthetic_suite(5, 1.0)[name]
    mx, same, total = _compare(x)
    assert mx <= 1 and same / total >= 0.97
