"""Unit tests of the mismatch report ``tb/debug/report.py`` (no simulator): the pictures mark
what differs, the waveform view puts the diverging stage first, and a failing part never stops
the rest of the report.  The stage comparison: ``test_stage_probe.py``; the whole report on a
real fault, on either simulator: ``test_mismatch_selftest.py``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from tb.debug import gtkw
from tb.debug import report as dr
from tb.debug import stage_probe as sp

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


# ------------------------------------------------------------------- the scoreboard's side
def test_mismatch_debug_keeps_the_pairs_and_decides_the_tail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from pyuvm import ConfigDB

    from refmodel.chip.top import ChipModel, Feature
    from refmodel.lstm.detector import Detection

    monkeypatch.chdir(tmp_path)  # the run folder
    (tmp_path / "mismatch.txt").write_text("an earlier run's report")
    ConfigDB().set(None, "*", "PERIOD_NS", 10)
    debug = dr.MismatchDebug(log=logging.getLogger("test"), model=ChipModel())
    assert not (tmp_path / "mismatch.txt").exists()  # an earlier run's files are gone
    codes = np.arange(32, dtype=np.uint8)
    debug.compared_feature(Feature(0, codes), Feature(0, codes ^ 1), 5.0)
    debug.compared_detection(Detection(0, 9, True, threshold_int=7), Detection(0, 9, True), 6.0)
    debug.compared_detection(Detection(1, 9, False), Detection(1, 8, False), 7.0)
    pair = debug.history.features[-1]
    assert pair.frame == 0 and np.array_equal(pair.actual, codes ^ 1)
    thresholds = [p.threshold for p in debug.history.detections]
    assert thresholds == [7, ChipModel().threshold]  # the record's, else the model's now
    assert [p.differs for p in debug.history.detections] == [False, True]
    debug.reset()
    assert debug.history.stream == 1
    assert debug.history.window_codes(0, 1) is None  # frame 0 was the old stream's
    # no simulator here: the report fails, the message survives; the tail is WAVES=1's
    monkeypatch.delenv("WAVES", raising=False)
    msg, tail = debug.mismatch("SCOREBOARD MISMATCH x", expected=Feature(0, codes))
    assert msg.startswith("SCOREBOARD MISMATCH x\n") and "debug report failed" in msg
    assert tail is None
    monkeypatch.setenv("WAVES", "1")
    assert debug.mismatch("m", expected=Feature(0, codes))[1] == 2000.0
    assert debug.mismatch("m", final=True)[1] is None
