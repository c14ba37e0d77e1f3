"""One runner helper: every block test is a pytest function that calls :func:`run_block`.

``run_block`` builds the DUT with the given HDL parameters into its own build directory
(``sim_build/<sim>/<pytest node>``), on the simulator chosen by ``SIM`` (``icarus`` or
``verilator``), runs the cocotb tests of one module against it and fails the pytest test if
any cocotb test failed.  Knobs, all from the environment so that ``make`` passes them through:

``SIM``    ``icarus`` | ``verilator`` (default ``verilator``)
``SEED``   cocotb seed; when unset a fresh one is drawn and logged, so every run is reproducible
``WAVES``  ``1`` writes an FST waveform (``dump.fst`` on Verilator, ``<top>.fst`` on Icarus)
``COV``    ``1`` (Verilator only) builds with line, toggle and expression coverage; every
           test leaves ``coverage.dat`` in its run folder and exports its functional
           coverage (``make signoff`` merges both).  Not ``COVERAGE``: cocotb reads that one
           as "measure the test bench's Python coverage".

Each knob is parsed and checked here once (:func:`selected_sim`, :func:`selected_seed`,
:func:`waves_requested`, :func:`coverage_requested`, the list :data:`SIMULATORS`);
``conftest.py``, ``tb/flow`` and the debug tools use these rather than parsing it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from tb.kit import toolchain

ROOT = Path(__file__).resolve().parents[2]
# MELSTM_RTL / MELSTM_BUILD: another RTL tree (a copy laid out like rtl/, files.f included)
# and its own build folder; `make mutate` (tb/flow/mutate.py) points the tests at a mutated
# copy this way, never touching the checkout's rtl/ or sim_build/.
RTL = Path(os.environ.get("MELSTM_RTL") or ROOT / "rtl")
BUILD = Path(os.environ.get("MELSTM_BUILD") or ROOT / "sim_build")
RESULTS = Path(os.environ.get("MELSTM_RESULTS") or ROOT / "results")  # records, JUnit, coverage
SIMULATORS = ("icarus", "verilator")  # what SIM, --sim and the testplan's "<sim>:" accept
DEFAULT_SIM = "verilator"
SEED_MAX = 2**32 - 1  # cocotb's seeds are 32-bit

# Verilator: assertions on, and unknown-value randomisation so X-dependence shows up on a
# two-state simulator too.
VERILATOR_ARGS = ["--assert", "--x-assign", "unique", "--x-initial", "unique", "-O3"]
# COV=1: code coverage (line includes branches; toggle; expression terms) of the RTL; the
# test-bench modules a build adds (extra_sources) and COVERAGE_OFF_RTL are built with coverage
# off.
# Toggle coverage skips buses wider than 64 bits (the 256-bit feature vector at each level of
# the hierarchy, the lanes' packed read data): nearly half the toggle points, each re-counted
# bit by bit whenever its bus changes, and they say nothing the per-band functional bins
# (codes 0 and 255 in every band) do not.
COVERAGE_ARGS = ["--coverage-line", "--coverage-toggle", "--coverage-expr",
                 "--coverage-max-width", "64"]
# RTL that is not design: the simulation-only stream protocol checkers (`ifndef SYNTHESIS).
# Built with coverage off like the test-bench modules; their data copies would otherwise be a
# sixth of the toggle points and of toggle coverage's cost.
COVERAGE_OFF_RTL = ("prim/prim_stream_check.sv",)
# The simulation loop of Verilator builds that take their clock from C++ (run_block's
# cxx_clock): it replaces cocotb's share/lib/verilator/verilator.cpp in the build command.
CXX_CLOCK_MAIN = ROOT / "tb" / "kit" / "verilator_main.cpp"
# ... and the same clock made by a delay loop on the other simulators: the file such a top level
# includes (`include "delay_clock.svh"; its folder goes on the include path).
CXX_CLOCK_DELAY_LOOP = ROOT / "tb" / "kit" / "delay_clock.svh"


# cocotb 2.1's Verilator runner puts --public-flat-rw (every signal public and writable) into
# every build command, ahead of the build arguments.  Verilator's on/off switches take the last
# of --X / --no-X, so a build whose control file names the public signals adds this build
# argument to undo it.  tb/kit/test_runner.py checks both halves (cocotb's command, Verilator's
# reading of it) without a simulator build, so a cocotb or Verilator upgrade that changes
# either fails there.
NO_PUBLIC_FLAT_RW = "--no-public-flat-rw"


class ConfigError(ValueError):
    """A knob (SIM, SEED, WAVES, a parameter) has a value the runner cannot use."""


def selected_sim() -> str:
    """The simulator ``SIM`` names (default ``verilator``)."""
    sim = os.environ.get("SIM", DEFAULT_SIM)
    if sim not in SIMULATORS:
        raise ConfigError(f"SIM={sim!r} is not one of {', '.join(SIMULATORS)}")
    return sim


def selected_seed(*, count: int = 1, default: int | None = None) -> int:
    """The seed ``SEED`` gives (decimal or ``0x...``), the first of ``count`` consecutive ones.

    Unset or empty: ``default``, or a fresh random seed when that is ``None``.  Raises
    :class:`ConfigError` naming ``SEED`` when it is not an integer or the seeds leave
    ``0..SEED_MAX``.
    """
    raw = os.environ.get("SEED", "")
    if raw == "":
        return secrets.randbelow(2**31) if default is None else default
    try:
        seed = int(raw, 0)
    except ValueError:
        raise ConfigError(f"SEED={raw!r} is not an integer") from None
    if not 0 <= seed <= SEED_MAX - (count - 1):
        last = f" (and the {count - 1} after it)" if count > 1 else ""
        raise ConfigError(f"SEED={seed}{last} is outside 0..2**32-1")
    return seed


def waves_requested() -> bool:
    """``WAVES=1``: a waveform build and run (and the debug probes; ``tb/debug``)."""
    raw = os.environ.get("WAVES", "0")
    if raw not in ("0", "1", ""):
        raise ConfigError(f"WAVES={raw!r} must be 0 or 1")
    return raw == "1"


def coverage_requested() -> bool:
    raw = os.environ.get("COV", "0")
    if raw not in ("0", "1", ""):
        raise ConfigError(f"COV={raw!r} must be 0 or 1")
    if raw == "1" and selected_sim() != "verilator":
        raise ConfigError("COV=1 needs SIM=verilator (code coverage comes from Verilator)")
    return raw == "1"


def file_list() -> list[str]:
    """The RTL sources of ``rtl/files.f`` in compile order (the project's one file list)."""
    lines = (RTL / "files.f").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def rtl_sources(names: Sequence[str]) -> list[Path]:
    """Paths of RTL files named relative to ``rtl/`` (``"prim/prim_round_sat.sv"``), checked to
    exist."""
    paths = [p if (p := Path(n)).is_absolute() else RTL / n for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(f"RTL source(s) not found: {', '.join(missing)}")
    return paths


def _build_once(runner, *, build_dir: Path, key: str, **build_kwargs) -> None:
    """Build into ``build_dir`` unless an identical build is already there.

    Tests of one DUT configuration share a build; a lock keeps parallel workers from building
    the same directory at once, and a stamp (sources' times plus the build arguments) says
    whether the build is current.
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    sources = build_kwargs["sources"]
    stamp_text = key + "".join(f"{p}:{p.stat().st_mtime_ns}\n" for p in sources)
    stamp = build_dir / "build.stamp"
    with open(build_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == stamp_text:
            return
        stamp.unlink(missing_ok=True)
        # always: cocotb's Icarus runner skips a build whose output is newer than every source,
        # which misses what only the stamp sees (included files, build arguments)
        runner.build(build_dir=build_dir, always=True, **build_kwargs)
        stamp.write_text(stamp_text)


def _cache_byte_code() -> None:
    """Let simulator processes keep their compiled Python in ``sim_build/pycache``.

    Every simulation imports the test bench afresh, and cocotb runs its modules through
    pytest's assertion rewriting.  With ``PYTHONDONTWRITEBYTECODE`` set (as on this project's
    machines) nothing was cached: each run parsed, rewrote and compiled every module of
    ``tb/`` and ``refmodel/`` again, about 2 s of a 4 s top-level test (docs/speed.md).  The
    byte code goes under the build folder (``PYTHONPYCACHEPREFIX``), never into the source
    tree.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(BUILD / "pycache")


def _use_main(runner, main: Path) -> None:
    """Build ``runner`` (cocotb's Verilator runner) with ``main`` as the simulation loop in
    place of cocotb's ``verilator.cpp``."""
    build_command = runner._build_command  # cocotb_tools.runner.Verilator's command list

    def with_main():
        cmds = build_command()
        verilate = cmds[0]
        mains = [i for i, a in enumerate(verilate) if Path(a).name == "verilator.cpp"]
        if len(mains) != 1:
            raise ConfigError("cannot find cocotb's verilator.cpp in the Verilator command "
                              f"(cocotb changed its runner?): {verilate}")
        verilate[mains[0]] = str(main)
        return cmds

    runner._build_command = with_main


def _node_dir() -> str:
    """A directory name unique to the running pytest node (parameters included)."""
    node = os.environ.get("PYTEST_CURRENT_TEST", "manual").split(" ")[0]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.split("::", 1)[-1])


def rerun_command(sim: str, seed: int) -> str:
    """The one command that reruns the current pytest node with this seed and waveforms."""
    node = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    return f"make sim-one SIM={sim} SEED={seed} WAVES=1 TESTS='{node}'"


def run_block(
    *,
    toplevel: str,
    test_module: str,
    parameters: Mapping[str, int] | None = None,
    testcase: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    plusargs: Sequence[str] = (),
    extra_sources: Sequence[str | Path] = (),
    verilator_public: str | Path | None = None,
    verilator_args: Sequence[str] = (),
    coverage_scope: Sequence[str] | None = None,
    cxx_clock: tuple[str, str] | None = None,
) -> Path:
    """Build ``toplevel`` (from ``rtl/files.f``) with ``parameters``, run ``test_module`` on it.

    ``extra_sources`` (paths relative to the project root, or absolute) are compiled after
    ``rtl/files.f``: test-bench-only modules such as a harness around the chip.
    ``verilator_public``: a Verilator control file naming the signals cocotb may reach; then
    the build undoes cocotb's ``--public-flat-rw`` (everything public and writable;
    :data:`NO_PUBLIC_FLAT_RW`), which lets Verilator optimise the rest.  Without one, a
    Verilator build makes every signal readable and only the DUT's inputs writable
    (:func:`_read_only_internals`).  Ignored on Icarus, and with ``WAVES=1``: a waveform
    rerun builds everything public so that the debug probes (``tb/debug/stage_probe.py``) can
    watch the design's internal streams.
    ``verilator_args``: Verilator build options of this DUT, added after the shared
    ``VERILATOR_ARGS``.  Ignored on Icarus.
    ``cxx_clock``: ``(clock input, half-period input)`` of a top level that takes its clock
    from the simulation loop on Verilator: the build defines ``MELSTM_CXX_CLOCK`` for the HDL
    and runs ``tb/kit/verilator_main.cpp`` instead of cocotb's loop, which toggles the clock
    input every half period (in ns, read from the half-period input; 0 stops it) without
    ``--timing`` and without a VPI call per edge.  On Icarus the top level makes the clock
    with the delay loop it includes from ``tb/kit/delay_clock.svh`` (both builds put that
    file on the include path and in the build stamp).
    ``coverage_scope``: with ``COV=1``, the RTL files (names in ``rtl/files.f``) this build
    instruments; the others are built with coverage off.  ``None``: every RTL file but
    ``COVERAGE_OFF_RTL``.  Sign-off merges coverage per module over every run, so a module
    left out here is measured by the runs that do instrument it (its block tests); a point
    only this run would have hit shows as a hole, never the other way round.
    Returns the results XML path; raises (fails the pytest test) when a cocotb test failed.
    """
    from cocotb_tools.runner import get_runner

    sim = selected_sim()
    seed = selected_seed()
    waves = waves_requested()
    coverage = coverage_requested()
    toolchain.apply()
    _cache_byte_code()
    params = dict(parameters or {})
    unknown = sorted(set(coverage_scope or ()) - set(file_list()))
    if unknown:
        raise ConfigError(f"coverage_scope names files not in rtl/files.f: {', '.join(unknown)}")
    extra = [p if (p := Path(s)).is_absolute() else ROOT / p for s in extra_sources]
    missing = [str(p) for p in extra if not p.is_file()]
    if missing:
        raise ConfigError(f"extra source(s) not found: {', '.join(missing)}")
    key = f"{toplevel} {sorted(params.items())} waves={waves} coverage={coverage}"
    if extra:
        key += f" extra={[str(p) for p in extra]}"
    vlt = None
    if verilator_public is not None and sim == "verilator" and not waves:
        vlt = p if (p := Path(verilator_public)).is_absolute() else ROOT / p
        if not vlt.is_file():
            raise ConfigError(f"Verilator control file not found: {vlt}")
        key += f" public={vlt}"
    tag = hashlib.sha1(key.encode()).hexdigest()[:10]
    build_dir = BUILD / sim / f"build-{toplevel}-{tag}"
    if vlt is None and sim == "verilator" and not waves:
        vlt = _read_only_internals(build_dir, toplevel)
    test_dir = BUILD / sim / _node_dir()
    build_args: list[str] = []
    env_sim: dict[str, str] = {}
    if sim == "verilator":
        # Verilator applies writes at the right moment, so the clock can run in C without
        # Python writes going through the ReadWrite phase.  Icarus keeps cocotb's default
        # (writes deferred to ReadWrite): trusting its inertial writes races with the DUT's
        # flops on the edge where the test bench writes.
        env_sim["COCOTB_TRUST_INERTIAL_WRITES"] = "1"
        build_args += [*VERILATOR_ARGS, *verilator_args]
        if cxx_clock is not None:
            clock, half = cxx_clock
            build_args += ["+define+MELSTM_CXX_CLOCK", "-CFLAGS",
                           f"-DMELSTM_CLOCK={clock} -DMELSTM_CLOCK_HALF={half}"]
        if vlt is not None:  # the control file says which signals are public
            build_args.append(NO_PUBLIC_FLAT_RW)
        if waves:
            build_args += ["--trace-fst", "--trace-structs"]
        if coverage:
            build_args += COVERAGE_ARGS
            # test-bench modules and checkers are not sign-off RTL: do not pay for counting them
            off_rtl = [f for f in file_list() if f in COVERAGE_OFF_RTL
                       or (coverage_scope is not None and f not in coverage_scope)]
            off = [*extra, *rtl_sources(off_rtl)]
            build_args.append(str(_coverage_off(build_dir, off)))
            key += f" coverage_off={off_rtl}"  # the control file's contents: part of the stamp
    env = {
        "MELSTM_SIM": sim,
        "MELSTM_RESULTS": str(RESULTS),
        "MELSTM_RERUN": rerun_command(sim, seed),
        "MELSTM_PARAMS": ",".join(f"{k}={v}" for k, v in (parameters or {}).items()),
        **env_sim,
        **(extra_env or {}),
    }
    cov_dir = RESULTS / "coverage"
    if coverage:
        env["MELSTM_FUNCOV_FILE"] = str(cov_dir / "func" / f"{test_dir.name}.yml")
        (test_dir / "coverage.dat").unlink(missing_ok=True)  # never merge a stale one
    audio = env.get("AUDIO") or os.environ.get("AUDIO")
    if audio:
        # The simulation runs in its own folder: hand it an absolute path.  (cocotb's runner
        # lays os.environ over extra_env, so the process environment must carry it too.)
        env["AUDIO"] = os.environ["AUDIO"] = str(Path(audio).resolve())
    print(f"[runner] {toplevel} on {sim}, seed {seed}, parameters {params}, "
          f"build {build_dir}, run {test_dir}")
    runner = get_runner(sim)
    includes: list[Path] = []
    if cxx_clock is not None:
        includes.append(CXX_CLOCK_DELAY_LOOP.parent)
        # in the build stamp: an edit of the loop or of the included clock rebuilds
        key += f" clock={hashlib.sha1(CXX_CLOCK_DELAY_LOOP.read_bytes()).hexdigest()}"
        if sim == "verilator":
            _use_main(runner, CXX_CLOCK_MAIN)
            key += f" main={hashlib.sha1(CXX_CLOCK_MAIN.read_bytes()).hexdigest()}"
    _build_once(
        runner,
        build_dir=build_dir,
        key=f"{key} {build_args} {toolchain.MAKE_VARS}\n",
        sources=rtl_sources(file_list()) + extra + ([vlt] if vlt else []),
        hdl_toplevel=toplevel,
        includes=includes,
        parameters=params,
        build_args=build_args,
        waves=waves,
        timescale=("1ns", "1ps"),
    )
    if waves and sim == "icarus":
        # the build's dump module writes where this plusarg says: into the test's own folder
        plusargs = [*plusargs, f"+dumpfile_path={test_dir / (toplevel + '.fst')}"]
    results = runner.test(
        test_module=test_module,
        hdl_toplevel=toplevel,
        hdl_toplevel_lang="verilog",  # needed when the build was reused (no build() here)
        testcase=testcase,
        seed=seed,
        waves=waves,
        extra_env=env,
        plusargs=list(plusargs),
        build_dir=build_dir,
        test_dir=test_dir,
        timescale=("1ns", "1ps"),
    )
    if waves:
        wave = test_dir / ("dump.fst" if sim == "verilator" else f"{toplevel}.fst")
        print(f"[runner] waveform: {wave}")
    if coverage:
        _collect_code_coverage(test_dir, cov_dir / "code")
    return results


def _write_if_changed(path: Path, text: str) -> Path:
    """Write a generated control file only when its text changes (no forced rebuilds)."""
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def _read_only_internals(build_dir: Path, toplevel: str) -> Path:
    """A Verilator control file for a block build: every signal readable by cocotb, only the
    DUT's inputs (``*_i``, ``*_ni``, the project's port naming) writable.

    cocotb's default, ``--public-flat-rw`` on everything, tells Verilator that any signal may
    change from outside, so it re-evaluates every piece of logic, toggle-coverage checks
    included, after each input change (each clock edge a test bench drives): block tests ran
    about a third slower, and coverage cost them up to twice the time.
    """
    rules = ['public_flat_rd -module "*" -var "*"']
    rules += [f'public_flat_rw -module "{toplevel}" -var "{pat}"' for pat in ("*_i", "*_ni")]
    return _write_if_changed(build_dir.parent / f"{build_dir.name}-public.vlt",
                             "`verilator_config\n" + "".join(f"{r}\n" for r in rules))


def _coverage_off(build_dir: Path, files: Sequence[Path]) -> Path:
    """A Verilator control file that turns coverage off in ``files`` (rewritten only when its
    text changes, so that it does not force rebuilds)."""
    return _write_if_changed(
        build_dir.parent / f"{build_dir.name}-coverage-off.vlt",
        "`verilator_config\n" + "".join(f'coverage_off -file "{f}"\n' for f in files))


def _collect_code_coverage(test_dir: Path, dest: Path) -> None:
    """Move the run's ``coverage.dat`` to ``dest/<run>.dat`` (what ``make signoff`` merges)."""
    dat = test_dir / "coverage.dat"
    if not dat.is_file():
        raise ConfigError(f"COV=1 but the simulation wrote no {dat} (did it end abnormally?)")
    dest.mkdir(parents=True, exist_ok=True)
    dat.replace(dest / f"{test_dir.name}.dat")
