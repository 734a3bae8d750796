"""`restyle` itself: a checked job's restyler made (`make_restyler`) and run over a video, an image or a folder."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from vidtoon.cpu_threads import shared_cores
from vidtoon.errors import UsageError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.progress import NoProgress, Progress
from vidtoon.restyle.batches import Restyler
from vidtoon.restyle.check import check_restyle
from vidtoon.restyle.options import RestyleOptions, temporal_stage
from vidtoon.restyle.stills import restyle_folder, restyle_image

if TYPE_CHECKING:
    from vidtoon.models.translator import Translator
    from vidtoon.temporal import TemporalStage


def make_restyler(translator: Translator, options: RestyleOptions) -> Restyler:
    """The restyler `options` ask for: whole frames, or only the faces (each face track with its own temporal stage).

    A procedural style's uint8 twin (`vidtoon.styles.procedural.TwinTranslator`) restyles whole frames without torch
    (`TwinRestyler`); for faces it hands over its torch function (faces are found, cropped and pasted as tensors)."""
    if getattr(translator, "frames_u8", False):
        if not options.faces:
            from vidtoon.restyle.twins import TwinRestyler

            stage = temporal_stage(options, str(translator.device))  # "cpu": a name every flow backend takes (RAFT too)
            return TwinRestyler(translator, stage, process_height=options.height)
        translator = translator.tensor_translator()
    from vidtoon.restyle.faces import FaceRestyler  # torch, from here on
    from vidtoon.restyle.frames import FrameRestyler

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

    Raises:
        UsageError: `translator` is not a loaded style (a style's name, say) or `options` not a `RestyleOptions`; and
            as `check_restyle`.
    """
    if not callable(translator) or not hasattr(translator, "device"):
        raise UsageError(
            f"restyle needs a loaded style as translator, got {translator!r}",
            hint="by a style's name: vidtoon.preview.restyle_with(source, output, style='toon'); or pass "
            "translator=vidtoon.restyle.load_translator(style='toon').translator",
        )
    if not isinstance(options, RestyleOptions):
        raise UsageError(
            f"restyle's options must be a RestyleOptions, got {type(options).__name__}",
            hint="e.g. options=vidtoon.RestyleOptions(height=360, strength=0.5)",
        )
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
