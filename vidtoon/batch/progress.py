"""Progress of a batch: what the caller sees (`BatchProgress`), and how workers in other processes feed it.

A worker runs `vidtoon.restyle` with a `QueueProgress`, which turns the restyle's `start`/`advance` calls into
small messages on a multiprocessing queue (advances gathered for up to `interval` seconds, so a fast job does not
flood it); the parent process reads the queue (`Dispatcher`) and calls the caller's `BatchProgress`.
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
    `chunk` (a chunk of a film, by its index): the film's bar was started by the driver, so `start` only marks the
    beginning of this attempt at the chunk ("chunk_start"), and the advances name the chunk ("chunk_advance",
    value (chunk, frames)): a chunk run again after its worker died takes back what the lost attempt counted.
    """

    def __init__(self, queue: Any, number: int, *, interval: float = 0.2, chunk: int | None = None):
        self.queue, self.number, self.interval, self.chunk = queue, number, interval, chunk
        self.frames = 0
        self._pending = 0
        self._sent_at = 0.0

    def start(self, total: int | None, description: str) -> None:
        if self.chunk is None:
            self.queue.put(("start", self.number, (total, description)))
        else:
            self.queue.put(("chunk_start", self.number, self.chunk))

    def advance(self, steps: int = 1) -> None:
        self.frames += steps
        self._pending += steps
        now = time.monotonic()
        if now - self._sent_at >= self.interval:
            self.flush()
            self._sent_at = now

    def flush(self) -> None:
        if self._pending:
            if self.chunk is None:
                self.queue.put(("advance", self.number, self._pending))
            else:
                self.queue.put(("chunk_advance", self.number, (self.chunk, self._pending)))
            self._pending = 0

    def finish(self, result: JobResult) -> None:
        self.flush()
        self.queue.put(("finished", self.number, result))


class Dispatcher:
    """Calls `progress` for the workers' `QueueProgress` events, counting each unit's attempt: a unit that starts
    again (a job or chunk retried after its worker died) takes back the frames its lost attempt reported, so the
    bars never count a frame twice.

    Args:
        progress: the caller's `BatchProgress`.
        finished: pass "finished" events on (Ray's driver reports results from the tasks' return values instead).
    """

    def __init__(self, progress: BatchProgress, *, finished: bool = True):
        self.progress, self.finished = progress, finished
        self.counted: dict[tuple[int, int | None], int] = {}  # (job, chunk or None) -> frames of its current attempt

    def __call__(self, event: tuple[str, int, Any]) -> None:
        kind, number, value = event
        if kind == "start":
            if self._restart((number, None)) is None:
                self.progress.job_started(number, *value)
        elif kind == "chunk_start":
            self._restart((number, value))
        elif kind == "advance":
            self._advance((number, None), value)
        elif kind == "chunk_advance":
            self._advance((number, value[0]), value[1])
        elif kind == "finished" and self.finished:
            self.progress.job_finished(value)

    def settle(self, number: int, frames: int, chunk: int | None = None) -> None:
        """Unit (job `number`, or its chunk `chunk`) ended with `frames` made: its bar is brought to that count. A
        retry that found the unit done by its lost attempt (Ray: the worker died between finishing and returning)
        reports no frames; the lost attempt's last events may never have arrived."""
        unit = (number, chunk)
        missing = frames - self.counted.get(unit, 0)
        if missing:
            self.counted[unit] = frames
            self.progress.job_advanced(number, missing)

    def _restart(self, unit: tuple[int, int | None]) -> int | None:
        """A new attempt at `unit`: what an earlier one counted is taken back (None when this is the first)."""
        earlier = self.counted.get(unit)
        if earlier:
            self.progress.job_advanced(unit[0], -earlier)
        self.counted[unit] = 0
        return earlier

    def _advance(self, unit: tuple[int, int | None], frames: int) -> None:
        self.counted[unit] = self.counted.get(unit, 0) + frames
        self.progress.job_advanced(unit[0], frames)
