"""The registry of procedural styles: pure tensor functions with a parameters dataclass each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from vidtoon.registry import Registry


@dataclass(frozen=True)
class Procedural:
    """One procedural style.

    Attributes:
        function: `function(x, params) -> y`, x and y N×3×H×W float in [-1, 1] on any device.
        params: a frozen dataclass of the function's parameters with `from_options(mapping)`.
    """

    name: str
    function: Callable[[torch.Tensor, object], torch.Tensor]
    params: type
    description: str = ""


PROCEDURAL: Registry[Procedural] = Registry("procedural style")


def procedural(name: str, params: type, *, description: str = "") -> Callable:
    """Decorator: register `function(x, params)` as the procedural style `name` with its parameters class."""

    def decorate(function: Callable) -> Callable:
        PROCEDURAL.add(name, Procedural(name, function, params, description))
        return function

    return decorate
