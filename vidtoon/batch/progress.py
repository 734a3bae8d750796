"""Progress of a batch: what the caller sees (`BatchProgress`), and how workers in other processes feed it.

A worker runs `vidtoon.restyle` with a `QueueProgress`, which turns the restyle's `start`/`advance` calls into
small messages on a multiprocessing queue (advances gathered for up to `interval` seconds, so a fast job does not
flood it); the parent process reads the queue (`dispatch`) and calls the caller's `BatchProgress`.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from vidtoon.batch.report import JobResult


class BatchProgress(Protocol):
    """Receives a batch's progress (the CLI draws it; the library's default ignores it). Called from one thread."""

    def batch_started(self, jobs: int, frames: int | None) -> None:
        """`jobs` will run, `frames` in all (None when some counts are unknown)."""

    def job_started(self, number: int, frames: int | None, name: str) -> None:
        """Job `number` began: `frames` to make (None: unknown), `name` to show."""

    def job_advanced(self, number: int, frames: int) -> None:
        """Job `number` made `frames` more."""

    def job_finished(self, result: JobResult) -> None:
        """Job `result.number` ended (done, failed or skipped)."""


class NoBatchProgress:
    """Progress that goes nowhere: the library's default."""

    def batch_started(self, jobs: int, frames: int | None) -> None:
        pass

    def job_started(self, number: int, frames: int | None, name: str) -> None:
        pass

    def job_advanced(self, number: int, frames: int) -> None:
        pass

    def job_finished(self, result: JobResult) -> None:
        pass


class QueueProgress:
    """The restyle `Progress` of job `number` in a worker: its events go to `queue` as (kind, number, value) tuples.

    `frames` counts every frame the restyle reported, the earlier segments of a resumed run included.
    `starts=False` (a chunk of a film): `start` sends nothing, the advances count towards the film's bar.
    """

    def __init__(self, queue: Any, number: int, *, interval: float = 0.2, starts: bool = True):
        self.queue, self.number, self.interval, self.starts = queue, number, interval, starts
        self.frames = 0
        self._pending = 0
        self._sent_at = 0.0

    def start(self, total: int | None, description: str) -> None:
        if self.starts:  # a chunk's worker does not start its film's bar: the driver did, for the whole film
            self.queue.put(("start", self.number, (total, description)))

    def advance(self, steps: int = 1) -> None:
        self.frames += steps
        self._pending += steps
        now = time.monotonic()
        if now - self._sent_at >= self.interval:
            self.flush()
            self._sent_at = now

    def flush(self) -> None:
        if self._pending:
            self.queue.put(("advance", self.number, self._pending))
            self._pending = 0

    def finish(self, result: JobResult) -> None:
        self.flush()
        self.queue.put(("finished", self.number, result))


def dispatch(event: tuple[str, int, Any], progress: BatchProgress) -> None:
    """Call `progress` for one event from a worker's `QueueProgress`."""
    kind, number, value = event
    if kind == "start":
        progress.job_started(number, *value)
    elif kind == "advance":
        progress.job_advanced(number, value)
    elif kind == "finished":
        progress.job_finished(value)
