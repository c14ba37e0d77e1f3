"""``make bench-coverage``: what coverage collection costs in regression wall time.

Runs every simulation test (``tb``, one seed, the same seed both times; ``--tests`` narrows it,
e.g. to ``tb/chip/test_chip_top.py``) on Verilator without and with ``COV=1`` and prints the
wall and CPU times of both runs and the overhead (CPU time counts every process of the run; on
a shared machine it is the steadier figure). Each set runs once untimed first, so that every
build exists and the figures are simulation time only (the whole command takes about four
regressions' time). Figures only: nothing passes or fails on them.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from tb.kit.runner import ROOT, ConfigError, selected_seed


def _children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and its descendants."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _regress(cov: bool, jobs: str, seed: str, tests: str, results: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one regression run."""
    env = {**os.environ, "SEED": seed, "COV": "1" if cov else "0", "MELSTM_RESULTS": results}
    cmd = [sys.executable, "-m", "tb.flow.regress", "--sim", "verilator", "--nseeds", "1", "-j",
           jobs, "--tests", tests]
    t0, cpu0 = time.monotonic(), _children_cpu()
    rc = subprocess.call(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    if rc:
        raise SystemExit(f"bench-coverage: the regression failed (COV={int(cov)}); rerun: "
                         f"SEED={seed} COV={int(cov)} {' '.join(cmd[1:])}")
    return time.monotonic() - t0, _children_cpu() - cpu0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.signoff.overhead", description=__doc__)
    ap.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 1))
    ap.add_argument("--tests", default="tb")
    args = ap.parse_args(argv)
    try:
        seed = str(selected_seed(default=1))  # the same seed for both runs
    except ConfigError as e:
        print(f"bench-coverage: {e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="melstm-cov-bench-") as results:
        for cov in (False, True):  # builds, not timed
            _regress(cov, args.jobs, seed, args.tests, results)
        plain = _regress(False, args.jobs, seed, args.tests, results)
        cov = _regress(True, args.jobs, seed, args.tests, results)
    print(f"regression {args.tests} on verilator, seed {seed}, -j {args.jobs}:")
    print(f"  coverage off: {plain[0]:.1f} s wall, {plain[1]:.1f} s CPU")
    print(f"  coverage on:  {cov[0]:.1f} s wall, {cov[1]:.1f} s CPU (code coverage: line, "
          "toggle, expression; functional cover groups exported; they are sampled in both runs)")
    print(f"  overhead: {100.0 * (cov[0] - plain[0]) / plain[0]:+.1f} % wall, "
          f"{100.0 * (cov[1] - plain[1]) / plain[1]:+.1f} % CPU (CPU time is the steadier "
          "figure on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
