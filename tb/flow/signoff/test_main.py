"""``__main__.py`` (``python -m tb.flow.signoff``, ``make signoff``): one small real run on
Verilator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tb.kit.runner import ROOT


@pytest.mark.sim
def test_signoff_small_real_run(sim_and_seed, tmp_path: Path) -> None:
    """``python -m tb.flow.signoff`` on one small block test: coverage is collected, merged and
    rendered; the verdict is FAIL (nearly nothing ran) and the exit status says so."""
    sim, seed = sim_and_seed
    if sim != "verilator":
        pytest.skip("code coverage comes from Verilator")
    if os.environ.get("COV") == "1":
        pytest.skip("already inside a sign-off run")
    env = {**os.environ, "MELSTM_RESULTS": str(tmp_path), "SEED": str(seed)}
    r = subprocess.run([sys.executable, "-m", "tb.flow.signoff", "--tests",
                        "tb/prim/test_prim_round_sat.py", "-k", "8-4-3", "--nseeds", "1", "-j",
                        "1", "--no-icarus"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]
    assert "sign-off: FAIL" in r.stdout
    assert "met    tests passing: 1/1" in r.stdout
    assert "MISSED functional coverage" in r.stdout
    page = (tmp_path / "signoff" / "index.html").read_text()
    assert "prim_round_sat" in page and "prim.round_sat" in page
    assert (tmp_path / "signoff/code/html/rtl/prim/prim_round_sat.sv.gcov.html").is_file()
    assert list((tmp_path / "coverage" / "code").glob("*.dat"))
