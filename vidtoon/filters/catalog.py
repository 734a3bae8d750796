"""Every procedural style, registered: importing this module imports each filter module by name (and torch with
them), which fills `PROCEDURAL`. `vidtoon.filters.PROCEDURAL` resolves to it on first use."""

from __future__ import annotations

from vidtoon.filters import paint, sketch, toon  # noqa: F401  (register their filters)
from vidtoon.filters.registry import PROCEDURAL

__all__ = ["PROCEDURAL"]
