"""``make signoff SIM=verilator``: the regression with coverage on, then the sign-off report.

``python -m tb.flow.signoff [--nseeds N] [-j J] [--tests PATHS] [-k EXPR] [--no-icarus]
[--cluster CLUSTER]``

1. Every test that ``make test`` runs on Verilator (reference model, every block, every top
   test) plus the sign-off-only tests (marker ``signoff``: the LSTM configuration sweep), top
   and block tests over ``--nseeds`` seeds, with ``COV=1``: Verilator code coverage and the
   functional cover groups are written per simulation run under ``results/coverage/``.
   JUnit XML: ``results/junit-signoff-verilator.xml``.
2. The top-level smoke test on Icarus (the testplan's "both simulators" point), JUnit XML
   ``results/junit-signoff-icarus.xml``.
3. ``tb.flow.signoff.report``: merge, write ``results/signoff/index.html``, print the verdict.
``--cluster`` (default ``CLUSTER``, else ``local``) runs steps 1 and 2 as farm jobs on a Dask
scheduler or a batch scheduler instead of pytest-xdist (``tb/flow/farm.py``).
Exit status: 0 only when every test passed and every threshold holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from tb.flow import farm
from tb.flow.signoff import report
from tb.kit.runner import RESULTS, ROOT, SIMULATORS, ConfigError, selected_seed, selected_sim

MARKERS = "not slow and not bench"
ICARUS_TESTS = ["tb/chip/test_chip_top.py", "-k", "test_top and SmokeTest"]


def _pytest(sim: str, args: list[str], *, jobs: str, nseeds: int, junit: str,
            env: dict[str, str], cluster: str = "local") -> tuple[int, float]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--sim={sim}",
           f"--nseeds={nseeds}", f"--junitxml={RESULTS / junit}", *args]
    if farm.parse_cluster(cluster)[0] != "local":
        print(f"signoff: {' '.join(cmd[2:])} on {cluster}", flush=True)
        run = farm.run_pytest(cluster, [a for a in cmd[3:] if not a.startswith("--junitxml=")],
                              junit=RESULTS / junit, env=env)
        print("\n".join(run.summary_lines()), flush=True)
        return run.rc, run.wall
    if jobs != "1":
        cmd += ["-n", jobs]
    print(f"signoff: {' '.join(cmd[2:])}", flush=True)
    t0 = time.monotonic()
    rc = subprocess.call(cmd, cwd=ROOT, env=env)
    return rc, time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.signoff", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", choices=SIMULATORS, help="must be verilator (default: SIM)")
    ap.add_argument("--nseeds", type=int, default=2, help="seeds per sim test (default 2)")
    ap.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 1))
    ap.add_argument("--tests", default="tb refmodel", help="pytest paths (default: all)")
    ap.add_argument("-k", dest="keyword", default="", help="pytest -k expression")
    ap.add_argument("--no-icarus", action="store_true", help="skip the Icarus smoke run")
    ap.add_argument("--cluster", default=os.environ.get("CLUSTER", "local"),
                    help="local (default), tcp://host:port, or slurm, lsf, sge, pbs")
    args = ap.parse_args(argv)
    if args.nseeds < 1:
        print(f"signoff: --nseeds={args.nseeds} must be at least 1", file=sys.stderr)
        return 2
    try:
        args.sim = args.sim or selected_sim()
        base = selected_seed(count=args.nseeds)
        farm.parse_cluster(args.cluster)
    except (ConfigError, farm.FarmError) as e:
        print(f"signoff: {e}", file=sys.stderr)
        return 2
    if args.sim != "verilator":
        print(f"signoff: SIM={args.sim}: code coverage comes from Verilator; run "
              "make signoff SIM=verilator", file=sys.stderr)
        return 2
    for stale in ("coverage", "signoff", "records"):
        shutil.rmtree(RESULTS / stale, ignore_errors=True)
    for old in RESULTS.glob("junit-signoff-*.xml"):
        old.unlink()
    (RESULTS / "signoff").mkdir(parents=True)
    env = {**os.environ, "SEED": str(base), "MELSTM_RESULTS": str(RESULTS)}
    selection = args.tests.split() + ["-m", MARKERS] + (["-k", args.keyword]
                                                        if args.keyword else [])
    try:
        rc, wall = _pytest("verilator", selection, jobs=args.jobs, nseeds=args.nseeds,
                           junit="junit-signoff-verilator.xml",
                           env={**env, "COV": "1", "PACING": "all"},  # every pacing period
                           cluster=args.cluster)
        rc_icarus, wall_icarus = 0, 0.0
        if not args.no_icarus:
            rc_icarus, wall_icarus = _pytest("icarus", ICARUS_TESTS, jobs="1", nseeds=1,
                                             junit="junit-signoff-icarus.xml", env=env,
                                             cluster=args.cluster)
    except farm.FarmError as e:
        print(f"signoff: {e}", file=sys.stderr)
        return 2
    (RESULTS / "signoff" / "run.json").write_text(json.dumps({
        "seeds": f"{base}..{base + args.nseeds - 1}",
        "verilator regression wall s (coverage on)": round(wall, 1),
        "icarus smoke wall s": round(wall_icarus, 1),
        "tests": " ".join(selection),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }))
    try:
        ok, text, _ = report.build(RESULTS)
    except (report.ReportError, report.waivers.WaiverError, report.codecov.CoverageError) as e:
        print(f"signoff: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0 if ok and rc == 0 and rc_icarus == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
