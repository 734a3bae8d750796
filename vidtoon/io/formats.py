"""Output containers: which muxer and encoders each file suffix gets, and what streams it accepts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vidtoon.checks import choice, whole_number
from vidtoon.errors import OutputError, UsageError


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


PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
# Pixel formats the encoders vidtoon writes with take (x264/x265/VP9: the yuv ones; GIF: pal8/rgb8; PNG-in-MOV: rgb).
# Which of them an output's encoder takes is `check_encoding`'s to say (FFmpeg's list for that encoder).
PIX_FMTS = (
    "yuv420p",
    "yuvj420p",
    "yuv422p",
    "yuv444p",
    "yuv420p10le",
    "yuv422p10le",
    "yuv444p10le",
    "nv12",
    "gray",
    "rgb24",
    "pal8",
    "rgb8",
)
MAX_CRF = 63  # the highest any encoder takes: x264/x265 stop at 51 (`CRF_SCALES`), VP9 at 63
# Each encoder's CRF scale, its name as users know it: a --crf past it is refused before any work (x264 would clamp it).
CRF_SCALES = {"libx264": ("x264", 51), "libx265": ("x265", 51), "libvpx-vp9": ("VP9", 63), "libvpx": ("VP8", 63)}
AUTO_X264 = ("faster", 17)  # (preset, crf) when the user gave neither: medium's quality at CRF 18, less CPU


@dataclass(frozen=True)
class EncodeOptions:
    """Video encoder settings.

    Attributes:
        crf: constant quality (lower is better); None = the codec's sensible default
            (18 for x264/x265, visually lossless; 31 for VP9).
        preset: x264/x265 speed preset ("ultrafast" … "veryslow"); None = automatic (`x264_settings`): with no `crf`
            either, x264 `faster` at CRF 17 (the same quality as `medium` at 18 for a third less encoder CPU), else
            `medium`.
        pix_fmt: None = yuv420p (plays everywhere; pal8 for GIF); "yuv444p" keeps odd sizes and full chroma. One of
            `PIX_FMTS`; whether the output's encoder takes it is checked by `check_encoding`.
        codec: None = the container's default (libx264; libvpx-vp9 for .webm; gif for .gif).
    """

    crf: int | None = None
    preset: str | None = None
    pix_fmt: str | None = None
    codec: str | None = None

    def __post_init__(self) -> None:
        whole_number("--crf", self.crf, optional=True, minimum=0, maximum=MAX_CRF)
        if self.preset is not None and self.preset not in PRESETS:
            raise UsageError(f"--preset {self.preset!r}: unknown preset", hint=f"use one of {', '.join(PRESETS)}")
        if self.pix_fmt is not None:
            choice("--pix-fmt", self.pix_fmt, PIX_FMTS)
        if self.codec is not None and (not isinstance(self.codec, str) or not self.codec.strip()):
            raise UsageError(f"codec must be an FFmpeg encoder name, got {self.codec!r}")

    def or_preset(self, preset: str) -> EncodeOptions:
        """These options with `preset` where they give none: a command's own default (stitch, stabilize, compare,
        animate), applied where its video is written, after `check_quality_flags` has seen what the user gave."""
        return self if self.preset is not None else replace(self, preset=preset)

    def x264_settings(self, codec: str) -> tuple[str, int]:
        """(preset, crf) for an x264 or x265 encoder: the user's, else the defaults (medium, CRF 18).

        With neither given, x264 runs `AUTO_X264` (faster, CRF 17): measured on 200 restyled 640×360 frames
        (docs/benchmarks.md, 2026-11-30), x264's CPU per frame about a third lower than medium at CRF 18, PSNR 0.3 dB
        apart (44.8 against 45.1 dB), the file 7 % larger. A user's `crf` or `preset` alone keeps today's other half.
        """
        if self.preset is None and self.crf is None and codec == "libx264":
            return AUTO_X264
        return self.preset or "medium", 18 if self.crf is None else self.crf


def encoder_pix_fmts(codec: str) -> tuple[str, ...] | None:
    """The pixel formats the FFmpeg encoder `codec` takes, as this build of FFmpeg says (`AVCodec.pix_fmts`, read
    through PyAV); None when the encoder is missing or does not say. Imports PyAV."""
    import av  # only here: EncodeOptions and output_format stay free of PyAV

    try:
        formats = av.codec.Codec(codec, "w").video_formats
    except (ValueError, av.FFmpegError):  # not in this build (UnknownCodecError is a ValueError)
        return None
    return tuple(f.name for f in formats) if formats else None


def check_encoding(path: str | Path, options: EncodeOptions, *, video_codec: str | None = None) -> OutputFormat:
    """The `OutputFormat` for `path`, with `options.pix_fmt` checked against the encoder that will write it
    (`options.codec`, else `video_codec`, else the suffix's default): the cheap check of an output, made before any
    file is created. Imports PyAV when a pixel format is given.

    Raises:
        OutputError: an unknown suffix.
        UsageError: a pixel format the encoder cannot take, naming the ones it can.
    """
    path = Path(path)
    fmt = output_format(path)
    pix_fmt = options.pix_fmt
    if pix_fmt is None:
        return fmt
    codec = options.codec or video_codec or fmt.video_codec
    accepted = encoder_pix_fmts(codec)
    if accepted is None or pix_fmt in accepted:
        return fmt
    usable = [name for name in PIX_FMTS if name in accepted]
    public = {suffix: other for suffix, other in FORMATS.items() if suffix != ".nut"}
    elsewhere = sorted(suffix for suffix, other in public.items() if pix_fmt in (encoder_pix_fmts(other.video_codec) or ()))
    hint = f"use one of {', '.join(usable)}" if usable else "leave --pix-fmt out"
    if elsewhere and not options.codec:
        hint += f"; {pix_fmt} is for {', '.join(elsewhere)} files"
    raise UsageError(
        f"--pix-fmt {pix_fmt}: the {codec} encoder of {path.suffix.lower()} files cannot encode it", path=path, hint=hint
    )


def check_quality_flags(path: str | Path, options: EncodeOptions) -> None:
    """UsageError when `options.preset` or `options.crf` was given for an encoder that has no such setting (x264
    presets for VP9 or GIF, a CRF for GIF): the flag would change nothing; or when `options.crf` lies past the scale of
    the output's encoder (`check_crf_scale`: x264 stops at 51). For commands whose `preset` is None unless the user gives
    one (restyle, batch, stitch, stabilize, compare, animate: each applies its own default where the video is written).
    """
    path = Path(path)
    codec = options.codec or output_format(path).video_codec
    suffix = path.suffix.lower()
    if options.preset is not None and codec not in ("libx264", "libx265"):
        raise UsageError(
            f"--preset {options.preset}: the {codec} encoder of {suffix} files has no x264 speed presets",
            path=path,
            hint="leave --preset out" + ("; --crf sets its quality" if codec.startswith("libvpx") else ""),
        )
    if options.crf is not None and codec not in CRF_SCALES:
        raise UsageError(
            f"--crf {options.crf}: the {codec} encoder of {suffix} files has no quality setting",
            path=path,
            hint="leave --crf out",
        )
    if options.crf is not None:
        check_crf_scale(options.crf, codec, f"{suffix} files", path=path)


def check_crf_scale(crf: int, codec: str, what: str, *, path: str | Path | None = None) -> None:
    """UsageError when `crf` lies past the CRF scale of `codec` (one of `CRF_SCALES`), which writes `what` (".mp4
    files", "the live output"): x264 takes 0-51, VP9 0-63, and `EncodeOptions` alone only knows the widest scale."""
    name, top = CRF_SCALES[codec]
    if 0 <= crf <= top:
        return
    hint = f"give --crf between 0 and {top}"
    if top < MAX_CRF and 0 <= crf <= MAX_CRF:  # a VP9 number given to x264
        hint += f" (VP9's scale, of .webm files, goes to {MAX_CRF})"
    raise UsageError(f"--crf {crf}: {name} ({what}) takes 0-{top}, lower is better", path=path, hint=hint)


def check_picture_flags(
    output: str | Path, options: EncodeOptions, *, what: str, how: str = "written without a video encoder"
) -> None:
    """UsageError when a video encoder's flag (`--crf`, `--preset`, `--pix-fmt`) was given for an output written as
    pictures (`what`, e.g. "a picture" or "a folder of pictures"; `how` it is written), where no video encoder runs
    on the user's settings: the flag would change nothing. For commands whose encoder flags are None unless the user
    gives them (restyle, compare, stabilize).
    """
    given = [
        (flag, value)
        for flag, value in (("--crf", options.crf), ("--preset", options.preset), ("--pix-fmt", options.pix_fmt))
        if value is not None
    ]
    if not given:
        return
    flags = " ".join(f"{flag} {value}" for flag, value in given)
    names = [flag for flag, _ in given]
    names = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    many = len(given) > 1
    raise UsageError(
        f"{flags}: the output is {what}, {how}, so {'these flags change' if many else 'it changes'} nothing",
        path=output,
        hint=f"leave {names} out ({'they set' if many else 'it sets'} the encoder of a video output: .mp4, .mkv, .mov, .webm)",
    )
