"""Chunks: one film cut at keyframes into units of work that run at the same time, then joined without re-encoding.

A film's chunks are planned from its keyframes (`keyframe_times`, a demux-only pass: no frame is decoded):
a border at the first keyframe at or after each multiple of `chunk_seconds` of output time. Borders are
exact frame times, so every frame falls in exactly one chunk (a chunk holds the output times from its
`start` up to, not including, its `end`); none is lost or doubled the way splitting at rounded seconds loses
them. Each chunk is one segment of the film's parts folder (`vidtoon.io.segments`, its borders stored in the
settings so a resume with another plan is refused), written by `run_chunk` in any process (or machine sharing
the folder): it decodes from `warmup_start` so the temporal stage at the border is warm (those frames are
restyled, not written, as a resume does), and encodes with the settings of a single run. A chunk is complete
once its segment's `.times` list exists; `run_chunk` skips a complete chunk and starts a half-written one over.
`join_chunks` (run by whoever holds the output's lock: the batch driver) remuxes the segments with the source's
sound and subtitles, once, and removes the parts folder.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from vidtoon.batch.check import Job, max_pixels
from vidtoon.errors import OutputError, UsageError
from vidtoon.io.paths import FFMPEG_READ_OPTIONS, ffmpeg_path
from vidtoon.progress import NoProgress, Progress

DEFAULT_CHUNK_SECONDS = 60


@dataclass(frozen=True)
class Chunk:
    """One unit of work: the frames of job `job` whose output time t has `start <= t < end` (every field pickles).

    Attributes:
        job: the job's number (`Job.number`).
        index: the chunk's place in its film, from 0 (also its segment's index).
        start: output time (seconds from the job's `start`) of its first frame: a keyframe's exact time (0 for the first).
        end: output time of the next chunk's first frame; None for the last chunk (to the job's end).
        warmup_start: output time decoding starts at (`warmup_seconds` before `start` with a temporal stage).
        borders: the film's plan: every chunk's `start` but the first (what the parts folder's settings record).
    """

    job: int
    index: int
    start: Fraction
    end: Fraction | None
    warmup_start: Fraction
    borders: tuple[Fraction, ...] = ()


@dataclass(frozen=True)
class ChunkResult:
    """What `run_chunk` did: `frames` in the chunk's segment, `seconds` it took, `skipped` when it was complete before."""

    job: int
    index: int
    frames: int
    seconds: float
    skipped: bool = False


def keyframe_times(source: str | Path, info: Any) -> list[Fraction]:
    """Times (seconds from the input's start, as `VideoReader` counts them) of the video's keyframe packets, sorted.

    Demuxes only (no frame is decoded): a 2-hour film takes seconds. `info`: the source's `probe`.
    """
    import av

    times = set()
    with av.open(ffmpeg_path(source), options=FFMPEG_READ_OPTIONS) as container:
        stream = container.streams.video[0]
        time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1_000_000)
        for packet in container.demux(stream):
            if packet.is_keyframe and packet.pts is not None and packet.size > 0:
                times.add(packet.pts * time_base - info.start_time)
    return sorted(times)


def check_chunk_seconds(chunk_seconds: Any) -> None:
    """Raises UsageError unless `chunk_seconds` is a positive number of seconds."""
    if isinstance(chunk_seconds, bool) or not isinstance(chunk_seconds, (int, float, Fraction)) or not chunk_seconds > 0:
        raise UsageError(f"--chunk-seconds must be a positive number of seconds, got {chunk_seconds!r}", hint="e.g. 60")


def plan_chunks(job: Job, info: Any, *, chunk_seconds: float = DEFAULT_CHUNK_SECONDS) -> list[Chunk]:
    """Cut `job`'s film (`info`: its probe) into chunks of about `chunk_seconds` of output, at keyframes.

    A border is the first keyframe at or after each multiple of `chunk_seconds` (within the job's `start`/`end`);
    a film shorter than two chunks, without a known length, or written as a GIF (no segments) is one chunk.

    Raises:
        UsageError: `chunk_seconds` is not a positive number.
    """
    from vidtoon.io.formats import output_format
    from vidtoon.restyle import resolve_style
    from vidtoon.restyle.video import warmup_start

    check_chunk_seconds(chunk_seconds)
    options = job.options(resolve_style(**job.style_args()).defaults)
    step = Fraction(chunk_seconds)
    origin = options.start or Fraction(0)
    length = None
    if info.duration is not None:
        length = min(info.duration, options.end) - origin if options.end is not None else info.duration - origin
    borders: list[Fraction] = []
    if length is not None and length >= 2 * step and output_format(job.output).muxer != "gif":
        keys = [t - origin for t in keyframe_times(job.source, info) if 0 < t - origin < length]
        at = 0
        multiple = step
        while multiple < length:
            while at < len(keys) and keys[at] < multiple:
                at += 1
            if at == len(keys):
                break
            borders.append(keys[at])
            multiple = (keys[at] // step + 1) * step  # a keyframe gap longer than a chunk: the next multiple after it
    starts = [Fraction(0), *borders]
    ends: list[Fraction | None] = [*borders, None]
    plan = tuple(borders)
    return [Chunk(job.number, i, s, e, warmup_start(s, options), plan) for i, (s, e) in enumerate(zip(starts, ends))]


def load_restyler(job: Job, device: str | None = None, cache: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """`job`'s style loaded for `device` (None: the job's own `device` setting), once per `cache`, and its options.

    `cache` (a worker's or actor's dict, kept between calls) holds every style loaded, keyed by what picks it
    and the device. Returns (`LoadedStyle`, `RestyleOptions` with the device resolved).
    """
    from vidtoon.restyle import load_translator, resolve_style

    card = resolve_style(**job.style_args())
    options = job.options(card.defaults)
    device = device if options.device == "auto" and device else options.device
    key = json.dumps([job.style_args(), device, options.precision, options.label, options.compile], sort_keys=True)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = load_translator(
            card=card,
            device=device,
            precision=options.precision,
            label=options.label,
            compile=options.compile,
            twin=not options.faces,  # a procedural style on the CPU: its uint8 twin (`restyle.twins`)
        )
    return cache[key], replace(options, device=device)


def run_chunk(
    job: Job,
    chunk: Chunk,
    *,
    translator_cache: dict[str, Any] | None = None,
    progress: Progress | None = None,
    device: str | None = None,
) -> ChunkResult:
    """Restyle and encode one chunk into its segment of `job.output`'s parts folder (made when missing; no lock taken).

    Decodes from `chunk.warmup_start` (frames before `chunk.start` only warm the temporal stage up), stops at
    `chunk.end`. A chunk complete already is skipped; a half-written one is written again.
    `progress` gets `start(frames expected, name)` and one `advance` per frame written.

    Raises:
        VidtoonError: as `vidtoon.restyle` (decode errors name the frame); OutputError: the parts folder holds
        another plan or other settings.
    """
    from vidtoon.io.reader import VideoReader
    from vidtoon.restyle import make_restyler
    from vidtoon.restyle.video import encode_frames

    progress = progress or NoProgress()
    started = time.perf_counter()
    loaded, options = load_restyler(job, device, translator_cache)
    parts, info, fmt, fps, time_base = _parts(job, chunk.borders, options, loaded.key)
    if parts.is_finished(chunk.index):
        frames = dict((i, n) for i, _, n in parts.done).get(chunk.index, 0)
        return ChunkResult(job.number, chunk.index, frames, 0.0, skipped=True)
    origin = options.start or Fraction(0)
    expected = round((chunk.end - chunk.start) * fps) if chunk.end is not None and info.fps else None
    progress.start(expected, f"{job.source.name} [{chunk.index}]")
    restyler = make_restyler(loaded.translator, options)
    with VideoReader(
        job.source,
        start=origin + chunk.warmup_start,
        end=origin + chunk.end if chunk.end is not None else options.end,
        info=info,
        on_corrupt=options.on_corrupt,
        max_pixels=max_pixels(job.settings),
    ) as reader:
        frames = encode_frames(
            restyler,
            options,
            parts,
            reader,
            read_from=chunk.warmup_start,
            write_from=chunk.start,
            write_until=chunk.end,
            fps=fps,
            time_base=time_base,
            fmt=fmt,
            progress=progress,
        )
    restyler.finish("frames")
    return ChunkResult(job.number, chunk.index, frames, round(time.perf_counter() - started, 3))


def join_chunks(job: Job, chunks: list[Chunk], *, force: bool = True) -> Path:
    """Join `job`'s finished chunks into `job.output` with the source's sound and subtitles; the parts folder goes.

    Run by the process that holds the output's lock (or none). `force`: replace an existing output (the batch's
    check already refused one that may not be replaced).

    Raises:
        OutputError: some chunks are not finished (named), or the folder holds another plan.
    """
    from vidtoon.io.segments import join_segments
    from vidtoon.restyle.video import source_sound

    loaded_key, options = _style_key(job)
    borders = chunks[0].borders if chunks else ()
    parts, info, _, fps, time_base = _parts(job, borders, options, loaded_key)
    missing = [c.index for c in chunks if not parts.is_finished(c.index)]
    if missing:
        raise OutputError(
            f"chunk(s) {', '.join(map(str, missing))} of {len(chunks)} are not finished, so the film cannot be joined",
            path=job.output,
            hint="run the batch again with --resume to make only the missing chunks",
        )
    parts.done = [d for d in parts.done if d[0] < len(chunks)]
    result = join_segments(
        parts,
        job.output,
        fps=fps,
        time_base=time_base,
        audio=source_sound(job.source, options),
        metadata=info.metadata,
        inputs=(job.source,),
        force=force,
    )
    parts.remove()
    return result


def open_film(job: Job, chunks: list[Chunk], *, resume: bool, force: bool) -> Any:
    """The driver's side: take `job.output`'s lock and open its parts folder for `chunks` (a `SegmentedJob` whose
    `done` lists the chunks finished before); hold it until the film is joined (or `release()` it to stop).

    Raises:
        OutputError: an interrupted run exists and neither `resume` nor `force`, `resume` with another plan or
        other settings, or another process writes the output.
    """
    from vidtoon.files import ensure_writable_dir
    from vidtoon.io.segments import SegmentedJob

    ensure_writable_dir(job.output.parent)  # as a single restyle makes an output's missing folder
    key, options = _style_key(job)
    parts = SegmentedJob.open(job.output, chunk_settings(job, chunks[0].borders, options, key), resume=resume, force=force)
    parts.shared = True
    parts.refresh()
    return parts


def chunk_settings(job: Job, borders: tuple[Fraction, ...], options: Any, style_key: dict) -> dict[str, Any]:
    """The parts folder's settings for `job` cut at `borders` (what `SegmentedJob.open`/`attach` compare)."""
    return _parts(job, borders, options, style_key, attach=False)


def _style_key(job: Job) -> tuple[dict, Any]:
    """The model key of `job`'s style without loading it (`LoadedStyle.key` of the card), and its options."""
    from vidtoon.restyle import resolve_style
    from vidtoon.styles import style_key

    card = resolve_style(**job.style_args())
    return style_key(card, job.options(card.defaults).label), job.options(card.defaults)


def _parts(job: Job, borders: tuple[Fraction, ...], options: Any, style_key: dict, *, attach: bool = True):
    """(the parts folder attached, probe, format, fps, segment time base) of `job` cut at `borders`; only the
    settings with `attach=False`."""
    from vidtoon.io.formats import output_format
    from vidtoon.io.probe import probe
    from vidtoon.io.segments import SegmentedJob
    from vidtoon.restyle.video import segment_settings

    fmt = output_format(job.output)
    if fmt.muxer == "gif":
        raise UsageError(f"{job.output}: a GIF is written in one pass and cannot be made from chunks")
    info = probe(job.source, max_pixels=max_pixels(job.settings))
    fps = info.fps or Fraction(25)
    time_base = 1 / fps if fmt.constant_rate else info.time_base
    settings = {**segment_settings(job.source, style_key, options, fmt, time_base), "borders": [str(b) for b in borders]}
    if not attach:
        return settings
    return SegmentedJob.attach(job.output, settings), info, fmt, fps, time_base
