"""`ModelCard`: what a set of weights is and how to use it, stored inside the weights file; and reading it from a
vidtoon `.safetensors` checkpoint's header, without torch (listing and checking styles import none)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vidtoon.errors import InputError, UsageError
from vidtoon.models.safetensors_header import read_metadata

FORMAT = "vidtoon-checkpoint/1"
# The model registry's family names (`vidtoon.models.registry.FAMILIES`, filled when torch and the model code load),
# known here without them so a card is checked torch-free; tests/models/test_registry.py keeps the two equal.
FAMILY_NAMES = (
    "animegan",
    "caae",
    "caae_image_discriminator",
    "caae_latent_discriminator",
    "cyclegan_resnet",
    "cyclegan_unet",
    "patchgan",
)


@dataclass(frozen=True)
class ModelCard:
    """What a checkpoint holds and how to use it.

    Attributes:
        family: registry name of the architecture.
        kwargs: constructor arguments of the family.
        size_multiple: input height/width must be multiples of this.
        value_range: range of the model's input and output pixels (vidtoon models: -1..1).
        styles: labels of a conditional model, in index order (CAAE); empty otherwise.
        name: the style's name (e.g. "pixar").
        data: the training data (names, provenance).
        licence: licence/terms of the data and weights.
        notes: free-form facts (steps, resolution, date, credits).
        vidtoon_version: the vidtoon version that wrote it.
        height: the processing height (px) the weights work best at; None: the source's. A style card's
            `defaults.height` or `--height` overrides it.
    """

    family: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    size_multiple: int = 4
    value_range: tuple[float, float] = (-1.0, 1.0)
    styles: tuple[str, ...] = ()
    name: str = ""
    data: str = ""
    licence: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    vidtoon_version: str = ""
    height: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        raw = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown model card fields {sorted(unknown)}")
        raw["value_range"] = tuple(raw.get("value_range", (-1.0, 1.0)))
        raw["styles"] = tuple(raw.get("styles", ()))
        return cls(**raw)


def read_card(path: str | Path) -> ModelCard:
    """The model card of a vidtoon `.safetensors` checkpoint, from its header alone (no torch, no weights read).

    Raises:
        InputError: missing, empty, a damaged header, no vidtoon card, or an unreadable card.
        UsageError: the card names a model family vidtoon does not know.
    """
    path = existing_checkpoint(path)
    return card_from_metadata(read_metadata(path), path)


def card_from_metadata(metadata: dict[str, str], path: Path) -> ModelCard:
    """The `ModelCard` in a checkpoint's `__metadata__` (`path` names the file in errors); see `read_card`."""
    if metadata.get("format") != FORMAT or "card" not in metadata:
        raise InputError(
            "safetensors file has no vidtoon model card",
            path=path,
            hint="export it with `vidtoon export` or give --model a supported file",
        )
    try:
        card = ModelCard.from_json(metadata["card"])
    except (ValueError, TypeError) as exc:
        raise InputError(f"model card is unreadable ({exc})", path=path, hint="re-export the checkpoint") from None
    if card.family not in FAMILY_NAMES:  # as the registry would say it
        raise UsageError(f"unknown model family {card.family!r}", hint=f"known: {', '.join(FAMILY_NAMES)}")
    return card


def existing_checkpoint(path: str | Path) -> Path:
    """`path` as a `Path`, checked to be a non-empty file.

    Raises:
        InputError: missing, not a file, or empty.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "checkpoint not found" if not path.exists() else "checkpoint is not a file", path=path, hint="check the --model path"
        )
    if path.stat().st_size == 0:
        raise InputError("checkpoint is empty (0 bytes)", path=path, hint="re-download it")
    return path
