"""The forkserver local mode's workers are forked from: started early, so its imports overlap the caller's own.

torch is not safe across a plain `fork` of a process that has run it, so workers come from a `forkserver`: a clean
server process imports torch and the restyle pipeline once (`PRELOAD`) and forks each worker from itself, so N
workers cost one torch import, not N (on a loaded 2-core machine an import takes 10-25 s wall).

This module imports nothing heavy (no torch, no PyAV), so a caller that has not imported the pipeline yet (the
command line) can start the server first and import the pipeline itself while the server does the same: the two
imports overlap instead of following each other. The server runs nothing but imports; it ends with this process
(`vidtoon.batch.forkserver_exit`). It and its workers ignore SIGHUP (`_ensure_running`): the batch stops them.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence

from vidtoon.errors import UsageError

PRELOAD = (  # the modules that import torch, PyAV and OpenCV (`vidtoon.restyle` and `vidtoon.styles` themselves do not)
    "vidtoon.batch.local",
    "vidtoon.restyle.pipeline",
    "vidtoon.restyle.video",
    "vidtoon.styles",
    "vidtoon.device",
    "vidtoon.models.catalog",  # the model families, registered
    "vidtoon.models.checkpoint",
    "vidtoon.filters.catalog",
)
LAST = "vidtoon.batch.forkserver_exit"  # imported last: its atexit hook runs first


def start_server(extra: Sequence[str] = ()) -> None:
    """Start the server now (a no-op when it runs already), preloading `PRELOAD` and then the modules in `extra`.

    `extra`: modules the workers would import anyway, e.g. the command line's, which every worker re-imports as its
    `__main__` (Python 3.11's forkserver does not preload `__main__` itself).
    """
    worker_context(extra)


def worker_context(extra: Sequence[str] = ()):
    """The forkserver context, its server preloading the pipeline and started now (spawn where there is no forkserver).

    The preload list is read when the server starts: once it runs, `extra` changes nothing.

    Raises:
        UsageError: the current folder was deleted (a new process starts in it: multiprocessing's os.getcwd() fails).
    """
    try:
        os.getcwd()
    except FileNotFoundError:
        raise UsageError(
            "the current folder no longer exists, so no worker can start in it", hint="cd to a folder that exists and run again"
        ) from None
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*PRELOAD, *extra, LAST])
    _ensure_running()
    return context


def _ensure_running() -> None:
    """Start the server (a no-op when it runs already) and multiprocessing's resource tracker with SIGHUP ignored.

    A closing terminal sends SIGHUP to every process of its job: these helpers would die of it at once (the tracker's
    successor then prints warnings and tracebacks about the workers' semaphores after the batch's one line), and so
    would the workers forked from the server. Ignoring it, they end with the batch process as always, and the batch,
    which handles SIGHUP as SIGTERM, stops its workers with SIGINT (`local._stop_workers`). An ignored signal stays
    ignored across fork and exec; the handler is set back at once in this process.
    """
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set a handler
        forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        forkserver.ensure_running()  # the resource tracker first, then the server
    finally:
        signal.signal(signal.SIGHUP, previous)
