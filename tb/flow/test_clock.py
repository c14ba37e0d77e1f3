"""The clock sweep's search (tb/flow/clock.py) on a stand-in for the simulation: it must find
the smallest passing pace and stop on a failure that is not an overrun."""

from __future__ import annotations

import pytest

from tb.flow import clock


def _fake(limit: int, calls: list[int], broken: int | None = None):
    def run(params, pace, seconds, seed):
        calls.append(pace)
        if pace == broken:
            raise clock.SweepError(f"mismatch at {pace}")
        ok = pace >= limit
        return clock.Outcome(pace=pace, passed=ok, overruns=0 if ok else 100 - pace,
                             features=248 if ok else None, detections=1 if ok else None,
                             wall_s=0.0)
    return run


@pytest.mark.parametrize("limit", [2, 9, 10, 13, 30, 31])
def test_sweep_finds_the_smallest_passing_pace(monkeypatch, limit):
    calls: list[int] = []
    monkeypatch.setattr(clock, "_run", _fake(limit, calls))
    res = clock.sweep("x", {"Lanes": 8}, log=lambda _: None)
    assert res.min_pace == limit
    assert res.clock_mhz == pytest.approx(limit * 0.016)
    assert calls[0] == clock.SPEC_PACE and len(calls) <= 7  # bisection, not a linear scan


def test_sweep_fails_when_the_spec_pace_overruns(monkeypatch):
    monkeypatch.setattr(clock, "_run", _fake(40, []))
    with pytest.raises(clock.SweepError, match="overruns at the spec's 31"):
        clock.sweep("x", {"Lanes": 8}, log=lambda _: None)


def test_sweep_stops_on_a_failure_that_is_not_an_overrun(monkeypatch):
    monkeypatch.setattr(clock, "_run", _fake(10, [], broken=16))
    with pytest.raises(clock.SweepError, match="mismatch at 16"):
        clock.sweep("x", {"Lanes": 8}, log=lambda _: None)


def test_unknown_lane_count_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("SIM", "verilator")
    assert clock.main(["--configs", "5"]) == 2
    assert "no such lane count" in capsys.readouterr().err
