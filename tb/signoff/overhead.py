"""``make bench-coverage``: what coverage collection costs in regression wall time.

Runs the default top-level regression (``tb/top``, one seed, the same seed both times) on
Verilator without and with ``COV=1`` and prints both wall times and the overhead.  Both
builds are made first (one short test each), so the figures are simulation time only.
Figures only: nothing passes or fails on them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from tb.common.runner import ROOT


def _regress(cov: bool, jobs: str, seed: str, tests: str, results: str) -> float:
    env = {**os.environ, "SEED": seed, "COV": "1" if cov else "0", "MELSTM_RESULTS": results}
    cmd = [sys.executable, "-m", "tb.regress", "--sim", "verilator", "--nseeds", "1", "-j",
           jobs, "--tests", tests]
    t0 = time.monotonic()
    rc = subprocess.call(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    if rc:
        raise SystemExit(f"bench-coverage: the regression failed (COV={int(cov)}); rerun: "
                         f"SEED={seed} COV={int(cov)} {' '.join(cmd[1:])}")
    return time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.signoff.overhead", description=__doc__)
    ap.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 1))
    ap.add_argument("--tests", default="tb/top")
    args = ap.parse_args(argv)
    seed = os.environ.get("SEED") or "1"
    with tempfile.TemporaryDirectory(prefix="melstm-cov-bench-") as results:
        for cov in (False, True):  # builds, not timed
            _regress(cov, "1", seed, "tb/top/test_top.py::test_top -k SmokeTest", results)
        plain = _regress(False, args.jobs, seed, args.tests, results)
        cov = _regress(True, args.jobs, seed, args.tests, results)
    print(f"regression {args.tests} on verilator, seed {seed}, -j {args.jobs}:")
    print(f"  coverage off: {plain:.1f} s wall")
    print(f"  coverage on:  {cov:.1f} s wall (code coverage: line, toggle, expression; "
          "functional cover groups exported; they are sampled in both runs)")
    print(f"  overhead: {100.0 * (cov - plain) / plain:+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
