"""pytest plugin every farm job loads (``-p tb.flow.farm_guard``): no simulator outlives its
Dask worker.

A farm job (:func:`tb.flow.farm.run_job`) starts pytest in a process group of its own, with
``MELSTM_FARM_PARENT`` set to the worker's process id.  When the worker dies (``kill -9``, the
out-of-memory killer, a lost node) its children are re-parented; this plugin's watchdog thread
notices within :data:`POLL_S` and kills the whole group (pytest and the simulator it started),
so that the rerun Dask schedules elsewhere never races a stray copy of the same test.  A Ctrl-C
of the regression kills the same groups from the worker side (:func:`tb.flow.farm.kill_jobs`).
Without ``MELSTM_FARM_PARENT`` (every run but a farm job) the plugin does nothing.
"""

from __future__ import annotations

import os
import signal
import threading
import time

POLL_S = 0.2  # how often the watchdog looks at its parent


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def pytest_configure(config) -> None:
    parent = os.environ.get("MELSTM_FARM_PARENT", "")
    if parent.isdigit() and os.getpgrp() == os.getpid():  # only as a job's group leader
        threading.Thread(target=_watch, args=(int(parent),), name="farm-guard",
                         daemon=True).start()
