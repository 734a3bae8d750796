"""Interactive use (notebooks, small GUIs): styles by name, their tunable parameters, a before/after frame, and a whole
restyle in one call — the steps `vidtoon restyle` takes, without the command line.

`examples/vidtoon.ipynb` is built on these and on `vidtoon.evaluate`; it holds no logic of its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vidtoon.checks import number_in, renamed
from vidtoon.errors import InputError, UsageError
from vidtoon.progress import Progress


@dataclass(frozen=True)
class StyleParameter:
    """One numeric parameter of a procedural style, as a slider needs it.

    Attributes:
        name: the option name (`--style-opt NAME=VALUE`, `style_opts={NAME: VALUE}`).
        value: the style's own setting (its card's params, else the function's default).
        low, high: the allowed range.
        integer: whether only whole numbers are allowed.
        doc: one line saying what it does.
    """

    name: str
    value: float
    low: float
    high: float
    integer: bool
    doc: str


def style_names() -> list[str]:
    """The names of the installed styles (user styles first, then the bundled ones)."""
    from vidtoon.styles.cards import list_styles

    return [card.name for card in list_styles()]


def style_parameters(style: str) -> list[StyleParameter]:
    """The numeric parameters of a procedural style, in declaration order (other kinds of style: none).

    Raises:
        UsageError: an unknown style name (listing the installed ones).
    """
    from vidtoon.filters import PROCEDURAL
    from vidtoon.styles.cards import find_style

    card = find_style(style)
    if card.kind != "procedural":
        return []
    params_cls = PROCEDURAL.get(card.function).params_cls
    settings = params_cls.from_options(card.params)
    found = []
    for field in dataclasses.fields(params_cls):
        if "range" not in field.metadata or field.name == "reference_height":
            continue
        low, high = field.metadata["range"]
        value = getattr(settings, field.name)
        found.append(StyleParameter(field.name, value, low, high, isinstance(field.default, int), field.metadata.get("doc", "")))
    return found


def frame_at(source: str | Path, seconds: float = 0.0) -> np.ndarray:
    """The frame of a video shown at `seconds` (the last one when it is past the end), as H×W×3 uint8 RGB.

    Raises:
        InputError: the video is missing, unreadable or holds no frames.
    """
    from vidtoon.io.reader import read_frames

    number_in("seconds", seconds, 0, float("inf"), high_open=True)
    last = None
    frames = read_frames(source)
    try:
        for frame in frames:
            if frame.time > seconds and last is not None:
                break
            last = frame.rgb
    finally:
        frames.close()
    if last is None:
        raise InputError("holds no frames", path=source)
    return last


def preview_frame(
    frame_u8: np.ndarray,
    *,
    to: str | None = None,
    style_opts: dict[str, Any] | None = None,
    device: str = "auto",
    style: str | None = None,
) -> np.ndarray:
    """One H×W×3 uint8 RGB frame restyled as the style `to` (`--to`; `style=` is its older name, still taken) with
    `style_opts` over its params (no temporal stage).

    Raises:
        UsageError: no style, an unknown style, an unknown or out-of-range option; `to=` and `style=` that differ.
    """
    from vidtoon.restyle import RestyleOptions, load_translator, make_restyler

    to = renamed("to", to, "style", style)
    if to is None:
        raise UsageError("preview_frame needs a style: to=STYLE", hint="installed styles: vidtoon.preview.style_names()")
    loaded = load_translator(style=to, style_opts=style_opts, device=device)
    restyler = make_restyler(loaded.translator, RestyleOptions(device=device, consistency="none"))
    return restyler([frame_u8])[0]


def restyle_with(
    source: str | Path,
    output: str | Path | None = None,
    *,
    to: str | None = None,
    style_opts: dict[str, Any] | None = None,
    strength: float | None = None,
    seconds: float | None = None,
    device: str = "auto",
    force: bool = False,
    progress: Progress | None = None,
    style: str | None = None,
) -> Path:
    """`vidtoon restyle SOURCE --to STYLE [--style-opt ...] [--strength S] [--end SECONDS]` as a call.

    Args:
        to: the installed style's name (`--to`; `style=` is its older name, still taken).
        strength: the temporal blending strength 0..1 (None: the style's default).
        seconds: restyle only the first this many seconds of a video (None: all of it).
        progress: receives one step per frame (e.g. an ipywidgets progress bar behind `vidtoon.progress.Progress`).
    Returns:
        The finished output (default SOURCE.STYLE.mp4 beside the source).
    Raises:
        InputError, OutputError, UsageError: as `vidtoon restyle` (checked before the style loads).
    """
    from vidtoon.restyle import RestyleOptions, check_restyle, load_translator, resolve_style
    from vidtoon.restyle import restyle as run_restyle

    to = renamed("to", to, "style", style)
    if to is None:
        raise UsageError("restyle_with needs a style: to=STYLE", hint="installed styles: vidtoon.preview.style_names()")
    card = resolve_style(style=to, style_opts=style_opts)
    end = None if seconds is None else Fraction(seconds).limit_denominator(1000)
    options = RestyleOptions.from_style(card.defaults, device=device, strength=strength, end=end)
    job = check_restyle(source, output, style_name=card.name, options=options, force=force)
    loaded = load_translator(card=card, device=device)
    return run_restyle(
        job.source,
        job.output,
        translator=loaded.translator,
        style_name=loaded.name,
        options=options,
        force=force,
        progress=progress,
        job_key=loaded.key,
    )


def png_bytes(frame_u8: np.ndarray) -> bytes:
    """An H×W×3 uint8 RGB frame encoded as PNG (for `ipywidgets.Image(value=...)`, HTML, or a file)."""
    import cv2

    if frame_u8.ndim != 3 or frame_u8.shape[-1] != 3 or frame_u8.dtype != np.uint8:
        raise ValueError(f"png_bytes: expected H×W×3 uint8, got {frame_u8.shape} {frame_u8.dtype}")
    ok, data = cv2.imencode(".png", np.ascontiguousarray(frame_u8[..., ::-1]))
    if not ok:
        raise ValueError("png_bytes: OpenCV could not encode the frame")
    return data.tobytes()
