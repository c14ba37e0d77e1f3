"""The chip model (``refmodel/chip/top.py``) against the block models it strings together:
``refmodel.mel.frontend.features`` for the feature vectors, ``refmodel.lstm.detector``
(``run_fixed``, ``detect``) for the detections, ``refmodel.chip.regs`` for the register
side effects (weight load, threshold, soft and hard reset, refused writes)."""

from __future__ import annotations

import numpy as np
import pytest

from refmodel import audio
from refmodel.chip import regs
from refmodel.chip.top import ChipModel, Feature, TopConfig
from refmodel.lstm import rtl as lstm_rtl
from refmodel.lstm.detector import Detection, DetectorWeights, detect, run_fixed
from refmodel.mel import frontend
from refmodel.mel.config import DEFAULT as FE_CFG

SEED = 20240611
HIDDEN, WINDOW = 16, 24  # the short-window configuration of the Icarus top-level runs
CFG = TopConfig(hidden=HIDDEN, window=WINDOW)


def _clip(frames: int, seed: int = SEED) -> np.ndarray:
    """int16 audio giving exactly ``frames`` feature vectors (plus a part hop)."""
    n = FE_CFG.frame_len + FE_CFG.hop * (frames - 1) + 37
    return audio.white_noise(n / audio.SAMPLE_RATE, 0.3, seed=seed)


def _write(m: ChipModel, name: str, data: int, *, err: bool = False) -> bool:
    return m.access(addr=regs.offset(name), write=True, data=data, err=err)


def _loaded(weights: DetectorWeights, threshold: int = 1 << 15) -> ChipModel:
    m = ChipModel(CFG)
    _write(m, "WLOAD_ADDR", 0)
    for w in lstm_rtl.load_words(weights):
        _write(m, "WLOAD_DATA", w)
    _write(m, "THRESHOLD", threshold)
    return m


def _push_chunks(m: ChipModel, x: np.ndarray, rng: np.random.Generator) -> list:
    out, at = [], 0
    while at < len(x):
        n = int(rng.integers(1, 700))
        out += m.push(x[at:at + n])
        at += n
    return out


def _split(out: list) -> tuple[list[Feature], list[Detection]]:
    return ([o for o in out if isinstance(o, Feature)],
            [o for o in out if isinstance(o, Detection)])


def test_stream_equals_the_block_models() -> None:
    rng = np.random.default_rng(SEED)
    weights = DetectorWeights.random(SEED, hidden=HIDDEN)
    m = _loaded(weights, threshold=1 << 15)
    x = _clip(3 * WINDOW + 5)
    out = _push_chunks(m, x, rng)
    feats, dets = _split(out)
    codes = frontend.features(x)
    assert len(feats) == len(codes) == 3 * WINDOW + 5
    assert [f.frame for f in feats] == list(range(len(codes)))
    assert np.array_equal(np.stack([f.codes for f in feats]), codes)
    want = detect(codes, weights, 0.5, WINDOW)
    assert dets == want and len(dets) == 3
    for d, w in zip(dets, want, strict=True):
        assert (d.start_frame, d.score, d.threshold_int) == (w.start_frame, w.score,
                                                             w.threshold_int)
    # each detection comes right after the last feature vector of its window
    at = [k for k, o in enumerate(out) if isinstance(o, Detection)]
    assert at == [(j + 1) * (WINDOW + 1) - 1 for j in range(3)]
    assert (m.frames, m.windows, m.window_active) == (3 * WINDOW + 5, 3, True)


def test_announced_samples_change_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    weights = DetectorWeights.random(SEED, hidden=HIDDEN)
    x = _clip(4 * WINDOW + 3)
    want = _split(_loaded(weights).push(x))
    m = _loaded(weights)
    m.push(x[:500])
    m.expect(x[500:])
    runs = []
    monkeypatch.setattr("refmodel.chip.top.run_fixed",
                        lambda *a, **k: runs.append(1) or run_fixed(*a, **k))
    got = _split(_push_chunks(m, x[500:], np.random.default_rng(1)))
    feats, dets = _split(_loaded(weights).push(x[:500]))
    assert (feats + got[0], dets + got[1]) == want and len(want[1]) == 4
    assert not runs  # every window's score came from the batch
    # a weight written after the announcement: the windows after it use the new weights
    m = _loaded(weights)
    m.expect(x)
    runs.clear()
    out = m.push(x[:WINDOW * FE_CFG.hop + FE_CFG.frame_len])
    _write(m, "WLOAD_ADDR", m.load_size - 1)  # b_out
    _write(m, "WLOAD_DATA", (m.image[m.load_size - 1] + 0x40) & 0xFFFF)
    out += m.push(x[WINDOW * FE_CFG.hop + FE_CFG.frame_len:])
    dets = _split(out)[1]
    assert dets[0] == want[1][0] and len(runs) == 3
    new = run_fixed(frontend.features(x)[WINDOW:4 * WINDOW], m.current_weights(), WINDOW)
    assert [d.score_int for d in dets[1:]] == new.score_int.tolist() != \
        [d.score_int for d in want[1][1:]]


def test_weights_through_the_load_port() -> None:
    weights = DetectorWeights.random(7, hidden=HIDDEN)
    m = _loaded(weights)
    got = m.current_weights()
    for name in ("w_ih_q", "w_hh_q", "b_q", "w_out_q", "b_out_q"):
        assert np.array_equal(getattr(got, name), getattr(weights, name)), name
    assert m.waddr == m.load_size
    with pytest.raises(ValueError, match="address 0"):
        ChipModel(CFG).push(_clip(WINDOW))  # a window without weights


def test_soft_reset_mid_window_restarts_the_stream() -> None:
    weights = DetectorWeights.random(SEED, hidden=HIDDEN)
    m = _loaded(weights)
    x, y = _clip(WINDOW // 2, seed=1), _clip(WINDOW + 2, seed=2)
    m.push(x)
    assert m.window_active
    assert _write(m, "CTRL", 0b11)  # soft reset, stay enabled
    assert (m.frames, m.windows, m.window_active) == (0, 0, False)
    feats, dets = _split(m.push(y))
    codes = frontend.features(y)
    assert [f.frame for f in feats] == list(range(len(codes)))
    assert np.array_equal(np.stack([f.codes for f in feats]), codes)
    assert dets == detect(codes, weights, 0.5, WINDOW)  # window 0 of y alone
    assert m.threshold == 1 << 15 and m.current_weights() is not None  # registers kept


def test_hard_reset_keeps_only_the_weights() -> None:
    weights = DetectorWeights.random(SEED, hidden=HIDDEN)
    m = _loaded(weights, threshold=123)
    m.push(_clip(5))
    m.reset(kind="hard")
    assert m.threshold == regs.BY_NAME["THRESHOLD"].reset and m.waddr == 0
    assert (m.frames, m.windows, m.window_active) == (0, 0, False)
    x = _clip(WINDOW)
    _, dets = _split(m.push(x))
    score = int(run_fixed(frontend.features(x)[:WINDOW], weights, WINDOW).score_int[0])
    thr = regs.BY_NAME["THRESHOLD"].reset
    assert dets == [Detection(0, score, score >= thr)] and dets[0].threshold_int == thr
    with pytest.raises(ValueError, match="kind"):
        m.reset(kind="warm")


def test_refused_weight_writes_do_not_change_the_image() -> None:
    weights = DetectorWeights.random(SEED, hidden=HIDDEN)
    m = _loaded(weights)
    image = dict(m.image)
    # refused while a window runs (WLOAD_BUSY): neither the image nor the address change
    m.push(_clip(3))
    assert m.wload_refusal() == "WLOAD_BUSY"
    _write(m, "WLOAD_ADDR", 5)
    _write(m, "WLOAD_DATA", image[5] ^ 0xFF, err=True)
    assert m.image == image and m.waddr == 5
    # refused past the load map (WLOAD_RANGE): the address advances, the image stays
    m.reset(kind="soft")
    assert m.wload_refusal() == "WLOAD_RANGE"
    _write(m, "WLOAD_ADDR", m.load_size)
    _write(m, "WLOAD_DATA", 0x1234, err=True)
    assert m.image == image and m.waddr == m.load_size + 1
    # an accepted write changes the weights the next window uses
    _write(m, "WLOAD_ADDR", m.load_size - 1)  # b_out
    _write(m, "WLOAD_DATA", (image[m.load_size - 1] + 0x40) & 0xFFFF)
    assert m.image != image
    assert int(m.current_weights().b_out_q) != int(weights.b_out_q)


def test_threshold_decides_the_flag() -> None:
    weights = DetectorWeights.random(SEED, hidden=HIDDEN)
    x = _clip(WINDOW)
    score = int(run_fixed(frontend.features(x)[:WINDOW], weights, WINDOW).score_int[0])
    for threshold, flag in ((score, True), (score + 1, False), (0, True), (1 << 16, False)):
        m = _loaded(weights, threshold=threshold)
        _, dets = _split(m.push(x))
        assert [(d.score_int, d.flag, d.threshold_int) for d in dets] == \
            [(score, flag, threshold)], threshold
    # refused or read accesses change nothing; a write applies to the next window only
    m = _loaded(weights, threshold=score)
    _write(m, "THRESHOLD", score + 1, err=True)
    assert not m.access(addr=regs.offset("THRESHOLD"), write=False)
    assert m.threshold == score
    _write(m, "THRESHOLD", (1 << 17) | (score + 1))  # bits past the field are dropped
    assert m.threshold == score + 1
    _, dets = _split(m.push(x))
    assert not dets[0].flag


def test_feature_equality() -> None:
    a = Feature(3, np.arange(32, dtype=np.uint8))
    assert a == Feature(3, np.arange(32, dtype=np.uint8))
    assert a != Feature(4, np.arange(32, dtype=np.uint8))
    b = np.arange(32, dtype=np.uint8)
    b[31] ^= 1
    assert a != Feature(3, b)
    d = Detection(2, 100, True, start_frame=0, score=0.5, threshold_int=7)
    assert d == Detection(2, 100, True) and d != Detection(2, 101, True)
