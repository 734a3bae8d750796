"""Procedural styles: classical non-photorealistic filters as pure tensor functions (N×3×H×W in [-1, 1]).

Each filter module registers itself in `PROCEDURAL` when imported here.
"""

from vidtoon.filters.registry import PROCEDURAL, Procedural, procedural

__all__ = ["PROCEDURAL", "Procedural", "procedural"]
