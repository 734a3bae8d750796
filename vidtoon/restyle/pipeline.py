"""`restyle` itself: a checked job's restyler made (`make_restyler`) and run over a video, an image or a folder."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidtoon.cpu_threads import shared_cores
from vidtoon.errors import UsageError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.progress import NoProgress, Progress
from vidtoon.restyle.batches import Restyler
from vidtoon.restyle.check import check_restyle, check_source
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


def with_style_defaults(defaults: dict[str, Any], options: RestyleOptions | None) -> RestyleOptions:
    """`options` over a style card's `defaults` (`RestyleOptions.over_style`): what the caller gave wins, the fields
    left to the style (None) take the card's; None: the card's defaults alone. As the command line's flags."""
    if options is None:
        return RestyleOptions.from_style(defaults)
    return options.over_style(defaults)


def restyle(
    source: str | Path,
    output: str | Path | None = None,
    *,
    to: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    like_strength: float | None = None,
    style_opts: dict[str, Any] | None = None,
    translator: Translator | None = None,
    style_name: str | None = None,
    options: RestyleOptions | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    job_key: dict | None = None,
    concealed: list[Fraction] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """Restyle a video, an image or a folder of images: `vidtoon restyle SOURCE --to STYLE [-o OUTPUT] ...` as a call.

        vidtoon.restyle("film.mp4", "film.toon.mp4", to="toon", options=vidtoon.RestyleOptions(height=360, end=2))

    Videos keep their frame count, timestamps, audio and subtitles. Everything cheap (the source, the style, the
    options, the output) is checked before the style's model loads.

    Args:
        source: a video, an image or a folder of images.
        output: the file (or folder) to write; None: `SOURCE.STYLE.ext` beside the source.
        to, model, like: the style, exactly one of them (`--to`, `--model`, `--like`): an installed style's name
            (`vidtoon.preview.style_names()`), a checkpoint or ONNX file, or any picture (the `like` extra).
        like_strength, style_opts: `--like-strength` (with `like`) and a procedural style's parameters
            (`--style-opt`, e.g. `{"levels": 6}`).
        translator: instead of `to`/`model`/`like`, a style already loaded (`load_translator(...).translator`), to
            restyle many files without loading it again; `style_name` names it in the default output name.
        options: the other flags (`RestyleOptions`: `height`, `start`, `end`, `strength`, `device`, ...). With a
            named style, what you give wins and a field you leave out (None) takes the style card's, as a flag not
            given does on the command line: `anime` restyles only the faces unless `RestyleOptions(faces=False)`;
            pixar works at height 360 unless `height=` says otherwise. None: the style's defaults. With
            `translator=` there is no card: a field left out is the built-in default.
        resume: continue an interrupted run of the same output with the same settings (`job_key` identifies the
            model when `translator` is given).
        force: replace an existing output (the source is never overwritten).
        progress: receives one step per frame (`vidtoon.progress.Progress`: `start(total, description)`,
            `advance(steps)`); None: silent.
        concealed: with `options.on_corrupt="conceal"`, receives the input times (s) of the frames that failed to
            decode and were shown as the previous good frame instead.
        max_pixels: pictures whose header promises more are refused before decoding (`--max-pixels`).

    Returns:
        The finished output (a video, an image, or a folder of images).

    Raises:
        UsageError: no style or two of them, an unknown style or option, `options` not a `RestyleOptions`.
        InputError: the source (or a style's file) is missing or unreadable.
        OutputError: the output exists (without `force`), is the source, or cannot be written.
        DecodeError, EncodeError, DiskFullError: while the film is processed.
        Interrupted: a signal (Ctrl-C) stopped the run; `.kept` says what `resume=True` continues from.
    """
    named = [flag for flag, value in (("to", to), ("model", model), ("like", like)) if value is not None]
    if translator is None and not named:
        raise UsageError(
            "restyle needs a style: to=STYLE, model=FILE or like=IMAGE",
            hint="e.g. vidtoon.restyle(source, to='toon'); installed styles: vidtoon.preview.style_names()",
        )
    if translator is not None and (named or like_strength is not None or style_opts is not None):
        given = ", ".join(named + [k for k, v in (("like_strength", like_strength), ("style_opts", style_opts)) if v is not None])
        raise UsageError(f"restyle takes a style by name or a loaded translator, not both (translator and {given})")
    if translator is not None and (not callable(translator) or not hasattr(translator, "device")):
        raise UsageError(
            f"restyle needs a loaded style as translator, got {translator!r}",
            hint="by a style's name: vidtoon.restyle(source, output, to='toon'); or pass "
            "translator=vidtoon.restyle.load_translator(style='toon').translator",
        )
    if options is not None and not isinstance(options, RestyleOptions):
        raise UsageError(
            f"restyle's options must be a RestyleOptions, got {type(options).__name__}",
            hint="e.g. options=vidtoon.RestyleOptions(height=360, strength=0.5)",
        )
    if translator is None:
        from vidtoon.styles import load_translator, resolve_style

        check_source(source)  # cheapest first, as the command line
        card = resolve_style(style=to, model=model, like=like, like_strength=like_strength, style_opts=style_opts)
        options = with_style_defaults(card.defaults, options)
        style_name = style_name or card.name
    options = options or RestyleOptions()
    progress = progress or NoProgress()
    from vidtoon.restyle.video import (
        restyle_video,  # PyAV: imported when a restyle runs, so `import vidtoon.restyle` works without it
    )

    source, output, info = check_restyle(
        source, output, style_name=style_name or "restyled", options=options, force=force, max_pixels=max_pixels
    )
    if translator is None:  # the model loads only now, everything cheap checked
        loaded = load_translator(
            card=card,
            device=options.device,
            precision=options.precision,
            label=options.label,
            compile=options.compile,
            twin=not options.faces,
        )
        translator, job_key = loaded.translator, job_key or loaded.key
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
