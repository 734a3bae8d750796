"""Resumable encoding: a video written as finished segments, joined into the final file without re-encoding.

A job's segments live in a hidden folder beside the output. Each segment is a NUT file (exact
timestamps in any time base) plus a `.times` list of its packets' presentation and decode timestamps as
the encoder made them (NUT does not return the first decode times, and delays every packet to keep them
non-negative). The `.times` list is written atomically after its segment is closed: a segment whose list
exists is complete (one line per frame). Segment `i` holds the output times between its borders: by
default the grid `i * segment_seconds`; a chunked film gives its borders (`SegmentedJob.borders`, stored
in the settings, so a resume with another plan is refused).

One writer (`vidtoon restyle`) also lists its finished segments in `progress.json`; after a crash, a run
with resume continues from the first unfinished segment. Many writers (the chunks of one film in other
processes, or on other machines sharing the folder) `attach` to a folder without taking its lock and never
rewrite `progress.json`: what is finished is read from the `.times` lists (`finished_segments`).
`join_segments` remuxes the segments, in order, into the final container with the source's audio
and subtitles interleaved, then the folder is removed. While a job is open it holds the output's
`OutputLock`, so a second run writing the same output is refused instead of mixing segments.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vidtoon.errors import DiskFullError, EncodeError, OutputError
from vidtoon.files import AtomicFile, bytes_on_disk, check_output, is_disk_full
from vidtoon.io.audio import AudioPassthrough, AudioSource
from vidtoon.io.formats import output_format
from vidtoon.io.paths import ffmpeg_path
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.locking import OutputLock, sidecar_name

log = logging.getLogger(__name__)

_PROGRESS = "progress.json"


def parts_dir_for(output: Path) -> Path:
    """Where the segments of the job writing `output` live: a hidden folder beside it."""
    return output.parent / sidecar_name(".", output.name, ".vidtoon-parts")


@dataclass
class SegmentedJob:
    """The segment folder of one output, with the settings that made it.

    Attributes:
        folder: the hidden parts folder.
        settings: what must match for a resume to be valid (source, model, sizes, encoder ...).
        done: finished segments, in order, as (index, file name, frame count).
        complete: every frame is in a finished segment (only the join is left).
        lock: the output's lock, held until `release()` or `remove()`.
        shared: one of many writers (`attach`): finished segments are known from their `.times` lists only.

    `settings["borders"]` (sorted output times as strings, the first segment's start excluded), when present,
    replaces the `segment_seconds` grid: segment `i` holds the times from border `i - 1` to border `i`.
    """

    folder: Path
    settings: dict[str, Any]
    done: list[tuple[int, str, int]]
    complete: bool = False
    lock: OutputLock | None = None
    shared: bool = False

    @classmethod
    def open(cls, output: Path, settings: dict[str, Any], *, resume: bool, force: bool) -> SegmentedJob:
        """Start a job for `output`, or continue the interrupted one when `resume`.

        Raises:
            OutputError: an interrupted job exists and neither `resume` nor `force` was given,
                `resume` was given for a job made with other settings, or another process is writing `output`.
        """
        lock = OutputLock(output).acquire()
        try:
            job = cls._open(output, settings, resume=resume, force=force)
        except BaseException as exc:
            lock.release()
            if is_disk_full(exc):  # not even the progress list fits: said of the output, nothing to resume
                raise DiskFullError(output) from None
            raise
        job.lock = lock
        return job

    @classmethod
    def _open(cls, output: Path, settings: dict[str, Any], *, resume: bool, force: bool) -> SegmentedJob:
        settings = {**settings, "segment_files": "nut+times"}  # jobs of older versions (.dts lists) cannot resume
        folder = parts_dir_for(output)
        state_file = folder / _PROGRESS
        if folder.exists():
            state = _read_state(state_file)
            if resume and state is not None:
                if state["settings"] != settings:
                    changed = ", ".join(_changed(state["settings"], settings))
                    raise OutputError(
                        f"cannot resume: the interrupted run used other settings ({changed})",
                        path=output,
                        hint="run again with the same options, or pass --force to start over",
                    )
                for stale in folder.glob(".*partial*"):
                    stale.unlink()
                job = cls(folder, settings, [tuple(d) for d in state["done"]], complete=bool(state.get("complete")))
                log.info("resuming %s after %d finished segment(s)", output, len(job.done))
                return job
            if not force and not resume:
                done = len(list(folder.glob("part-*.times")))  # finished segments, by one writer or many
                raise OutputError(
                    f"an interrupted run of this output exists ({done} segment(s) finished)",
                    path=output,
                    hint="pass --resume to continue it, or --force to start over",
                )
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        job = cls(folder, settings, [])
        try:
            job._save()
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # an empty parts folder would refuse the next run as "interrupted"
            raise
        return job

    @classmethod
    def attach(cls, output: Path, settings: dict[str, Any]) -> SegmentedJob:
        """Join the parts folder of `output` as one of many writers (a chunk): no lock (whoever joins the film
        holds it), the folder made when missing, its finished segments read from disk.

        Raises:
            OutputError: the folder was made with other settings (another plan of chunks, another style ...).
        """
        settings = {**settings, "segment_files": "nut+times"}
        folder = parts_dir_for(output)
        state = _read_state(folder / _PROGRESS)
        if state is None:
            folder.mkdir(parents=True, exist_ok=True)
            with AtomicFile(folder / _PROGRESS, lock=False) as staged:  # writers racing here write the same text
                staged.path.write_text(json.dumps({"settings": settings, "done": [], "complete": False}, indent=1))
        elif state["settings"] != settings:
            raise OutputError(
                f"the parts folder holds another run of this output ({', '.join(_changed(state['settings'], settings))})",
                path=output,
                hint="run the batch again with --force to start over",
            )
        job = cls(folder, settings, [], shared=True)
        job.refresh()
        return job

    @property
    def borders(self) -> list[Fraction] | None:
        """The segments' borders in output time (segment 0 starts before the first), or None: the `segment_seconds` grid."""
        borders = self.settings.get("borders")
        return None if borders is None else [Fraction(b) for b in borders]

    def segment_of(self, time: Fraction, segment_seconds: Fraction) -> int:
        """The segment holding output time `time` (`segment_seconds`: the grid, when the job has no borders)."""
        borders = self.borders
        if borders is None:
            return int(time // segment_seconds)
        return bisect.bisect_right(borders, time)

    def segment_start(self, index: int, segment_seconds: Fraction) -> Fraction:
        """Output time where segment `index` starts."""
        borders = self.borders
        if borders is None:
            return index * segment_seconds
        return Fraction(0) if index == 0 else borders[index - 1]

    @property
    def next_index(self) -> int:
        return self.done[-1][0] + 1 if self.done else 0

    def finished_segments(self) -> list[tuple[int, str, int]]:
        """The complete segments on disk (their `.times` list written), in order, as (index, file name, frame count)."""
        found = []
        for times in self.folder.glob("part-*.times"):
            match = re.fullmatch(r"part-(\d+)\.times", times.name)
            nut = times.with_suffix(".nut")
            if match and nut.exists():
                found.append((int(match.group(1)), nut.name, len(times.read_text().splitlines())))
        return sorted(found)

    def is_finished(self, index: int) -> bool:
        """Segment `index` is complete on disk (written by this process or another)."""
        return (self.folder / f"part-{index:05d}.times").exists() and (self.folder / f"part-{index:05d}.nut").exists()

    def refresh(self) -> None:
        """`done` from the folder: every complete segment, whoever wrote it."""
        self.done = self.finished_segments()

    def segment_writer(
        self, index: int, *, fps: Fraction, time_base: Fraction, options: EncodeOptions, video_codec: str, reorder: bool = True
    ) -> VideoWriter:
        """A writer for segment `index` (NUT, no sound); pass it to `finish_segment` when complete. `reorder`: False for
        the parts of an output that stores no timestamps (AVI): no B-frames."""
        return VideoWriter(
            self.folder / f"part-{index:05d}.nut",
            fps=fps,
            time_base=time_base,
            options=options,
            force=True,
            video_codec=video_codec,
            lock=False,  # the job holds the output's lock
            warn_padding=False,  # said once, of the output (`restyle_video`), not of each hidden part
            reorder=reorder,
        )

    def finish_segment(self, index: int, writer: VideoWriter) -> None:
        """Close `writer` and record its segment as finished (atomically): its `.times` list, then, for the one
        writer of a job, `progress.json` (a `shared` folder's writers never rewrite it)."""
        writer.close()
        times_file = writer.path.with_suffix(".times")
        with AtomicFile(times_file, lock=False) as staged:
            staged.path.write_text("\n".join(f"{pts} {dts}" for pts, dts in writer.packet_times))
        self.done.append((index, writer.path.name, writer.frames_written))
        if not self.shared:
            self._save()

    def mark_complete(self) -> None:
        """Record that every frame is in a finished segment: a resumed run goes straight to the join."""
        self.complete = True
        self._save()

    def frame_count(self) -> int:
        return sum(count for _, _, count in self.done)

    def bytes_written(self) -> int:
        """Bytes of the finished segments (what a resumed run keeps)."""
        return bytes_on_disk(*(self.folder / name for _, name, _ in self.done))

    def release(self) -> None:
        """Give up the output's lock; the segments stay for a resumed run."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.release()

    def _save(self) -> None:
        with AtomicFile(self.folder / _PROGRESS, lock=False) as staged:
            staged.path.write_text(
                json.dumps({"settings": self.settings, "done": self.done, "complete": self.complete}, indent=1)
            )


def _changed(old: dict[str, Any], new: dict[str, Any], *, options: bool = False) -> list[str]:
    """What differs between two jobs' settings: the top-level names ('model', 'source_size'), and each changed option
    as its flag with both values ('--crf default → 20'), not just 'options'."""
    changed = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in ("options", "encode") and isinstance(before, dict) and isinstance(after, dict):
            changed += _changed(before, after, options=True)
        elif options:
            flag = "--" + ("to-label" if key == "label" else key.replace("_", "-"))
            changed.append(f"{flag} {_said(before)} → {_said(after)}")
        else:
            changed.append(key)
    return changed


def _said(value: Any) -> str:
    return "default" if value is None else str(value)


def _read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def join_segments(
    job: SegmentedJob,
    output: Path,
    *,
    fps: Fraction,
    time_base: Fraction,
    audio: AudioSource | None,
    metadata: dict[str, str] | None,
    inputs: tuple[Path, ...],
    force: bool,
    final: bool = False,
) -> Path:
    """Remux the job's finished segments, in order, into `output` with the source's sound; no re-encoding.

    `time_base` is the segment writers' time base (their recorded decode timestamps are in it). `final`: `output` is
    the command's own output (`AtomicFile.commit`'s `final`).
    """
    output = check_output(output, inputs=inputs, force=force)
    fmt = output_format(output)
    if not job.done:
        raise EncodeError("no frames were restyled, so no video was made", path=output)
    staged = AtomicFile(output)
    try:
        _join_into(staged.path, job, fmt, fps=fps, time_base=time_base, audio=audio, metadata=metadata, output=output)
    except BaseException as exc:
        written = bytes_on_disk(staged.path)
        staged.abort()
        if is_disk_full(exc):
            raise DiskFullError(output, written=written, resumable=True) from None
        if isinstance(exc, av.FFmpegError):
            raise EncodeError(f"joining the restyled segments failed ({exc.strerror or exc})", path=output) from None
        raise
    return staged.commit(final=final)


def _join_into(path: Path, job: SegmentedJob, fmt, *, fps: Fraction, time_base: Fraction, audio, metadata, output: Path) -> None:
    with av.open(ffmpeg_path(job.folder / job.done[0][1])) as first:
        template = first.streams.video[0]
        extradata = template.codec_context.extradata
        container = av.open(ffmpeg_path(path), mode="w", format=fmt.muxer, options=dict(fmt.options))
        try:
            video = container.add_stream_from_template(template)
            video.codec_context.framerate = fps  # NUT keeps no frame rate: its template says 1/time_base
            if fmt.constant_rate:
                video.time_base = time_base  # AVI counts frames: one tick a frame
            container.metadata.update(
                {
                    k: v
                    for k, v in (metadata or {}).items()
                    if k.lower() not in ("encoder", "major_brand", "minor_version", "compatible_brands")
                }
            )
            passthrough = AudioPassthrough(audio, container, fmt, output) if audio is not None else None
            if passthrough is not None:
                passthrough.add_streams()
            last_dts = None
            for _, name, _ in job.done:
                last_dts = _remux_segment(job.folder / name, container, video, extradata, passthrough, last_dts, time_base)
            if passthrough is not None:
                passthrough.finish()
        finally:
            container.close()


def _remux_segment(
    path: Path, container, video, extradata, passthrough, last_dts: int | None, writer_time_base: Fraction
) -> int | None:
    with av.open(ffmpeg_path(path)) as segment:
        stream = segment.streams.video[0]
        time_base = Fraction(stream.time_base)
        # timestamps as the encoder gave them (in the writer's time base), in this stream's time base: NUT made its
        # decode times non-negative by delaying every packet, which would put the video behind the sound
        times = [
            tuple(round(int(x) * writer_time_base / time_base) for x in line.split())
            for line in path.with_suffix(".times").read_text().splitlines()
        ]
        if stream.codec_context.extradata != extradata:
            raise EncodeError(
                "segments were encoded with different settings and cannot be joined", path=path, hint="start over with --force"
            )
        packets = (p for p in segment.demux(stream) if p.size > 0)
        for index, packet in enumerate(packets):
            if index < len(times):
                packet.pts, dts = times[index]
            else:
                dts = packet.dts
            if last_dts is not None and dts <= last_dts:
                dts = last_dts + 1
            if packet.pts is not None and dts > packet.pts:
                dts = packet.pts
            packet.dts = dts
            last_dts = dts
            if passthrough is not None and packet.pts is not None:
                passthrough.feed_until(packet.pts * time_base)
            packet.stream = video
            container.mux(packet)
    return last_dts
