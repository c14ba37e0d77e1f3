"""The regression: sim tests over seeds, in parallel on every core, with a one-screen summary.

``python -m tb.flow.regress --sim verilator --nseeds 2`` (what ``make SIM=verilator`` runs).  It
calls pytest (JUnit XML in ``results/junit-<sim>.xml``), then adds up the records every cocotb
test leaves in ``results/records/`` and prints the summary.  Exit status is pytest's.

``--cluster`` (default: the ``CLUSTER`` variable, else ``local``) picks where the tests run:
``local`` is pytest-xdist on this machine's cores; a Dask scheduler address
(``tcp://host:8786``) or a batch scheduler (``slurm``, ``lsf``, ``sge``, ``pbs``) runs the same
test ids, one farm job per test and seed, and leaves the same JUnit file, records and summary,
plus jobs per worker and retries (``tb/flow/farm.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from tb.flow import farm
from tb.kit.runner import RESULTS, ROOT, SIMULATORS, ConfigError, selected_seed, selected_sim

# record keys -> summary wording, in display order
COUNTERS = {
    "vectors": "vectors checked (block tests)",
    "features": "feature vectors checked",
    "detections": "detections checked",
}


def junit_counts(path: Path) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not path.is_file():
        return counts
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


# record keys that are worst cases (max over the run, per HDL parameter set), not counts
WORST = {
    "fe_cycles_per_hop": "front end: {v} cycles per hop",
    "lstm_cycles_per_step": "lstm: {v} cycles per step",
}


def summarize(records_dir: Path, junit: Path, wall: float, sim: str, seeds: list[int],
              extra: Sequence[str] = ()) -> str:
    """The one-screen summary; ``extra`` lines (the farm's) go above its closing lines."""
    totals: dict[str, float] = defaultdict(float)
    worst: dict[str, dict[str, int]] = defaultdict(dict)
    for f in sorted(records_dir.glob("*.json")):
        rec = json.loads(f.read_text())
        for key, value in rec.items():
            if key in WORST:
                per = worst[key]
                per[rec["params"]] = max(per.get(rec["params"], 0), int(value))
            elif isinstance(value, (int, float)) and key not in ("seed", "time"):
                totals[key] += value
    c = junit_counts(junit)
    failed = c["failures"] + c["errors"]
    passed = c["tests"] - failed - c["skipped"]
    audio = totals.get("audio_seconds", 0.0)
    lines = [
        "=" * 72,
        f"regression on {sim}: {passed} passed, {failed} failed, {c['skipped']} skipped "
        f"({c['tests']} tests)",
        f"seeds: {', '.join(map(str, seeds))}",
    ]
    for key, words in COUNTERS.items():
        if key in totals or key != "vectors":
            lines.append(f"{int(totals.get(key, 0))} {words}")
    for key, fmt in WORST.items():
        for params, value in sorted(worst.get(key, {}).items()):
            lines.append(fmt.format(v=value) + (f" ({params})" if params else ""))
    lines += [
        f"{audio:.1f} audio seconds simulated",
        f"wall time: {wall:.1f} s",
        f"{audio / wall if wall else 0.0:.2f} audio seconds per wall second",
        f"JUnit XML: {junit.relative_to(ROOT) if junit.is_relative_to(ROOT) else junit}",
        *extra,
        "=" * 72,
        f"{passed} passed, {failed} failed",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.regress", description=__doc__)
    ap.add_argument("--sim", choices=SIMULATORS, help="simulator (default: SIM, else verilator)")
    ap.add_argument("--nseeds", type=int, default=2, help="seeds per test (default 2)")
    ap.add_argument("--tests", default="", help="pytest node ids or paths (default: tb/)")
    ap.add_argument("-m", dest="marker", default="sim and not slow and not bench",
                    help="pytest marker expression")
    ap.add_argument("-j", dest="jobs", default=str(os.cpu_count() or 1),
                    help="parallel jobs (local runs)")
    ap.add_argument("--cluster", default=os.environ.get("CLUSTER", "local"),
                    help="local (default), a Dask scheduler tcp://host:port, or slurm, lsf, "
                         "sge, pbs (default: CLUSTER)")
    args = ap.parse_args(argv)
    if args.nseeds < 1:
        print(f"regress: --nseeds={args.nseeds} must be at least 1", file=sys.stderr)
        return 2
    try:
        args.sim = args.sim or selected_sim()
        base = selected_seed(count=args.nseeds)
        farm_run = farm.parse_cluster(args.cluster)[0] != "local"
    except (ConfigError, farm.FarmError) as e:
        print(f"regress: {e}", file=sys.stderr)
        return 2
    seeds = [base + i for i in range(args.nseeds)]
    records = RESULTS / "records"
    shutil.rmtree(records, ignore_errors=True)
    records.mkdir(parents=True)
    junit = RESULTS / f"junit-{args.sim}.xml"
    targets = []
    for t in args.tests.split() if args.tests else ["tb"]:
        # expand folder globs (tb/mel_*) ourselves: pytest gets no shell
        targets += sorted(str(Path(p).relative_to(ROOT)) for p in ROOT.glob(t)) \
            if "*" in t else [t]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--sim={args.sim}",
           f"--nseeds={args.nseeds}", "-m", args.marker, f"--junitxml={junit}", *targets]
    if farm_run:
        return _farm(args, cmd, junit, records, base, seeds)
    if args.jobs != "1":
        cmd += ["-n", args.jobs]
    print(f"regress: seeds {seeds}; {' '.join(cmd[2:])}", flush=True)
    start = time.monotonic()
    rc = subprocess.call(cmd, cwd=ROOT, env={**os.environ, "SEED": str(base)})
    wall = time.monotonic() - start
    print(summarize(records, junit, wall, args.sim, seeds))
    return rc


def _farm(args: argparse.Namespace, cmd: list[str], junit: Path, records: Path, base: int,
          seeds: list[int]) -> int:
    """The same pytest command as one farm job per test id (``tb/flow/farm.py``)."""
    pytest_args = [a for a in cmd[3:] if not a.startswith("--junitxml=")]
    print(f"regress: seeds {seeds}; {' '.join(cmd[2:])} on {args.cluster}", flush=True)
    start = time.monotonic()
    try:
        run = farm.run_pytest(args.cluster, pytest_args, junit=junit,
                              env={**os.environ, "SEED": str(base)})
    except farm.FarmError as e:
        print(f"regress: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before any job was submitted
        print("regress: interrupted", file=sys.stderr)
        return 2
    wall = time.monotonic() - start
    print(summarize(records, junit, wall, args.sim, seeds, extra=run.summary_lines()))
    return run.rc


if __name__ == "__main__":
    sys.exit(main())
