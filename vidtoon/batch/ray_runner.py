"""Ray mode: checked jobs run by a pool of Ray actors (one per node running that node's share of the units in threads;
one per GPU with GPUs).

Each actor (`ray_worker.RayWorker`) is a long-lived worker process holding the styles it has loaded (the same
per-style cache as local mode's `_Worker`: it *is* that worker, set up inside the actor) and runs each unit it is
given through the same function local mode's workers use (`local._run_job`, i.e. `vidtoon.restyle`), always with
resume: a unit whose worker process dies mid-run is retried (the actor restarts, `max_restarts`; its tasks run
again, `max_task_retries`) and continues from the film's finished segments, so no frame is made twice or lost.
On a CPU cluster one actor per node runs several units at once (Ray's `max_concurrency`, threads: torch, OpenCV and
PyAV let go of the GIL in their loops), so each node imports the pipeline once, as local mode's forkserver does,
not once per unit in flight (~5 CPU s each). Units go to free slots longest first. Progress events wait in each
actor until this process polls for them (`RayWorker.take_events`, a few times a second, never waiting), and once
more when a unit returns; results come back as the tasks' return values.

Outputs and their parts folders are written where the jobs say, by whichever node runs the unit: every node must
see those paths (shared storage: NFS, a cluster file system), and vidtoon must be installed on every node.

The unit of work is a whole checked `Job`, or, with more slots than films, a chunk of a film (`vidtoon.batch.chunks`,
`RayWorker.run_chunk`); this process holds each chunked film's lock and joins it when its last chunk is in.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from vidtoon.batch.check import Job
from vidtoon.batch.chunks import DEFAULT_CHUNK_SECONDS, Chunk
from vidtoon.batch.films import ChunkedFilm, open_films
from vidtoon.batch.progress import BatchProgress, Dispatcher, NoBatchProgress
from vidtoon.batch.ray_cluster import INSTALL_HINT, connect, import_ray, node_cpus, plan_actors, wants_gpu
from vidtoon.batch.ray_worker import RayWorker
from vidtoon.batch.report import JobResult
from vidtoon.errors import Interrupted, UsageError
from vidtoon.io.segments import parts_dir_for

log = logging.getLogger(__name__)

READY_TIMEOUT = 600.0  # seconds for the actors to start (placed on nodes, the pipeline imported) before giving up


def run_on_ray(
    jobs: list[Job],
    *,
    address: str = "auto",
    workers: int | None = None,
    force: bool = False,
    progress: BatchProgress | None = None,
    max_restarts: int = 2,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
) -> tuple[list[JobResult], int]:
    """Run `jobs` (none of them to skip) on a Ray cluster's actors, longest first: one result per job (in finishing
    order) and the number of actors used.

    Args:
        jobs: checked jobs (`vidtoon.batch.check`); their outputs must be on storage every node sees.
        address: "local" (start a cluster on this machine), "auto" (the cluster this machine belongs to) or
            HOST:PORT; ignored when this process is already connected (`ray.init` called before).
        workers: actors (default: one per GPU of the cluster; without GPUs 1 up to 4 CPUs, else one per 4 CPUs).
        force: replace existing outputs and start interrupted runs over (both are removed before the units start,
            so that a retried unit can always continue from its segments).
        progress: receives the actors' progress (default: none).
        max_restarts: how often a dead worker process is restarted and its unit retried.
        chunk_seconds: with more actors than jobs, films of two chunks or more run as chunks (`vidtoon.batch.chunks`),
            joined here (this process must see the outputs too).

    Raises:
        UsageError: Ray is missing or no cluster answers at `address` (nothing was started).
        Interrupted: Ctrl-C, SIGTERM or SIGHUP; the actors are stopped, finished segments kept for --resume.
    """
    progress = progress or NoBatchProgress()
    if not jobs:
        return [], 0
    with connect(address) as cluster:
        log.debug("mark connected")
        ray = import_ray()
        gpu = cluster.gpus >= 1 and wants_gpu(jobs)
        prepared = [_prepare(job, force=force, gpu=gpu) for job in jobs]
        events, results = _DriverEvents(progress), []
        films: dict[int, ChunkedFilm] = {}
        if cluster.workers(workers, prepared, units=len(prepared) + 1) > len(prepared):  # more actors than films
            films = open_films(prepared, False, chunk_seconds, events, results)
        units: list[Unit] = [(job, chunk) for job in prepared if job.number in films for chunk in films[job.number].todo]
        done = {result.number for result in results}
        units += [(job, None) for job in prepared if job.number not in films and job.number not in done]
        for film in films.values():
            if not film.todo:  # every chunk was finished by an earlier run: only the join is left
                results.append(film.finish(events))
        if not units:
            return results, 0
        count = cluster.workers(workers, prepared, units=len(units))
        pool = _Pool(ray, count, gpu=gpu, max_restarts=max_restarts)
        try:
            return results + pool.run(units, progress, films, events), count
        finally:
            for film in films.values():
                film.parts.release()


# A unit of work: a whole job (chunk None), or one chunk of a film.
Unit = tuple[Job, Chunk | None]


class _DriverEvents:
    """What `films` reports (a film started, its earlier frames, its result) handed straight to the caller's progress."""

    def __init__(self, progress: BatchProgress):
        self.put = Dispatcher(progress)


class _Outcome:
    """A finished Ray task as `ChunkedFilm.settle` reads a future: its value, or the error it raised."""

    def __init__(self, value: Any = None, error: BaseException | None = None):
        self.value, self.error = value, error

    def cancelled(self) -> bool:
        return False

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def _prepare(job: Job, *, force: bool, gpu: bool) -> Job:
    """The unit as the actors run it: `force` done here (the old output and parts removed, once, before any attempt,
    so each attempt runs with resume), a GPU job's "cuda:N" left to Ray (each actor sees its own GPU as cuda:0)."""
    if force:
        parts = parts_dir_for(job.output)
        if parts.exists():
            shutil.rmtree(parts)
        if job.output.is_dir():  # a folder of images restyled
            shutil.rmtree(job.output)
        else:
            job.output.unlink(missing_ok=True)
    if gpu and str(job.settings.get("device") or "").startswith("cuda"):
        job = replace(job, settings={**job.settings, "device": "auto"})
    return replace(job, resume=True)


@dataclass
class _Actor:
    """One actor of the pool: its handle, the units it may run at once (`slots`), how many it runs now, and its
    progress poll in flight (an `ObjectRef` of `take_events`, or None)."""

    handle: Any
    slots: int
    busy: int = 0
    alive: bool = True
    poll: Any = None


class _Pool:
    """The actors (`plan_actors`: one per node, each running its node's share of the units in threads; one per GPU with
    GPUs), and the loop that feeds free slots the longest unit left and gathers the actors' progress."""

    def __init__(self, ray: Any, count: int, *, gpu: bool, max_restarts: int):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.ray = ray
        remote = ray.remote(RayWorker)
        self.actors: list[_Actor] = []
        for node, slots, cpus in plan_actors(node_cpus(ray), count, gpu=gpu):
            threads = max(1, int(cpus / slots))
            # fractional CPUs: with every core reserved by the actors nothing else (a restarted actor, the caller's
            # own Ray tasks) could be scheduled (FACTS: Ray deadlocks on 2 CPUs with whole ones)
            options: dict[str, Any] = {"num_cpus": round(min(1.0, cpus) * 0.9, 2) if gpu else round(cpus * 0.9, 2)}
            if gpu:
                options["num_gpus"] = 1
            if node is not None:  # soft: a lost node's actor is restarted on another
                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node, soft=True)
            handle = remote.options(
                max_restarts=max_restarts, max_task_retries=max_restarts, max_concurrency=slots + 1, **options
            ).remote(threads)  # one thread more than units: progress polls never wait behind them
            self.actors.append(_Actor(handle, slots))
        log.debug("mark actors created")
        self.dispatch: Dispatcher | None = None  # the caller's progress, set by `run`
        self.pids = self._ready()
        log.debug("mark actors ready")

    def _ready(self) -> list[int]:
        """Wait for every actor to have started (imported the pipeline), so that a job's time is its own.

        Raises:
            UsageError: an actor could not start (vidtoon or its dependencies missing on a node, no resources).
        """
        from ray.exceptions import GetTimeoutError, RayError

        try:
            return self.ray.get([actor.handle.pid.remote() for actor in self.actors], timeout=READY_TIMEOUT)
        except GetTimeoutError:
            self.stop()
            raise UsageError(
                f"the Ray workers did not start within {READY_TIMEOUT:.0f} s",
                hint="check that the cluster has the CPUs/GPUs asked for (`ray status`), or ask for fewer --workers",
            ) from None
        except RayError as exc:
            self.stop()
            lines = str(exc).strip().splitlines()
            raise UsageError(
                f"a Ray worker could not start: {lines[-1] if lines else type(exc).__name__}", hint=INSTALL_HINT
            ) from None

    def run(self, units: list[Unit], progress: BatchProgress, films: dict[int, ChunkedFilm], events: Any) -> list[JobResult]:
        ray = self.ray
        self.dispatch = Dispatcher(progress, finished=False)
        pending = deque(sorted(units, key=_longest_first))
        running: dict[Any, tuple[_Actor, Unit, float]] = {}
        results: list[JobResult] = []
        try:
            while pending or running:
                while pending and (actor := self._free()) is not None:
                    job, chunk = pending.popleft()
                    handle = actor.handle
                    call = handle.run_chunk.remote(job, chunk) if chunk else handle.run.remote(job)
                    actor.busy += 1
                    running[call] = (actor, (job, chunk), time.perf_counter())
                if not running:  # every actor is gone: the units left fail
                    for job, chunk in pending:
                        if chunk is None:
                            results.append(_failed(job, "no Ray worker is left to run it (they died more often than allowed)"))
                            progress.job_finished(results[-1])
                        else:
                            films[job.number].settle(chunk, _Outcome(error=RuntimeError("no Ray worker is left to run it")), [])
                    for number in sorted({job.number for job, chunk in pending if chunk is not None}):
                        results.append(films[number].finish(events))
                    break
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.25)
                self._drain()
                for ref in ready:
                    actor, (job, chunk), started = running.pop(ref)
                    actor.busy -= 1
                    if chunk is not None:
                        actor.alive = self._settle_chunk(ref, actor, films[job.number], chunk, pending) and actor.alive
                        if films[job.number].over():
                            results.append(films[job.number].finish(events))
                    else:
                        result, alive = self._result(ref, job, started)
                        actor.alive = alive and actor.alive
                        self._drain(actor)
                        if result.status == "done" and result.frames is not None:
                            self.dispatch.settle(job.number, result.frames)
                        results.append(result)
                        progress.job_finished(result)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: stop the actors (finished segments stay for --resume)
            self.stop()
            signum = getattr(exc, "signum", 2)
            raise Interrupted(signum, kept=f"{len(results)} finished job(s) and the others' finished segments kept") from None
        self.stop()
        return results

    def _free(self) -> _Actor | None:
        """The live actor with the most free slots (None when every slot is taken)."""
        free = [actor for actor in self.actors if actor.alive and actor.busy < actor.slots]
        return max(free, key=lambda actor: actor.slots - actor.busy) if free else None

    def _settle_chunk(self, ref: Any, actor: _Actor, film: ChunkedFilm, chunk: Chunk, pending: deque) -> bool:
        """Hand a chunk's outcome to its film (a failure drops the film's chunks still pending); whether the actor
        can take another unit."""
        from ray.exceptions import RayActorError, RayError

        alive = True
        try:
            outcome = _Outcome(self.ray.get(ref))
        except RayActorError as exc:
            outcome, alive = (
                _Outcome(error=RuntimeError(f"its Ray worker died more often than allowed ({type(exc).__name__})")),
                False,
            )
        except RayError as exc:
            outcome = _Outcome(error=RuntimeError(f"Ray: {str(exc).strip().splitlines()[-1]}"))
        film.settle(chunk, outcome, [])
        if outcome.error is None and outcome.value[0] is not None:
            self._drain(actor)
            self.dispatch.settle(film.job.number, outcome.value[0].frames, chunk.index)
        if film.error is not None:  # its chunks not started yet are dropped
            for unit in [u for u in pending if u[0] is film.job]:
                pending.remove(unit)
                film.waiting.discard(unit[1].index)
        return alive

    def _result(self, ref: Any, job: Job, started: float) -> tuple[JobResult, bool]:
        """The unit's result with the wall time of all its attempts, and whether its actor can take another."""
        from ray.exceptions import RayActorError, RayError

        try:
            result = self.ray.get(ref)
        except RayActorError as exc:
            return _failed(job, f"its Ray worker died more often than allowed ({type(exc).__name__})"), False
        except RayError as exc:
            return _failed(job, f"Ray: {str(exc).strip().splitlines()[-1]}"), True
        seconds = time.perf_counter() - started
        fps = result.frames / seconds if result.frames and result.status == "done" else None
        return replace(result, seconds=round(seconds, 3), fps=fps and round(fps, 2)), True

    def _drain(self, finished: _Actor | None = None) -> None:
        """Hand the actors' progress events to the caller's progress (a retried unit takes back its lost count).

        Without `finished`: what the polls in flight have brought back, a new poll sent to each live actor without one
        (never waiting). With it (an actor whose unit has just returned): every event that unit made, waited for, so
        that its bar is complete before the driver settles it.
        """
        actors = [actor for actor in self.actors if actor.alive]
        for actor in actors:
            if actor.poll is None:
                actor.poll = actor.handle.take_events.remote()
        polls = [actor.poll for actor in actors]
        done, _ = self.ray.wait(polls, num_returns=len(polls), timeout=0) if polls else ([], [])
        done = set(done)
        if finished is not None and finished.alive:
            done.add(finished.poll)
        for actor in actors:
            if actor.poll in done:
                self._dispatch(actor.poll)
                actor.poll = None
        if finished is not None and finished.alive:  # a poll sent before the unit returned may have missed its last events
            self._dispatch(finished.handle.take_events.remote())

    def _dispatch(self, poll: Any) -> None:
        from ray.exceptions import RayError

        try:
            events = self.ray.get(poll)
        except RayError:  # the actor died (its unit is retried, and the retry's "start" takes back what was counted)
            return
        for event in events:
            self.dispatch(event)  # "finished" is left out: the driver reports it from the task's return value

    def stop(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor.handle, no_restart=True)


def _longest_first(unit: Unit) -> tuple:
    job, chunk = unit
    return (-(job.seconds or 0.0), job.number, chunk.index if chunk is not None else 0)


def _failed(job: Job, error: str) -> JobResult:
    return JobResult(job.number, str(job.source), str(job.output), "failed", None, 0.0, None, error, job.style)
