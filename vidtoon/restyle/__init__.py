"""`restyle`: a film (or an image, or a folder of images) turned into a restyled one.

The data path is one straight line, each stage overlapping the others:

    decode thread -> batches on the device -> translate -> temporal stage -> encode thread

Modules: `options` (RestyleOptions), `frames` (the Restyler protocol, FrameRestyler, batching),
`faces` (FaceRestyler), `video` (the segmented, resumable video loop), `stills` (photos, folders).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from vidtoon.cpu_threads import shared_cores
from vidtoon.errors import UsageError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.images import IMAGE_SUFFIXES
from vidtoon.models.translator import Translator
from vidtoon.progress import NoProgress, Progress
from vidtoon.restyle.faces import FaceRestyler
from vidtoon.restyle.frames import FrameRestyler, Restyler, temporal_stage
from vidtoon.restyle.options import RestyleOptions
from vidtoon.restyle.stills import restyle_folder, restyle_image
from vidtoon.styles import LoadedStyle, load_translator, resolve_style
from vidtoon.temporal import TemporalStage

if TYPE_CHECKING:
    from vidtoon.io.probe import VideoInfo

__all__ = [
    "FaceRestyler",
    "FrameRestyler",
    "LoadedStyle",
    "RestyleJob",
    "RestyleOptions",
    "Restyler",
    "check_restyle",
    "default_output",
    "load_translator",
    "make_restyler",
    "resolve_style",
    "restyle",
]


def default_output(source: Path, style: str) -> Path:
    """film.mp4 -> film.pixar.mp4; photo.jpg -> photo.pixar.png; frames/ -> frames.pixar/."""
    if source.is_dir():
        return source.resolve().with_name(f"{source.resolve().name}.{style}")
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return source.with_name(f"{source.stem}.{style}.png")
    suffix = source.suffix.lower() if source.suffix.lower() in (".mp4", ".mkv", ".mov", ".webm") else ".mp4"
    return source.with_name(f"{source.stem}.{style}{suffix}")


class RestyleJob(NamedTuple):
    """A restyle checked before anything is loaded: the source, the output, and the source's probe (None: a folder)."""

    source: Path
    output: Path
    info: VideoInfo | None


def check_restyle(
    source: str | Path,
    output: str | Path | None,
    *,
    style_name: str,
    options: RestyleOptions,
    force: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> RestyleJob:
    """Everything cheap about a restyle, checked before a model is loaded: the source is a readable video, image or
    image folder; the output may be written (not the input, not existing without `force`, a known type, a folder
    that can be written); `options.start` lies within the video. Takes milliseconds.

    Raises:
        InputError, OutputError, UsageError: what is wrong, naming the file or flag.
    """
    from vidtoon.files import check_output
    from vidtoon.io.formats import output_format
    from vidtoon.io.images import check_output_folder, list_images
    from vidtoon.io.probe import check_span, probe

    source = Path(source)
    output = Path(output) if output is not None else default_output(source, style_name)
    if source.is_dir():
        list_images(source)
        return RestyleJob(source, check_output_folder(output, inputs=(source,), force=force), None)
    info = probe(source, max_pixels=max_pixels)
    if info.is_image:
        if output.suffix.lower() not in IMAGE_SUFFIXES:
            raise UsageError(f"output {output} of an image must be an image file", hint="use .png or .jpg")
    else:
        output_format(output)
        check_span(info, options.start, options.end, source)
    check_output(output, inputs=(source,), force=force)
    return RestyleJob(source, output, info)


def make_restyler(translator: Translator, options: RestyleOptions) -> Restyler:
    """The restyler `options` ask for: whole frames, or only the faces (each face track with its own temporal stage)."""

    def make_temporal() -> TemporalStage:
        return temporal_stage(options, translator.device)

    if options.faces:
        return FaceRestyler(
            translator,
            make_temporal,
            face_size=options.face_size,
            margin=options.face_margin,
            max_side=options.max_side,
            tile=options.tile,
            overlap=options.overlap,
        )
    return FrameRestyler(
        translator,
        make_temporal(),
        process_height=options.height,
        max_side=options.max_side,
        tile=options.tile,
        overlap=options.overlap,
    )


def restyle(
    source: str | Path,
    output: str | Path | None = None,
    *,
    translator: Translator,
    style_name: str = "restyled",
    options: RestyleOptions = RestyleOptions(),
    resume: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    job_key: dict | None = None,
    concealed: list[Fraction] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """Restyle a video, an image or a folder of images with `translator`.

    Videos keep their frame count, timestamps, audio and subtitles; `resume` continues an
    interrupted run of the same output with the same settings (`job_key` identifies the model). Pictures
    whose header promises more than `max_pixels` are refused before decoding (see `vidtoon.io.budget`).
    With `options.on_corrupt="conceal"`, the list `concealed` (when given) receives the input times (s)
    of the frames that failed to decode and were shown as the previous good frame instead.

    Returns:
        The finished output (a video, an image, or a folder of images).
    """
    progress = progress or NoProgress()
    from vidtoon.restyle.video import (
        restyle_video,  # PyAV: imported when a restyle runs, so `import vidtoon.restyle` works without it
    )

    source, output, info = check_restyle(
        source, output, style_name=style_name, options=options, force=force, max_pixels=max_pixels
    )
    restyler = make_restyler(translator, options)
    if info is None:
        return restyle_folder(source, output, restyler, force=force, progress=progress, max_pixels=max_pixels)
    if info.is_image:
        return restyle_image(source, output, restyler, force=force, max_pixels=max_pixels)
    with shared_cores(translator):
        return restyle_video(
            source,
            output,
            restyler,
            options,
            info=info,
            resume=resume,
            force=force,
            progress=progress,
            job_key=job_key or {},
            concealed=concealed,
            max_pixels=max_pixels,
        )
