"""Unit tests of the mismatch report (no simulator): the pictures mark what differs, the
stage comparison names the first stage (or detector step) whose values differ, the waveform
view puts the diverging stage first, and a failing part never stops the rest of the report.
The whole report on a real fault, on either simulator: ``tb/debug``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import DetectorWeights, run_fixed
from tb.debug import gtkw
from tb.debug import report as dr
from tb.debug import stage_probe as sp
from tb.kit.testkit import pack

RNG_SEED = 20240611


def _colour_pixels(png: Path, hex_colour: str, tol: float = 0.02) -> int:
    img = matplotlib.image.imread(png)[..., :3]
    want = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int(np.all(np.abs(img - want) < tol, axis=-1).sum())


# ------------------------------------------------------------------------------ history
def _history(n_frames: int, bad: dict[int, list[int]] | None = None) -> dr.History:
    rng = np.random.default_rng(RNG_SEED)
    h = dr.History()
    for f in range(n_frames):
        e = rng.integers(0, 256, 32).astype(np.uint8)
        a = e.copy()
        for b in (bad or {}).get(f, []):
            a[b] ^= 0x40
        h.add_feature(f, e, f, a, 1000.0 * f)
    return h


def test_history_is_bounded_and_follows_resets() -> None:
    h = _history(dr.MAX_FRAMES + 50)
    assert len(h.features) == dr.MAX_FRAMES
    assert h.features[0].frame == 50
    assert h.window_codes(0, 24) is None  # frames 0..23 are gone
    assert h.window_codes(3, 24).shape == (24, 32)
    h.new_stream()
    assert h.window_codes(3, 24) is None  # a reset: a window of the new stream only
    h.add_feature(0, np.zeros(32), 0, np.zeros(32), 0.0)
    assert [p.frame for p in h.stream_features()] == [0]
    for w in range(dr.MAX_WINDOWS + 5):
        h.add_detection(w, 1, False, w, 1, False, 100, 0.0)
    assert len(h.detections) == dr.MAX_WINDOWS


# ------------------------------------------------------------------------------ pictures
def test_feature_picture_marks_the_differing_cells(tmp_path: Path) -> None:
    bad = {37: [0, 5], 39: [31]}
    pic = dr.plot_features(_history(40, bad).stream_features(), tmp_path / "f.png")
    assert pic.marked == [(37, 0), (37, 5), (39, 31)]
    assert _colour_pixels(pic.path, dr.MARK, tol=0.4) > 50
    clean = dr.plot_features(_history(40).stream_features(), tmp_path / "g.png")
    assert clean.marked == [] and _colour_pixels(clean.path, dr.MARK, tol=0.4) == 0


def test_feature_picture_shows_the_last_frames_only(tmp_path: Path) -> None:
    pic = dr.plot_features(_history(300, {10: [3], 290: [4]}).stream_features(),
                           tmp_path / "f.png", max_frames=100)
    assert pic.marked == [(290, 4)]  # frame 10 is outside the picture


def test_detection_picture_marks_the_differing_windows(tmp_path: Path) -> None:
    h = dr.History()
    for w in range(6):
        s = 20000 + 7000 * w
        h.add_detection(w, s, s >= 32768, w, s + (w == 4), s >= 32768, 32768, 1e5 * w)
    pic = dr.plot_detections(list(h.detections), tmp_path / "d.png")
    assert pic.marked == [4]
    assert _colour_pixels(pic.path, dr.SHADE) > 50
    h2 = dr.History()
    h2.add_detection(0, 5, False, 0, 5, False, None, 0.0)
    clean = dr.plot_detections(list(h2.detections), tmp_path / "e.png")
    assert clean.marked == [] and _colour_pixels(clean.path, dr.SHADE) == 0
    empty = dr.plot_detections([], tmp_path / "n.png", note="frame 3")
    assert empty.path.is_file() and empty.marked == []


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
    steps = [(100 * t, pack(run.h[0, t], cfg.h_bits), pack(run.c[0, t], cfg.c_bits))
             for t in range(n)]
    return cfg, weights, codes, run, steps


def test_window_localised_to_the_first_differing_step() -> None:
    cfg, weights, codes, run, steps = _window_run()
    score = int(run.score_int[0])
    h = run.h[0, 2].copy()
    h[3] += 1
    steps[2] = (steps[2][0], pack(h, cfg.h_bits), steps[2][2])
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


# ------------------------------------------------------------------------- the view
def _all_signals(path: str) -> str:
    return gtkw.signal_name(f"chip_tb.{path}", 8 if path.endswith("_o") else 1)


def test_view_opens_with_the_diverging_stage() -> None:
    div = sp.Divergence("mel_fft", "frame 1 ...", 5000, ["mel_framer", "mel_window"],
                        ("mel_fft",))
    view = dr.build_view(dumpfile="/r/dump.fst", resolve=_all_signals, divergence=div,
                         marker=9000, named=[gtkw.Marker(5000, "A"), gtkw.Marker(1000, "B")],
                         period=10)
    info = gtkw.read_save_file(view.text())
    names = [g for g, _ in info["groups"]]
    assert names[:6] == ["clock and reset", "audio in", "mel_fft: values diverge here",
                         "feature tap", "detection", "front-end stages"]
    is_open = dict(info["groups"])
    assert is_open["mel_fft: values diverge here"]
    assert all(not is_open[s] for s in sp.STAGE_NAMES if s != "mel_fft")
    assert "mel_fft" not in names and all(n in names for n in sp.LSTM)
    assert info["timestart"] < 1000 and info["marker"] == 9000
    assert view.end > 9000
    assert "chip_tb.u_top.u_frontend.u_fft.out_k_o[7:0]" in info["signals"]
    assert dr.tail_after(view, 9000, 10) > view.end - 9000


def test_view_of_a_detector_step() -> None:
    div = sp.Divergence("lstm_detector step", "window 0, step 3", 5000,
                        open_groups=sp.LSTM_STEP)
    view = dr.build_view(dumpfile="d.fst", resolve=_all_signals, divergence=div,
                         marker=9000, named=[], period=10)
    groups = gtkw.read_save_file(view.text())["groups"]
    i = groups.index(("lstm_detector step: values diverge here", True))
    assert groups[i + 1:i + 4] == [(n, True) for n in sp.LSTM_STEP]
    assert ("lstm_head", False) in groups


def test_view_without_a_stage_and_with_missing_signals() -> None:
    view = dr.build_view(dumpfile="d.fst", resolve=lambda p: None if "u_fft" in p
                         else _all_signals(p), divergence=None, marker=100, named=[],
                         period=10)
    text = view.text()
    assert "-no diverging stage: the stage was not localised" in text
    assert "u_fft" not in text


def test_report_survives_a_failing_part(tmp_path: Path) -> None:
    def broken(path: str) -> str:
        raise RuntimeError("simulator gone")

    ctx = dr.Context(what="SCOREBOARD MISMATCH ...", title="t", history=_history(5, {4: [1]}),
                     run_dir=tmp_path, waves=True, at_ns=50.0,
                     steps_per_ns=1000.0, period_ns=10.0, frame=4, resolve=broken,
                     dumpfile=tmp_path / "chip_tb.fst")
    lines = dr.on_mismatch(ctx)
    text = "\n".join(lines)
    assert "waveform view failed: RuntimeError('simulator gone')" in text
    assert "not localised in this run" in text
    for name in ("mismatch_features.png", "mismatch_detections.png", "mismatch.txt"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "mismatch.txt").read_text().startswith("SCOREBOARD MISMATCH")
    dr.clear_old(tmp_path)
    assert not any(tmp_path.iterdir())
