"""`batch`: many restyle jobs from one list, checked whole first, run by worker processes, reported as JSON.

Modules: `jobs` (reading job lists: YAML, text, folder + glob, dicts), `check` (every problem found before
anything starts; `Job`), `chunks` (a film cut at keyframes into units of work, run anywhere, joined),
`films` (a chunked film in the driver: outcomes gathered, joined), `local` (worker processes on this machine),
`server` (the forkserver they are forked from: light, so it can start before the pipeline is imported),
`ray_cluster`, `ray_runner` and `ray_worker` (Ray actors on a cluster), `progress` (workers' progress to the caller), `report`
(`JobResult`, `BatchReport`, batch-report.json).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidtoon.batch.progress import BatchProgress, NoBatchProgress
from vidtoon.batch.report import REPORT_NAME, BatchReport, JobResult, read_previous
from vidtoon.batch.server import start_server
from vidtoon.errors import OutputError, UsageError
from vidtoon.lazy import lazy_api

if TYPE_CHECKING:
    from vidtoon.batch.check import Job

# public name -> module that defines it: imported on first use, so `import vidtoon.batch` stays free of torch and
# a caller can start the workers' server (`start_server`) first; the batch process itself never imports torch
lazy_api(
    __name__,
    {
        "SETTING_KEYS": "vidtoon.batch.jobs",
        "Chunk": "vidtoon.batch.chunks",
        "ChunkResult": "vidtoon.batch.chunks",
        "Job": "vidtoon.batch.check",
        "JobListError": "vidtoon.batch.check",
        "default_workers": "vidtoon.batch.local",
        "join_chunks": "vidtoon.batch.chunks",
        "plan_chunks": "vidtoon.batch.chunks",
        "run_chunk": "vidtoon.batch.chunks",
    },
)

__all__ = [
    "SETTING_KEYS",
    "BatchProgress",
    "BatchReport",
    "Chunk",
    "ChunkResult",
    "Job",
    "JobListError",
    "JobResult",
    "batch",
    "default_workers",
    "join_chunks",
    "plan_batch",
    "plan_chunks",
    "run_chunk",
    "start_server",
]


def plan_batch(
    jobs: str | Path | list[dict[str, Any]],
    *,
    settings: dict[str, Any] | None = None,
    glob: str | None = None,
    out_dir: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    report: str | Path | None = None,
) -> tuple[list[Job], Path | None]:
    """Read and check a job list (see `batch`) without running it: the jobs (some marked to skip) and the report path.

    Raises:
        JobListError: one line per problem; InputError / UsageError: the list itself cannot be read.
    """
    from vidtoon.batch.check import check_jobs
    from vidtoon.batch.jobs import read_job_list

    report_path = _report_path(jobs, report)
    earlier = read_previous(report_path) if report_path is not None else {}
    # a folder's earlier outputs (and the report) are never sources, even when they match the glob
    made = [Path(output) for _, output in earlier] + ([report_path] if report_path is not None else [])
    job_list = read_job_list(jobs, settings=settings, glob=glob, exclude=made)
    checked = check_jobs(job_list, out_dir=out_dir, force=force, resume=resume, previous={} if force else earlier)
    if report_path is not None:  # before the work, not after it
        _check_report_path(report_path)
    return checked, report_path


def _check_report_path(path: Path) -> None:
    """The report can be written at `path`: not a folder, in a folder that can be written (created if need be).

    Raises:
        OutputError: it cannot.
    """
    from vidtoon.files import ensure_writable_dir

    if path.is_dir():
        raise OutputError("the report's name is a folder", path=path, hint=f"pass --report {path / REPORT_NAME}")
    ensure_writable_dir(path.parent, hint="pass --report with a file in a folder you can write to")


def _report_path(jobs: str | Path | list[dict[str, Any]], report: str | Path | None) -> Path | None:
    """Where the report goes: `report`; else beside the job file or inside the source folder; None for dicts."""
    if report is not None:
        return Path(report)
    if isinstance(jobs, (list, tuple)):
        return None
    path = Path(jobs)
    return (path if path.is_dir() else path.parent) / REPORT_NAME


def batch(
    jobs: str | Path | list[dict[str, Any]],
    *,
    workers: int | None = None,
    gpus: list[int] | None = None,
    settings: dict[str, Any] | None = None,
    glob: str | None = None,
    out_dir: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    report: str | Path | None = None,
    progress: BatchProgress | None = None,
    ray_address: str | None = None,
    chunk_seconds: float | None = None,
) -> BatchReport:
    """Restyle every job of a job list with worker processes on this machine (or a Ray cluster's actors); returns
    (and writes) the report.

    Args:
        jobs: a YAML job list (`defaults:` + `jobs:`), a text file of source paths (`#` comments), a folder of
            sources (with `glob`), or a list of dicts (`{"source": ..., "output": ..., "to": "sketch", ...}`,
            relative paths from the current folder). Settings are `vidtoon restyle`'s flag names.
        workers: worker processes (default: one per GPU in `gpus` or visible; on a CPU box 1 up to 4 cores,
            else one per 4 cores).
        gpus: GPU indices to use (workers take them round robin); None = every visible GPU.
        settings: settings for every job (under the list's `defaults:` and each job's own).
        out_dir: where outputs go that a job does not name (default: beside each source).
        force: replace existing outputs and start interrupted runs over.
        resume: skip jobs whose output exists and continue interrupted ones from their finished segments.
        report: where to write the JSON report (default: `batch-report.json` beside the job file, inside a
            source folder, or none for a list of dicts); an earlier report there marks jobs already done.
        progress: receives progress from the workers (default: none).
        ray_address: run on Ray actors instead (`vidtoon.batch.ray_runner`): "local" (a cluster on this machine),
            "auto" (the cluster this machine belongs to) or HOST:PORT; outputs must be on storage every node sees.
            `workers` then counts actors (default: one per GPU of the cluster, else as for CPU workers above).
        chunk_seconds: with more workers (or Ray actors) than jobs, films of two chunks or more are cut at the first
            keyframe after every `chunk_seconds` (default `chunks.DEFAULT_CHUNK_SECONDS`) and their chunks run in
            parallel (`vidtoon.batch.chunks`).

    Returns:
        The `BatchReport`: one `JobResult` per job in list order; `report.ok` is False when any job failed.

    Raises:
        JobListError: the list has problems (one line each); nothing was started.
        UsageError: with `ray_address`: Ray is not installed, or no cluster answers there (nothing was started).
    """
    progress = progress or NoBatchProgress()
    started = time.perf_counter()
    if ray_address is None:
        start_server()  # first: the workers' imports overlap this process's own and the checking below
    from vidtoon.batch.chunks import DEFAULT_CHUNK_SECONDS, check_chunk_seconds
    from vidtoon.batch.local import default_workers, run_local, worker_devices

    chunk_seconds = DEFAULT_CHUNK_SECONDS if chunk_seconds is None else chunk_seconds
    check_chunk_seconds(chunk_seconds)
    if ray_address is not None:
        _check_ray(ray_address, gpus=gpus, workers=workers)
    else:
        workers = workers if workers is not None else default_workers(gpus)
        devices = worker_devices(workers, gpus)
    checked, report_path = plan_batch(
        jobs, settings=settings, glob=glob, out_dir=out_dir, force=force, resume=resume, report=report
    )
    todo = [job for job in checked if job.skip is None]
    frames = [job.frames for job in todo]
    progress.batch_started(len(todo), sum(frames) if None not in frames else None)
    previous = read_previous(report_path) if report_path is not None else {}
    results = {}
    for job in checked:
        if job.skip is not None:
            earlier = previous.get((str(job.source.resolve()), str(job.output.resolve())))
            frames_before = earlier.frames if earlier else None
            done_before = earlier is not None and earlier.made_with == job.made_with  # kept for the next run
            results[job.number] = JobResult(
                job.number,
                str(job.source),
                str(job.output),
                "skipped",
                frames_before,
                error=job.skip,
                style=job.style,
                made_with=job.made_with if done_before else None,
            )
            progress.job_finished(results[job.number])
    if ray_address is not None:
        ran, workers = _run_ray(todo, ray_address, workers=workers, force=force, progress=progress, chunk_seconds=chunk_seconds)
    else:
        ran, workers = run_local(
            todo, workers=workers, devices=devices, force=force, progress=progress, chunk_seconds=chunk_seconds
        )
    made_with = {job.number: job.made_with for job in todo}
    for result in ran:  # what made each output goes in the report, whichever runner made it
        results[result.number] = replace(result, made_with=made_with[result.number]) if result.status == "done" else result
    outcome = BatchReport([results[n] for n in sorted(results)], workers=workers or 0, seconds=0.0)
    outcome.seconds = round(time.perf_counter() - started, 3)
    if report_path is not None:
        outcome.write(report_path)
    return outcome


def _check_ray(address: str, *, gpus: list[int] | None, workers: int | None) -> None:
    """Fail before anything starts: Ray missing, a dead or malformed address, local-mode-only settings."""
    from vidtoon.batch.ray_cluster import check_address, import_ray

    if gpus is not None:
        raise UsageError(
            "--gpus is for local mode", hint="with --ray each actor takes one GPU of the cluster; pick the count with --workers"
        )
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    import_ray()
    check_address(address)


def _run_ray(
    jobs: list[Job], address: str, *, workers: int | None, force: bool, progress: BatchProgress, chunk_seconds: float
) -> tuple[list[JobResult], int]:
    """The jobs' results from Ray actors, and the actor count (no cluster is reached when there is nothing to do)."""
    from vidtoon.batch.ray_runner import run_on_ray

    if not jobs:
        return [], workers or 0
    return run_on_ray(jobs, address=address, workers=workers, force=force, progress=progress, chunk_seconds=chunk_seconds)
