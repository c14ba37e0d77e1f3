"""Unit tests of the stage probe ``tb/debug/stage_probe.py`` (no simulator): the stage
comparison names the first front-end stage, or detector step, whose values differ from the
refmodel, and says so when none does."""

from __future__ import annotations

import numpy as np
import pytest

from refmodel.lstm import stages as lstm_stages
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import DetectorWeights, run_fixed
from tb.debug import stage_probe as sp

RNG_SEED = 20240611


# ------------------------------------------------------------------------- front end
def _frame() -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED)
    t = np.arange(400)
    x = 6000 * np.sin(2 * np.pi * 440 * t / 16000) + rng.normal(0, 800, 400)
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def _recorded(x: np.ndarray) -> dict[str, list]:
    """The items each link would carry for frame ``x`` in a correct chip, timed in order."""
    want = sp.expected_items(x)
    out, t = {}, 0
    for st in sp.FRONTEND:
        out[st.name] = []
        for item in want[st.name]:
            t += 10
            out[st.name].append((t, sp.encode(st.name, item)))
    return out


def test_decode_inverts_encode() -> None:
    want = sp.expected_items(_frame())
    for st in sp.FRONTEND:
        assert len(want[st.name]) == st.per_frame
        for item in want[st.name]:
            assert sp.decode(st.name, sp.encode(st.name, item)) == tuple(item)


@pytest.mark.parametrize("stage", sp.STAGE_NAMES)
def test_frame_localised_to_the_first_differing_stage(stage: str) -> None:
    x = _frame()
    rec = _recorded(x)
    k = sp.STAGE_NAMES.index(stage)
    j = sp.FRONTEND[k].per_frame // 2
    for later in sp.STAGE_NAMES[k:]:  # the wrong value propagates down the chain
        jj = min(j, len(rec[later]) - 1)
        t, raw = rec[later][jj]
        rec[later][jj] = (t, (raw[0], raw[1] ^ 1, *raw[2:]) if len(raw) > 1
                          else (raw[0] ^ 2,))
    div = sp.localise_frame(7, x, rec)
    assert div.stage == stage, div.detail
    assert div.matched == list(sp.STAGE_NAMES[:k])
    assert div.time == rec[stage][j][0]
    assert div.open_groups == (stage,)
    assert f"item {j} of" in div.detail or stage == "mel_quant"


def test_frame_without_divergence() -> None:
    x = _frame()
    rec = _recorded(x)
    for name in ("mel_fft", "mel_split", "mel_power"):  # bins past the last band still due
        del rec[name][-4:]
    div = sp.localise_frame(3, x, rec)
    assert div.stage == "" and "no RTL stage diverges" in div.detail
    assert div.matched == list(sp.STAGE_NAMES)
    assert any("125 of 129" in n for n in div.notes)
    model = np.array(sp.expected_items(x)["mel_quant"][0], np.uint8)
    wrong = model.copy()
    wrong[4] += 1
    assert "the expectation" in sp.localise_frame(3, x, rec, wrong).detail
    assert "the expectation" not in sp.localise_frame(3, x, rec, model).detail


def test_frame_not_recorded() -> None:
    x = _frame()
    rec = _recorded(x)
    rec["mel_power"] = []
    div = sp.localise_frame(3, x, rec)
    assert div.stage == "" and "mel_power" in div.detail
    assert div.matched == ["mel_framer", "mel_window", "mel_fft", "mel_split"]
    assert sp.localise_frame(3, None, rec).stage == ""


# ------------------------------------------------------------------------- detector
def _window_run(hidden: int = 16, n: int = 6):
    cfg = DetectorConfig(hidden=hidden)
    weights = DetectorWeights.random(5, hidden=hidden)
    codes = np.random.default_rng(RNG_SEED).integers(0, 256, (n, 32)).astype(np.uint8)
    run = run_fixed(codes, weights, n, trace=True)
    update = lstm_stages.stage("lstm_update", hidden)
    h_o, c_o = update.field("h_o"), update.field("c_o")
    steps = [(100 * t, h_o.encode(run.h[0, t]), c_o.encode(run.c[0, t])) for t in range(n)]
    return cfg, weights, codes, run, steps


def test_window_localised_to_the_first_differing_step() -> None:
    _, weights, codes, run, steps = _window_run()
    score = int(run.score_int[0])
    h = run.h[0, 2].copy()
    h[3] += 1
    steps[2] = (steps[2][0], lstm_stages.stage("lstm_update", 16).field("h_o").encode(h),
                steps[2][2])
    steps[3] = (steps[3][0], steps[3][1] ^ 1, steps[3][2])
    div = sp.localise_window(1, codes, weights, steps, expected=(1, score, True),
                             actual=(1, score, True), threshold=0, hidden=16)
    assert div.stage == "lstm_detector step" and "step 2 of 6: h[3]" in div.detail
    assert div.time == 200 and div.open_groups == sp.LSTM_STEP


def test_window_localised_to_the_head_or_the_expectation() -> None:
    _, weights, codes, run, steps = _window_run()
    score = int(run.score_int[0])
    kw = {"expected": (1, score, False), "threshold": score + 1, "hidden": 16}
    div = sp.localise_window(1, codes, weights, steps, actual=(1, score ^ 8, False), **kw)
    assert div.stage == "lstm_head" and "score" in div.detail
    div = sp.localise_window(1, codes, weights, steps, actual=(1, score, True), **kw)
    assert div.stage == "lstm_head" and "flag" in div.detail
    div = sp.localise_window(1, codes, weights, steps, actual=(2, score, False), **kw)
    assert div.stage == "lstm_seq"
    div = sp.localise_window(1, codes, weights, steps, actual=(1, score, False),
                             expected=(1, score + 5, False), threshold=score + 1, hidden=16)
    assert div.stage == "" and "expectation" in div.detail
    div = sp.localise_window(1, codes, weights, steps[:4], actual=(1, score, False), **kw)
    assert div.stage == "" and "only 4 of 6 steps" in div.detail
