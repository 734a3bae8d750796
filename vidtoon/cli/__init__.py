"""The `vidtoon` command line: a thin Typer layer over the Python API.

`app` (in `vidtoon.cli.app`) holds the one error boundary; each module below adds one group of
commands to it and holds no logic beyond turning flags into an API call.
"""

import atexit
import logging
import os
import signal
import sys

from vidtoon.cli import animate, batch, compare, consistency, live, media, restyle, train  # noqa: F401  (add their commands to the app)
from vidtoon.cli.app import app, err_console, install_signal_handlers
from vidtoon.cli.progress import RichProgress
from vidtoon.errors import Interrupted

__all__ = ["RichProgress", "app", "run"]


def run() -> None:
    """Console-script entry point."""
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show "·" or "ö" (LANG=C) shows "?" instead of a
        if "utf" not in (getattr(stream, "encoding", "") or "utf").lower() and hasattr(stream, "reconfigure"):  # traceback
            stream.reconfigure(errors="replace")
    install_signal_handlers()
    atexit.register(_skip_teardown)  # registered before torch & co. are imported: runs after their exit hooks
    try:
        app()
    except KeyboardInterrupt as exc:  # before a command started (the commands' own boundary is in `app`)
        exc = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        err_console.print(f"[bold red]{exc.message}[/]")
        _leave(exc.exit_code)
    except SystemExit as exc:
        if exc.code in INTERRUPTED_CODES:
            _leave(exc.code)
        _finished["code"] = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise


_finished: dict[str, int] = {}  # the exit code of a command that ended through the CLI's own boundary


def _skip_teardown() -> None:
    """The last exit hook of a finished command: the exit hooks of everything imported after the CLI (torch, Ray,
    multiprocessing, TensorBoard) have run, the output is written; what is left is the interpreter collecting torch's
    modules, ~1.1 s of every run at rest (`vidtoon restyle` of 0.2 s of the sample: 5.5 s, 1.1 of them after `wrote`),
    so it ends here. An exit by an unexpected exception (a traceback) is left to the interpreter."""
    if "code" not in _finished:
        return
    logging.shutdown()  # the one hook registered before this one (logging is imported by the CLI itself)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_finished["code"])


INTERRUPTED_CODES = (128 + signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGHUP)


def _leave(code: int) -> None:
    """Exit at once after an interruption: the run's own cleanup is done, and the interpreter's teardown
    (collecting torch's objects) can take seconds on a busy machine, past the promptness a signal asks for.

    multiprocessing's own exit finalizers still run (they are quick): without them the resource tracker that
    `batch` workers started would print a warning about the worker queues' semaphores after our one line.
    """
    if "multiprocessing" in sys.modules:
        from multiprocessing import util

        util._run_finalizers(0)  # semaphores unlinked and unregistered, queues closed; no process is joined
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
