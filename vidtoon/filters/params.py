"""Parameters of procedural styles: frozen dataclasses with range checks, built from user options.

Every filter's parameters subclass `FilterParams`. Each field declares its allowed range in its metadata
(`field(default=..., metadata=span(lo, hi))`), so the range check, the error message and the help text come
from one place. `from_options` turns the strings a user typed (`--style-opt levels=6 lines=0.5`) into the
field types and refuses unknown keys, listing the known ones.

Radii are given in pixels at `reference_height`; `scale(height)` gives the factor that turns them into
pixels at the height actually processed, so a 360p and a 4K frame get the same look.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from vidtoon.errors import UsageError

OptionValue = str | int | float | bool
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def span(lo: float, hi: float, doc: str = "") -> dict[str, Any]:
    """Field metadata: the closed range [lo, hi] a numeric option must lie in, and a one-line description."""
    return {"range": (lo, hi), "doc": doc}


def option(default: Any, lo: float, hi: float, doc: str = "") -> Any:
    """A dataclass field with a default and an allowed range [lo, hi]."""
    return field(default=default, metadata=span(lo, hi, doc))


@dataclass(frozen=True)
class FilterParams:
    """Base of every procedural style's parameters.

    Attributes:
        reference_height: the frame height (pixels) at which the radii are given; radii scale by H / reference_height.
    """

    filter_name: ClassVar[str] = "filter"
    reference_height: int = option(720, 16, 8640, "frame height at which radii are given")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("range") is None:
                continue
            lo, hi = f.metadata["range"]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not lo <= value <= hi:
                raise UsageError(
                    f"{self.filter_name} option {f.name}={value!r} is out of range [{_fmt(lo)}, {_fmt(hi)}]",
                    hint=f"known {self.filter_name} options: {self.describe()}",
                )

    def scale(self, height: int) -> float:
        """The factor turning radii at `reference_height` into pixels at `height`."""
        return height / self.reference_height

    @classmethod
    def option_names(cls) -> list[str]:
        """The option names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls) -> str:
        """`name=default [lo, hi]` for every option, comma-separated (for hints and `vidtoon styles`)."""
        parts = []
        for f in dataclasses.fields(cls):
            lo, hi = f.metadata.get("range", (None, None))
            bounds = f" [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None else ""
            parts.append(f"{f.name}={_fmt(f.default)}{bounds}")
        return ", ".join(parts)

    @classmethod
    def from_options(cls, options: Mapping[str, OptionValue] | None = None) -> Self:
        """Parameters from user options: strings ("6", "0.5", "true") are coerced to the field types.

        Raises:
            UsageError: an unknown key (naming the known ones), a value of the wrong type, or one out of range.
        """
        options = dict(options or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise UsageError(
                f"unknown {cls.filter_name} option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                hint=f"known {cls.filter_name} options: {cls.describe()}",
            )
        hints = typing.get_type_hints(cls)
        values = {key: _coerce(cls.filter_name, key, value, hints[key], fields[key]) for key, value in options.items()}
        return cls(**values)

    def options(self) -> dict[str, OptionValue]:
        """The parameters as a plain dict (to write next to an output)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


KIND_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def _coerce(filter_name: str, key: str, value: OptionValue, kind: type, f: dataclasses.Field) -> OptionValue:
    lo, hi = f.metadata.get("range", (None, None))
    allowed = KIND_WORDS.get(kind, f"a {kind.__name__}") + (f" in [{_fmt(lo)}, {_fmt(hi)}]" if lo is not None else "")
    bad = UsageError(f"{filter_name} option {key}={value!r} is not {allowed}", hint=f"e.g. {key}={_fmt(f.default)}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad
    if isinstance(value, bool):
        raise bad
    try:
        if kind is int:
            number = float(value) if isinstance(value, str) else value
            if not float(number).is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            return float(value)
    except (TypeError, ValueError):
        raise bad from None
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
