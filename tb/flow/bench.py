"""``make bench``: speed of the top-level environment on each simulator, against the design's
own speed.

Three runs of one workload (10 s of the seeded synthetic mix at full input rate, the chip's
default H = 32, P = 8, 198-frame windows on Verilator; ``BENCH_SECONDS`` changes the audio):

``full``   ``BenchTest``: the audio through the harness ``chip_tb`` with the whole pyuvm
           environment, predictor and scoreboard; timed from the end of the weight load to the
           end of the drain (``sim_ns`` of simulated time).
``idle``   ``IdleClockTest``: the same cocotb build (same harness, same flags, same clock
           from the project's simulation loop ``tb/kit/verilator_main.cpp``), reset, then one
           ``Timer`` of the same ``sim_ns``: the chip gets no input and Python does nothing
           until the timer fires.  What the simulator costs with Python out of the way.
``plain``  (Verilator) ``tb/flow/plain_bench.py``: ``chip_top`` alone verilated with the
           project's flags, the clock toggled in C++, no VPI, no Python; the same samples,
           weights, threshold, block pacing and number of cycles as ``full`` (which saves its
           workload), every feature vector and detection compared with the refmodel.

Each prints audio seconds and million clock cycles per wall second, and its share of the
plain harness (plain harness wall time / its wall time; by CPU time in brackets, the fairer
figure when other jobs share the machine).  ``BENCH_REPEAT=N`` runs N interleaved rounds and
prints best / median.  Figures only: nothing here passes or fails on speed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from tb.flow import plain_bench
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


def _plain() -> dict:
    try:
        return plain_bench.run()
    except plain_bench.BenchError as e:
        raise SystemExit(f"bench: {e}") from None


# (label, what it is): the three runs of the table, in print order
RUNS = (
    ("full", "full environment"),
    ("idle", "same cocotb build, Python idle"),
    ("plain", "plain C++ harness"),
)


def _round(sim: str, seconds: str) -> dict[str, dict]:
    """One interleaved round: the full environment, then the same build with Python idle for
    the same simulated time, then (Verilator) the plain harness on the same workload."""
    full = _run(sim, "BenchTest", {"BENCH_SECONDS": seconds})
    idle = _run(sim, "IdleClockTest", {"IDLE_NS": str(int(full["sim_ns"]))})
    out = {"full": full, "idle": idle}
    idle["cycles"], idle["audio_seconds"] = full["cycles"], full["audio_seconds"]
    if sim == "verilator":
        out["plain"] = _plain()
    return out


def _report(sim: str, rounds: list[dict[str, dict]]) -> None:
    """Best / median of each figure over the rounds, and each run's share of the plain
    harness (its speed over the plain harness's, per round; best / median)."""
    first = rounds[0]["full"]
    n = len(rounds)
    print(f"{sim}: {first['audio_seconds']:.1f} s audio, {first['cycles'] / 1e6:.2f} M cycles "
          f"per run; {'best / median of ' + str(n) + ' interleaved rounds' if n > 1 else '1 run'}"
          f"; share = speed / plain harness speed (wall; CPU in brackets)")
    print(f"  {'run':32s} {'audio s / wall s':>17s} {'M cycles / wall s':>18s} "
          f"{'share of plain':>22s} {'CPU s':>7s}")
    for key, label in RUNS:
        if key not in rounds[0]:
            continue
        speed = [r[key]["audio_seconds"] / r[key]["wall_seconds"] for r in rounds]
        mcyc = [r[key]["cycles"] / r[key]["wall_seconds"] / 1e6 for r in rounds]
        cpu = [r[key]["cpu_seconds"] for r in rounds]
        share = ""
        if "plain" in rounds[0]:
            wall = [r["plain"]["wall_seconds"] / r[key]["wall_seconds"] for r in rounds]
            by_cpu = [r["plain"]["cpu_seconds"] / r[key]["cpu_seconds"] for r in rounds]
            share = f"{_bm(wall, 2)} ({statistics.median(by_cpu):.2f})"
        print(f"  {label:32s} {_bm(speed, 1):>17s} {_bm(mcyc, 2):>18s} {share:>22s} "
              f"{min(cpu):7.2f}", flush=True)


def _bm(values: list[float], digits: int) -> str:
    """``best / median`` (one figure when there is one value)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{max(values):.{digits}f} / {statistics.median(values):.{digits}f}"


def main() -> int:
    seconds = os.environ.get("BENCH_SECONDS", "10")
    repeat = int(os.environ.get("BENCH_REPEAT", "1"))
    if repeat < 1:
        raise SystemExit(f"bench: BENCH_REPEAT={repeat} must be >= 1")
    sims = os.environ.get("BENCH_SIMS", ",".join(SIMULATORS)).split(",")
    bad = [s for s in sims if s not in SIMULATORS]
    if bad:
        raise SystemExit(f"bench: BENCH_SIMS names {', '.join(bad)}, not one of "
                         f"{', '.join(SIMULATORS)}")
    rounds: dict[str, list] = {s: [] for s in sims}
    for _ in range(repeat):  # interleaved: the machine's load hits every run alike
        for sim in sims:
            rounds[sim].append(_round(sim, seconds))
    for sim in sims:
        _report(sim, rounds[sim])
    return 0


if __name__ == "__main__":
    sys.exit(main())
