"""``make bench``: speed of the full top-level environment on each simulator.

For each simulator: ``BenchTest`` streams 10 s of audio through ``chip_top`` with the whole
pyuvm environment and scoreboard; ``IdleClockTest`` runs the same design for the same
simulated time with Python idle (clock only).  Prints audio seconds per wall second for both.
Figures only: nothing here passes or fails on speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tb.kit.runner import RESULTS, ROOT, SIMULATORS


def _run(sim: str, test: str, env: dict[str, str]) -> dict:
    rec_dir = RESULTS / "records"
    for f in rec_dir.glob("bench.*.json"):
        f.unlink()
    node = f"tb/chip/test_chip_top.py::test_top_bench[{sim}-s1-{test}]"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--sim={sim}",
           "-m", "bench", node]
    rc = subprocess.call(cmd, cwd=ROOT, env={**os.environ, "SEED": "1", **env},
                         stdout=subprocess.DEVNULL)
    recs = [json.loads(f.read_text()) for f in rec_dir.glob("bench.*.json")]
    if rc or not recs:
        raise SystemExit(f"bench: {test} on {sim} failed (rerun: pytest '{node}')")
    return recs[0]


def _cpu(rec: dict) -> str:
    """The simulator process's CPU time, when the machine is shared: wall time then also
    counts the other jobs, CPU time much less."""
    cpu = rec.get("cpu_seconds")
    return "" if cpu is None else f" ({cpu:.1f} s CPU)"


def main() -> int:
    seconds = os.environ.get("BENCH_SECONDS", "10")
    for sim in os.environ.get("BENCH_SIMS", ",".join(SIMULATORS)).split(","):
        full = _run(sim, "BenchTest", {"BENCH_SECONDS": seconds})
        idle = _run(sim, "IdleClockTest", {"IDLE_NS": str(int(full["sim_ns"]))})
        audio = full["audio_seconds"]
        print(f"{sim:9s} full environment: {audio:.1f} s audio in {full['wall_seconds']:.1f} s "
              f"wall = {audio / full['wall_seconds']:.2f} audio seconds per wall second"
              f"{_cpu(full)}")
        print(f"{sim:9s} Python idle:      same {full['sim_ns'] / 1e6:.1f} ms simulated in "
              f"{idle['wall_seconds']:.1f} s wall = {audio / idle['wall_seconds']:.2f} audio "
              f"seconds per wall second{_cpu(idle)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
