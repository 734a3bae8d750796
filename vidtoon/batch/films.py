"""A chunked film in the batch driver: its chunks' outcomes gathered, the film joined when the last is in.

The driver (`vidtoon.batch.local`, or any runner of `vidtoon.batch.chunks` units) holds each chunked film's output
lock from `open_films` to `ChunkedFilm.finish`; workers run the chunks. A failing chunk fails its film and drops
its chunks still queued; the finished ones stay in the parts folder for --resume.
"""

from __future__ import annotations

import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from vidtoon.batch.check import Job, max_pixels
from vidtoon.batch.chunks import Chunk, join_chunks, open_film, plan_chunks
from vidtoon.batch.report import JobResult, job_result
from vidtoon.errors import VidtoonError


@dataclass
class ChunkedFilm:
    """A chunked film in the driver: its chunks, its parts folder (this process holds the output's lock), what is left."""

    job: Job
    chunks: list[Chunk]
    parts: Any
    todo: list[Chunk]
    frames: int = 0
    began: float | None = None
    error: str | None = None
    waiting: set[int] = field(default_factory=set)

    def settle(self, chunk: Chunk, future: Any, siblings: list[Any]) -> None:
        """Take in the outcome of `chunk`'s `future`; a failure drops the film's chunks still queued (`siblings`)."""
        self.waiting.discard(chunk.index)
        if future.cancelled():
            return
        try:
            outcome, error = future.result()
        except BrokenProcessPool as exc:
            outcome, error = None, f"a worker process died while this chunk was queued or running ({exc})"
        except Exception as exc:  # the worker raised past `_run_chunk` (a signal): the film fails with it
            outcome, error = None, f"{type(exc).__name__}: {exc}"
        if error is not None:
            if self.error is None:
                self.error = f"chunk {chunk.index} ({float(chunk.start):.3f} s): {error}"
            for sibling in siblings:
                sibling.cancel()
            return
        self.frames += outcome.frames
        now = time.perf_counter()
        self.began = min(self.began or now, now - outcome.seconds)

    def over(self) -> bool:
        return not self.waiting

    def finish(self, events: Any) -> JobResult:
        """Join the film (or fail it), release its lock, report it; the result."""
        seconds = time.perf_counter() - self.began if self.began is not None else 0.0
        if self.error is None:
            try:
                join_chunks(self.job, self.chunks)
            except VidtoonError as exc:
                self.error = exc.message
        self.parts.release()
        status = "done" if self.error is None else "failed"
        result = job_result(self.job, status, frames=self.frames, seconds=seconds, error=self.error)
        events.put(("finished", self.job.number, result))
        return result


def open_films(
    jobs: list[Job], force: bool, chunk_seconds: float, events: Any, results: list[JobResult]
) -> dict[int, ChunkedFilm]:
    """The jobs of 2 chunks or more, planned and opened (their locks taken); a film that cannot open fails here. A
    transparent film is said once here (`warn_alpha`): its chunks are read by `run_chunk`, not by `restyle_video`."""
    from vidtoon.io.probe import probe
    from vidtoon.io.reader import warn_alpha

    films = {}
    for job in jobs:
        try:
            info = probe(job.source, max_pixels=max_pixels(job.settings))
            chunks = plan_chunks(job, info, chunk_seconds=chunk_seconds)
        except VidtoonError:
            continue  # run whole: the worker reports the problem as `vidtoon.restyle` would
        if len(chunks) < 2:
            continue
        try:
            parts = open_film(job, chunks, resume=job.resume, force=force)
        except VidtoonError as exc:
            result = job_result(job, "failed", error=exc.message)
            events.put(("finished", job.number, result))
            results.append(result)
            continue
        warn_alpha(info)
        finished = {index: frames for index, _, frames in parts.done}
        film = ChunkedFilm(job, chunks, parts, [c for c in chunks if c.index not in finished], frames=sum(finished.values()))
        film.waiting = {c.index for c in film.todo}
        events.put(("start", job.number, (job.frames, job.source.name)))
        if film.frames:
            events.put(("advance", job.number, film.frames))
        films[job.number] = film
    return films
