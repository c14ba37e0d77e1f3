"""Tiny test cases for ``tb/flow/test_farm.py``: the farm's plumbing without a simulator.

Cases that pass (and leave a record, as every cocotb test does), fail (printing their rerun
command, as the test benches do), skip, or sleep ``FARM_CASE_SLEEP`` seconds (default 0.5) so
that a test can kill the worker running them.  Marked ``sim`` so their ids end with
``[<sim>-s<seed>]`` like every simulation test's.  Not collected by a plain ``pytest``
(the file name is not ``test_*.py``); ``tb/flow/test_farm.py`` names it explicitly.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tb.kit.runner import RESULTS, rerun_command

pytestmark = pytest.mark.sim


def _record(name: str, sim: str, seed: int, **counts: float) -> None:
    """A record like ``tb.kit.testkit.record`` writes (the summary adds these up)."""
    root = RESULTS / "records"
    root.mkdir(parents=True, exist_ok=True)
    entry = {"test": name, "sim": sim, "seed": seed, "params": "", "time": time.time(),
             **counts}
    (root / f"{name}.{sim}.{seed}.{os.getpid()}.json").write_text(json.dumps(entry))


def test_case_pass(sim_and_seed) -> None:
    sim, seed = sim_and_seed
    _record("farm_case", sim, seed, vectors=7)
    assert seed >= 0


def test_case_fail(sim_and_seed) -> None:
    sim, seed = sim_and_seed
    _record("farm_case_fail", sim, seed, vectors=1)
    raise AssertionError(f"farm case failing on purpose; rerun: {rerun_command(sim, seed)}")


def test_case_skip(sim_and_seed) -> None:
    pytest.skip("farm case skipped on purpose")


def test_case_sleep(sim_and_seed) -> None:
    """Sleeps with a ``sleeping.<pid>`` file in the results folder (the moment to kill it)."""
    sim, seed = sim_and_seed
    marker = RESULTS / f"sleeping.{os.getpid()}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    seconds = float(os.environ.get("FARM_CASE_SLEEP", "0.5"))
    print(f"farm case: sleeping {seconds} s", flush=True)
    time.sleep(seconds)
    marker.unlink()
    _record("farm_case_sleep", sim, seed, vectors=3)
