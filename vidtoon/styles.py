"""Style cards: `configs/styles/<name>.yaml` names a checkpoint and its defaults.

Styles are found, in order, in `$VIDTOON_STYLES` (folders separated by the OS path separator),
the user's folder (`$XDG_DATA_HOME/vidtoon/styles`, default `~/.local/share/vidtoon/styles`),
and the styles bundled with vidtoon. A user style of the same name hides a bundled one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidtoon.errors import InputError, UsageError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "configs" / "styles"
_CARD_KEYS = {"name", "description", "checkpoint", "sha256", "preview", "defaults", "licence", "data", "credits", "training"}
_DEFAULT_KEYS = {"height", "consistency", "strength", "label", "max_side", "precision", "faces", "face_size", "face_margin"}
TRAIN_HINT = "train your own with `vidtoon train cyclegan --a photos/ --b style_frames/`, then `vidtoon export RUN`"


@dataclass(frozen=True)
class StyleCard:
    """A named style: where its checkpoint is and the settings it works best with.

    Attributes:
        defaults: restyle settings (height, consistency, strength, label, max_side, precision; faces, face_size,
            face_margin: e.g. `faces: true` for a style made for faces).
        training: how it was trained (trainer, steps, resolution, size_mb, date, look measures), as `vidtoon export` writes it.
    """

    name: str
    path: Path
    checkpoint: Path
    description: str = ""
    sha256: str | None = None
    preview: Path | None = None
    licence: str = ""
    data: str = ""
    credits: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    bundled: bool = False
    training: dict[str, Any] = field(default_factory=dict)


def style_dirs() -> list[tuple[Path, bool]]:
    """(folder, is_bundled) in search order."""
    dirs = [Path(p) for p in os.environ.get("VIDTOON_STYLES", "").split(os.pathsep) if p]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    dirs.append(data_home / "vidtoon" / "styles")
    return [(d, False) for d in dirs] + [(BUNDLED_DIR, True)]


def read_style_card(path: Path, *, bundled: bool = False) -> StyleCard:
    """Parse one style card; unknown keys are refused."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"style card is unreadable ({exc})", path=path, hint="fix or remove it") from None
    if not isinstance(raw, dict) or "checkpoint" not in raw:
        raise InputError("style card has no 'checkpoint' entry", path=path, hint="name the checkpoint file the style uses")
    unknown = set(raw) - _CARD_KEYS
    unknown_defaults = set(raw.get("defaults") or {}) - _DEFAULT_KEYS
    if unknown or unknown_defaults:
        bad = sorted(unknown | {f"defaults.{k}" for k in unknown_defaults})
        raise InputError(f"style card has unknown keys {bad}", path=path, hint=f"known keys: {', '.join(sorted(_CARD_KEYS))}")
    folder = path.parent
    preview = raw.get("preview")
    return StyleCard(
        name=str(raw.get("name") or path.stem), path=path, checkpoint=(folder / raw["checkpoint"]).resolve(),
        description=str(raw.get("description", "")), sha256=raw.get("sha256"),
        preview=(folder / preview).resolve() if preview else None, licence=str(raw.get("licence", "")),
        data=str(raw.get("data", "")), credits=str(raw.get("credits", "")), defaults=dict(raw.get("defaults") or {}),
        bundled=bundled, training=dict(raw.get("training") or {}),
    )


def list_styles() -> list[StyleCard]:
    """Every installed style, user styles first; a name appears once (the first found wins)."""
    found: dict[str, StyleCard] = {}
    for folder, bundled in style_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            card = read_style_card(path, bundled=bundled)
            found.setdefault(card.name, card)
    return list(found.values())


def find_style(name: str) -> StyleCard:
    """The style called `name`; an unknown name lists the installed ones and how to train one."""
    for card in list_styles():
        if card.name == name:
            return card
    known = ", ".join(card.name for card in list_styles()) or "none installed yet"
    raise UsageError(f"unknown style {name!r} (installed: {known})", hint=f"pass --model FILE for any checkpoint, or {TRAIN_HINT}")
