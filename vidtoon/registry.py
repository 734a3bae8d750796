"""One registry pattern for every kind of plug-in: a named dict filled by a decorator.

    FLOWS = Registry("flow backend")

    @FLOWS.register("dis")
    class DISFlow: ...

    FLOWS.get("dis")      # the class; an unknown name raises UsageError listing the known ones

Every plug-in family (generator families, translator kinds, procedural styles, flow backends,
temporal modes, trainers) is one `Registry`; a family's modules are imported by name where the
family is defined, which registers them (nothing is found by scanning). `tests/test_registries.py`
walks every registry, so a new entry is checked without a new test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from vidtoon.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named plug-ins of one kind.

    Args:
        what: the kind in words, for error messages ("flow backend", "style kind").
        hint: what to tell a user who names an unknown one, after the list of known names.
    """

    def __init__(self, what: str, *, hint: str = ""):
        self.what = what
        self.hint = hint
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under `name` (twice is a programming error)."""

        def decorate(entry: T) -> T:
            self.add(name, entry)
            return entry

        return decorate

    def add(self, name: str, entry: T) -> None:
        """Register `entry` under `name`."""
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry

    def get(self, name: str) -> T:
        """The entry `name`; an unknown name raises `UsageError` listing the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            hint = f"known: {', '.join(self.names())}" + (f"; {self.hint}" if self.hint else "")
            raise UsageError(f"unknown {self.what} {name!r}", hint=hint) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs, sorted by name."""
        return sorted(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self.names())})"
