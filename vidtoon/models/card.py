"""`ModelCard`: what a set of weights is and how to use it, stored inside the weights file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


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
