"""How long-running functions report progress without printing: a small protocol the CLI fills."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress from a long-running job (frames, images)."""

    def start(self, total: int | None, description: str) -> None:
        """A job of `total` steps (None: unknown) begins."""

    def advance(self, steps: int = 1) -> None:
        """`steps` more are done."""


class NoProgress:
    """Progress that goes nowhere: the library's default."""

    def start(self, total: int | None, description: str) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass
