"""Styles: named cards of one kind each (`checkpoint`, `onnx`, `procedural`, `reference`), and the one
function that turns a `--to STYLE`, `--model FILE` or `--like IMAGE` into a `Translator`.

Each kind is a module that registers itself in `STYLE_KINDS` when imported here. Naming, checking and listing
styles imports no torch (nor PyAV): only `load_translator` loads a model, and torch with it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from vidtoon.errors import UsageError
from vidtoon.styles import checkpoint, procedural, reference  # noqa: F401  (register their kinds)
from vidtoon.styles.cards import TRAIN_HINT, StyleCard, find_style, list_styles, read_style_card, style_dirs, user_styles_dir
from vidtoon.styles.kinds import STYLE_KINDS
from vidtoon.styles.reference import add_reference_style, reference_card

if TYPE_CHECKING:
    from vidtoon.models.translator import Translator

__all__ = [
    "STYLE_KINDS",
    "TRAIN_HINT",
    "LoadedStyle",
    "add_reference_style",
    "user_styles_dir",
    "StyleCard",
    "find_style",
    "list_styles",
    "load_translator",
    "read_style_card",
    "resolve_style",
    "style_dirs",
    "style_key",
]


class LoadedStyle(NamedTuple):
    """A translator ready to run, and what the restyle needs to know about it.

    Attributes:
        name: the style's name, for output file names (film.NAME.mp4).
        defaults: the style's restyle settings (its card's `defaults:`).
        key: what identifies the model in a resumable run's settings.
    """

    translator: Translator
    name: str
    defaults: dict
    key: dict


def resolve_style(
    *,
    style: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    like_strength: float | None = None,
    style_opts: dict[str, Any] | None = None,
) -> StyleCard:
    """The card for `--to STYLE`, `--model FILE` or `--like IMAGE` (the last two made on the spot), with `style_opts`
    over its params, checked (files exist, digests match, parameters valid) without loading anything."""
    if sum(choice is not None for choice in (style, model, like)) != 1:
        raise UsageError(
            "give exactly one of --to STYLE, --model FILE or --like IMAGE", hint="see `vidtoon styles` for installed styles"
        )
    if like_strength is not None and like is None:
        raise UsageError(
            "--like-strength goes with --like IMAGE", hint="a reference style card sets it with params: {strength: ...}"
        )
    if style is not None:
        card = find_style(style)
    elif like is not None:
        card = reference_card(like, strength=like_strength)
    else:
        path = Path(model)
        card = StyleCard(
            name=path.stem, path=None, kind="onnx" if path.suffix.lower() == ".onnx" else "checkpoint", checkpoint=path
        )
    if style_opts:
        if card.kind not in ("procedural", "reference"):
            raise UsageError(
                f"--style-opt does not apply to a {card.kind} style ({card.name})",
                hint="style options set a procedural or reference style's parameters",
            )
        card = replace(card, params={**card.params, **style_opts})
    STYLE_KINDS.get(card.kind)().check(card)
    return card


def load_translator(
    *,
    style: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    like_strength: float | None = None,
    device: str = "auto",
    precision: str = "auto",
    label: str | None = None,
    compile: bool = False,
    style_opts: dict[str, Any] | None = None,
    card: StyleCard | None = None,
    twin: bool = False,
) -> LoadedStyle:
    """The translator for `--to STYLE`, `--model FILE` or `--like IMAGE` (or an already resolved `card`), on `device`.

    With `twin`, a procedural style with a uint8 twin, on a device that can only be the CPU (`vidtoon.host.cpu_only`),
    in fp32 (`auto`), uncompiled, loads as its `TwinTranslator` (uint8 frames in and out, for `make_restyler`), and
    torch is not imported: what `vidtoon restyle` asks for. Otherwise (the default) a tensor `Translator`."""
    card = card or resolve_style(style=style, model=model, like=like, like_strength=like_strength, style_opts=style_opts)
    kind = STYLE_KINDS.get(card.kind)()
    if twin and hasattr(kind, "load_twin") and precision in ("auto", "fp32") and not compile and label is None:
        from vidtoon.host import cpu_only

        translator = kind.load_twin(card) if cpu_only(device) else None
        if translator is not None:
            return LoadedStyle(translator, card.name, dict(card.defaults), style_key(card, label))
    from vidtoon.device import resolve_device  # torch

    translator = kind.load(card, device=resolve_device(device), precision=precision, label=label, compile=compile)
    return LoadedStyle(translator, card.name, dict(card.defaults), style_key(card, label))


def style_key(card: StyleCard, label: str | None = None) -> dict:
    """What identifies `card`'s model (with `label`) in a resumable run's settings: `LoadedStyle.key`, without loading it."""
    return {**STYLE_KINDS.get(card.kind)().key(card), "kind": card.kind, "label": label}
