"""`stitch`: a folder of frames becomes a movie (the studio-style project's "picture2movie")."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vidtoon.checks import choice, frame_size, renamed
from vidtoon.errors import InputError, UsageError
from vidtoon.files import check_output
from vidtoon.io.audio import AudioSource
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.formats import check_encoding, check_quality_flags
from vidtoon.io.images import FIT_MODES, list_images, read_image
from vidtoon.io.images import fit as fit_image
from vidtoon.io.paths import check_input_file
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.parsing import parse_rate
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import prefetch

log = logging.getLogger(__name__)

PRESET = "medium"  # x264's preset of the video when none is given (with CRF 18 unless one is given)


@dataclass(frozen=True)
class StitchOptions:
    """How frames become a movie, checked when made (a bad value raises `UsageError` naming the flag).

    Attributes:
        fps: frames per second (a number, "29.97" or "30000/1001"; kept as an exact Fraction).
        size: (width, height) of the video, 2 to 16384 each; None = the first image's size.
        fit: how images of another size fit: "pad", "crop" or "stretch".
        pattern: glob on file names; None = every image.
    """

    fps: Fraction | float | str = 2
    size: tuple[int, int] | None = None
    fit: str = "pad"
    pattern: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", parse_rate(self.fps, flag="--fps"))
        object.__setattr__(self, "size", frame_size("--size", self.size))  # a list too: [256, 256]
        choice("--fit", self.fit, FIT_MODES)
        if self.pattern is not None and (not isinstance(self.pattern, str) or not self.pattern.strip()):
            raise UsageError(f"--pattern must be a glob on file names such as 'shot1_*.png', got {self.pattern!r}")


def default_stitch_output(frames_dir: Path) -> Path:
    """frames/ -> frames.mp4 beside the folder."""
    frames_dir = Path(frames_dir).resolve()
    return frames_dir.with_name(frames_dir.name + ".mp4")


def stitch(
    frames_dir: str | Path,
    output: str | Path | None = None,
    *,
    fps: Fraction | float | str = 2,
    pattern: str | None = None,
    size: tuple[int, int] | None = None,
    fit: str | None = None,
    audio: str | Path | None = None,
    options: EncodeOptions = EncodeOptions(),
    force: bool = False,
    progress: Progress | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fit_mode: str | None = None,
) -> Path:
    """Make a video from the images in `frames_dir`, in natural order (frame2 before frame10).

    Args:
        fps: frames per second of the result (N images last N/fps seconds).
        pattern: glob on file names; None = every image.
        size: (width, height) of the video; None = the first image's size. Images of another
            size are fitted with `fit` (`--fit`: "pad" letterboxes, the default; "crop", "stretch"); without
            `size`, the first such image is named in a warning.
        audio: a file whose sound is laid under the video, cut at the video's end.
        options: the encoder's settings (x264 at `PRESET` when they give no preset; a preset or CRF the output's
            encoder has not, GIF's or VP9's, is refused).
        max_pixels: images whose header promises more pixels are refused before decoding.
        fit_mode: the older name of `fit`, still taken.

    Returns:
        The path of the finished video.
    """
    progress = progress or NoProgress()
    fit = renamed("fit", fit, "fit_mode", fit_mode)
    settings = StitchOptions(fps=fps, size=size, fit="pad" if fit is None else fit, pattern=pattern)
    rate = settings.fps
    files = list_images(frames_dir, settings.pattern, pattern_flag="--pattern")
    empty = next((path for path in files if path.stat().st_size == 0), None)
    if empty is not None:  # a failed export's leftover, refused before minutes of encoding, not at its turn
        raise InputError("is empty (0 bytes), not an image", path=empty, hint="remove it, or export that frame again")
    output = Path(output) if output is not None else default_stitch_output(Path(frames_dir))
    audio = Path(audio) if audio is not None else None
    if audio is not None:
        check_input_file(audio)
    check_output(output, inputs=(*files, *([audio] if audio else [])), force=force)  # before any picture is read
    check_encoding(output, options)  # the suffix, and --pix-fmt for its encoder
    check_quality_flags(output, options)  # a --crf or --preset the encoder has not (GIF, VP9), a --crf past its scale
    options = options.or_preset(PRESET)  # x264's preset applied here, where the video is written: the user's, else medium
    audio_source = AudioSource(audio, end=len(files) / rate, required=True) if audio is not None else None
    first = read_image(files[0], max_pixels=max_pixels)
    width, height = settings.size or (first.shape[1], first.shape[0])
    with VideoWriter(
        output,
        fps=rate,
        time_base=1 / rate,
        options=options,
        audio=audio_source,
        inputs=(*files, *([audio] if audio else [])),
        force=force,
    ) as writer:
        progress.start(len(files), Path(frames_dir).name)
        images = prefetch(((path, read_image(path, max_pixels=max_pixels)) for path in files), depth=4)
        warned = settings.size is not None  # a size asked for: fitting every image to it is what was asked
        for index, (path, rgb) in enumerate(images):
            if not warned and (rgb.shape[1], rgb.shape[0]) != (width, height):
                warned = True
                log.warning(
                    "%s is %dx%d, the first image %dx%d: fitted with --fit %s, as is every image of another size",
                    *(path, rgb.shape[1], rgb.shape[0], width, height, settings.fit),
                )
            writer.write(fit_image(rgb, width, height, settings.fit), Fraction(index) / rate)
            progress.advance()
    return writer.path
