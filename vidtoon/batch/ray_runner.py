"""Ray mode: checked jobs run by a pool of Ray actors (one per GPU, else CPU actors with a share of the cores).

Each actor (`ray_worker.RayWorker`) is a long-lived worker process holding the styles it has loaded (the same
per-style cache as local mode's `_Worker`: it *is* that worker, set up inside the actor) and runs each unit it is
given through the same function local mode's workers use (`local._run_job`, i.e. `vidtoon.restyle`), always with
resume: a unit whose
worker process dies mid-run is retried (the actor restarts, `max_restarts`; its task runs again,
`max_task_retries`) and continues from the film's finished segments, so no frame is made twice or lost.
Units go to idle actors longest first. Progress travels through one `ray.util.queue.Queue` (the restyle's
`QueueProgress` events, a few a second per job) to the caller's `BatchProgress`; results come back as the
tasks' return values.

Outputs and their parts folders are written where the jobs say, by whichever node runs the unit: every node must
see those paths (shared storage: NFS, a cluster file system), and vidtoon must be installed on every node.

The unit of work is a whole checked `Job`. Chunks of one film (`vidtoon.batch.chunks`: `plan_chunks`,
`run_chunk`, `join_chunks`) are the next unit: the same pool, `RayWorker.run` calling `run_chunk` instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from vidtoon.batch.check import Job
from vidtoon.batch.progress import BatchProgress, NoBatchProgress
from vidtoon.batch.ray_worker import RayWorker
from vidtoon.batch.report import JobResult
from vidtoon.errors import Interrupted, UsageError
from vidtoon.io.segments import parts_dir_for

log = logging.getLogger(__name__)

INSTALL_HINT = "install vidtoon[ray] (pip install 'vidtoon[ray]') on this machine and every node of the cluster"
CONNECT_TIMEOUT = 3.0  # seconds to wait for a cluster address to answer before giving up (Ray itself waits minutes)
LOCAL_OBJECT_STORE = 200 * 1024 * 1024  # a local cluster moves jobs and results only: a small object store
READY_TIMEOUT = 600.0  # seconds for the actors to start (placed on nodes, the pipeline imported) before giving up


def import_ray() -> Any:
    """The `ray` module.

    Raises:
        UsageError: Ray is not installed (one line: install vidtoon[ray]).
    """
    try:
        import ray
    except ImportError:
        raise UsageError("Ray is not installed", hint=INSTALL_HINT) from None
    return ray


def check_address(address: str) -> str | None:
    """What `ray.init` gets for `--ray ADDRESS`: None for "local" (a new cluster on this machine), "auto", or the address.

    A `host:port` (or `ray://host:port`) must answer a TCP connection within `CONNECT_TIMEOUT` seconds: Ray itself
    retries a dead address for minutes.

    Raises:
        UsageError: a malformed address, or nothing listening there.
    """
    address = address.strip()
    if address == "local":
        return None
    if address == "auto":
        return address
    hint = (
        "start a cluster with `ray start --head` and pass the address it prints, --ray auto on one of its nodes, or --ray local"
    )
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--ray {address!r} is not local, auto or HOST:PORT", hint=hint)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"no Ray cluster answers at {address} ({reason})", hint=hint) from None
    return address


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster this process is connected to: its CPUs and GPUs, and whether this process started it."""

    cpus: float
    gpus: float
    started_here: bool

    def default_workers(self, jobs: list[Job]) -> int:
        """One actor per GPU when there are GPUs (and a job may use one); else 1 up to 4 CPUs, else one per 4 CPUs."""
        if self.gpus >= 1 and _wants_gpu(jobs):
            return int(self.gpus)
        cpus = int(self.cpus) or 1
        return 1 if cpus <= 4 else cpus // 4

    def workers(self, requested: int | None, jobs: list[Job]) -> int:
        """The actors to start for `jobs`: `requested` (default `default_workers`), no more than the jobs, and no
        more than the GPUs when the actors take one each (one more could never be placed: the batch would wait).

        Raises:
            UsageError: `requested` is below 1.
        """
        if requested is not None and requested < 1:
            raise UsageError(f"--workers must be 1 or more, got {requested}")
        count = min(requested or self.default_workers(jobs), len(jobs))
        if self.gpus >= 1 and _wants_gpu(jobs) and count > self.gpus:
            log.warning("%d Ray workers asked for, the cluster has %d GPU(s): starting %d", count, self.gpus, self.gpus)
            count = int(self.gpus)
        return max(count, 1)


@contextmanager
def connect(address: str) -> Iterator[Cluster]:
    """Connect to the cluster at `address` ("local", "auto" or HOST:PORT) for the `with` block; reuse a connection
    this process has already made (`ray.init` called by the caller), and leave it open then.

    Raises:
        UsageError: Ray is not installed, or no cluster answers at `address` (nothing was started).
    """
    ray = import_ray()
    if ray.is_initialized():
        yield _cluster(ray, started_here=False)
        return
    target = check_address(address)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if target is None:
        options.update(num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE)
    try:
        ray.init(address=target, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot connect to a Ray cluster at {address}: {first}", hint=INSTALL_HINT) from None
    try:
        yield _cluster(ray, started_here=target is None)
    finally:
        ray.shutdown()


def _cluster(ray: Any, *, started_here: bool) -> Cluster:
    resources = ray.cluster_resources()
    return Cluster(float(resources.get("CPU", 0)), float(resources.get("GPU", 0)), started_here)


def _wants_gpu(jobs: list[Job]) -> bool:
    return any(str(job.settings.get("device") or "auto") != "cpu" for job in jobs)


def run_on_ray(
    jobs: list[Job],
    *,
    address: str = "auto",
    workers: int | None = None,
    force: bool = False,
    progress: BatchProgress | None = None,
    max_restarts: int = 2,
) -> list[JobResult]:
    """Run `jobs` (none of them to skip) on a Ray cluster's actors, longest first; one result per job, in finishing order.

    Args:
        jobs: checked jobs (`vidtoon.batch.check`); their outputs must be on storage every node sees.
        address: "local" (start a cluster on this machine), "auto" (the cluster this machine belongs to) or
            HOST:PORT; ignored when this process is already connected (`ray.init` called before).
        workers: actors (default: one per GPU of the cluster; without GPUs 1 up to 4 CPUs, else one per 4 CPUs).
        force: replace existing outputs and start interrupted runs over (both are removed before the units start,
            so that a retried unit can always continue from its segments).
        progress: receives the actors' progress (default: none).
        max_restarts: how often a dead worker process is restarted and its unit retried.

    Raises:
        UsageError: Ray is missing or no cluster answers at `address` (nothing was started).
        Interrupted: Ctrl-C or SIGTERM; the actors are stopped, finished segments kept for --resume.
    """
    progress = progress or NoBatchProgress()
    if not jobs:
        return []
    with connect(address) as cluster:
        ray = import_ray()
        count = cluster.workers(workers, jobs)
        gpu = cluster.gpus >= 1 and _wants_gpu(jobs)
        units = [_prepare(job, force=force, gpu=gpu) for job in jobs]
        return _Pool(ray, cluster, count, gpu=gpu, max_restarts=max_restarts).run(units, progress)


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


class _Pool:
    """The actors, the progress queue, and the loop that feeds idle actors the longest unit left."""

    def __init__(self, ray: Any, cluster: Cluster, count: int, *, gpu: bool, max_restarts: int):
        from ray.util.queue import Queue

        self.ray = ray
        # named, so actors find it by name (an actor handle as a constructor argument would sit in the object store)
        self.queue_name = f"vidtoon-batch-progress-{uuid.uuid4().hex[:12]}"
        self.events = Queue(actor_options={"num_cpus": 0, "name": self.queue_name})
        share = cluster.cpus / count
        threads = max(1, int(share))
        # fractional CPUs: with every core reserved by the actors nothing else (a restarted actor, the caller's
        # own Ray tasks) could be scheduled (FACTS: Ray deadlocks on 2 CPUs with whole ones)
        resources: dict[str, Any] = {"num_cpus": round(min(1.0, share) * 0.9, 2) if gpu else round(share * 0.9, 2)}
        if gpu:
            resources["num_gpus"] = 1
        remote = ray.remote(RayWorker).options(max_restarts=max_restarts, max_task_retries=max_restarts, **resources)
        self.actors = [remote.remote(self.queue_name, threads) for _ in range(count)]
        self.seen: dict[int, int] = {}  # job -> frames reported by its current attempt
        self.pids = self._ready()

    def _ready(self) -> list[int]:
        """Wait for every actor to have started (imported the pipeline), so that a job's time is its own.

        Raises:
            UsageError: an actor could not start (vidtoon or its dependencies missing on a node, no resources).
        """
        from ray.exceptions import GetTimeoutError, RayError

        try:
            return self.ray.get([actor.pid.remote() for actor in self.actors], timeout=READY_TIMEOUT)
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

    def run(self, units: list[Job], progress: BatchProgress) -> list[JobResult]:
        ray = self.ray
        pending = deque(sorted(units, key=lambda job: (-(job.seconds or 0.0), job.number)))  # longest first
        idle = list(self.actors)
        running: dict[Any, tuple[Any, Job, float]] = {}
        results: list[JobResult] = []
        try:
            while pending or running:
                while idle and pending:
                    actor, job = idle.pop(0), pending.popleft()
                    running[actor.run.remote(job)] = (actor, job, time.perf_counter())
                if not running:  # every actor is gone: the units left fail
                    for job in pending:
                        results.append(_failed(job, "no Ray worker is left to run it (they died more often than allowed)"))
                        progress.job_finished(results[-1])
                    break
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.25)
                self._drain(progress)
                for ref in ready:
                    actor, job, started = running.pop(ref)
                    result, alive = self._result(ref, job, started)
                    if alive:
                        idle.append(actor)
                    self._drain(progress)
                    results.append(result)
                    progress.job_finished(result)
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: stop the actors (finished segments stay for --resume)
            self.stop()
            signum = getattr(exc, "signum", 2)
            raise Interrupted(signum, kept=f"{len(results)} finished job(s) and the others' finished segments kept") from None
        self.stop()
        return results

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

    def _drain(self, progress: BatchProgress) -> None:
        """Hand the actors' queued progress events to `progress` (a retried job's count starts again from zero)."""
        events = self.events
        size = events.qsize()
        if not size:
            return
        for kind, number, value in events.get_nowait_batch(size):
            if kind == "start":
                if number in self.seen:  # a retry: it reports its finished segments again
                    progress.job_advanced(number, -self.seen[number])
                else:
                    progress.job_started(number, *value)
                self.seen[number] = 0
            elif kind == "advance":
                self.seen[number] = self.seen.get(number, 0) + value
                progress.job_advanced(number, value)
            # "finished": the driver reports it from the task's return value

    def stop(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor, no_restart=True)
        self.ray.kill(self.events.actor, no_restart=True)


def _failed(job: Job, error: str) -> JobResult:
    return JobResult(job.number, str(job.source), str(job.output), "failed", None, 0.0, None, error, job.style)
