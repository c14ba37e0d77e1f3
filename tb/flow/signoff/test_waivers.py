"""``waivers.py``: the waiver file loads, bad entries are named, and what a waiver claims is
true of the reference model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from refmodel.mel import frontend
from refmodel.mel.config import DEFAULT as FE_CFG
from tb.flow.signoff import waivers


def test_waiver_file_loads_and_bad_entries_are_named(tmp_path: Path) -> None:
    assert waivers.load()["func"], "docs/waivers.yml should hold the band-255 waiver"
    cases = {
        "no reason": {"func": {"bin": "x/y"}},
        "empty reason": {"func": {"bin": "x/y", "reason": " "}},
        "both kinds": {"func": {"bin": "x", "reason": "r"}, "code": {"module": "m"}},
        "unknown key": {"code": {"module": "m", "reason": "r", "lines": 3}},
        "bad metric": {"code": {"module": "m", "reason": "r", "metric": "branch"}},
        "bad pattern": {"func": {"bin": 3, "reason": "r"}},
    }
    for what, entry in cases.items():
        f = tmp_path / "w.yml"
        f.write_text(yaml.safe_dump({"waivers": [entry]}))
        with pytest.raises(waivers.WaiverError, match="waiver 1"):
            waivers.load(f)
            pytest.fail(f"{what} was accepted")


def test_band_255_waiver_is_true_of_the_model() -> None:
    """Evidence behind the waiver: the loudest simple int16 signals (full-scale sines and
    square waves over the whole band) never reach 255 in bands 0-29; bands 30-31 do."""
    t = np.arange(FE_CFG.sample_rate // 10) / FE_CFG.sample_rate
    best = np.zeros(FE_CFG.n_mels, np.int64)
    for f in np.linspace(60.0, 7900.0, 120):
        s = np.sin(2 * np.pi * f * t)
        for x in (s, np.sign(s)):
            best = np.maximum(best, frontend.features(
                np.round(x * 32767).astype(np.int16)).max(0))
    waived = [b for b in range(FE_CFG.n_mels) if any(
        waivers.matches(w["bin"], f"melstm.features.band{b:02d}/255")
        for w in waivers.load()["func"])]
    assert waived == list(range(30))
    assert best[waived].max() < FE_CFG.code_max, best
    # 30 and 31 are reachable (BandExtremesTest finds the square waves that do it)
