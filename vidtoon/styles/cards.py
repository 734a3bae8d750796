"""Style cards: `<name>.yaml` files that make a named style of one *kind*.

Styles are found, in order, in `$VIDTOON_STYLES` (folders separated by the OS path separator),
the user's folder (`$XDG_DATA_HOME/vidtoon/styles`, default `~/.local/share/vidtoon/styles`),
and the styles bundled with vidtoon (`vidtoon/styles/bundled/`, shipped in the wheel). A user style of the same name hides a
bundled one. A card that cannot be used (damaged, unknown keys, naming a file outside its folder) is left out of
the styles with a warning; `--to` its name (its file's stem) says what is wrong with it.

A card's `kind:` says what makes the style (see `vidtoon.styles.kinds`):

    kind: checkpoint    checkpoint: NAME.safetensors (or a .pth/.pt), sha256: ...   learned weights
    kind: onnx          checkpoint: NAME.onnx, sha256: ...                          an ONNX graph
    kind: procedural    function: toon, params: {levels: 10}                        a registered filter
    kind: reference     reference: painting.jpg, params: {strength: 1.0}            an image to take the look of

`kind` may be left out: a `checkpoint:` ending in .onnx is `onnx`, any other is `checkpoint`.
Common keys: name, description, preview (an image beside the card), licence, data, credits, and
`defaults:` (restyle settings the style works best with: height, consistency, strength, ...).
"""

from __future__ import annotations

import difflib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidtoon.errors import InputError, UsageError

log = logging.getLogger(__name__)
_warned: set[Path] = set()  # broken cards already warned about in this process

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"  # shipped inside the package (package data)
CARD_KEYS = {
    "name",
    "kind",
    "description",
    "checkpoint",
    "sha256",
    "function",
    "params",
    "reference",
    "preview",
    "defaults",
    "licence",
    "data",
    "credits",
    "training",
}
KIND_KEYS = {"checkpoint": "checkpoint", "onnx": "checkpoint", "procedural": "function", "reference": "reference"}  # required key
STYLE_DEFAULT_KEYS = ("height", "consistency", "strength", "label", "max_side", "precision", "faces", "face_size", "face_margin")
LEARNED_STYLES = ("pixar", "anime")  # the learned styles vidtoon has a recipe for (train/provenance.py: data, terms)
TRAIN_HINT = "train your own with `vidtoon train cyclegan --a photos/ --b style_frames/`, then `vidtoon export RUN`"


@dataclass(frozen=True)
class StyleCard:
    """A named style: its kind, what makes it (a checkpoint, a function and parameters, or a reference image),
    the settings it works best with, and its facts.

    Attributes:
        kind: "checkpoint", "onnx", "procedural" or "reference" (a name in `vidtoon.styles.kinds.STYLE_KINDS`).
        checkpoint: the weights or graph file (checkpoint, onnx kinds).
        function: the registered procedural function (procedural kind).
        reference: the image whose look is taken (reference kind).
        params: the function's or the reference transfer's parameters (overridable with --style-opt).
        defaults: restyle settings (height, consistency, strength, label, max_side, precision; faces, face_size,
            face_margin: e.g. `faces: true` for a style made for faces).
        training: how learned weights were trained (trainer, steps, resolution, size_mb, date, look measures), as
            `vidtoon export` writes it.
    """

    name: str
    path: Path | None
    kind: str = "checkpoint"
    checkpoint: Path | None = None
    function: str | None = None
    reference: Path | None = None
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    sha256: str | None = None
    preview: Path | None = None
    licence: str = ""
    data: str = ""
    credits: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    bundled: bool = False
    training: dict[str, Any] = field(default_factory=dict)


def user_styles_dir() -> Path:
    """The user's own styles folder: `$XDG_DATA_HOME/vidtoon/styles` (default ~/.local/share/vidtoon/styles)."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "vidtoon" / "styles"


def style_dirs() -> list[tuple[Path, bool]]:
    """(folder, is_bundled) in search order."""
    dirs = [Path(p) for p in os.environ.get("VIDTOON_STYLES", "").split(os.pathsep) if p]
    dirs.append(user_styles_dir())
    return [(d, False) for d in dirs] + [(BUNDLED_DIR, True)]


def read_style_card(path: Path, *, bundled: bool = False) -> StyleCard:
    """Parse one style card; unknown keys, an unknown kind and a missing required key are refused."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}  # any locale: cards credit Winnemöller
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"style card is unreadable ({' '.join(str(exc).split())})", path=path, hint="fix or remove it") from None
    if not isinstance(raw, dict):
        raise InputError(
            "style card is not a mapping of keys to values", path=path, hint="see vidtoon/styles/bundled/ for examples"
        )
    unknown = set(raw) - CARD_KEYS
    unknown_defaults = set(raw.get("defaults") or {}) - set(STYLE_DEFAULT_KEYS)
    if unknown or unknown_defaults:
        bad = sorted(unknown | {f"defaults.{k}" for k in unknown_defaults})
        raise InputError(f"style card has unknown keys {bad}", path=path, hint=f"known keys: {', '.join(sorted(CARD_KEYS))}")
    checkpoint = raw.get("checkpoint")
    kind = raw.get("kind") or ("onnx" if str(checkpoint or "").lower().endswith(".onnx") else "checkpoint")
    if kind not in KIND_KEYS:
        raise InputError(f"style card has an unknown kind {kind!r}", path=path, hint=f"kinds: {', '.join(KIND_KEYS)}")
    if not raw.get(KIND_KEYS[kind]):
        raise InputError(
            f"style card of kind {kind!r} has no {KIND_KEYS[kind]!r} entry",
            path=path,
            hint={
                "checkpoint": "name the checkpoint file the style uses",
                "function": "name a procedural function",
                "reference": "name the reference image",
            }[KIND_KEYS[kind]],
        )
    if not isinstance(raw.get("params") or {}, dict) or not isinstance(raw.get("defaults") or {}, dict):
        raise InputError("style card's params and defaults must be mappings", path=path)
    folder = path.parent
    for key in ("checkpoint", "reference", "preview"):
        _check_inside(path, key, raw.get(key))

    def beside(name: Any) -> Path | None:
        return (folder / str(name)).resolve() if name else None

    weights = _weights_card(beside(checkpoint)) if kind == "checkpoint" else None
    if weights is not None:  # what the weights say of themselves, unless the card says otherwise
        raw.setdefault("licence", weights.licence)
        raw.setdefault("data", weights.data)
        raw.setdefault("credits", weights.notes.get("credits", ""))
        if weights.height is not None:
            raw["defaults"] = {"height": weights.height, **(raw.get("defaults") or {})}
    return StyleCard(
        name=str(raw.get("name") or path.stem),
        path=path,
        kind=kind,
        checkpoint=beside(checkpoint),
        function=str(raw["function"]) if raw.get("function") else None,
        reference=beside(raw.get("reference")),
        params=dict(raw.get("params") or {}),
        description=str(raw.get("description", "")),
        sha256=raw.get("sha256"),
        preview=beside(raw.get("preview")),
        licence=str(raw.get("licence", "")),
        data=str(raw.get("data", "")),
        credits=str(raw.get("credits", "")),
        defaults=dict(raw.get("defaults") or {}),
        bundled=bundled,
        training=dict(raw.get("training") or {}),
    )


def _check_inside(card: Path, key: str, name: Any) -> None:
    """Refuse a card entry naming a file outside the card's folder: an absolute path or one that climbs out with `..`.

    A card is often copied from someone else; a checkpoint of `../../home/you/.ssh/id_rsa` would have vidtoon read
    (and hash, and show) a file the style has no business with. Files a card uses live beside it or below it.
    """
    if not name:
        return
    text = str(name)
    if os.path.isabs(text) or text.startswith(("~", "\\")) or ".." in Path(text).parts:
        raise InputError(
            f"style card's {key} {text!r} is outside the card's folder",
            path=card,
            hint=f"cards may only name files beside them (or below): copy the file next to {card.name} and give its name",
        )


def _weights_card(checkpoint: Path | None):
    """The model card inside a vidtoon `.safetensors` checkpoint (its header only), or None (other formats, missing or
    damaged files: a listing still shows the style, and loading it says what is wrong)."""
    if checkpoint is None or checkpoint.suffix.lower() != ".safetensors" or not checkpoint.is_file():
        return None
    from vidtoon.errors import VidtoonError
    from vidtoon.models.card import read_card  # the file's header alone: no torch

    try:
        return read_card(checkpoint)
    except VidtoonError:
        return None


def list_styles() -> list[StyleCard]:
    """Every installed style, user styles first; a name appears once (the first found wins). A card that cannot be
    used is left out, with a warning (once per process): one broken card must not take every other style with it."""
    return _installed()[0]


def _installed() -> tuple[list[StyleCard], dict[str, InputError]]:
    """The usable cards (as `list_styles`) and, by their file's stem, what is wrong with each card that is not."""
    found: dict[str, StyleCard] = {}
    broken: dict[str, InputError] = {}
    for folder, bundled in style_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                card = read_style_card(path, bundled=bundled)
            except InputError as exc:
                broken.setdefault(path.stem, exc)
                if path not in _warned:
                    _warned.add(path)
                    log.warning("%s — left out of the styles", exc.message)
                continue
            found.setdefault(card.name, card)
    return list(found.values()), broken


def find_style(name: str) -> StyleCard:
    """The style called `name`; an unknown name lists the installed ones and how to train one; the name of a card that
    cannot be used raises what is wrong with it."""
    styles, broken = _installed()
    if name in broken:  # the user's own card, not a bundled style of that name that it was meant to replace
        raise broken[name]
    for card in styles:
        if card.name == name:
            return card
    known = ", ".join(card.name for card in styles) or "none installed yet"
    if name in LEARNED_STYLES:
        raise UsageError(
            f"style {name!r} is not installed: it is a learned style, trained on a GPU, and this install has no weights "
            f"for it (installed: {known})",
            hint=f"restyle with one of those or --like PICTURE now; or train it with `vidtoon train cartoon --a photos/ "
            f"--b frames/`, then `vidtoon export RUN --name {name} --provenance {name}`",
        )
    close = difflib.get_close_matches(name, [card.name for card in styles], n=1)
    raise UsageError(
        f"unknown style {name!r}" + (f": did you mean {close[0]!r}?" if close else "") + f" (installed: {known})",
        hint=f"pass --model FILE for any checkpoint, or {TRAIN_HINT}",
    )
