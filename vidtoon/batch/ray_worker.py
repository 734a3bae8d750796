"""The Ray side of Ray mode: `RayWorker`, the actor class each Ray worker process runs (see `ray_runner`).

Ray pickles the class by reference, so this module (and vidtoon) must be importable on every node.
"""

from __future__ import annotations

import os
import shutil
import threading
from importlib import import_module
from typing import Any

from vidtoon.batch.check import Job
from vidtoon.batch.chunks import Chunk
from vidtoon.batch.report import JobResult
from vidtoon.errors import VidtoonError
from vidtoon.io.segments import parts_dir_for


class RayWorker:
    """A Ray actor: local mode's worker (`local._Worker`, its style cache) living in one Ray worker process, running
    `slots` units at a time in threads (Ray's `max_concurrency`): the pipeline imported and each style loaded once
    per actor, not once per unit in flight (torch, OpenCV and PyAV let go of the GIL in their loops).

    Progress events wait in the actor (`take_events`) until the driver asks for them: no queue actor in between.

    Args:
        threads: torch / OpenCV threads of each unit (its share of the node's cores).
    """

    def __init__(self, threads: int):
        import queue

        import ray

        from vidtoon.batch import local
        from vidtoon.batch.server import PRELOAD

        for module in PRELOAD:  # the pipeline (torch) imported now: the actor is ready when its pid answers
            import_module(module)

        device = "cuda:0" if ray.get_gpu_ids() else None  # Ray shows an actor only its own GPU
        devices: queue.SimpleQueue = queue.SimpleQueue()
        devices.put(device)
        self.events = _Events()
        local._init_worker(self.events, devices, threads)  # after the import: it sets torch's and OpenCV's threads

    def pid(self) -> int:
        """This worker's process id."""
        return os.getpid()

    def take_events(self) -> list[tuple]:
        """The progress events of this actor's units since the last call, in the order each unit made them."""
        return self.events.take()

    def run(self, job: Job) -> JobResult:
        """Run one unit with resume: a retried unit continues from its finished segments.

        The output existing means an earlier attempt of this unit finished it (the batch refused or removed existing
        outputs before any unit started, and outputs are written atomically) and died before returning.
        """
        from vidtoon.batch import local

        if job.output.exists():
            return _finished_before(job)
        return local._run_job(job, False)

    def run_chunk(self, job: Job, chunk: Chunk) -> tuple[Any, str | None]:
        """Run one chunk of a film (`vidtoon.batch.chunks`): (its `ChunkResult`, None) or (None, the error line). A
        retried chunk writes its segment again from the start (a half-written one is never counted)."""
        from vidtoon.batch import local

        return local._run_chunk(job, chunk)


class _Events:
    """The progress events of an actor's units as their `QueueProgress` sees them (`put`), kept until the driver takes
    them (`take`); a lock, since the units run in threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: list[tuple] = []

    def put(self, event: tuple) -> None:
        with self.lock:
            self.waiting.append(event)

    def take(self) -> list[tuple]:
        with self.lock:
            taken, self.waiting = self.waiting, []
        return taken


def _finished_before(job: Job) -> JobResult:
    """A unit whose output an attempt that died made: its parts (if the attempt died before removing them) go."""
    from vidtoon.io.probe import probe

    parts = parts_dir_for(job.output)
    if parts.exists():
        shutil.rmtree(parts, ignore_errors=True)
    try:
        frames = probe(job.output).frame_count
    except VidtoonError:
        frames = None
    return JobResult(job.number, str(job.source), str(job.output), "done", frames, 0.0, None, None, job.style)
