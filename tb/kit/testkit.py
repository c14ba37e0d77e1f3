"""Helpers every cocotb test uses: the seeded RNG, the clock and reset, result records.

A test ends by calling :func:`record` with what it checked; the regression summary adds the
records up (``feature vectors checked``, ``detections checked``, audio seconds, ...).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, Timer


def make_rng(log) -> np.random.Generator:
    """One ``numpy.random.default_rng`` per test, seeded from cocotb's seed and logged."""
    seed = cocotb.RANDOM_SEED
    log.info("numpy rng seeded with cocotb seed %d", seed)
    return np.random.default_rng(seed)


def rerun_hint() -> str:
    """The exact command that reruns this pytest node with this seed and waveforms."""
    return os.environ.get("MELSTM_RERUN", "(run under pytest to get a rerun command)")


def sim_name() -> str:
    return os.environ.get("MELSTM_SIM", "unknown")


async def start_clock(clk, period_ns: int = 10) -> int:
    """Start a free-running clock in C (no Python wake-ups); returns the period in ns."""
    Clock(clk, period_ns, unit="ns").start()
    await Timer(1, unit="ns")
    return period_ns


async def reset(clk, rst_n, cycles: int = 3) -> None:
    """Asynchronous active-low reset held for ``cycles`` clock cycles."""
    rst_n.value = 0
    await ClockCycles(clk, cycles)
    rst_n.value = 1
    await ClockCycles(clk, 1)


def record(name: str, **counts: float) -> None:
    """Write this test's counters (e.g. ``vectors=198``) for the regression summary."""
    root = Path(os.environ.get("MELSTM_RESULTS", "results")) / "records"
    root.mkdir(parents=True, exist_ok=True)
    entry = {
        "test": name,
        "sim": sim_name(),
        "seed": cocotb.RANDOM_SEED,
        "params": os.environ.get("MELSTM_PARAMS", ""),
        "time": time.time(),
        **counts,
    }
    path = root / f"{name}.{sim_name()}.{cocotb.RANDOM_SEED}.{os.getpid()}.json"
    path.write_text(json.dumps(entry))
