"""The lowest real-time clock: the fewest clock cycles per audio sample the chip keeps up with.

For each configuration (H, P) the sweep runs the top-level ``RealTimeTest``
(``tb/chip/test_chip_top.py``: the full pyuvm environment, the harness's block player offering
one sample every ``RT_PACE`` cycles like a converter with a fixed sample clock, the scoreboard
checking every feature vector and detection bit for bit) at fewer and fewer cycles per sample,
and finds by bisection the smallest pace with zero overruns and bit-exact output.  A pace
passes only when the whole test passes; a run that fails for anything but overruns (a
mismatch, an X) stops the sweep: that is a bug, not a clock limit.

The clock is reported as ``pace x 16 kHz``.  ``python -m tb.flow.clock`` (``make clock``)
prints the table and writes ``results/clock/clock.json`` (read by ``make cost``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.etree import ElementTree

from refmodel.audio import SAMPLE_RATE
from tb.kit.runner import RESULTS

# (name, HDL parameters): the chip's default and the two other lane counts of the spec.
CONFIGS = (
    ("default (H=32, P=8)", {"Hidden": 32, "Lanes": 8, "Window": 198}),
    ("H=32, P=4", {"Hidden": 32, "Lanes": 4, "Window": 198}),
    ("H=32, P=16", {"Hidden": 32, "Lanes": 16, "Window": 198}),
)
SECONDS = 2.5  # audio per run: > one 198-frame window, so a window end and its head are in it
SPEC_PACE = 31  # the spec's real-time case (0.5 MHz): the search's upper end must pass


@dataclass
class Outcome:
    """One run of ``RealTimeTest`` at ``pace`` cycles per sample."""

    pace: int
    passed: bool
    overruns: int | None
    features: int | None
    detections: int | None
    wall_s: float


@dataclass
class Sweep:
    """The result for one configuration."""

    name: str
    params: dict[str, int]
    min_pace: int
    clock_mhz: float
    runs: list[Outcome]


class SweepError(RuntimeError):
    """A run failed for a reason other than overruns."""


def _run(params: dict[str, int], pace: int, seconds: float, seed: int) -> Outcome:
    """Run ``RealTimeTest`` once at ``pace``; its JUnit XML says whether it passed and, when
    it failed on overruns, how many (``RealTimeTest``'s assertion message)."""
    from tb.chip.test_chip_top import HARNESS_BUILD
    from tb.kit.runner import run_block

    with tempfile.TemporaryDirectory(prefix="clock-") as tmp:
        env = {"RT_PACE": str(pace), "TOP_SECONDS": str(seconds), "MELSTM_RESULTS": tmp,
               "SEED": str(seed)}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        t0 = time.perf_counter()
        try:
            xml = run_block(test_module="tb.chip.test_chip_top", testcase="RealTimeTest",
                            parameters=params, **HARNESS_BUILD)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        wall = time.perf_counter() - t0
        recs = [json.loads(p.read_text())
                for p in (Path(tmp) / "records").glob("top.RealTimeTest.*.json")]
    cases = ElementTree.parse(xml).getroot().iter("testcase")
    failures = [f.get("message", "") + (f.text or "")
                for case in cases for f in case.iter("failure")]
    rec = recs[0] if recs else {}
    overruns = rec.get("overruns")
    for text in failures:
        if m := re.search(r"(\d+) overruns at one sample every", text):
            overruns = int(m.group(1))
    out = Outcome(pace=pace, passed=not failures and bool(recs), overruns=overruns,
                  features=rec.get("features"), detections=rec.get("detections"), wall_s=wall)
    if not out.passed and not overruns:
        raise SweepError(f"RealTimeTest {params} at {pace} cycles per sample failed without "
                         f"overruns (a bug, not a clock limit): {' '.join(failures)[:400]} "
                         f"({xml})")
    return out


def sweep(name: str, params: dict[str, int], *, seconds: float = SECONDS, seed: int = 1,
          log=print) -> Sweep:
    """Bisect the pace in [1, SPEC_PACE]: the smallest one whose run passes."""
    runs: list[Outcome] = []

    def run(pace: int) -> bool:
        out = _run(params, pace, seconds, seed)
        runs.append(out)
        log(f"  {name}: {pace:3d} cycles/sample: "
            + ("pass" if out.passed else f"{out.overruns} overruns")
            + f" ({out.features} vectors, {out.detections} detections checked, "
              f"{out.wall_s:.0f} s)")
        return out.passed

    if not run(SPEC_PACE):
        raise SweepError(f"{name}: the chip overruns at the spec's {SPEC_PACE} cycles per sample")
    lo, hi = 1, SPEC_PACE  # lo fails (a sample per cycle is far beyond the front end), hi passes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if run(mid):
            hi = mid
        else:
            lo = mid
    return Sweep(name=name, params=params, min_pace=hi, clock_mhz=hi * SAMPLE_RATE / 1e6,
                 runs=runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.clock", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=SECONDS, help="audio per run")
    ap.add_argument("--configs", default=None,
                    help="comma-separated Lanes values to sweep (default: 8,4,16)")
    ap.add_argument("--out", type=Path, default=RESULTS / "clock" / "clock.json")
    args = ap.parse_args(argv)
    if os.environ.get("SIM", "verilator") != "verilator":
        print("clock: the sweep runs on Verilator (SIM=verilator)", file=sys.stderr)
        return 2
    os.environ["SIM"] = "verilator"
    configs = CONFIGS
    if args.configs:
        want = {int(p) for p in args.configs.split(",")}
        configs = tuple(c for c in CONFIGS if c[1]["Lanes"] in want)
        if not configs:
            print(f"clock: --configs {args.configs}: no such lane count (4, 8, 16)",
                  file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    results = []
    try:
        for name, params in configs:
            print(f"clock: {name}", flush=True)
            results.append(sweep(name, params, seconds=args.seconds))
    except SweepError as exc:
        print(f"clock: FAIL: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(r) for r in results], indent=1))
    print("\n| configuration | fewest cycles per sample | lowest real-time clock | "
          "overruns one cycle below |")
    print("| --- | --- | --- | --- |")
    for r in results:
        below = [o for o in r.runs if o.pace == r.min_pace - 1]
        over = below[0].overruns if below else "-"
        print(f"| {r.name} | {r.min_pace} | {r.clock_mhz:.3f} MHz | {over} |")
    print(f"\nclock: {sum(len(r.runs) for r in results)} runs of {args.seconds} s audio, "
          f"{time.perf_counter() - t0:.0f} s wall; {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
