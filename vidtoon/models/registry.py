"""The model registry: a decorator fills a plain dict; each family module is imported by name in
`vidtoon.models.catalog`, where the lookups are imported from (this module alone holds an empty `FAMILIES`).
`vidtoon.models.card.FAMILY_NAMES` knows the names without torch, for checking a checkpoint's card.

A generator takes `x`, N×3×H×W float in [-1, 1] (H and W multiples of its `size_multiple`), and
returns the translated N×3×H×W in [-1, 1]. A conditional generator (CAAE) also takes `label`, an
N-long int64 tensor of style indices: `forward(x, label)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from vidtoon.errors import UsageError
from vidtoon.registry import Registry


@dataclass(frozen=True)
class Family:
    """One architecture.

    Attributes:
        name: registry name, stored in checkpoints.
        build: constructor; keyword arguments only, all JSON-serialisable.
        kind: "generator" or "discriminator".
        size_multiple: input height and width must be multiples of this.
        conditional: forward takes a style label as well (CAAE).
        tiny: constructor arguments for a tiny variant that runs in milliseconds (tests).
    """

    name: str
    build: Callable[..., nn.Module]
    kind: str
    size_multiple: int
    conditional: bool = False
    tiny: dict[str, Any] = field(default_factory=dict)


FAMILIES: Registry[Family] = Registry("model family")


def register(
    name: str, *, kind: str = "generator", size_multiple: int = 4, conditional: bool = False, tiny: dict[str, Any] | None = None
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a model constructor under `name`."""
    if kind not in ("generator", "discriminator"):
        raise ValueError(f"kind must be generator or discriminator, got {kind!r}")

    def decorate(build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        FAMILIES.add(
            name,
            Family(
                name=name, build=build, kind=kind, size_multiple=size_multiple, conditional=conditional, tiny=dict(tiny or {})
            ),
        )
        return build

    return decorate


def get_family(name: str) -> Family:
    """The registered family `name`; an unknown name lists the known ones."""
    return FAMILIES.get(name)


def family_names(kind: str | None = None) -> list[str]:
    """Registered family names, optionally only generators or discriminators."""
    return [n for n, f in FAMILIES.items() if kind is None or f.kind == kind]


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Construct family `name` with `kwargs`."""
    family = get_family(name)
    try:
        return family.build(**kwargs)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"bad arguments for model family {name!r}: {exc}") from None
