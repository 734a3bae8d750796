"""Output containers: which muxer and encoders each file suffix gets, and what streams it accepts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidtoon.errors import OutputError


@dataclass(frozen=True)
class OutputFormat:
    """How a file suffix is written.

    Attributes:
        muxer: FFmpeg muxer name.
        video_codec: default video encoder.
        audio_codec: encoder used when a source audio codec cannot be copied (None: no audio).
        audio_copy: audio codecs the muxer takes unchanged (None: any).
        subtitle_copy: subtitle codecs the muxer takes unchanged.
        constant_rate: the muxer stores no timestamps, only a frame rate (AVI).
        options: muxer options.
    """

    muxer: str
    video_codec: str
    audio_codec: str | None
    audio_copy: frozenset[str] | None
    subtitle_copy: frozenset[str]
    constant_rate: bool = False
    options: tuple[tuple[str, str], ...] = ()


_MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac", "mp2"})
_MKV_SUBTITLES = frozenset({"subrip", "ass", "ssa", "webvtt", "text", "dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle"})

FORMATS: dict[str, OutputFormat] = {
    ".mp4": OutputFormat("mp4", "libx264", "aac", _MP4_AUDIO, frozenset({"mov_text"}), options=(("movflags", "+faststart"),)),
    ".m4v": OutputFormat("mp4", "libx264", "aac", _MP4_AUDIO, frozenset({"mov_text"}), options=(("movflags", "+faststart"),)),
    ".mov": OutputFormat(
        "mov",
        "libx264",
        "aac",
        _MP4_AUDIO | {"pcm_s16le", "pcm_s24le"},
        frozenset({"mov_text"}),
        options=(("movflags", "+faststart"),),
    ),
    ".mkv": OutputFormat("matroska", "libx264", "aac", None, _MKV_SUBTITLES),
    ".webm": OutputFormat("webm", "libvpx-vp9", "libopus", frozenset({"opus", "vorbis"}), frozenset({"webvtt"})),
    ".avi": OutputFormat(
        "avi",
        "libx264",
        "aac",
        frozenset({"mp3", "ac3", "aac", "mp2", "pcm_s16le"}),
        frozenset(),
        constant_rate=True,
        # AVI counts frames instead of storing times: shifting every stream for an audio priming
        # packet (pts < 0) would insert an empty video frame at the start.
        options=(("avoid_negative_ts", "disabled"),),
    ),
    ".gif": OutputFormat("gif", "gif", None, frozenset(), frozenset()),
    # Internal: the segments of a resumable job (exact timestamps in any time base, no sound).
    ".nut": OutputFormat("nut", "libx264", None, frozenset(), frozenset()),
}


def output_format(path: Path) -> OutputFormat:
    """The `OutputFormat` for `path`'s suffix; raises OutputError for an unknown one."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise OutputError(
            f"unknown output type {path.suffix or '(no suffix)'!r}", path=path, hint=f"use one of {known}"
        ) from None


@dataclass(frozen=True)
class EncodeOptions:
    """Video encoder settings.

    Attributes:
        crf: constant quality (lower is better); None = the codec's sensible default
            (18 for x264/x265, visually lossless; 31 for VP9).
        preset: x264/x265 speed preset ("ultrafast" … "veryslow").
        pix_fmt: None = yuv420p (plays everywhere); "yuv444p" keeps odd sizes and full chroma.
        codec: None = the container's default (libx264; libvpx-vp9 for .webm; gif for .gif).
    """

    crf: int | None = None
    preset: str = "medium"
    pix_fmt: str | None = None
    codec: str | None = None
