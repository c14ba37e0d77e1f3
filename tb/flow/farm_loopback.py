"""A Dask cluster on 127.0.0.1 for the farm's tests, and the farm's scaling benchmark.

:class:`LoopbackCluster` starts a ``dask scheduler`` and ``dask worker`` processes (with their
nannies) on the loopback address, each in its own process group, and kills them all on
``close()``; ``tb/flow/test_farm.py`` runs the farm regression through one.

``python -m tb.flow.farm bench`` (``make bench-farm``, :func:`bench`): the same regression
(default: the top-level tests x 2 seeds) with local pytest-xdist for reference, then on 1, 2
and 3 loopback workers: wall time, jobs per second, mean job time, pytest start-up and
scheduling overhead per job, and what that makes a 1000-seed sign-off on N farm cores.
Figures only; nothing passes or fails on them (``docs/speed.md``, Farm).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tb.flow.farm import ALLOWED_FAILURES, FarmError, clock_text, collect, mean, run_pytest
from tb.kit.runner import RESULTS, ROOT


class LoopbackCluster:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes (with nannies) on
    127.0.0.1, each in its own process group, for the tests and the benchmark.

    Ports are the system's free ones (``--port 0``, found through the scheduler file).  The
    scheduler closes after ``idle_timeout`` s without work and the workers ``death_timeout``
    s after losing it, so nothing outlives a test run that was killed.  Use as a context
    manager; ``close()`` kills every process group.
    """

    def __init__(self, workdir: Path, *, workers: int = 2, nthreads: int = 1,
                 idle_timeout: int = 600, death_timeout: int = 60) -> None:
        self.workdir = Path(workdir)
        self.nworkers, self.nthreads = workers, nthreads
        self.idle_timeout, self.death_timeout = idle_timeout, death_timeout
        self.procs: list[subprocess.Popen] = []
        self.address = ""

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST_", "DASK_", "MELSTM_FARM"))}
        env.update(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(ALLOWED_FAILURES),
                   DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")
        return env

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (the process owns it)
        proc = subprocess.Popen(cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def start(self, timeout: float = 120) -> LoopbackCluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        sfile = self.workdir / "scheduler.json"
        sfile.unlink(missing_ok=True)
        deadline = time.monotonic() + timeout
        sched = self._spawn("scheduler", [
            sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
            "--port", "0", "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
            "--scheduler-file", str(sfile),
            "--idle-timeout", f"{self.idle_timeout}s"])
        while not sfile.is_file() or not sfile.read_text().strip():
            if sched.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise FarmError(f"loopback scheduler did not start (log: "
                                f"{self.workdir / 'scheduler.log'})")
            time.sleep(0.1)
        self.address = json.loads(sfile.read_text())["address"]
        for w in range(self.nworkers):
            self._spawn(f"worker{w}", [
                sys.executable, "-m", "distributed.cli.dask_worker", self.address,
                "--host", "127.0.0.1", "--nthreads", str(self.nthreads), "--name", f"w{w}",
                "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                "--death-timeout", str(self.death_timeout),
                "--local-directory", str(self.workdir / f"w{w}")])
        from distributed import Client

        try:
            with Client(self.address, timeout=30, set_as_default=False) as client:
                client.wait_for_workers(self.nworkers, timeout=max(1, deadline - time.monotonic()))
        except Exception as e:
            self.close()
            raise FarmError(f"loopback workers did not start: {e} (logs in {self.workdir})") \
                from None
        return self

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        self.procs.clear()

    def __enter__(self) -> LoopbackCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def bench(args: argparse.Namespace) -> int:
    """The same regression locally (pytest-xdist, for reference) and on 1, 2, 3 loopback
    workers: wall time, jobs per second, and the farm wall time that gives for a 1000-seed
    sign-off.  Figures only; nothing passes or fails on them."""
    from tb.kit.runner import selected_seed

    seed = selected_seed(default=1)
    pytest_args = ["-q", "-p", "no:cacheprovider", f"--sim={args.sim}",
                   f"--nseeds={args.nseeds}", "-m", "sim and not slow and not bench",
                   *args.tests.split()]
    env = {**os.environ, "SEED": str(seed)}
    work = RESULTS / "bench-farm"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    nodes = collect(pytest_args, env)
    if not nodes:
        raise FarmError(f"no tests in {args.tests}")
    print(f"bench-farm: {len(nodes)} jobs ({args.tests}, {args.nseeds} seeds from {seed}, "
          f"{args.sim}); warm-up build with {nodes[0]}", flush=True)
    quiet = subprocess.DEVNULL
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", *pytest_args[:-len(args.tests.split())],
                    nodes[0]], cwd=ROOT, env={**env, "MELSTM_RESULTS": str(work / "warm")},
                   stdout=quiet, stderr=quiet)
    print(f"warm-up (build and one test): {time.monotonic() - t:.1f} s", flush=True)
    if args.local:
        t = time.monotonic()
        rc = subprocess.run([sys.executable, "-m", "pytest", *pytest_args, "-n",
                             str(os.cpu_count() or 1)], cwd=ROOT, stdout=quiet, stderr=quiet,
                            env={**env, "MELSTM_RESULTS": str(work / "local")}).returncode
        wall = time.monotonic() - t
        print(f"local pytest-xdist -n {os.cpu_count()}: {len(nodes)} tests in {wall:.1f} s wall"
              f" = {len(nodes) / wall:.2f} tests/s; {'failed' if rc else 'all passed'}",
              flush=True)
    first, first_n = None, 0
    for n in [int(x) for x in args.workers.split(",")]:
        with LoopbackCluster(work / f"cluster-{n}", workers=n) as lc:
            run = run_pytest(lc.address, pytest_args, junit=work / f"junit-{n}.xml", env=env,
                             results=work / f"results-{n}",
                             say=None if args.verbose else (lambda s: None))
        first, first_n = first or run, first_n or n
        print(f"{n} worker(s): {run.jobs} jobs in {run.wall:.1f} s wall = "
              f"{run.jobs / run.wall:.2f} jobs/s; job {mean(run.durations):.1f} s on average "
              f"(pytest start-up {mean(run.startups):.1f} s); scheduling "
              f"{mean(run.gaps):.2f} s per job (max {max(run.gaps, default=0):.2f} s); "
              f"{'failed' if run.rc else 'all passed'}; per worker: "
              f"{', '.join(f'{w} {c}' for w, c in sorted(run.per_worker.items()))}",
              flush=True)
    # one job as on the first worker count (1: uncontended), with its dispatch; 1000 seeds
    tests = math.ceil(first.jobs / args.nseeds)
    total = (sum(first.durations) + sum(first.gaps)) / args.nseeds * 1000
    longest = max(first.durations)
    print(f"estimate: a sign-off of 1000 seeds x these {tests} tests = {tests * 1000} jobs, "
          f"{total / 3600:.1f} core-hours ({total / tests / 1000:.1f} s per job as on "
          f"{first_n} worker(s), the longest {longest:.1f} s); on N farm cores the wall time is "
          "between total/N and "
          "total/N + the longest job (list scheduling), plus one build")
    for cores in (100, 500, 1000):
        low = max(total / cores, longest)
        print(f"  N = {cores:4d}: {clock_text(low)} to {clock_text(total / cores + longest)}")
    return 0
