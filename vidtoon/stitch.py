"""`stitch`: a folder of frames becomes a movie (the studio-style project's "picture2movie")."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from vidtoon.io.audio import AudioSource
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.images import fit, list_images, read_image
from vidtoon.io.open import check_input_file
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.parsing import parse_rate
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import prefetch


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
    fit_mode: str = "pad",
    audio: str | Path | None = None,
    options: EncodeOptions = EncodeOptions(),
    force: bool = False,
    progress: Progress | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """Make a video from the images in `frames_dir`, in natural order (frame2 before frame10).

    Args:
        fps: frames per second of the result (N images last N/fps seconds).
        pattern: glob on file names; None = every image.
        size: (width, height) of the video; None = the first image's size. Images of another
            size are fitted with `fit_mode` ("pad" letterboxes, "crop", "stretch").
        audio: a file whose sound is laid under the video, cut at the video's end.
        max_pixels: images whose header promises more pixels are refused before decoding.

    Returns:
        The path of the finished video.
    """
    progress = progress or NoProgress()
    rate = parse_rate(fps)
    files = list_images(frames_dir, pattern)
    output = Path(output) if output is not None else default_stitch_output(Path(frames_dir))
    audio_source = None
    if audio is not None:
        audio = Path(audio)
        check_input_file(audio)
        audio_source = AudioSource(audio, end=len(files) / rate, required=True)
    first = read_image(files[0], max_pixels=max_pixels)
    width, height = size or (first.shape[1], first.shape[0])
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
        for index, (_path, rgb) in enumerate(images):
            writer.write(fit(rgb, width, height, fit_mode), Fraction(index) / rate)
            progress.advance()
    return writer.path
