"""A job list checked whole before any work starts: every problem one line, all of them at once.

Each job's style is resolved (`resolve_style`: cheap, loads nothing), its settings become `RestyleOptions` (every
range and choice checked), its source is probed (missing or unreadable files fail here, and the duration
orders the work: longest first), and its output is named and, for a video, checked (a known suffix, a pixel format
its encoder takes). Then the list is checked as a whole: two jobs writing one output, an output that is some job's
input, outputs that exist (replaced with `force`, skipped with `resume`, skipped when an earlier run of this batch
made them), interrupted runs (continued with `resume`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vidtoon.batch.jobs import ENCODE_KEYS, OPTION_KEYS, JobList
from vidtoon.batch.report import JobResult
from vidtoon.checks import whole_number
from vidtoon.errors import UsageError, VidtoonError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.formats import EncodeOptions, check_encoding
from vidtoon.io.segments import parts_dir_for
from vidtoon.parsing import parse_assignments, parse_time
from vidtoon.restyle import RestyleOptions, default_output, resolve_style


class JobListError(UsageError):
    """A job list with problems: `problems` holds one line for each; nothing was started."""

    def __init__(self, name: str, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{len(problems)} problem(s) in {name}, nothing was started")

    @property
    def message(self) -> str:
        return "\n".join([self.what, *self.problems])


@dataclass(frozen=True)
class Job:
    """One checked job, ready to run in any process (every field pickles).

    Attributes:
        number: its place in the job list, from 1.
        name: how messages name it: "jobs.yaml: job 3 (clips/a.mp4)".
        source, output: resolved paths.
        settings: normalised settings (see `vidtoon.batch.jobs`); `style_args` and `options` turn them into API values.
        style: the style's name.
        seconds: the source's duration (None when unknown: a folder of images, a stream without one).
        frames: the expected frame count, when known.
        skip: why the job will not run (its output is done already), or None.
        resume: continue an interrupted run of this output from its finished segments.
    """

    number: int
    name: str
    source: Path
    output: Path
    settings: dict[str, Any] = field(hash=False)
    style: str
    seconds: float | None
    frames: int | None
    skip: str | None = None
    resume: bool = False

    def style_args(self) -> dict[str, Any]:
        """Keyword arguments of `resolve_style` / `load_translator` that pick the style."""
        return style_args(self.settings)

    def options(self, style_defaults: dict[str, Any]) -> RestyleOptions:
        """The job's `RestyleOptions` over its style card's `defaults`."""
        return restyle_options(self.settings, style_defaults)


def style_args(settings: dict[str, Any]) -> dict[str, Any]:
    opts = settings.get("style_opt")
    if isinstance(opts, str):
        opts = [opts]
    if isinstance(opts, (list, tuple)):
        opts = parse_assignments([str(o) for o in opts], flag="style_opt", example="levels=6")
    elif opts is not None and not isinstance(opts, dict):
        raise UsageError(f"style_opt must be a mapping such as {{levels: 6}}, got {opts!r}")
    return {
        "style": settings.get("to"),
        "model": settings.get("model"),
        "like": settings.get("like"),
        "like_strength": settings.get("like_strength"),
        "style_opts": {str(k): str(v) for k, v in opts.items()} if opts else None,
    }


def restyle_options(settings: dict[str, Any], style_defaults: dict[str, Any]) -> RestyleOptions:
    values = {k: settings[k] for k in OPTION_KEYS if settings.get(k) is not None}
    for key in ("start", "end", "warmup_seconds"):
        if key in values:
            values[key] = parse_time(values[key])
    if "flow_weights" in values:
        values["flow_weights"] = str(values["flow_weights"])
    encode = {k: settings[k] for k in ENCODE_KEYS if settings.get(k) is not None}
    return RestyleOptions.from_style(style_defaults, **values, encode=EncodeOptions(**encode))


def max_pixels(settings: dict[str, Any]) -> int:
    """The job's picture budget (`max_pixels`, default 100 megapixels), checked."""
    value = settings.get("max_pixels")
    whole_number("max_pixels", value, optional=True)
    return DEFAULT_MAX_PIXELS if value is None else value


def check_jobs(
    job_list: JobList,
    *,
    out_dir: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    previous: dict[tuple[str, str], JobResult] | None = None,
) -> list[Job]:
    """The entries of `job_list` as checked `Job`s (some marked to skip, some to resume).

    `previous` maps (source, output) as resolved strings to an earlier run's result for them (from its report):
    outputs it made are skipped rather than refused, and a job it left failed with its segments continues.

    Raises:
        JobListError: one line for each problem found, in job order.
    """
    from vidtoon.io.probe import probe  # PyAV: only when a batch is checked

    problems: list[str] = []
    jobs: list[Job] = []
    for entry in job_list.entries:
        name = f"{job_list.name}: job {entry.number} ({entry.source})"
        before = len(problems)
        problems += [f"{name}: {p}" for p in entry.problems]
        card = info = options = None
        try:
            max_pixels(entry.settings)
            card = resolve_style(**style_args(entry.settings))
            options = restyle_options(entry.settings, card.defaults)
        except VidtoonError as exc:
            problems.append(f"{name}: {exc.message}")
        except TypeError as exc:  # a setting of the wrong type (e.g. a list for a number)
            problems.append(f"{name}: {exc}")
        if entry.path is not None:
            if not entry.path.exists():
                problems.append(f"{name}: source not found: {entry.path}")
            elif entry.path.is_file():
                try:
                    info = probe(entry.path, max_pixels=max_pixels(entry.settings))
                except VidtoonError as exc:
                    problems.append(f"{name}: cannot read the source: {exc.message}")
        if len(problems) > before or card is None or options is None or entry.path is None:
            continue
        output = entry.output or default_output(entry.path, card.name)
        if out_dir is not None and entry.output is None:
            output = Path(out_dir) / output.name
        if info is not None and not info.is_image:
            try:
                check_encoding(output, options.encode)  # the suffix, and pix_fmt for its encoder
            except VidtoonError as exc:
                problems.append(f"{name}: {exc.message}")
                continue
        seconds, frames = _length(info, options)
        jobs.append(Job(entry.number, name, entry.path, output, dict(entry.settings), card.name, seconds, frames))
    previous = previous or {}
    failed_before = {
        job.number
        for job in jobs
        if getattr(previous.get(_key(job)), "status", None) == "failed" and parts_dir_for(job.output).exists()
    }
    sources: dict[Path, int] = {}
    for entry in job_list.entries:
        if entry.path is not None:
            sources.setdefault(entry.path.resolve(), entry.number)
    output_problems = _check_outputs(jobs, sources, force=force, resume=resume, failed_before=failed_before)
    problems += output_problems
    checked = []
    for job in jobs:
        reason = _skip_reason(job, force=force, resume=resume, previous=previous)
        if reason == "" and not any(line.startswith(f"{job.name}: ") for line in output_problems):
            problems.append(
                f"{job.name}: output exists: {job.output} (pass --force to replace it, or --resume to skip finished jobs)"
            )
        continues = not force and (resume or job.number in failed_before)
        checked.append(replace(job, skip=reason or None, resume=continues))
    if problems:
        raise JobListError(job_list.name, sorted(problems, key=_job_number))
    return checked


def _length(info: Any, options: RestyleOptions) -> tuple[float | None, int | None]:
    """Seconds and frames the job will make (between `start` and `end`), as far as the probe knows."""
    if info is None or info.duration is None:
        return None, info.frame_count if info is not None else None
    end = min(info.duration, options.end) if options.end is not None else info.duration
    seconds = max(0.0, float(end - (options.start or 0)))
    if options.start is None and options.end is None:
        return seconds, info.frame_count
    return seconds, round(seconds * info.fps) if info.fps else None


def _key(job: Job) -> tuple[str, str]:
    return str(job.source.resolve()), str(job.output.resolve())


def _check_outputs(jobs: list[Job], sources: dict[Path, int], *, force: bool, resume: bool, failed_before: set[int]) -> list[str]:
    """Two jobs writing one output, an output that is some job's input (`sources`: resolved path -> job number),
    interrupted runs nobody said what to do with."""
    problems = []
    writers: dict[Path, Job] = {}
    for job in jobs:
        target = job.output.resolve()
        if target in writers:
            problems.append(f"{job.name}: writes the same output as job {writers[target].number}: {job.output}")
        writers.setdefault(target, job)
        if target in sources:
            other = sources[target]
            which = "its own input" if other == job.number else f"the input of job {other}"
            problems.append(f"{job.name}: the output is {which}: {job.output}")
        if parts_dir_for(job.output).exists() and not (resume or force or job.number in failed_before):
            problems.append(
                f"{job.name}: an interrupted run of {job.output} exists: pass --resume to continue it or --force to start over"
            )
    return problems


def _skip_reason(job: Job, *, force: bool, resume: bool, previous: dict[tuple[str, str], JobResult]) -> str | None:
    """None: run it; a reason: skip it; "": refuse it (its output exists and nothing says it may go)."""
    if force or not job.output.exists():
        return None
    if getattr(previous.get(_key(job)), "status", None) in ("done", "skipped"):
        return "done in an earlier run"
    if resume:
        return "output exists"
    return ""


def _job_number(problem: str) -> int:
    """Problems sorted by job, each job's in the order found (the sort is stable)."""
    match = re.search(r": job (\d+) ", problem)
    return int(match.group(1)) if match else 0
