"""The regression on a compute farm: the jobs of a local run, run by Dask workers.

``python -m tb.flow.regress --cluster CLUSTER`` (``make SIM=verilator regress CLUSTER=...``,
``make signoff CLUSTER=...``) runs the regression's tests on a Dask cluster instead of
pytest-xdist on this machine's cores.  ``CLUSTER`` (option or environment variable) is

``local``               (or empty, the default) today's run: pytest-xdist on the local cores
``tcp://host:8786``     a running Dask scheduler whose workers were started from this checkout:
                        ``.venv/bin/dask scheduler`` and ``.venv/bin/dask worker tcp://host:8786
                        --nthreads <cores>`` (each worker thread runs one test at a time)
``slurm|lsf|sge|pbs``   batch jobs through dask-jobqueue: this process runs the scheduler and
                        submits up to ``jobs`` batch jobs, each one Dask worker with ``cores``
                        threads; queue, cores, memory, walltime, ... come from
                        ``tb/flow/farm.toml`` (another file: ``FARM_CONFIG``) and single values
                        from ``FARM_QUEUE``, ``FARM_CORES``, ``FARM_MEMORY``, ``FARM_WALLTIME``,
                        ``FARM_JOBS``, ``FARM_ACCOUNT``, ``FARM_INTERFACE``,
                        ``FARM_SCHEDULER_HOST``; ``python -m tb.flow.farm script slurm`` prints
                        the job script that would be submitted
Other knobs: ``FARM_CONNECT_TIMEOUT`` (seconds to reach a scheduler, default 10),
``FARM_WORKER_TIMEOUT`` (seconds a ``tcp://`` scheduler may have no worker, default 60).

The farm must share one filesystem with this machine, at the same path: every worker runs its
jobs in this checkout (its ``.venv``, ``sim_build/``, ``results/``).  A run checks that first:
each worker must see the run's token file under ``sim_build/farm/`` and the results folder,
or the run stops with one message naming the worker.

How a run goes (:func:`run_pytest`):

1. Job list: ``pytest --collect-only -q`` with exactly the local run's arguments and ``SEED``,
   so the jobs are the local run's test ids by construction.  One job per id (one test, one
   seed): ``python -m pytest -p tb.flow.farm_guard --capture=tee-sys <the local options>
   --junitxml=... <id>`` with the local run's ``SEED``, in the checkout, in the client's
   environment less its host-specific variables (:data:`HOST_ENV`).  ``tee-sys`` streams the
   test's output into the job's log as it runs (the JUnit report is the same).
2. Builds: each simulator build is made once per configuration by the first job that needs
   it, in ``sim_build/<sim>/build-<top>-<hash>/``, under ``run_block``'s ``fcntl`` lock and
   stamp (``tb/kit/runner.py``): jobs of one configuration on other workers wait for that lock
   and reuse the build, so no two jobs build the same model at once (the shared filesystem
   must support ``flock``; NFSv4, Lustre with ``-o flock`` and GPFS do).  Jobs are submitted
   seed by seed (every test's first seed, then the second ...), so the first wave builds
   different configurations side by side instead of queueing behind one build.
3. Faults: the scheduler's ``allowed-failures`` is set to 1: a worker that dies running a job
   (``kill -9``, out of memory, a lost node) has that job rerun on another worker, reported
   as retried; a job that kills two workers ends as ``KilledWorker`` and is reported failed
   with its last output lines and the worker's nanny log.  ``worker-saturation`` is set to
   1.0: with more jobs than twice the threads (Dask then queues them on the scheduler) a
   worker holds only the jobs it runs, and a dying worker takes no queued job down with it.
   Job processes die with their worker (``tb/flow/farm_guard.py``); Ctrl-C cancels the
   queued jobs and kills the running ones (:func:`kill_jobs`).  A test that fails is a result,
   never retried.
4. Results: each attempt writes its JUnit file, records and coverage under
   ``results/farm/<run>/<job>/attempt-<n>/``; as each job finishes the client prints a
   progress line and moves the records and coverage files of the attempt that finished into
   ``results/`` (``records/``, ``coverage/``); at the end it writes one JUnit file with every
   test case in collection order, which ``tb.flow.regress`` sums up into the usual summary,
   plus jobs per worker and retries.  The attempt folders of failed and retried jobs stay
   (their ``output.log``); the others are removed.

``python -m tb.flow.farm bench`` measures the same regression on 1, 2 and 3 loopback workers
(``make bench-farm``, ``tb/flow/farm_loopback.py``); ``tb/flow/test_farm.py`` runs the whole
path on a loopback cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tb.kit.runner import BUILD, RESULTS, ROOT, SIMULATORS, rerun_command

KINDS = {  # CLUSTER=<kind>: dask-jobqueue cluster class, its name for the account option
    "slurm": ("SLURMCluster", "account"),
    "lsf": ("LSFCluster", "project"),
    "sge": ("SGECluster", "project"),
    "pbs": ("PBSCluster", "account"),
}
CONFIG = Path(__file__).with_name("farm.toml")
# farm.toml keys: default, environment variable that overrides it
SETTINGS: dict[str, tuple[object, str | None]] = {
    "queue": ("", "FARM_QUEUE"),
    "cores": (1, "FARM_CORES"),
    "memory": ("4GiB", "FARM_MEMORY"),
    "walltime": ("01:00:00", "FARM_WALLTIME"),
    "jobs": (10, "FARM_JOBS"),
    "account": ("", "FARM_ACCOUNT"),
    "interface": ("", "FARM_INTERFACE"),
    "scheduler_host": ("", "FARM_SCHEDULER_HOST"),
    "local_directory": ("/tmp", None),
    "resource_spec": ("", None),
    "extra_directives": ([], None),
    "prologue": ([], None),
}
ALLOWED_FAILURES = 1  # workers a job may kill before it is failed (Dask's allowed-failures)
# Variables of the client's environment a job does not get (the worker's own are used):
# host- and session-specific ones, the outer pytest's, the batch system's, the farm's own.
HOST_ENV = re.compile(
    r"(PATH|HOME|PWD|OLDPWD|USER|LOGNAME|SHELL|HOSTNAME|HOST|TERM|DISPLAY|TMPDIR|TMP|TEMP|MAIL"
    r"|SHLVL|_|LANG|LANGUAGE|VIRTUAL_ENV|PYTHONHOME|PYTHONPATH|LD_LIBRARY_PATH|LD_PRELOAD"
    r"|MAKEFLAGS|MFLAGS|MAKELEVEL|MAKE_TERMOUT|MAKE_TERMERR|CLUSTER|MELSTM_RESULTS"
    r"|FARM_(CONFIG|QUEUE|CORES|MEMORY|WALLTIME|JOBS|ACCOUNT|INTERFACE|SCHEDULER_HOST"
    r"|CONNECT_TIMEOUT|WORKER_TIMEOUT)"
    r"|(LC|SSH|XDG|DBUS|PYTEST|DASK|SLURM|SBATCH|LSB|LSF|PBS|SGE|CONDA|MELSTM_FARM)_.*)")
PROGRESS_EVERY_S = 30.0  # a progress line at least this often while nothing finishes
TAIL_LINES = 20  # output lines shown for a job that killed its workers


class FarmError(RuntimeError):
    """The farm cannot run the regression: bad CLUSTER, no scheduler, a worker that cannot see
    the checkout.  The message is the one line the user gets."""


class JobLost(RuntimeError):
    """A job's pytest was killed by a signal before writing its JUnit file (Dask retries it)."""


# ------------------------------------------------------------------------------ CLUSTER knob
def parse_cluster(value: str | None) -> tuple[str, str]:
    """``("local", "")``, ``("address", "tcp://host:port")`` or ``("batch", kind)``."""
    v = (value or "").strip()
    if v in ("", "local"):
        return "local", ""
    if v.lower() in KINDS:
        return "batch", v.lower()
    m = re.fullmatch(r"(tcp|tls)://([^\s:/]+|\[[0-9a-fA-F:]+\]):(\d+)/?", v)
    if m:
        return "address", v.rstrip("/")
    raise FarmError(f"CLUSTER={v!r} is not 'local', a Dask scheduler address "
                    f"(tcp://host:8786) or one of {', '.join(KINDS)}")


def batch_settings(kind: str, env: Mapping[str, str] | None = None) -> dict:
    """The settings of ``kind`` from the config file and the ``FARM_*`` variables."""
    env = os.environ if env is None else env
    path = Path(env.get("FARM_CONFIG") or CONFIG)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise FarmError(f"FARM_CONFIG: cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise FarmError(f"{path}: {e}") from None
    settings = {key: default for key, (default, _) in SETTINGS.items()}
    for section in ("default", kind):
        values = data.get(section, {})
        unknown = sorted(set(values) - set(SETTINGS))
        if unknown:
            raise FarmError(f"{path} [{section}]: unknown key(s) {', '.join(unknown)} "
                            f"(known: {', '.join(SETTINGS)})")
        settings.update(values)
    for key, (default, var) in SETTINGS.items():
        if var and env.get(var, "") != "":
            settings[key] = env[var]
        want = type(default)
        try:
            settings[key] = want(settings[key]) if want is not list else list(settings[key])
        except (TypeError, ValueError):
            raise FarmError(f"{key}={settings[key]!r} ({var or path}) is not "
                            f"{'an integer' if want is int else 'a ' + want.__name__}") from None
    for key in ("cores", "jobs"):
        if settings[key] < 1:
            raise FarmError(f"{key}={settings[key]} ({SETTINGS[key][1]} or {path}) must be >= 1")
    return settings


def jobqueue_kwargs(kind: str, settings: Mapping, *, log_directory: Path) -> dict:
    """Keyword arguments of the dask-jobqueue cluster class for ``kind``.

    One worker process per batch job with ``cores`` threads; the job script enters the
    checkout and starts the worker with the checkout's Python (both on the shared filesystem).
    """
    from dask.utils import parse_bytes

    kw: dict = {
        "cores": settings["cores"],
        "processes": 1,
        "memory": settings["memory"],
        "walltime": settings["walltime"],
        "job_name": "melstm",
        "python": sys.executable,
        "job_script_prologue": [f"cd {shlex.quote(str(ROOT))}", *settings["prologue"]],
        "local_directory": settings["local_directory"],
        "log_directory": str(log_directory),
        "job_extra_directives": list(settings["extra_directives"]),
        "death_timeout": 120,  # a worker whose scheduler (this run) is gone exits
        # the scheduler's HTTP server (health, metrics; the dashboard needs bokeh) on a free port
        "scheduler_options": {"dashboard_address": f"{settings['scheduler_host']}:0"},
    }
    if settings["queue"]:
        kw["queue"] = settings["queue"]
    if settings["account"]:
        kw[KINDS[kind][1]] = settings["account"]
    if settings["interface"]:
        kw["interface"] = settings["interface"]
    if settings["scheduler_host"]:
        kw["scheduler_options"]["host"] = settings["scheduler_host"]
    if settings["resource_spec"]:
        kw["resource_spec"] = settings["resource_spec"]
    elif kind == "sge":  # dask-jobqueue asks SGE for memory only through resource_spec
        gib = math.ceil(parse_bytes(settings["memory"]) / settings["cores"] / 2**30)
        kw["resource_spec"] = f"h_vmem={gib}G"
    return kw


def batch_cluster(kind: str, settings: Mapping, *, log_directory: Path):
    """A dask-jobqueue cluster for ``kind`` (its scheduler runs in this process; no batch job
    is submitted until it is scaled)."""
    import dask
    import dask_jobqueue

    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          "distributed.scheduler.worker-saturation": 1.0}):
        cls = getattr(dask_jobqueue, KINDS[kind][0])
        return cls(**jobqueue_kwargs(kind, settings, log_directory=log_directory))


# ------------------------------------------------------------------------------ worker side
_RUNNING: dict[str, set[subprocess.Popen]] = {}  # run id -> its job processes on this worker
_RUNNING_LOCK = threading.Lock()


def check_checkout(*, root: str, token_file: str, token: str, run_dir: str, python: str) -> str:
    """Why this host cannot run the checkout's jobs; ``""`` when it can."""
    host = socket.gethostname()
    if not (Path(root) / "tb" / "flow" / "farm.py").is_file():
        return f"{host}: no checkout at {root}"
    try:
        seen = Path(token_file).read_text()
    except OSError:
        seen = None
    if seen != token:
        return (f"{host}: {root} is not the client's checkout ({token_file} "
                f"{'missing' if seen is None else 'differs'}; not a shared filesystem?)")
    if not os.access(run_dir, os.W_OK):
        return f"{host}: cannot write the results folder {run_dir}"
    if not os.access(python, os.X_OK):
        return f"{host}: no Python at {python}"
    return ""


def probe(**check: str) -> dict:
    """What a worker reports at the start of a run (``client.run``)."""
    return {"host": socket.gethostname(), "problem": check_checkout(**check)}


def _new_attempt(job_dir: Path) -> tuple[int, Path]:
    job_dir.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        try:
            (job_dir / f"attempt-{n}").mkdir()
            return n, job_dir / f"attempt-{n}"
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def run_job(job: dict) -> dict:
    """One farm job, run by a Dask worker: one pytest process for one test id.

    Returns what the client needs (attempt folder, worker, times, exit status); a
    ``setup_error`` instead when this worker cannot see the checkout.  Raises
    :class:`JobLost` when pytest was killed before it could report (Dask then retries).
    """
    from distributed import get_worker

    start = time.time()
    problem = check_checkout(**job["check"])
    if problem:
        return {"index": job["index"], "setup_error": problem}
    attempt, folder = _new_attempt(Path(job["dir"]))
    worker = get_worker()
    info = {"index": job["index"], "node": job["node"], "attempt": attempt, "dir": str(folder),
            "worker": worker.address, "name": str(worker.name), "host": socket.gethostname(),
            "pid": os.getpid(), "thread": threading.get_ident(), "start": start}
    (folder / "started.json").write_text(json.dumps(info))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MELSTM_FARM"))}
    env.update(job["env"])
    env.update(MELSTM_RESULTS=str(folder), MELSTM_FARM_PARENT=str(os.getpid()),
               MELSTM_FARM_RUN=job["run"])
    junit = folder / "junit.xml"
    with open(folder / "output.log", "wb") as log:
        proc = subprocess.Popen([*job["cmd"], f"--junitxml={junit}", job["node"]],
                                cwd=job["check"]["root"], env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with _RUNNING_LOCK:
            _RUNNING.setdefault(job["run"], set()).add(proc)
        try:
            rc = proc.wait()
        finally:
            with _RUNNING_LOCK:
                _RUNNING[job["run"]].discard(proc)
    if rc < 0 and not junit.is_file():
        raise JobLost(f"{job['node']}: pytest killed by signal {-rc} on {info['host']} "
                      f"(output: {folder / 'output.log'})")
    return {**info, "rc": rc, "end": time.time()}


def kill_jobs(run: str) -> int:
    """Kill the process groups (pytest and its simulator) of ``run``'s jobs on this worker."""
    with _RUNNING_LOCK:
        procs = list(_RUNNING.get(run, ()))
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return len(procs)


def _configure_scheduler(dask_scheduler=None, *, allowed_failures: int) -> tuple:
    """Runs on the scheduler: a job may kill ``allowed_failures`` workers; with scheduler-side
    queueing on, a worker gets no more jobs than it has threads."""
    old = (dask_scheduler.allowed_failures, dask_scheduler.WORKER_SATURATION)
    dask_scheduler.allowed_failures = allowed_failures
    if not math.isinf(dask_scheduler.WORKER_SATURATION):
        dask_scheduler.WORKER_SATURATION = 1.0
    return old


# ------------------------------------------------------------------------------ client side
@dataclass
class FarmRun:
    """What a farm run did, beyond the JUnit file and records it leaves in ``results/``."""

    rc: int = 0
    wall: float = 0.0
    jobs: int = 0
    run_id: str = ""
    per_worker: Counter = field(default_factory=Counter)
    retried: list[str] = field(default_factory=list)  # "<id> (attempt 2 on <worker>)"
    lost: list[str] = field(default_factory=list)  # ids that killed ALLOWED_FAILURES+1 workers
    failed: list[str] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)  # idle time of a worker thread before a job
    startups: list[float] = field(default_factory=list)  # job wall minus its test's own time
    durations: list[float] = field(default_factory=list)  # job wall on the worker

    def summary_lines(self) -> list[str]:
        workers = ", ".join(f"{w} {n}" for w, n in sorted(self.per_worker.items()))
        lines = [f"jobs per worker: {workers or 'none'}"]
        lines.append(f"retried after a lost worker: {len(self.retried)}"
                     + "".join(f"\n  {r}" for r in self.retried))
        if self.lost:
            lines.append(f"failed after killing {ALLOWED_FAILURES + 1} workers: {len(self.lost)}"
                         + "".join(f"\n  {r}" for r in self.lost))
        if self.gaps:
            lines.append(f"scheduling overhead: {mean(self.gaps):.2f} s per job (max "
                         f"{max(self.gaps):.2f} s); pytest start-up "
                         f"{mean(self.startups):.1f} s per job")
        return lines


def mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def job_args(args: Sequence[str]) -> list[str]:
    """The local run's pytest arguments less its positional targets (paths, ids): what every
    job gets in front of its own test id."""
    takes_value = {"-m", "-k", "-p", "-n", "-c", "-o", "--rootdir", "--deselect", "--ignore",
                   "--junitxml", "--basetemp", "--confcutdir"}
    out, expect_value = [], False
    for a in args:
        if expect_value or a.startswith("-"):
            out.append(a)
            expect_value = not expect_value and a in takes_value
    return out


def collect(args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The test ids ``pytest <args>`` would run, in its order (``--collect-only -q``)."""
    quiet = [] if "-q" in args else ["-q"]  # one -q lists ids; two would count per file
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", *quiet, *args],
                       cwd=ROOT, env=dict(env), capture_output=True, text=True)
    if r.returncode not in (0, 5):
        raise FarmError("collecting the job list failed (pytest --collect-only "
                        f"{' '.join(args)}):\n{r.stdout[-3000:]}{r.stderr[-2000:]}")
    ids = []
    for line in r.stdout.splitlines():
        if not line.strip():
            break
        if "::" in line:
            ids.append(line.strip())
    return ids


def _junit_cases(path: Path) -> tuple[dict[str, int], list[ET.Element]]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not path.is_file():
        return counts, []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return counts, []
    cases = []
    for suite in root.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
        cases += suite.findall("testcase")
    return counts, cases


def _testcase(node: str, kind: str, message: str, text: str) -> ET.Element:
    """A JUnit test case for a job that left none (pytest's ``classname`` / ``name``)."""
    path, *rest = node.split("::")
    classname = ".".join([re.sub(r"\.py$", "", path).replace("/", "."), *rest[:-1]])
    case = ET.Element("testcase", classname=classname, name=rest[-1] if rest else path,
                      time="0.000")
    ET.SubElement(case, kind, message=message).text = text
    return case


def write_junit(path: Path, cases: list[ET.Element], counts: Counter, *, wall: float,
                start: float) -> None:
    """One pytest-style JUnit file (``<testsuites><testsuite name="pytest">``)."""
    suites = ET.Element("testsuites", name="pytest tests")
    suite = ET.SubElement(suites, "testsuite", name="pytest", errors=str(counts["errors"]),
                          failures=str(counts["failures"]), skipped=str(counts["skipped"]),
                          tests=str(counts["tests"]), time=f"{wall:.3f}",
                          timestamp=datetime.fromtimestamp(start, UTC).isoformat(),
                          hostname=socket.gethostname())
    suite.extend(cases)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('<?xml version="1.0" encoding="utf-8"?>'
                    + ET.tostring(suites, encoding="unicode"))


KEEP = {"started.json", "output.log", "junit.xml"}  # attempt files that stay in results/farm


def merge_outputs(attempt: Path, results: Path) -> None:
    """Move what the attempt's tests wrote (records, coverage) into ``results``."""
    for f in sorted(attempt.rglob("*")):
        if f.is_dir() or (f.parent == attempt and f.name in KEEP):
            continue
        dest = results / f.relative_to(attempt)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():  # same name from another host (records carry a process id)
            dest = dest.with_name(f"{dest.stem}.{attempt.parent.name}{dest.suffix}")
        shutil.move(f, dest)


def _failed(cases: list[ET.Element]) -> bool:
    return any(c.find("failure") is not None or c.find("error") is not None for c in cases)


def _tail(path: Path, n: int = TAIL_LINES) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return []


def _rerun_lines(node: str, output: list[str]) -> list[str]:
    """The rerun command(s) a failing test printed, else the one a local failure names."""
    found = [cmd for ln in output for cmd in re.findall(r"make sim-one [^']*TESTS='[^']*'", ln)]
    cmds = list(dict.fromkeys(found))
    if cmds:
        return cmds
    sims = "|".join(SIMULATORS)
    m = re.search(rf"\[(?:[^\]]*-)?({sims})-s(\d+)", node)
    if not m:
        return [f"make sim-one TESTS='{node}'"]
    saved = os.environ.get("PYTEST_CURRENT_TEST")
    os.environ["PYTEST_CURRENT_TEST"] = node
    try:
        return [rerun_command(m.group(1), int(m.group(2)))]
    finally:
        if saved is None:
            del os.environ["PYTEST_CURRENT_TEST"]
        else:
            os.environ["PYTEST_CURRENT_TEST"] = saved


def _seed_rank(node: str) -> int:
    m = re.search(r"-s(\d+)(?:-|\])", node)
    return int(m.group(1)) if m else -1


def clock_text(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60}:{s % 60:02d}"


def _check_reachable(address: str, timeout: float) -> None:
    """Fail in seconds, with one message, when nothing listens at ``address``."""
    host, port = address.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise FarmError(f"no Dask scheduler at {address}: {why} (start one with "
                        f"'.venv/bin/dask scheduler', or check CLUSTER)") from None


@contextlib.contextmanager
def _connect(kind: str, where: str, *, log_dir: Path, say: Callable[[str], None]):
    """A ``distributed.Client`` on the scheduler ``where`` names, and the batch cluster (or
    ``None``); both closed on the way out."""
    from distributed import Client

    timeout = float(os.environ.get("FARM_CONNECT_TIMEOUT") or 10)
    cluster = None
    with contextlib.ExitStack() as stack:
        if kind == "address":
            _check_reachable(where, timeout)
            try:
                client = Client(where, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError) as e:
                raise FarmError(f"no Dask scheduler answers at {where}: {e}") from None
        else:
            settings = batch_settings(where)
            cluster = batch_cluster(where, settings, log_directory=log_dir)
            stack.callback(cluster.close)
            client = Client(cluster, timeout=timeout, set_as_default=False)
            cluster.melstm_settings = settings
        stack.callback(client.close)
        try:
            client.run_on_scheduler(_configure_scheduler, allowed_failures=ALLOWED_FAILURES)
        except Exception as e:  # a scheduler that refuses pickled functions, say
            say(f"farm: warning: could not set the scheduler's allowed-failures to "
                f"{ALLOWED_FAILURES} ({e}); start it with "
                f"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES={ALLOWED_FAILURES}")
        yield client, cluster


def _wait_for_workers(client, kind: str, where: str, cluster, njobs: int,
                      say: Callable[[str], None]) -> None:
    if kind == "batch":
        s = cluster.melstm_settings
        n = max(1, min(s["jobs"], math.ceil(njobs / s["cores"])))
        cluster.scale(jobs=n)
        say(f"farm: submitted {n} {where} batch job(s) of {s['cores']} core(s), "
            f"{s['memory']}, {s['walltime']}; waiting for the first worker")
        client.wait_for_workers(1)
        return
    limit = _worker_timeout()
    try:
        client.wait_for_workers(1, timeout=limit)
    except TimeoutError:
        raise FarmError(f"the Dask scheduler at {where} has no worker after {limit:.0f} s "
                        f"(start some: .venv/bin/dask worker {where} --nthreads <cores>)") from None


def _worker_timeout() -> float:
    return float(os.environ.get("FARM_WORKER_TIMEOUT") or 60)


def _check_workers(client, check: dict) -> None:
    answers = client.run(probe, on_error="return", **check)
    problems = []
    for address, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            problems.append(f"worker {address}: {type(answer).__name__}: {answer} (start "
                            f"workers with this checkout's .venv/bin/dask worker)")
        elif answer["problem"]:
            problems.append(f"worker {address} on {answer['problem']}")
    if problems:
        raise FarmError("farm workers must share this checkout's filesystem at the same path "
                        f"({ROOT}):\n  " + "\n  ".join(problems))


def _nanny_log(client, exc, n: int = 8) -> list[str]:
    """The last lines of the nanny of the worker a ``KilledWorker`` names (best effort)."""
    nanny = getattr(getattr(exc, "last_worker", None), "nanny", None)
    if not nanny:
        return []
    try:
        logs = client.sync(lambda: client.rpc(nanny).get_logs(n=n), callback_timeout=5)
        return [msg for _, msg in reversed(logs)]
    except Exception:
        return []


def run_pytest(cluster: str, args: Sequence[str], *, junit: Path, env: Mapping[str, str],
               results: Path = RESULTS, say: Callable[[str], None] | None = None) -> FarmRun:
    """Run ``pytest <args>`` as one farm job per test id on ``cluster`` and write its JUnit
    file, records and coverage where the local run would.  ``env`` is the local run's
    environment (``SEED`` included).  Returns the run, its ``rc`` as pytest's (0 passed,
    1 failed, 2 interrupted, 5 nothing collected).  Raises :class:`FarmError`."""
    say = say or (lambda s: print(s, flush=True))
    kind, where = parse_cluster(cluster)
    if kind == "local":
        raise FarmError("run_pytest needs a cluster (CLUSTER=local runs pytest-xdist)")
    t_start, t0 = time.time(), time.monotonic()
    run = FarmRun(run_id=secrets.token_hex(4))
    shutil.rmtree(results / "farm", ignore_errors=True)
    run_dir = results / "farm" / run.run_id
    run_dir.mkdir(parents=True)
    token, token_file = secrets.token_hex(16), BUILD / "farm" / f"{run.run_id}.token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(token)
    check = {"root": str(ROOT), "token_file": str(token_file), "token": token,
             "run_dir": str(run_dir), "python": sys.executable}
    try:
        with _connect(kind, where, log_dir=run_dir / "logs", say=say) as (client, batch):
            nodes = collect(args, env)
            run.jobs = len(nodes)
            if nodes:
                _wait_for_workers(client, kind, where, batch, len(nodes), say)
                _check_workers(client, check)
            jobs = _Jobs(client, run, nodes, run_dir=run_dir, results=results, say=say, t0=t0,
                         worker_timeout=_worker_timeout() if kind == "address" else None)
            try:
                jobs.submit(args, {k: v for k, v in env.items() if not HOST_ENV.fullmatch(k)},
                            check)
            except KeyboardInterrupt:
                jobs.interrupt()
            else:
                jobs.wait()
            run.wall = time.monotonic() - t0
            write_junit(junit, jobs.cases(), jobs.counts, wall=run.wall, start=t_start)
            if run.rc == 0:
                run.rc = 5 if not nodes else \
                    1 if jobs.counts["failures"] or jobs.counts["errors"] else 0
            jobs.scheduling_figures()
    finally:
        token_file.unlink(missing_ok=True)
    return run


class _Jobs:
    """The client's side of one run: submit the jobs, take their results as they finish."""

    def __init__(self, client, run: FarmRun, nodes: list[str], *, run_dir: Path,
                 results: Path, say: Callable[[str], None], t0: float,
                 worker_timeout: float | None) -> None:
        self.client, self.run, self.nodes = client, run, nodes
        self.run_dir, self.results, self.say, self.t0 = run_dir, results, say, t0
        self.futures: dict = {}
        self.case_lists: list[list[ET.Element]] = [[] for _ in nodes]
        self.counts: Counter = Counter()
        self.finished: list[dict] = []
        self.done = self.failed = 0
        self.slots, self.slots_at, self.last = 0, 0.0, time.monotonic()
        self.submitted = time.time()
        self.worker_timeout: float | None = worker_timeout
        self.no_workers_since: float | None = None

    def submit(self, args: Sequence[str], job_env: dict, check: dict) -> None:
        # tee-sys: the test's and its simulator's output stream into the job's output.log
        # (what a worker that dies leaves to read); the JUnit report is unchanged
        cmd = [sys.executable, "-m", "pytest", "-p", "tb.flow.farm_guard", "--capture=tee-sys",
               *job_args(args)]
        self.submitted = time.time()
        # seed by seed: the first wave holds every configuration once (builds side by side)
        for i in sorted(range(len(self.nodes)), key=lambda i: (_seed_rank(self.nodes[i]), i)):
            job = {"index": i, "node": self.nodes[i], "run": self.run.run_id, "cmd": cmd,
                   "env": job_env, "dir": str(self.run_dir / f"{i:05d}"), "check": check}
            fut = self.client.submit(run_job, job, key=f"melstm-job-{self.run.run_id}-{i:05d}",
                                     pure=False, retries=1)
            self.futures[fut] = i
        if self.nodes:
            n = len(self.nodes)
            self.say(f"farm: run {self.run.run_id}: {n} job{'s' * (n != 1)} (one per test and "
                     f"seed) on {self.client.scheduler.address}")

    def wait(self) -> None:
        from distributed import as_completed

        ac = as_completed(list(self.futures), loop=self.client.loop)
        try:
            while not ac.is_empty():
                batch = ac.next_batch(block=False)
                if not batch:
                    time.sleep(0.05)
                    if time.monotonic() - self.last > PROGRESS_EVERY_S:
                        self.progress()
                        self.check_workers_left()
                    continue
                for fut in batch:
                    note, report = self.take(fut)
                    self.progress(note)
                    if report:
                        self.say(report)
        except KeyboardInterrupt:
            self.interrupt()
        except FarmError:
            self.interrupt(quiet=True)
            raise

    def check_workers_left(self) -> None:
        """A scheduler whose workers are all gone (and, for an address, stay gone for
        ``FARM_WORKER_TIMEOUT``): stop with one message rather than wait for ever."""
        if self.slots:
            self.no_workers_since = None
            return
        now = time.monotonic()
        self.no_workers_since = self.no_workers_since or now
        if self.worker_timeout is not None and now - self.no_workers_since > self.worker_timeout:
            raise FarmError(f"every worker of the Dask scheduler left for more than "
                            f"{self.worker_timeout:.0f} s; {len(self.nodes) - self.done} jobs "
                            "not run")

    def interrupt(self, quiet: bool = False) -> None:
        """Cancel what is queued, kill what runs (Ctrl-C, or a worker that cannot run jobs)."""
        pending = [f for f in self.futures if not f.done()]
        self.client.cancel(pending, force=True)
        answers: dict = {}
        with contextlib.suppress(Exception):
            answers = self.client.run(kill_jobs, self.run.run_id, on_error="return")
        stopped = sum(v for v in answers.values() if isinstance(v, int))
        if not quiet:
            self.say(f"farm: interrupted: cancelled {len(pending)} unfinished job(s), killed "
                     f"{stopped} running test process group(s)")
        self.run.rc = 2

    def progress(self, note: str = "") -> None:
        now = time.monotonic()
        if now - self.slots_at > 2:
            with contextlib.suppress(Exception):
                self.slots = sum(self.client.nthreads().values())
            self.slots_at = now
        pending = len(self.nodes) - self.done
        running = min(pending, self.slots)
        elapsed = now - self.t0
        left = f"~{clock_text(elapsed / self.done * pending)} left" if self.done else "~? left"
        self.say(f"farm: {self.done}/{len(self.nodes)} done, {self.failed} failed, {running} "
                 f"running, {pending - running} queued | {clock_text(elapsed)} elapsed, {left}"
                 + (f" | {note}" if note else ""))
        self.last = now

    def take(self, fut) -> tuple[str, str]:
        """Book one finished job; the progress line's note and a failure's report."""
        from distributed.scheduler import KilledWorker

        i = self.futures[fut]
        node, job_dir = self.nodes[i], self.run_dir / f"{i:05d}"
        if fut.status == "finished":
            res = fut.result()
            if res.get("setup_error"):
                raise FarmError("farm workers must share this checkout's filesystem at the same "
                                f"path ({ROOT}):\n  worker on {res['setup_error']}")
            folder = Path(res["dir"])
            counts, cases = _junit_cases(folder / "junit.xml")
            if not cases:
                counts = {"tests": 1, "errors": 1}
                cases = [_testcase(node, "error", f"pytest exited {res['rc']} without a JUnit "
                                   "report", "\n".join(_tail(folder / "output.log")))]
            merge_outputs(folder, self.results)
            if res["attempt"] == 1 and not _failed(cases):  # keep failures' and retries' logs
                shutil.rmtree(job_dir, ignore_errors=True)
            self.finished.append({**res, "test_time": sum(float(c.get("time", 0))
                                                          for c in cases)})
            self.run.per_worker[res["name"]] += 1
            if res["attempt"] > 1:
                self.run.retried.append(f"{node} (attempt {res['attempt']} on {res['name']})")
            where = f"{res['end'] - res['start']:.1f} s on {res['name']}" + \
                (f", attempt {res['attempt']}" if res["attempt"] > 1 else "")
        else:
            exc = fut.exception() if fut.status == "error" else \
                RuntimeError(f"job {fut.status} (scheduler lost?)")
            tail, last = self._last_attempt(job_dir)
            if isinstance(exc, KilledWorker):
                msg = (f"its worker died {ALLOWED_FAILURES + 1} times running it "
                       f"(KilledWorker; last on {last or exc.last_worker.address})")
                self.run.lost.append(f"{node}: {msg}")
                nanny = _nanny_log(self.client, exc)
                text = "\n".join(["last output lines:", *tail,
                                  *(["worker's nanny log:", *nanny] if nanny else [])])
                counts, cases = {"tests": 1, "failures": 1}, [_testcase(node, "failure", msg,
                                                                         text)]
            else:
                msg = f"farm job error: {type(exc).__name__}: {exc}"
                text = "\n".join(["last output lines:", *tail])
                counts, cases = {"tests": 1, "errors": 1}, [_testcase(node, "error", msg, text)]
            where = msg
        self.case_lists[i] = cases
        self.counts.update(counts)
        self.done += 1
        bad = _failed(cases)
        self.failed += bad
        skipped = cases and all(c.find("skipped") is not None for c in cases)
        verdict = "FAILED" if bad else "SKIPPED" if skipped else "PASSED"
        report = ""
        if bad:
            report = self._failure_report(node, job_dir, cases)
            self.run.failed.append(node)
        return f"{verdict} {node} ({where})", report

    def _last_attempt(self, job_dir: Path) -> tuple[list[str], str]:
        attempts = sorted(job_dir.glob("attempt-*"), key=lambda p: int(p.name.split("-")[1]))
        if not attempts:
            return [], ""
        try:
            started = json.loads((attempts[-1] / "started.json").read_text())
            where = f"{started['name']} ({started['worker']}, host {started['host']})"
        except (OSError, ValueError, KeyError):
            where = ""
        return [f"| {ln}" for ln in _tail(attempts[-1] / "output.log")], where

    def _failure_report(self, node: str, job_dir: Path, cases: list[ET.Element]) -> str:
        texts = []
        for c in cases:
            for tag in ("failure", "error"):
                for e in c.findall(tag):
                    texts += [e.get("message", ""), *(e.text or "").splitlines()]
        attempts = sorted(job_dir.glob("attempt-*/output.log"))
        output = _tail(attempts[-1], 10**6) if attempts else []
        lines = [f"FAILED {node}"]
        lines += [f"  {ln}" for ln in texts if ln.strip()][-TAIL_LINES:]
        if attempts:
            lines.append(f"  output: {attempts[-1]}")
        lines += [f"  rerun: {cmd}" for cmd in _rerun_lines(node, output + texts)]
        return "\n".join(lines)

    def cases(self) -> list[ET.Element]:
        return [c for cs in self.case_lists for c in cs]

    def scheduling_figures(self) -> None:
        """Idle time of each worker thread before each job (dispatch latency: from the
        submission for its first job, from the end of its previous job after that) and each
        job's pytest start-up (its wall time on the worker less its test's own time)."""
        by_thread: dict[tuple, list[dict]] = {}
        for r in self.finished:
            by_thread.setdefault((r["worker"], r["thread"]), []).append(r)
        for rs in by_thread.values():
            rs.sort(key=lambda r: r["start"])
            prev = self.submitted
            for r in rs:
                self.run.gaps.append(max(0.0, r["start"] - prev))
                prev = r["end"]
        for r in self.finished:
            self.run.durations.append(r["end"] - r["start"])
            self.run.startups.append(max(0.0, r["end"] - r["start"] - r["test_time"]))


# ------------------------------------------------------------------------------ command line
def _script(args: argparse.Namespace) -> int:
    """Print the job script dask-jobqueue would submit for ``kind`` (nothing is submitted)."""
    kind, where = parse_cluster(args.kind)
    if kind != "batch":
        raise FarmError(f"script needs one of {', '.join(KINDS)}, not {args.kind!r}")
    settings = batch_settings(where)
    if not settings["scheduler_host"]:
        settings["scheduler_host"] = "127.0.0.1"  # only to print: no worker is started
    cluster = batch_cluster(where, settings, log_directory=RESULTS / "farm" / "logs")
    try:
        print(cluster.job_script())
    finally:
        cluster.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tb.flow.farm",
                                 description="Farm helpers: scaling benchmark, job scripts.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="the regression on 1, 2, 3 loopback workers")
    b.add_argument("--sim", choices=SIMULATORS, default="verilator")
    b.add_argument("--nseeds", type=int, default=2)
    b.add_argument("--tests", default="tb/chip/test_chip_top.py")
    b.add_argument("--workers", default="1,2,3", help="worker counts (default 1,2,3)")
    b.add_argument("--no-local", dest="local", action="store_false",
                   help="skip the local pytest-xdist reference run")
    b.add_argument("-v", dest="verbose", action="store_true", help="show the progress lines")
    s = sub.add_parser("script", help="print the batch job script for slurm|lsf|sge|pbs")
    s.add_argument("kind")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "bench":
            from tb.flow.farm_loopback import bench

            return bench(args)
        return _script(args)
    except FarmError as e:
        print(f"farm: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # through the importable module, so that Dask pickles its functions by reference
    from tb.flow import farm

    sys.exit(farm.main())
