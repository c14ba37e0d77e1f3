"""pytest wiring for simulator tests: which simulators, which seeds.

Every test marked ``sim`` is parametrized over the simulators (``--sim``, default from ``SIM``)
and the seeds (``--nseeds`` seeds starting at ``SEED``, random when unset).  The parameters
end the test id (``...[8-4-3-icarus-s1234]``) so a failing case names its simulator and seed,
and ``make sim-one SIM=icarus SEED=1234 TESTS='<id>'`` reruns exactly it.
"""

from __future__ import annotations

import os

import pytest

from tb.kit.runner import DEFAULT_SIM, SIMULATORS, ConfigError, selected_seed, waves_requested


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sim", default=os.environ.get("SIM", DEFAULT_SIM),
                     help=f"comma-separated simulators for sim tests ({', '.join(SIMULATORS)})")
    parser.addoption("--nseeds", type=int, default=1,
                     help="seeds per sim test, counting up from SEED (random when unset)")


def _sims(config: pytest.Config) -> list[str]:
    sims = [s.strip() for s in config.getoption("--sim").split(",") if s.strip()]
    bad = [s for s in sims if s not in SIMULATORS]
    if bad or not sims:
        raise pytest.UsageError(f"--sim/SIM: {','.join(bad) or 'empty'} is not one of "
                                f"{', '.join(SIMULATORS)}")
    return sims


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Draw the base seed before xdist starts its workers, which inherit it through SEED.
    n = config.getoption("--nseeds")
    if n < 1:
        raise pytest.UsageError(f"--nseeds={n} must be at least 1")
    _sims(config)  # a bad --sim/SIM, SEED or WAVES: one message, before any test starts
    try:
        base = selected_seed(count=n)
        waves_requested()
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from None
    os.environ["SEED"] = str(base)
    config._melstm_seeds = [base + i for i in range(n)]


def _seeds(config: pytest.Config) -> list[int]:
    return config._melstm_seeds


def pytest_report_header(config: pytest.Config) -> str:
    return f"simulators: {','.join(_sims(config))}; seeds: {_seeds(config)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("sim") is None:
        return
    cases = [(s, n) for s in _sims(metafunc.config) for n in _seeds(metafunc.config)]
    metafunc.parametrize("sim_and_seed", cases, ids=[f"{s}-s{n}" for s, n in cases],
                         indirect=True)


@pytest.fixture(autouse=True)
def sim_and_seed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """For sim tests: put the case's simulator and seed into SIM and SEED for the runner."""
    if not hasattr(request, "param"):
        return None
    sim, seed = request.param
    monkeypatch.setenv("SIM", sim)
    monkeypatch.setenv("SEED", str(seed))
    return sim, seed
