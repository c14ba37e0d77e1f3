"""``farm.py`` (the regression's Dask backend), for real on a loopback cluster.

A ``dask scheduler`` and two ``dask worker`` processes (with their nannies) on 127.0.0.1, each
in its own process group, started by the fixture and killed in its teardown.  Through them:
the regression gives the same JUnit file, records and summary as the local run of the same
command; a worker killed with ``kill -9`` in the middle of a test has the test rerun and
reported as retried; a test whose worker is killed twice is failed with its last output lines;
Ctrl-C cancels the queued jobs and leaves no test process behind.  ``CLUSTER=slurm`` runs end
to end through ``sbatch``/``scancel`` stand-ins that run the submitted job scripts here.
Without a cluster: an unreachable scheduler and an unknown ``CLUSTER`` give one message and
exit status 2, a worker that cannot see the checkout is named, and the batch job scripts
dask-jobqueue would submit to Slurm, LSF, SGE and PBS carry the configured queue, cores,
memory and walltime.

The simulations are the two ``prim_fifo`` block tests (a few seconds each); the faults use
``farm_cases.py`` (no simulator).  Their seed is the suite's plus an offset, so their run
folders never meet the block tests' own under ``make test``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tb.flow import farm
from tb.flow.farm_loopback import LoopbackCluster
from tb.kit.runner import ROOT

CASES = "tb/flow/farm_cases.py"
FIFO = "tb/prim/test_prim_fifo.py"
TIMEOUT_S = 300  # bound on every regression a test starts

needs_cluster = pytest.mark.skipif(os.environ.get("COV") == "1",
                                   reason="farm plumbing; not part of a coverage run")


def _seed() -> int:
    return (int(os.environ.get("SEED") or 1) + 7919) % 2**31


def _regress(results: Path, tests: str, *, cluster: str, extra_env: dict | None = None,
             args: tuple[str, ...] = (), popen: bool = False):
    """``python -m tb.flow.regress`` on ``tests`` with its own results folder."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "FARM_", "CLUSTER"))}
    env.update({"MELSTM_RESULTS": str(results), "SEED": str(_seed()), "FARM_CASE_SLEEP": "0.2",
                **(extra_env or {})})
    cmd = [sys.executable, "-m", "tb.flow.regress", "--sim", "verilator", "--nseeds", "1",
           "--tests", tests, "--cluster", cluster, *args]
    if popen:  # Ctrl-C must reach it even where the test runner ignores SIGINT
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def _job_processes(run_id: str) -> list[int]:
    """Processes that carry this farm run's marker: its jobs' pytest and simulators."""
    needle = f"MELSTM_FARM_RUN={run_id}".encode()
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if needle in (d / "environ").read_bytes().split(b"\0"):
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


def _assert_no_strays(results: Path) -> None:
    runs = [p.name for p in (results / "farm").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    deadline = time.monotonic() + 20
    while (left := _job_processes(runs[0])) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"farm run {runs[0]} left processes {left}"


def _assert_killed_attempts_never_finished(results: Path, n: int) -> None:
    """The test processes of an attempt whose worker was killed died with it (the farm's
    guard): the sleep never ended, no JUnit file was written."""
    killed = [f.parent for f in results.glob("farm/*/*/attempt-*/sleeping.*")]
    assert len(killed) == n, killed
    assert not [a for a in killed if (a / "junit.xml").exists()]


class Killer(threading.Thread):
    """``kill -9`` the Dask worker running a job whose id contains ``part``, ``times`` times,
    each time once the test is in its sleep (``farm_cases.test_case_sleep``)."""

    def __init__(self, results: Path, part: str, times: int) -> None:
        super().__init__(daemon=True)
        self.results, self.part, self.times = results, part, times
        self.killed: list[dict] = []
        self.stop = threading.Event()

    def run(self) -> None:
        seen: set[Path] = set()
        while len(self.killed) < self.times and not self.stop.wait(0.05):
            try:  # the farm makes and removes folders while we look: look again next tick
                started = [f for f in self.results.glob("farm/*/*/attempt-*/started.json")
                           if f not in seen and list(f.parent.glob("sleeping.*"))]
                infos = [(f, json.loads(f.read_text())) for f in started]
            except (OSError, ValueError):
                continue
            for f, info in infos:
                seen.add(f)
                if self.part in info["node"] and len(self.killed) < self.times:
                    os.kill(info["pid"], signal.SIGKILL)
                    self.killed.append(info)


def _cases(junit: Path) -> list[tuple[str, str, str, str]]:
    """(classname, name, outcome, message) of every test case, sorted: a JUnit file less its
    times and order."""
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            e = case.find(tag)
            if e is not None:
                outcome, message = tag, e.get("message", "")
        out.append((case.get("classname"), case.get("name"), outcome, message))
    return sorted(out)


def _suite_counts(junit: Path) -> dict[str, str]:
    suite = next(ET.parse(junit).getroot().iter("testsuite"))
    return {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}


def _records(results: Path) -> list[str]:
    recs = []
    for f in (results / "records").glob("*.json"):
        rec = json.loads(f.read_text())
        rec.pop("time")
        recs.append(json.dumps(rec, sort_keys=True))
    return sorted(recs)


def _summary(stdout: str) -> list[str]:
    """The summary's lines less wall time, rate, JUnit path and the farm's own lines."""
    text = stdout[stdout.rindex("regression on "):]
    skip = ("wall time:", "audio seconds per wall second", "JUnit XML:", "jobs per worker:",
            "retried after", "scheduling overhead:", "  ")
    return [ln for ln in text.splitlines() if not ln.startswith(skip) and
            not ln.endswith("audio seconds per wall second")]


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    """A scheduler and two workers on 127.0.0.1 for this module's tests."""
    if os.environ.get("COV") == "1":
        pytest.skip("farm plumbing; not part of a coverage run")
    with LoopbackCluster(tmp_path_factory.mktemp("loopback"), workers=2) as cluster:
        yield cluster


# ---------------------------------------------------------------------------- with a cluster
@needs_cluster
def test_farm_run_equals_local_run(loopback, tmp_path: Path) -> None:
    """Two block simulations and pass/fail/skip cases: the farm's JUnit, records and summary
    are the local run's; the failure names the same rerun command, which runs locally."""
    tests = f"{FIFO} {CASES}"
    local = _regress(tmp_path / "local", tests, cluster="local", args=("-j", "2"))
    dist = _regress(tmp_path / "farm", tests, cluster=loopback.address)
    assert local.returncode == dist.returncode == 1, local.stdout[-3000:] + dist.stdout[-3000:]
    assert dist.stderr == "", dist.stderr
    junit_l, junit_f = (tmp_path / d / "junit-verilator.xml" for d in ("local", "farm"))
    assert _cases(junit_f) == _cases(junit_l)
    assert _suite_counts(junit_f) == _suite_counts(junit_l) == \
        {"tests": "6", "failures": "1", "errors": "0", "skipped": "1"}
    assert _records(tmp_path / "farm") == _records(tmp_path / "local")
    recs = _records(tmp_path / "farm")
    fifo = [r for r in recs if '"test": "prim_fifo"' in r]
    # the 3 cases, and the same cocotb tests (one record each) from both prim_fifo builds
    assert len(recs) - len(fifo) == 3 and fifo and len(fifo) % 2 == 0, recs
    assert _summary(dist.stdout) == _summary(local.stdout)
    assert "regression on verilator: 4 passed, 1 failed, 1 skipped (6 tests)" in dist.stdout
    assert re.search(r"jobs per worker: w0 \d, w1 \d", dist.stdout), dist.stdout[-2000:]
    assert "retried after a lost worker: 0" in dist.stdout
    assert re.search(r"farm: 6/6 done, 1 failed, 0 running, 0 queued \| \d+:\d\d elapsed",
                     dist.stdout)
    node = f"{CASES}::test_case_fail[verilator-s{_seed()}]"
    rerun = f"make sim-one SIM=verilator SEED={_seed()} WAVES=1 TESTS='{node}'"
    assert rerun in local.stdout and f"  rerun: {rerun}" in dist.stdout
    # the rerun command runs locally: what `make sim-one` runs, with its SEED
    again = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-s",
                            "--sim", "verilator", node], cwd=ROOT, capture_output=True,
                           text=True, timeout=120,
                           env={**os.environ, "SEED": str(_seed()), "WAVES": "1",
                                "MELSTM_RESULTS": str(tmp_path / "rerun")})
    assert again.returncode == 1 and "1 failed" in again.stdout, again.stdout[-2000:]
    _assert_no_strays(tmp_path / "farm")


@needs_cluster
def test_killed_worker_job_is_retried(loopback, tmp_path: Path) -> None:
    """kill -9 of the worker in the middle of a test: Dask reruns it on a worker that lives,
    it passes, and the summary says it was retried."""
    killer = Killer(tmp_path, "test_case_sleep", times=1)
    killer.start()
    r = _regress(tmp_path, CASES, cluster=loopback.address, extra_env={"FARM_CASE_SLEEP": "3"})
    killer.stop.set()
    assert len(killer.killed) == 1, r.stdout[-3000:]
    assert r.returncode == 1, r.stdout[-3000:]  # test_case_fail fails, as it always does
    node = f"{CASES}::test_case_sleep[verilator-s{_seed()}]"
    assert re.search(rf"retried after a lost worker: 1\n  {re.escape(node)} \(attempt 2 on w\d\)",
                     r.stdout), r.stdout[-3000:]
    assert ("tb.flow.farm_cases", f"test_case_sleep[verilator-s{_seed()}]", "passed", "") in \
        _cases(tmp_path / "junit-verilator.xml")
    assert "regression on verilator: 2 passed, 1 failed, 1 skipped (4 tests)" in r.stdout
    # the killed attempt's record is not counted: 7 (pass) + 1 (fail) + 3 (sleep, once)
    assert "11 vectors checked (block tests)" in r.stdout
    _assert_no_strays(tmp_path)
    _assert_killed_attempts_never_finished(tmp_path, 1)


@needs_cluster
def test_job_that_kills_two_workers_fails(loopback, tmp_path: Path) -> None:
    """A test whose worker dies every time it runs: failed after two workers (KilledWorker),
    with its last output lines and the worker's nanny log; the other jobs are unharmed."""
    killer = Killer(tmp_path, "test_case_sleep", times=2)
    killer.start()
    # the passing case first: wherever Dask places the two, it never waits behind the killer
    r = _regress(tmp_path, f"{CASES}::test_case_pass {CASES}::test_case_sleep",
                 cluster=loopback.address, extra_env={"FARM_CASE_SLEEP": "3"})
    killer.stop.set()
    assert len(killer.killed) == 2, r.stdout[-3000:]
    assert r.returncode == 1, r.stdout[-3000:]
    node = f"{CASES}::test_case_sleep[verilator-s{_seed()}]"
    assert f"FAILED {node}" in r.stdout
    assert "its worker died 2 times running it (KilledWorker" in r.stdout
    assert "last output lines:" in r.stdout and "worker's nanny log:" in r.stdout
    assert "regression on verilator: 1 passed, 1 failed, 0 skipped (2 tests)" in r.stdout
    assert "failed after killing 2 workers: 1" in r.stdout
    cases = _cases(tmp_path / "junit-verilator.xml")
    assert cases[1][:3] == ("tb.flow.farm_cases", f"test_case_sleep[verilator-s{_seed()}]",
                            "failure")
    assert f"  rerun: make sim-one SIM=verilator SEED={_seed()} WAVES=1 TESTS='{node}'" in \
        r.stdout
    _assert_no_strays(tmp_path)
    _assert_killed_attempts_never_finished(tmp_path, 2)


@needs_cluster
def test_ctrl_c_cancels_queued_jobs(loopback, tmp_path: Path) -> None:
    """Ctrl-C while tests run: queued jobs cancelled, running ones killed, exit status 2."""
    proc = _regress(tmp_path, CASES, cluster=loopback.address,
                    extra_env={"FARM_CASE_SLEEP": "60"}, args=("--nseeds", "3"), popen=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("farm/*/*/attempt-*/sleeping.*")):
            assert proc.poll() is None and time.monotonic() < deadline, "no test started"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, out[-3000:]
    assert re.search(r"farm: interrupted: cancelled \d+ unfinished job\(s\), killed [12] "
                     r"running test process group\(s\)", out), out[-3000:]
    _assert_no_strays(tmp_path)


SBATCH = """#!/bin/bash
# stand-in for Slurm's sbatch: runs the job script in the background on this machine
cp "$1" {jobs}/job$$.sh
setsid bash {jobs}/job$$.sh > {jobs}/job$$.log 2>&1 < /dev/null &
echo $! > {jobs}/job$$.pid
echo "Submitted batch job $!"
"""
SCANCEL = """#!/bin/bash
for id in "$@"; do kill -9 -- -$id 2>/dev/null; done; exit 0
"""


@needs_cluster
def test_slurm_path_with_a_stand_in_sbatch(tmp_path: Path) -> None:
    """CLUSTER=slurm end to end, with ``sbatch``/``scancel`` stand-ins that run the job
    scripts dask-jobqueue submits on this machine (workers on the loopback interface): batch
    jobs submitted, the regression run through their workers, the jobs cancelled at the end."""
    if os.environ.get("COV") == "1":
        pytest.skip("farm plumbing; not part of a coverage run")
    bin_dir, jobs = tmp_path / "bin", tmp_path / "jobs"
    bin_dir.mkdir()
    jobs.mkdir()
    for name, text in (("sbatch", SBATCH.format(jobs=jobs)), ("scancel", SCANCEL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FARM_INTERFACE": "lo",
           "FARM_JOBS": "2", "FARM_CORES": "1", "FARM_MEMORY": "2GiB"}
    try:
        r = _regress(tmp_path / "results", CASES, cluster="slurm", extra_env=env)
        assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-3000:]
        assert "farm: submitted 2 slurm batch job(s) of 1 core(s), 2GiB, 01:00:00" in r.stdout
        assert "regression on verilator: 2 passed, 1 failed, 1 skipped (4 tests)" in r.stdout
        assert re.search(r"jobs per worker: SLURMCluster-\d+ \d", r.stdout), r.stdout[-2000:]
        scripts = sorted(jobs.glob("job*.sh"))
        assert len(scripts) == 2 and "#SBATCH --mem=2G" in scripts[0].read_text()
        pids = [int(p.read_text()) for p in jobs.glob("job*.pid")]
        deadline = time.monotonic() + 30  # scancel (the cluster's close) ends the batch jobs
        while [p for p in pids if Path(f"/proc/{p}").exists()] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in pids if Path(f"/proc/{p}").exists()], "batch jobs left running"
        _assert_no_strays(tmp_path / "results")
    finally:
        for p in jobs.glob("job*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(p.read_text()), signal.SIGKILL)


@needs_cluster
def test_worker_that_cannot_see_the_checkout_is_named(loopback) -> None:
    from distributed import Client

    check = {"root": "/nonexistent/melstm", "token_file": "/nonexistent/t", "token": "x",
             "run_dir": "/nonexistent", "python": sys.executable}
    with Client(loopback.address, timeout=10, set_as_default=False) as client:
        with pytest.raises(farm.FarmError) as e:
            farm._check_workers(client, check)
    text = str(e.value)
    assert "must share this checkout's filesystem" in text
    assert text.count("no checkout at /nonexistent/melstm") == 2, text


# ---------------------------------------------------------------------------- no cluster
def test_checkout_check(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("abc")
    good = {"root": str(ROOT), "token_file": str(token), "token": "abc",
            "run_dir": str(tmp_path), "python": sys.executable}
    assert farm.check_checkout(**good) == ""
    assert "no checkout at" in farm.check_checkout(**{**good, "root": str(tmp_path)})
    assert "not the client's checkout" in farm.check_checkout(**{**good, "token": "abd"})
    assert "missing" in farm.check_checkout(**{**good, "token_file": str(tmp_path / "none")})
    assert "cannot write" in farm.check_checkout(**{**good, "run_dir": str(tmp_path / "no")})


def test_unreachable_scheduler_one_clear_error(tmp_path: Path) -> None:
    """Nothing listens on the port: one line on stderr, exit status 2, no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # held, never listening: connections are refused
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
        r = _regress(tmp_path, CASES, cluster=address)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip().splitlines() == [
        f"regress: no Dask scheduler at {address}: Connection refused (start one with "
        "'.venv/bin/dask scheduler', or check CLUSTER)"]


def test_unknown_cluster_kind(tmp_path: Path) -> None:
    r = _regress(tmp_path, CASES, cluster="condor")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("regress: CLUSTER='condor' is not 'local', a Dask scheduler address "
                        "(tcp://host:8786) or one of slurm, lsf, sge, pbs\n")
    for good, want in [("", ("local", "")), ("local", ("local", "")), ("SLURM", ("batch", "slurm")),
                       ("tcp://10.1.2.3:8786", ("address", "tcp://10.1.2.3:8786"))]:
        assert farm.parse_cluster(good) == want
    for bad in ("tcp://host", "udp://h:1", "slurm2"):
        with pytest.raises(farm.FarmError):
            farm.parse_cluster(bad)


def test_batch_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "farm.toml"
    cfg.write_text('[default]\nqueue = "short"\ncores = 2\n[lsf]\nqueue = "normal"\n')
    env = {"FARM_CONFIG": str(cfg), "FARM_WALLTIME": "02:00:00"}
    s = farm.batch_settings("lsf", env)
    assert (s["queue"], s["cores"], s["walltime"], s["memory"]) == \
        ("normal", 2, "02:00:00", "4GiB")
    assert farm.batch_settings("slurm", {**env, "FARM_CORES": "8"})["cores"] == 8
    assert farm.batch_settings("slurm", {})["cores"] == 1  # the checked-in tb/flow/farm.toml
    for bad_env, words in [({"FARM_CORES": "x"}, "not an integer"),
                           ({"FARM_JOBS": "0"}, "must be >= 1"),
                           ({"FARM_CONFIG": str(tmp_path / "none.toml")}, "cannot read")]:
        with pytest.raises(farm.FarmError, match=words):
            farm.batch_settings("slurm", {**env, **bad_env})
    cfg.write_text("[slurm]\nqeue = 'x'\n")
    with pytest.raises(farm.FarmError, match="unknown key"):
        farm.batch_settings("slurm", env)


# what each scheduler's job script must say for queue "short", 4 cores, 8 GiB, 30 minutes
DIRECTIVES = {
    "slurm": ["#SBATCH -p short", "#SBATCH -A chipverif", "#SBATCH --cpus-per-task=4",
              "#SBATCH --mem=8G", "#SBATCH -t 00:30:00"],
    "lsf": ["#BSUB -q short", '#BSUB -P "chipverif"', "#BSUB -n 4", "#BSUB -M 8589935",
            "#BSUB -W 00:30"],
    "sge": ["#$ -q short", "#$ -P chipverif", "#$ -l h_vmem=2G", "#$ -l h_rt=00:30:00"],
    "pbs": ["#PBS -q short", "#PBS -A chipverif", "#PBS -l select=1:ncpus=4:mem=8192MB",
            "#PBS -l walltime=00:30:00"],
}


@pytest.mark.parametrize("kind", sorted(farm.KINDS))
def test_batch_job_script(kind: str, tmp_path: Path) -> None:
    """The script dask-jobqueue would submit (nothing is submitted; the scheduler it names
    listens on 127.0.0.1)."""
    cfg = tmp_path / "farm.toml"
    cfg.write_text('[default]\nqueue = "short"\ncores = 4\nmemory = "8GiB"\n'
                   'walltime = "00:30:00"\naccount = "chipverif"\nscheduler_host = "127.0.0.1"\n'
                   'prologue = ["module load gcc/13"]\n')
    settings = farm.batch_settings(kind, {"FARM_CONFIG": str(cfg)})
    cluster = farm.batch_cluster(kind, settings, log_directory=tmp_path / "logs")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    lines = script.splitlines()
    for directive in DIRECTIVES[kind]:
        assert any(ln.startswith(directive) for ln in lines), (directive, script)
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    assert body[:2] == [f"cd {ROOT}", "module load gcc/13"], script
    worker = body[2].split()
    assert worker[:3] == [sys.executable, "-m", "distributed.cli.dask_worker"], script
    assert worker[3].startswith("tcp://127.0.0.1:"), script
    assert " --nthreads 4 " in body[2] and " --nanny " in body[2], script
    assert " --death-timeout 120 " in body[2] and "--local-directory /tmp" in body[2], script
    assert str(tmp_path / "logs") in script


def test_job_args_drop_only_the_targets() -> None:
    args = ["-q", "-p", "no:cacheprovider", "--sim=verilator", "--nseeds=2", "-m",
            "sim and not slow", "tb/chip", "-k", "SmokeTest", "tb/prim/x.py::t"]
    assert farm.job_args(args) == ["-q", "-p", "no:cacheprovider", "--sim=verilator",
                                   "--nseeds=2", "-m", "sim and not slow", "-k", "SmokeTest"]


def test_job_environment_is_the_clients_less_host_variables() -> None:
    forwarded = ["SEED", "SIM", "COV", "WAVES", "AUDIO", "MELSTM_SUITE", "FARM_CASE_SLEEP",
                 "BENCH_SECONDS", "COCOTB_LOG_LEVEL"]
    host = ["PATH", "HOME", "LD_LIBRARY_PATH", "PYTEST_XDIST_WORKER", "SLURM_JOB_ID", "CLUSTER",
            "MELSTM_RESULTS", "MELSTM_FARM_RUN", "LC_ALL", "DASK_DISTRIBUTED__X"]
    host += [var for _, var in farm.SETTINGS.values() if var]
    assert not [v for v in forwarded if farm.HOST_ENV.fullmatch(v)]
    assert not [v for v in host if not farm.HOST_ENV.fullmatch(v)]
