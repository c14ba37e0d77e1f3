"""The cost model against the RTL's counters, fast form (``make test``), and the comparison
itself (``tb/flow/cost.py``; ``make cost`` runs the full configurations).

The fast form runs ``chip_top`` on Icarus with H=16, P=4 and 2-frame windows (one weight load,
560 samples, one detection; about 15 s including the build): every counter of
``tb/flow/cost/cost_tb.sv`` must equal :mod:`refmodel.cost`'s count.
"""

from __future__ import annotations

import os

import pytest

from refmodel import cost
from tb.flow import cost as flow


def test_compare_reports_every_difference():
    m = cost.chip(16, 4, window=2)
    good = {k: v for k, v in m.flat(m.first_window()).items() if k.endswith(".cycles")}
    assert flow.compare(m, good) == []
    bad = dict(good, **{"mel_fft.cycles": good["mel_fft.cycles"] + 1, "mel_fft.nothing": 3})
    msgs = flow.compare(m, bad)
    assert len(msgs) == 2
    assert any("mel_fft.cycles: model" in x for x in msgs)
    assert any("not in the cost model" in x for x in msgs)


def test_bad_configs_argument():
    with pytest.raises(flow.CostError, match="HxP"):
        flow._configs("32x8,big")


def test_counters_equal_model(monkeypatch):
    if os.environ.get("COV") == "1":
        pytest.skip("the cost counters on Icarus; not part of a coverage run")
    monkeypatch.setenv("SIM", "icarus")
    model, counts = flow.check_config(16, 4, 2)  # raises CostError on any difference
    assert counts["mel_fft.butterfly"] == 2 * 1024  # two frames of 8 x 128 butterflies
    assert counts["lstm_pe_array.mac"] == 2 * (64 * 48 // 4)  # two steps of 4H(32+H)/P
    assert len(counts) >= 50
