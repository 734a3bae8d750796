"""A job list checked whole before any work starts: every problem one line, all of them at once.

Each job's style is resolved (`resolve_style`: cheap, loads nothing), its settings become `RestyleOptions` (every
range and choice checked), its source is probed (missing or unreadable files fail here, and the duration
orders the work: longest first), and its output is named and checked (`check_output_fits`: an image file for an
image; for a video a known suffix, a pixel format its encoder takes, a start inside the film; a picture's or a
folder's job drops the encoder settings `crf`, `preset`, `pix_fmt` of the command line and of `defaults:`, which are
for the films, and is refused when its own line sets them). Then the list is
checked as a whole: two jobs writing one output, an output that is some job's input, outputs that exist (replaced
with `force`, skipped with `resume`, skipped when an earlier run of this batch made them with the same settings,
refused when it made them with other settings), interrupted runs (continued with `resume`).

What a job's output is made with (`Job.made_with`: the style, the model's identity, the options that change pixels,
the source's size) is recorded in the report; a later run counts the job done only while it still matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from vidtoon.batch.jobs import ENCODE_KEYS, OPTION_KEYS, JobList
from vidtoon.batch.report import JobResult
from vidtoon.checks import whole_number
from vidtoon.errors import UsageError, VidtoonError
from vidtoon.files import file_sha256
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.formats import EncodeOptions, output_format
from vidtoon.io.segments import parts_dir_for
from vidtoon.io.writer import encoder_pix_fmt, warn_padding
from vidtoon.parsing import parse_assignments, parse_time
from vidtoon.restyle import RestyleOptions, default_output, resolve_style
from vidtoon.restyle.check import check_output_fits
from vidtoon.styles import StyleCard, style_key

# options that change how a job runs, not what its output shows: a change of these alone leaves a job done
_NOT_PIXELS = ("device", "batch_size", "compile", "segment_seconds", "warmup_seconds")


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
        made_with: what makes the output what it is, as JSON values (`made_with`); recorded in the report.
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
    made_with: dict[str, Any] = field(default_factory=dict, hash=False)

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


def made_with(card: StyleCard, options: RestyleOptions, source: Path, *, digests: dict[Path, str] | None = None) -> dict:
    """What makes a job's output what it is, as JSON values: the style's name, its model's identity (`style_key`; a
    weights or ONNX file by its sha256, wherever it lies), every option but those in `_NOT_PIXELS` (encoder settings
    included), and the source's size. `digests` caches the files' sha256 across the jobs of one check."""
    model = style_key(card, options.label)
    if card.kind in ("checkpoint", "onnx") and card.checkpoint is not None and card.checkpoint.is_file():
        digests = {} if digests is None else digests
        path = card.checkpoint.resolve()
        if path not in digests:
            digests[path] = card.sha256 or file_sha256(path)  # an installed style's file was checked against its card
        model = {"kind": card.kind, "label": options.label, "sha256": digests[path]}
    recipe = {
        "style": card.name,
        "model": model,
        "options": {k: v for k, v in asdict(options).items() if k not in _NOT_PIXELS},
        "source_size": source.stat().st_size if source.is_file() else None,
    }
    return json.loads(json.dumps(recipe, default=str, sort_keys=True))  # as a report reads back: Fractions as strings


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
    outputs it made with the job's settings (`Job.made_with`) are skipped rather than refused, outputs it made with
    other settings are refused (even with `resume`; `force` makes them again), and a job it left failed with its
    segments continues.

    Raises:
        JobListError: one line for each problem found, in job order.
    """
    from vidtoon.io.probe import probe  # PyAV: only when a batch is checked

    problems: list[str] = []
    jobs: list[Job] = []
    digests: dict[Path, str] = {}
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
        output = output.absolute()  # as the source: a Ray worker runs in another folder
        if info is not None:
            try:
                check_output_fits(info, entry.path, output, options)  # its type, pix_fmt, start inside the film
            except VidtoonError as exc:
                problems.append(f"{name}: {exc.message}")
                continue
            if not info.is_image:  # a chunk's parts do not say it
                pix_fmt = encoder_pix_fmt(options.encode, output_format(output).video_codec)
                warn_padding(output, info.width, info.height, pix_fmt)
        if info is None or info.is_image:  # the job's own line sets a video encoder for pictures: it means this job
            given = [key for key in ENCODE_KEYS if key in entry.own and entry.settings.get(key) is not None]
            if given:
                what = "a folder of pictures" if info is None else "a picture"
                problems.append(f"{name}: {_picture_settings(given, entry.settings, what)}")
                continue
        seconds, frames = _length(info, options)
        try:
            recipe = made_with(card, options, entry.path, digests=digests)
        except OSError as exc:
            problems.append(f"{name}: cannot read the model file: {exc}")
            continue
        settings = dict(entry.settings)
        if info is None or info.is_image:  # pictures are written without a video encoder: the batch's --crf,
            settings = {k: v for k, v in settings.items() if k not in ENCODE_KEYS}  # --preset, `defaults:` are for its films
        job = Job(entry.number, name, entry.path, output, settings, card.name, seconds, frames, made_with=recipe)
        jobs.append(job)
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
        reason, refusal = _skip_reason(job, force=force, resume=resume, previous=previous)
        if refusal and not any(line.startswith(f"{job.name}: ") for line in output_problems):
            problems.append(f"{job.name}: {refusal}")
        continues = not force and (resume or job.number in failed_before)
        checked.append(replace(job, skip=reason or None, resume=continues))
    if problems:
        raise JobListError(job_list.name, sorted(problems, key=_job_number))
    return checked


def _picture_settings(keys: list[str], settings: dict[str, Any], what: str) -> str:
    """The problem of a picture job whose own line sets the video encoder's `keys` (crf, preset, pix_fmt)."""
    given = ", ".join(f"{key}: {_shown(settings[key])}" for key in keys)
    names = " and ".join(keys)
    return (
        f"{given}: the output is {what}, written without a video encoder, so {'they change' if len(keys) > 1 else 'it changes'} "
        f"nothing; leave {names} out of this job (a video's encoder settings)"
    )


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


def _skip_reason(
    job: Job, *, force: bool, resume: bool, previous: dict[tuple[str, str], JobResult]
) -> tuple[str | None, str | None]:
    """(why the job is skipped, or None; why it is refused, or None): its output exists and nothing says it may go,
    or an earlier run of this batch made it with other settings. Neither: run it."""
    if force or not job.output.exists():
        return None, None
    earlier = previous.get(_key(job))
    if earlier is not None and earlier.status in ("done", "skipped") and earlier.made_with is not None:
        if earlier.made_with == job.made_with:
            return "done in an earlier run", None
        changed = ", ".join(_changed(earlier.made_with, job.made_with))
        return None, f"output exists, made with other settings ({changed}): {job.output} (pass --force to make it again)"
    if resume:
        return "output exists", None
    return None, f"output exists: {job.output} (pass --force to replace it, or --resume to skip finished jobs)"


def _changed(old: dict[str, Any], new: dict[str, Any], shown: int = 3) -> list[str]:
    """What differs between two `made_with`s, as `key old → new` (a model's own keys only when the style is the same;
    long values only by name), at most `shown` of them."""
    before, after = _flat(old), _flat(new)
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    if "style" in keys:
        keys = ["style"] + [k for k in keys if k != "style" and not k.startswith("model.")]
    lines = []
    for key in keys:
        name = key.removeprefix("options.").removeprefix("encode.")
        old_value, new_value = _shown(before.get(key)), _shown(after.get(key))
        lines.append(f"{name} changed" if len(old_value) + len(new_value) > 40 else f"{name} {old_value} → {new_value}")
    return lines[:shown] + ([f"{len(lines) - shown} more"] if len(lines) > shown else [])


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _shown(value: Any) -> str:
    return "unset" if value is None else str(value)


def _job_number(problem: str) -> int:
    """Problems sorted by job, each job's in the order found (the sort is stable)."""
    match = re.search(r": job (\d+) ", problem)
    return int(match.group(1)) if match else 0
