"""Local mode: checked jobs run by N worker processes on this machine, longest first, each through `vidtoon.restyle`.

Workers are forked from a server that has imported the pipeline once (`vidtoon.batch.server`). Each worker is bound
to one device (a GPU from `gpus`, round robin, or the CPU with its share of the cores), and each keeps every style it has loaded for the jobs after
(`_Worker.translators`, keyed by what picks the style and the device). A job that fails is recorded with its
error line and the others go on; a worker process that dies fails the jobs it took with it.

The unit of work is a whole job, or, when workers outnumber the jobs, a chunk of a film (`vidtoon.batch.chunks`:
cut at keyframes, warmed up, joined without re-encoding): this process holds each chunked film's output lock, runs
its chunks in the workers (longest films first), and joins the film as soon as its last chunk is finished. A
failing chunk fails its film (its other chunks still queued are dropped; the finished ones stay for --resume).
"""

from __future__ import annotations

import os
import queue as queue_module
import select
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from vidtoon.batch.check import Job, max_pixels
from vidtoon.batch.chunks import DEFAULT_CHUNK_SECONDS, Chunk, load_restyler, run_chunk
from vidtoon.batch.films import ChunkedFilm, open_films
from vidtoon.batch.progress import BatchProgress, Dispatcher, QueueProgress
from vidtoon.batch.report import JobResult, job_result
from vidtoon.batch.server import worker_context
from vidtoon.errors import Interrupted, UsageError, VidtoonError
from vidtoon.gpus import visible_gpus as count_visible_gpus

STOP_GRACE = 2.0  # seconds a worker has to stop after the batch is interrupted before it is killed


def default_workers(gpus: list[int] | None, *, cores: int | None = None, visible_gpus: int | None = None) -> int:
    """One worker per GPU (`gpus`, else every visible one); on a CPU box 1 up to 4 cores, else one per 4 cores."""
    if gpus:
        return len(gpus)
    visible = count_visible_gpus() if visible_gpus is None else visible_gpus
    if visible:
        return visible
    cores = cores or os.cpu_count() or 1
    return 1 if cores <= 4 else cores // 4


def worker_devices(workers: int, gpus: list[int] | None, *, visible_gpus: int | None = None) -> list[str | None]:
    """The device each worker uses for jobs whose `device` is "auto": GPUs round robin, None (the CPU) without any.

    Raises:
        UsageError: no worker, or a GPU in `gpus` that is not visible.
    """
    if workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    visible = count_visible_gpus() if visible_gpus is None else visible_gpus
    if gpus is None:
        gpus = list(range(visible))
    missing = [g for g in gpus if g >= visible]
    if missing:
        raise UsageError(
            f"--gpus {','.join(map(str, gpus))}: GPU {missing[0]} is not there ({visible} visible)",
            hint="leave --gpus out to use every visible GPU, or the CPU when there is none",
        )
    return [f"cuda:{gpus[i % len(gpus)]}" if gpus else None for i in range(workers)]


def run_local(
    jobs: list[Job],
    *,
    workers: int,
    devices: list[str | None],
    force: bool,
    progress: BatchProgress,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
) -> tuple[list[JobResult], int]:
    """Run `jobs` (none of them to skip) in up to `workers` processes, longest first: one result per job, in finishing
    order, and the number of worker processes started (no more than the units of work).

    With more workers than jobs, films of 2 chunks or more (`chunk_seconds` each) run as chunks, joined here.
    """
    if not jobs:
        return [], 0
    context = worker_context()
    events, device_queue = context.Queue(), context.Queue()
    drained = threading.Thread(target=_drain, args=(events, progress, {job.number for job in jobs}), daemon=True)
    drained.start()
    results: list[JobResult] = []
    films: dict[int, ChunkedFilm] = {}
    if workers > len(jobs):
        films = open_films(jobs, force, chunk_seconds, events, results)
    order = sorted(jobs, key=lambda job: (-(job.seconds or 0.0), job.number))  # longest first
    units = [(job, chunk) for job in order if job.number in films for chunk in films[job.number].todo]
    units += [(job, None) for job in order if job.number not in films and not any(r.number == job.number for r in results)]
    used = min(workers, len(units))  # chunks may outnumber the films: the report counts the processes started
    workers = max(1, used)
    for device in devices[:workers]:
        device_queue.put(device)
    threads = max(1, (os.cpu_count() or 1) // workers)
    initargs = (events, device_queue, threads, os.getpid())
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=initargs)
    try:
        for film in films.values():
            if not film.todo:  # every chunk was finished by an earlier run: only the join is left
                results.append(film.finish(events))
        units.sort(key=lambda unit: (-(unit[0].seconds or 0.0), unit[0].number, unit[1].index if unit[1] else 0))
        futures = {
            (pool.submit(_run_chunk, job, chunk) if chunk else pool.submit(_run_job, job, force)): (job, chunk)
            for job, chunk in units
        }
        for future in as_completed(futures):
            job, chunk = futures[future]
            if chunk is not None:
                film = films[job.number]
                film.settle(chunk, future, [f for f, (j, c) in futures.items() if j is job and c is not None])
                if film.over():
                    results.append(film.finish(events))
                continue
            try:
                result = future.result()
            except BrokenProcessPool as exc:
                result = job_result(job, "failed", error=f"a worker process died while this job was queued or running ({exc})")
                events.put(("finished", job.number, result))
            results.append(result)
    except BaseException as exc:  # Ctrl-C, SIGTERM, SIGHUP (`Interrupted`), or a failure here: stop the jobs, not wait
        _stop_workers(pool)
        for film in films.values():
            film.parts.release()
        if isinstance(exc, KeyboardInterrupt):
            signum = getattr(exc, "signum", signal.SIGINT)
            raise Interrupted(signum, kept=f"{len(results)} finished job(s) and the others' finished segments kept") from None
        raise
    pool.shutdown(wait=True)
    drained.join(timeout=10)
    return results, used


def _stop_workers(pool: ProcessPoolExecutor, grace: float = STOP_GRACE) -> None:
    """Stop every worker within `grace` seconds: SIGINT first (its restyle stops as after Ctrl-C, its finished segments
    kept for --resume, its partial one removed), then SIGKILL for one still running after `grace` (a worker slow to
    clean up on a loaded machine: its finished segments stay, its output lock dies with it).

    A terminal's Ctrl-C reaches the workers itself (one process group); a SIGTERM to this process does not, and a
    closing terminal's SIGHUP is ignored by them (`batch.server`): either way this SIGINT stops them.
    The executor keeps no public list of its processes, hence `_processes`.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        _signal(process, signal.SIGINT)
    pool.shutdown(wait=False, cancel_futures=True)  # the workers exit once their interrupted units return
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            _signal(process, signal.SIGKILL)
            process.join(STOP_GRACE)


def _signal(process: Any, signum: int) -> None:
    if process.is_alive():
        try:
            os.kill(process.pid, signum)
        except ProcessLookupError:
            pass


def _drain(events: Any, progress: BatchProgress, numbers: set[int]) -> None:
    """Feed `progress` from the workers' events until every job in `numbers` has finished."""
    waiting = set(numbers)
    dispatch = Dispatcher(progress)
    while waiting:
        try:
            event = events.get(timeout=1.0)
        except queue_module.Empty:
            continue
        except (EOFError, OSError):
            return
        if event[0] == "finished":
            if event[1] not in waiting:
                continue  # a job a dead worker had already reported
            waiting.discard(event[1])
        dispatch(event)


@dataclass
class _Worker:
    """One worker process's state: where its events go, its device, the styles it has loaded, and whether it was
    interrupted (then it starts nothing more: the units already handed to it come back "not started")."""

    events: Any
    device: str | None
    translators: dict[str, Any] = field(default_factory=dict)
    stopping: bool = False


_worker: _Worker | None = None  # set once per worker process by `_init_worker`
_NOT_STARTED = "not started: the batch was interrupted"


def _init_worker(events: Any, device_queue: Any, threads: int, batch_pid: int | None = None) -> None:
    """`batch_pid`: the local batch process this worker serves, watched (a Ray actor lives as long as Ray has it)."""
    global _worker
    if batch_pid is not None:
        threading.Thread(target=_stop_when_gone, args=(batch_pid,), daemon=True, name="batch-watch").start()
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    if "torch" in sys.modules:  # imported already (by the forkserver's preload, or the parent's main module)
        sys.modules["torch"].set_num_threads(threads)
    if "cv2" in sys.modules:  # the flow of the temporal stage
        sys.modules["cv2"].setNumThreads(threads)
    _worker = _Worker(events, device_queue.get())


def _stop_when_gone(batch_pid: int) -> None:
    """Stop this worker once the batch process is gone without stopping it (SIGKILL, the OOM killer, a crash): its
    unit stops as on the batch's own SIGINT (finished segments kept for --resume) and it exits, instead of finishing
    the unit behind the user's back, holding its output's lock, then waiting for work for good (the executor's queues
    never end: every worker holds both of their ends)."""
    try:
        select.select([os.pidfd_open(batch_pid)], [], [])  # readable once the batch process has ended
    except ProcessLookupError:
        pass  # ended already
    except (AttributeError, OSError):  # no pidfd (not Linux, or Linux before 5.3): look every second
        while _alive(batch_pid):
            time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(STOP_GRACE)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has its pid now
        return False
    return True


def _run_job(job: Job, force: bool) -> JobResult:
    """Run one job in this worker through `vidtoon.restyle`; a failure becomes a "failed" result with its error line."""
    from vidtoon.restyle import restyle

    assert _worker is not None, "_run_job runs in a worker started by run_local"
    progress = QueueProgress(_worker.events, job.number)
    started = time.perf_counter()
    if _worker.stopping:
        return job_result(job, "failed", error=_NOT_STARTED)
    try:
        loaded, options = load_restyler(job, _worker.device, _worker.translators)
        restyle(
            job.source,
            job.output,
            translator=loaded.translator,
            style_name=loaded.name,
            options=options,
            resume=job.resume,
            force=force,
            progress=progress,
            job_key=loaded.key,
            max_pixels=max_pixels(job.settings),
        )
        result = job_result(job, "done", frames=progress.frames, seconds=time.perf_counter() - started)
    except KeyboardInterrupt:  # the driver stopped the batch (its SIGINT): this worker starts none of its queued jobs
        _worker.stopping = True  # and the driver's one "interrupted: ..." line says it all: no line for this job
        return job_result(job, "failed", frames=progress.frames, seconds=time.perf_counter() - started, error="interrupted")
    except VidtoonError as exc:
        result = job_result(job, "failed", frames=progress.frames, seconds=time.perf_counter() - started, error=exc.message)
    except Exception as exc:  # recorded, not swallowed: the job fails with this line and the batch exits 1
        error = f"{type(exc).__name__}: {exc}"
        result = job_result(job, "failed", frames=progress.frames, seconds=time.perf_counter() - started, error=error)
    progress.finish(result)
    return result


def _run_chunk(job: Job, chunk: Chunk) -> tuple[Any, str | None]:
    """Run one chunk in this worker: (its `ChunkResult`, None), or (None, the error line)."""
    assert _worker is not None, "_run_chunk runs in a worker started by run_local"
    progress = QueueProgress(_worker.events, job.number, chunk=chunk.index)
    if _worker.stopping:
        return None, _NOT_STARTED
    try:
        return run_chunk(job, chunk, translator_cache=_worker.translators, progress=progress, device=_worker.device), None
    except KeyboardInterrupt:  # the driver stopped the batch (its SIGINT): the chunk's partial segment is gone
        _worker.stopping = True
        return None, "interrupted"
    except VidtoonError as exc:
        return None, exc.message
    except Exception as exc:  # recorded, not swallowed: the film fails with this line
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        progress.flush()
