"""The segmented video loop: decode thread -> batches -> restyler -> encode thread, resumable by segment.

The video is encoded in segments (see `vidtoon.io.segments`) so an interrupted run resumes from the
last finished segment; the segments are joined with the source's sound at the end. Formats that
cannot be joined from segments (GIF) are written by one writer in one pass.

The frames come from a `FrameOpener`: by default a `VideoReader` of the source; `stabilize` opens the
processed frames paired with their originals (`vidtoon.io.aligned.guided_frames`) and drives the same loop.
`encode_frames` is that loop for any span of output time: a chunk of a film (`vidtoon.batch.chunks`) runs it too.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, closing
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtoon.errors import DiskFullError, EncodeError, Interrupted
from vidtoon.files import check_output, is_disk_full
from vidtoon.interrupts import finished_outputs, held_signals
from vidtoon.io.audio import AudioSource
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.formats import output_format
from vidtoon.io.probe import VideoInfo
from vidtoon.io.reader import Frame, VideoReader, warn_alpha
from vidtoon.io.segments import SegmentedJob, join_segments
from vidtoon.io.writer import VideoWriter, encoder_pix_fmt, warn_padding
from vidtoon.progress import Progress
from vidtoon.restyle.batches import Restyler, batches, restyled_batches
from vidtoon.restyle.options import RestyleOptions
from vidtoon.streaming import BackgroundSink, prefetch

# start (seconds of output time, from `options.start`) -> a context manager giving the frames from there on,
# their times counted from that start
FrameOpener = Callable[[Fraction], AbstractContextManager[Iterable[Frame]]]


def restyle_video(
    source: Path,
    output: Path,
    restyler: Restyler,
    options: RestyleOptions,
    *,
    info: VideoInfo,
    resume: bool,
    force: bool,
    progress: Progress,
    job_key: dict,
    open_frames: FrameOpener | None = None,
    inputs: tuple[Path, ...] | None = None,
    concealed: list[Fraction] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """A film through `restyler`, encoded in resumable segments and joined with the source's sound (`info`: its probe).

    `open_frames`: where the frames come from (default: the source, decoded); `inputs`: every file the run reads
    (the output must be none of them; default the source). A source that is a folder has no sound.
    `concealed` (with `options.on_corrupt == "conceal"`) receives the input times of the frames that failed to decode.
    `max_pixels`: the picture budget the source was probed with (`--max-pixels`).
    """
    inputs = inputs or (source,)
    check_output(output, inputs=inputs, force=force)
    if open_frames is None:

        def open_frames(start: Fraction) -> VideoReader:
            return VideoReader(
                source, start=start, end=options.end, info=info, on_corrupt=options.on_corrupt, max_pixels=max_pixels
            )

    fmt = output_format(output)
    fps = info.fps or Fraction(25)
    time_base = 1 / fps if fmt.constant_rate else info.time_base
    warn_alpha(info)  # once, before the first frame
    if fmt.muxer == "gif":
        return _restyle_video_direct(source, output, restyler, options, info, open_frames, inputs, force, progress, concealed)
    job = SegmentedJob.open(output, segment_settings(source, job_key, options, fmt, time_base), resume=resume, force=force)
    pix_fmt = encoder_pix_fmt(options.encode, fmt.video_codec)
    warn_padding(output, info.width, info.height, pix_fmt)  # once, not in every segment
    finished_before = len(finished_outputs())
    try:
        if not job.complete:
            _encode_segments(
                source.name,
                restyler,
                options,
                job,
                open_frames,
                info=info,
                fps=fps,
                time_base=time_base,
                fmt=fmt,
                progress=progress,
                concealed=concealed,
            )
            job.mark_complete()
        else:
            progress.start(expected_frames(info, options.start, options.end), source.name)
            progress.advance(job.frame_count())
        result = join_segments(
            job,
            output,
            fps=fps,
            time_base=time_base,
            audio=source_sound(source, options),
            metadata=info.metadata,
            inputs=inputs,
            force=force,
            final=True,  # from its rename on, a signal no longer stops the command (the CLI says what it wrote)
        )
    except BaseException as exc:
        if output in finished_outputs()[finished_before:]:
            # the film is in place; a signal held over its rename reached a caller that is not the CLI (whose handler
            # lets the command finish): nothing is left to resume, so no segments are kept. This film's own record:
            # another restyle in this process (a thread, a Ray actor's other unit) may finish meanwhile
            with held_signals():
                job.remove()
            raise
        stopped = _resumable_stop(exc, output, job)
        if not job.done and not isinstance(stopped, DiskFullError):
            job.remove()  # nothing to resume: no empty parts folder to refuse the next run as "interrupted"
        else:
            job.release()  # the finished segments (or, on a full disk, the written bytes) stay for --resume
        stopped = stopped or _said_of_output(exc, output, job)
        if stopped is None:
            raise
        raise stopped from None
    with held_signals():  # the output is in place: its parts folder goes whole, whatever arrives meanwhile
        job.remove()
    return result


def segment_settings(source: Path, job_key: dict, options: RestyleOptions, fmt, time_base: Fraction) -> dict:
    """What must match for a job's finished segments to be reused (source, model, options, format, time base)."""
    return {
        "source": str(source.resolve()),
        "source_size": source.stat().st_size,
        "model": job_key,
        "options": {
            k: (str(v) if isinstance(v, Fraction) else v)
            for k, v in asdict(options).items()
            if k not in ("device", "batch_size", "compile")
        },
        "format": fmt.muxer,
        "time_base": str(time_base),
    }


def _resumable_stop(exc: BaseException, output: Path, job: SegmentedJob) -> BaseException | None:
    """A signal or a full disk, said in terms of the segments kept for --resume; None for any other failure. A signal
    before the first segment was finished leaves nothing to resume (the caller removes the parts folder, so a later
    run starts afresh without --resume or --force)."""
    kept = f"{len(job.done)} finished segment(s) of {output} kept"
    if isinstance(exc, KeyboardInterrupt):
        signum = getattr(exc, "signum", signal.SIGINT)
        if not job.done:
            return Interrupted(signum)
        # an older output is still there (the run had --force): continuing must say so again
        return Interrupted(signum, kept=kept, again="--resume --force" if output.exists() else "--resume")
    if isinstance(exc, DiskFullError) or is_disk_full(exc):
        return DiskFullError(output, written=job.bytes_written() + getattr(exc, "written", 0), resumable=True)
    return None


def _said_of_output(exc: BaseException, output: Path, job: SegmentedJob) -> EncodeError | None:
    """An encoder's failure in a segment, said of `output` (the user's file, not the hidden part); None for others."""
    if not isinstance(exc, EncodeError) or exc.path is None or exc.path.parent != job.folder:
        return None
    kept = f"{len(job.done)} finished segment(s) kept: run again with --resume once the cause is gone"
    return EncodeError(exc.what, path=output, hint=kept if job.done else exc.hint)


def _encode_segments(
    name: str,
    restyler: Restyler,
    options: RestyleOptions,
    job: SegmentedJob,
    open_frames: FrameOpener,
    *,
    info: VideoInfo,
    fps: Fraction,
    time_base: Fraction,
    fmt,
    progress: Progress,
    concealed: list[Fraction] | None,
) -> None:
    """Restyle and encode every frame not yet in a finished segment of `job` (warming the temporal stage up first)."""
    resume_at = job.segment_start(job.next_index, Fraction(options.segment_seconds))
    read_from = warmup_start(resume_at, options)  # output time the reader starts at
    progress.start(expected_frames(info, options.start, options.end), name)
    if job.done:
        progress.advance(job.frame_count())
    with open_frames((options.start or Fraction(0)) + read_from) as reader:
        encode_frames(
            restyler,
            options,
            job,
            reader,
            read_from=read_from,
            write_from=resume_at,
            fps=fps,
            time_base=time_base,
            fmt=fmt,
            progress=progress,
        )
        if concealed is not None:
            concealed.extend(getattr(reader, "concealed", ()))  # a paired reader conceals nothing
    restyler.finish("frames")


def warmup_start(write_from: Fraction, options: RestyleOptions) -> Fraction:
    """Output time to start decoding at so the temporal stage is warm at `write_from` (`options.warmup_seconds` before)."""
    warmup = min(write_from, options.warmup_seconds) if options.consistency != "none" else Fraction(0)
    return write_from - warmup


def encode_frames(
    restyler: Restyler,
    options: RestyleOptions,
    job: SegmentedJob,
    reader: Iterable[Frame],
    *,
    read_from: Fraction,
    write_from: Fraction,
    fps: Fraction,
    time_base: Fraction,
    fmt,
    progress: Progress,
    write_until: Fraction | None = None,
) -> int:
    """The video loop: `reader`'s frames restyled in batches and encoded into `job`'s segments (each by its output time).

    `reader` yields frames timed from output time `read_from`; the frames before output time `write_from` only warm
    the temporal stage up (as a resume does), those at or after `write_until` (None: no limit) are not written.
    Returns the frames written; each segment is finished (`job.finish_segment`) when the next starts and at the end.
    """
    segment = Fraction(options.segment_seconds)
    batch_size = options.batch_size or (8 if restyler.translator.device.type == "cuda" else 1)
    state = {"writer": None, "index": None, "frames": 0}

    def write(item: tuple[int, Fraction, np.ndarray]) -> None:
        index, time, rgb = item
        if state["index"] != index:
            if state["writer"] is not None:
                job.finish_segment(state["index"], state["writer"])
            state["writer"] = job.segment_writer(
                index,
                fps=fps,
                time_base=time_base,
                options=options.encode,
                video_codec=fmt.video_codec,
                reorder=not fmt.constant_rate,
            )
            state["index"] = index
        state["writer"].write(rgb, time)
        state["frames"] += 1

    try:
        # closing(): on a signal or an error the decode thread stops before the reader closes its container
        with (
            BackgroundSink(write, depth=2 * batch_size + 4) as sink,
            closing(prefetch(reader, depth=2 * batch_size + 2)) as decoded,
        ):
            restyler.reset()
            for times, restyled in restyled_batches(restyler, batches(decoded, batch_size)):
                for time, rgb in zip(times, restyled):
                    absolute = time + read_from  # output time: from `options.start`
                    if write_until is not None and absolute >= write_until:
                        continue
                    if absolute >= write_from:  # earlier frames only warm the temporal stage up
                        sink.put((job.segment_of(absolute, segment), absolute, rgb))
                        progress.advance()
        if state["writer"] is not None:
            job.finish_segment(state["index"], state["writer"])
    except BaseException:
        if state["writer"] is not None:
            state["writer"].abort()
        raise
    return state["frames"]


def _restyle_video_direct(
    source: Path,
    output: Path,
    restyler: Restyler,
    options: RestyleOptions,
    info: VideoInfo,
    open_frames: FrameOpener,
    inputs: tuple[Path, ...],
    force: bool,
    progress: Progress,
    concealed: list[Fraction] | None,
) -> Path:
    """For outputs that cannot be joined from segments (GIF): one writer, no resume."""
    with open_frames(options.start or Fraction(0)) as reader:
        with VideoWriter(
            output,
            fps=info.fps or Fraction(25),
            time_base=info.time_base,
            options=options.encode,
            audio=source_sound(source, options),
            metadata=info.metadata,
            inputs=inputs,
            force=force,
            final=True,  # as a joined film: from its rename on, a signal no longer stops the command
        ) as writer:
            progress.start(expected_frames(info, options.start, options.end), source.name)
            restyler.reset()
            for times, restyled in restyled_batches(restyler, batches(prefetch(reader), options.batch_size or 1)):
                for time, rgb in zip(times, restyled):
                    writer.write(rgb, time)
                progress.advance(len(restyled))
        if concealed is not None:
            concealed.extend(getattr(reader, "concealed", ()))
    restyler.finish("frames")
    return writer.path


def source_sound(source: Path, options: RestyleOptions) -> AudioSource | None:
    """The source's sound (and subtitles) for the restyled part; a frame folder has none."""
    if source.is_dir():
        return None
    return AudioSource(source, origin=options.start or Fraction(0), end=options.end)


def expected_frames(info: VideoInfo, start: Fraction | None, end: Fraction | None) -> int | None:
    if info.frame_count is None or not info.fps:
        return info.frame_count
    first = math.floor((start or 0) * info.fps)
    last = min(info.frame_count, math.ceil(end * info.fps)) if end is not None else info.frame_count
    return max(0, last - first)
