"""The registry of procedural styles: `PROCEDURAL`, filled by the `@procedural(...)` decorator.

    @procedural("toon", ToonParams, description="cel shading with ink lines")
    def toon(x: Tensor, params: ToonParams | None = None) -> Tensor: ...

    PROCEDURAL.get("toon").apply(x, {"levels": "6"})   # options coerced and range-checked

A `kind: procedural` style card names the entry and its options; `vidtoon.filters.catalog` imports each filter
module by name, which registers it. A filter's parameter class is also known, without torch, to
`vidtoon.filters.param_sets.PARAMS` under the same name (cards and options are checked from there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import Tensor

from vidtoon.filters.param_sets import HINT, PARAMS
from vidtoon.filters.params import FilterParams, OptionValue
from vidtoon.registry import Registry

FilterFunction = Callable[[Tensor, FilterParams | None], Tensor]


@dataclass(frozen=True)
class Procedural:
    """One procedural style: a pure tensor function and its parameter class.

    Attributes:
        name: the style's name (`toon`).
        function: `function(x, params)`: N×3×H×W float in [-1, 1] -> N×3×H×W float in [-1, 1].
        params_cls: the frozen `FilterParams` dataclass holding its options and their ranges.
        description: one line for `vidtoon styles`.
    """

    name: str
    function: FilterFunction
    params_cls: type[FilterParams]
    description: str = ""

    def params(self, options: Mapping[str, OptionValue] | None = None) -> FilterParams:
        """Parameters from user options (strings coerced); an unknown key or a bad value raises `UsageError`."""
        return self.params_cls.from_options(options)

    def apply(self, x: Tensor, options: Mapping[str, OptionValue] | FilterParams | None = None) -> Tensor:
        """Run the style on N×3×H×W `x` in [-1, 1] with options (a mapping or ready parameters)."""
        params = options if isinstance(options, FilterParams) else self.params(options)
        return self.function(x, params)


PROCEDURAL: Registry[Procedural] = Registry("procedural style", hint=HINT)


def procedural(name: str, params_cls: type[FilterParams], *, description: str = "") -> Callable[[FilterFunction], FilterFunction]:
    """Decorator: register the decorated function as procedural style `name` with parameters `params_cls`."""

    if name not in PARAMS:
        PARAMS.add(name, params_cls)
    elif PARAMS.get(name) is not params_cls:
        raise ValueError(f"procedural style {name!r}: its parameters are {PARAMS.get(name).__name__} in param_sets")

    def decorate(function: FilterFunction) -> FilterFunction:
        PROCEDURAL.add(name, Procedural(name, function, params_cls, description))
        return function

    return decorate
