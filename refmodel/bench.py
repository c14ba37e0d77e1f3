"""Speed of the bit-accurate reference models: ``python -m refmodel.bench all|frontend|detector``.

Prints audio seconds processed per wall second on one core (goals, SPEC.md section 6:
front end >= 100x real time, i.e. 10 minutes of audio in < 6 s; detector >= 1000x, i.e. the
detections of 10 minutes of features in < 0.6 s).  Not a test: timing
assertions do not belong in the test suite.

To add a mode, write ``def bench_<name>(args) -> Result`` and register it in ``BENCHES``.
"""

from __future__ import annotations

import os

# One core: BLAS reads these when numpy is first imported, so set them before that.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from refmodel import audio  # noqa: E402


@dataclass(frozen=True)
class Result:
    """What one benchmark measured."""

    what: str
    audio_seconds: float
    wall_seconds: float
    items: int  # outputs produced (feature vectors, detections, ...)
    goal_x_realtime: float

    @property
    def x_realtime(self) -> float:
        return self.audio_seconds / self.wall_seconds

    def report(self) -> str:
        verdict = "meets" if self.x_realtime >= self.goal_x_realtime else "MISSES"
        return (f"{self.what}: {self.audio_seconds:.0f} s of audio ({self.items} items) in "
                f"{self.wall_seconds:.2f} s wall = {self.x_realtime:.0f}x real time "
                f"({verdict} the {self.goal_x_realtime:.0f}x goal)")


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_frontend(args: argparse.Namespace) -> Result:
    """Bit-accurate ``refmodel.mel.frontend.features`` on seeded pink noise plus a chirp."""
    from refmodel.mel import frontend

    n = int(args.seconds * audio.SAMPLE_RATE)
    rng = np.random.default_rng(args.seed)
    x = (audio.pink_noise(args.seconds, 0.4, seed=rng).astype(np.int32)
         + audio.chirp(args.seconds, 50.0, 7000.0, 0.3)).clip(-32768, 32767).astype(np.int16)
    assert len(x) == n
    frontend.features(x[: 16_000])  # warm the table caches
    out: list[np.ndarray] = []
    wall = _best_of(lambda: out.append(frontend.features(x)), args.repeat)
    return Result("frontend (bit-accurate features)", args.seconds, wall, len(out[-1]), 100.0)


def bench_detector(args: argparse.Namespace) -> Result:
    """Bit-accurate ``refmodel.lstm.detector.scores_fixed`` on seeded random codes (H = 32)."""
    from refmodel.lstm import detector

    n_frames = int(args.seconds * 100)  # one feature vector per 10 ms hop
    rng = np.random.default_rng(args.seed)
    codes = rng.integers(0, 256, size=(n_frames, 32), dtype=np.uint8)
    weights = detector.DetectorWeights.random(args.seed, hidden=args.hidden)
    detector.scores_fixed(codes[:198], weights)  # warm the table caches
    out: list[np.ndarray] = []
    wall = _best_of(lambda: out.append(detector.scores_fixed(codes, weights)), args.repeat)
    return Result(f"detector (bit-accurate scores, H={args.hidden})", args.seconds, wall,
                  len(out[-1]), 1000.0)


BENCHES: dict[str, Callable[[argparse.Namespace], Result]] = {
    "frontend": bench_frontend,
    "detector": bench_detector,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m refmodel.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=[*sorted(BENCHES), "all"], help="which model to time")
    parser.add_argument("--seconds", type=float, default=600.0,
                        help="seconds of audio to process (default 600 = 10 min)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best is reported")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic input")
    parser.add_argument("--hidden", type=int, default=32, choices=(16, 32, 64),
                        help="detector hidden size H (default 32)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.repeat < 1:
        parser.error("--seconds must be > 0 and --repeat >= 1")
    for mode in sorted(BENCHES) if args.mode == "all" else [args.mode]:
        print(BENCHES[mode](args).report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
