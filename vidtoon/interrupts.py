"""The signals that stop a run (SIGINT: Ctrl-C, SIGTERM, SIGHUP: the terminal closed), what to call each, and the
last moment of a run, when the finished output is moved into its final name and a signal must wait.

SIGHUP is handled only where it is not ignored: `nohup` (and a shell's `disown`-like setups) set it to ignored
before the command starts, to keep it running after its terminal closes; it then stays ignored.

The one process-wide record here is `output_finished`: once the command's output is in its final name the run's
work is done, and the CLI lets the command finish (its cleanup and its "wrote ..." line) instead of stopping it
with a misleading "nothing was written".
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CAUSES = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP (terminal closed)",
}
"""What stopped a run, as a message says it."""


def stop_signals() -> tuple[int, ...]:
    """The signals that stop a run in this process: SIGINT, SIGTERM, and SIGHUP unless it is ignored (`nohup`)."""
    ignored = signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    return (signal.SIGINT, signal.SIGTERM) if ignored else (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def cause(signum: int) -> str:
    """How a message names the signal `signum` ("Ctrl-C", "SIGTERM", "SIGHUP (terminal closed)")."""
    return CAUSES.get(signum) or signal.Signals(signum).name


@contextmanager
def held_signals() -> Iterator[None]:
    """Within the block (in the main thread; elsewhere Python runs no handler anyway), a stop signal waits: it is
    recorded, and sent again to this process when the block ends, to the handlers there were before it: each signal
    that arrived, once, in the order they first arrived (a handler that raises does not keep the next one from being
    sent: it runs while the first one's exception unwinds, as it would have without the hold). For a few steps that
    must not be cut in two (a rename and what records it); never around long work.

    A signal whose handler was not installed from Python (`signal.getsignal` returns None: an embedding program's
    own) is left alone: it could not be put back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum, frame) -> None:
        held.append(signum)

    previous = {}
    for s in stop_signals():
        handler = signal.getsignal(s)
        if handler is not None:
            previous[s] = handler
            signal.signal(s, hold)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _send_again(list(dict.fromkeys(held)))


def _send_again(signums: list[int]) -> None:
    """Raise each of `signums` in this process in turn, each even when an earlier one's handler raised."""
    if signums:
        try:
            signal.raise_signal(signums[0])
        finally:
            _send_again(signums[1:])


_finished: list[Path] = []


def output_finished(path: Path) -> None:
    """Record that the command's output `path` is complete under its final name (called while signals are held)."""
    _finished.append(Path(path))


def finished_outputs() -> tuple[Path, ...]:
    """The outputs this process has finished so far, in order (see `output_finished`)."""
    return tuple(_finished)
