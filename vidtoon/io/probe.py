"""`probe`: what a video, GIF or image file holds, without decoding more than one frame."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from vidtoon.errors import UsageError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.open import open_input

log = logging.getLogger(__name__)

# Demuxers that hold a single still image.
_IMAGE_FORMATS = {"image2", "image2pipe"}
# How many packets to look at when deciding whether the frame rate is variable.
_VFR_SAMPLE_PACKETS = 300
# Most frames a codec reorders (B-frame pyramids): pts of the last ones read may still have gaps.
_MAX_REORDER = 16


@dataclass(frozen=True)
class StreamInfo:
    """One audio or subtitle stream of the input."""

    index: int
    kind: str  # "audio" | "subtitle"
    codec: str
    channels: int | None = None
    layout: str | None = None
    sample_rate: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class VideoInfo:
    """What a video, GIF or still image holds.

    `width`/`height` are as displayed: after the rotation in the container is applied.
    `fps` is the nominal rate (exact `Fraction`); for a variable-rate video it is the average.
    `frame_count` is exact when `frame_count_exact`, else estimated from duration × fps
    (None when neither is known). Times are in seconds. `alpha`: the pictures carry transparency (`has_alpha`).
    """

    path: Path
    container: str
    codec: str
    width: int
    height: int
    pix_fmt: str
    fps: Fraction | None
    variable_fps: bool
    rotation: int  # degrees counter-clockwise the display matrix turns the coded picture
    duration: Fraction | None
    frame_count: int | None
    frame_count_exact: bool
    time_base: Fraction
    start_time: Fraction
    is_image: bool
    audio: tuple[StreamInfo, ...] = ()
    subtitles: tuple[StreamInfo, ...] = ()
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    alpha: bool = False

    def to_dict(self) -> dict:
        """A JSON-ready dict (Fractions as strings "num/den", paths as strings)."""

        def plain(value):
            if isinstance(value, Fraction):
                return f"{value.numerator}/{value.denominator}"
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if dataclasses.is_dataclass(value):
                return plain(dataclasses.asdict(value))
            return value

        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def check_span(info: VideoInfo, start: Fraction | None, end: Fraction | None, path: Path) -> None:
    """UsageError unless `start`..`end` (seconds, None: the video's own) lies within the video `info` describes."""
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--end ({float(end):g}s) must be after --start ({float(start):g}s)")
    if start is not None and info.duration is not None and start >= info.duration:
        raise UsageError(
            f"--start {float(start):g}s is past the end of the video ({float(info.duration):.3f}s)", hint=f"the input is {path}"
        )


def probe(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """Describe a video, GIF or image file.

    Raises:
        InputError: missing, a directory, empty, not a media file, without a video stream, or with pictures
            over `max_pixels` (from the header, before decoding).
    """
    path = Path(path)
    with open_input(path, max_pixels=max_pixels) as container:
        stream = container.streams.video[0]
        time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1_000_000)
        first = _first_frame(container, stream)
        rotation = int(first.rotation or 0) if first is not None else 0
        is_image = container.format.name in _IMAGE_FORMATS or container.format.name.endswith("_pipe")
        width, height = stream.codec_context.width, stream.codec_context.height
        if rotation % 180:
            width, height = height, width
        start_time = _start_time(container, stream)

        if is_image:
            return VideoInfo(
                path=path,
                container=container.format.name,
                codec=stream.codec_context.codec.canonical_name,
                width=width,
                height=height,
                pix_fmt=str(stream.codec_context.pix_fmt),
                fps=None,
                variable_fps=False,
                rotation=rotation,
                duration=None,
                frame_count=1,
                frame_count_exact=True,
                time_base=time_base,
                start_time=Fraction(0),
                is_image=True,
                alpha=has_alpha(stream, first),
            )

        variable = _is_variable_rate(container, stream)
        fps = _nominal_rate(stream, variable)
        duration = _duration(container, stream, start_time)
        if stream.frames:
            frame_count, exact = int(stream.frames), True
        elif duration is not None and fps:
            frame_count, exact = int(round(duration * fps)), False
        else:
            frame_count, exact = None, False

        return VideoInfo(
            path=path,
            container=container.format.name,
            codec=stream.codec_context.codec.canonical_name,
            width=width,
            height=height,
            pix_fmt=str(stream.codec_context.pix_fmt),
            fps=fps,
            variable_fps=variable,
            rotation=rotation,
            duration=duration,
            frame_count=frame_count,
            frame_count_exact=exact,
            time_base=time_base,
            start_time=start_time,
            is_image=False,
            audio=tuple(_stream_info(s) for s in container.streams.audio),
            subtitles=tuple(_stream_info(s) for s in container.streams.subtitles),
            metadata=dict(container.metadata),
            alpha=has_alpha(stream, first),
        )


def has_alpha(stream: av.video.stream.VideoStream, first: av.VideoFrame | None) -> bool:
    """Whether a video stream's pictures carry transparency: WebM says so (`alpha_mode` 1: FFmpeg's VP8/VP9 decoder
    leaves the alpha layer out, so the pixel format does not show it), or the pixel format has an alpha channel
    (ProRes 4444, QuickTime RLE argb, PNG rgba, ...) — for a GIF, which FFmpeg always decodes as bgra, only when
    its `first` frame is not opaque throughout."""
    if str(stream.metadata.get("alpha_mode", stream.metadata.get("ALPHA_MODE", ""))).strip() == "1":
        return True
    try:
        fmt = av.VideoFormat(str(stream.codec_context.pix_fmt))
    except (ValueError, TypeError):  # no or unknown pixel format
        return False
    if fmt.has_palette or len(fmt.components) not in (2, 4):
        return False
    if stream.codec_context.name != "gif":
        return True
    return first is not None and int(first.to_ndarray(format="rgba")[..., 3].min()) < 255


def _first_frame(container: av.container.InputContainer, stream) -> av.VideoFrame | None:
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError:
        return None
    finally:
        try:
            container.seek(0, backward=True, any_frame=False)
        except av.FFmpegError:
            pass
    return None


def _start_time(container, stream) -> Fraction:
    """The earliest timestamp of any stream, in seconds: the output's time zero."""
    if container.start_time is not None:
        return Fraction(container.start_time, av.time_base)
    if stream.start_time is not None:
        return stream.start_time * Fraction(stream.time_base)
    return Fraction(0)


def _is_variable_rate(container, stream) -> bool:
    """True when the first packets' timestamps are unevenly spaced (more than 2% apart)."""
    pts: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
            if len(pts) >= _VFR_SAMPLE_PACKETS:
                break
    except av.FFmpegError:
        pass
    finally:
        try:
            container.seek(0, backward=True, any_frame=False)
        except av.FFmpegError:
            pass
    pts.sort()
    if len(pts) >= _VFR_SAMPLE_PACKETS:
        # Stopped mid-stream: frames that come later in decode order may fill gaps at the top.
        pts = pts[:-_MAX_REORDER]
    steps = [b - a for a, b in zip(pts, pts[1:]) if b > a]
    if len(steps) < 3:
        return False
    steps.sort()
    median = steps[len(steps) // 2]
    # Millisecond time bases (WebM) jitter by one tick on 29.97 fps: allow that.
    tolerance = max(Fraction(2, 100) * median, 1)
    return any(abs(step - median) > tolerance for step in steps)


def _nominal_rate(stream, variable: bool) -> Fraction | None:
    average = Fraction(stream.average_rate) if stream.average_rate else None
    base = Fraction(stream.base_rate) if stream.base_rate else None
    if variable:
        return average or (Fraction(stream.guessed_rate) if stream.guessed_rate else None)
    if base and (average is None or abs(base - average) / base < Fraction(1, 100)):
        return base
    return average or base


def _duration(container, stream, start_time: Fraction) -> Fraction | None:
    if stream.duration:
        return stream.duration * Fraction(stream.time_base)
    if container.duration:
        return Fraction(container.duration, av.time_base)
    return _duration_from_last_packets(container, stream, start_time)


def _duration_from_last_packets(container, stream, start_time: Fraction) -> Fraction | None:
    """For containers that store no duration: seek near the end and read the last timestamps."""
    time_base = Fraction(stream.time_base)
    end = None
    try:
        container.seek(2**62, backward=True, any_frame=False, stream=stream)
        for packet in container.demux(stream):
            if packet.pts is not None:
                stop = (packet.pts + (packet.duration or 0)) * time_base
                end = stop if end is None else max(end, stop)
    except av.FFmpegError:
        return None
    finally:
        try:
            container.seek(0, backward=True, any_frame=False)
        except av.FFmpegError:
            pass
    return end - start_time if end is not None else None


def _stream_info(stream) -> StreamInfo:
    cc = stream.codec_context
    language = stream.metadata.get("language") or None
    if stream.type == "audio":
        return StreamInfo(
            index=stream.index,
            kind="audio",
            codec=cc.codec.canonical_name,
            channels=cc.channels,
            layout=cc.layout.name if cc.layout else None,
            sample_rate=cc.sample_rate,
            language=language,
        )
    return StreamInfo(index=stream.index, kind="subtitle", codec=cc.codec.canonical_name, language=language)
