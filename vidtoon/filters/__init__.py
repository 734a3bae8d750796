"""Procedural styles: pure tensor functions N×3×H×W in [-1, 1] -> same, with user-tunable parameters.

Importing this package registers each style in `PROCEDURAL` (each module is imported by name here):
`toon` (cel shading with ink lines), `paint` (anisotropic Kuwahara), `sketch` (XDoG pencil on paper).
"""

from __future__ import annotations

from vidtoon.filters import paint, sketch, toon
from vidtoon.filters.paint import PaintParams
from vidtoon.filters.params import FilterParams
from vidtoon.filters.registry import PROCEDURAL, Procedural, procedural
from vidtoon.filters.sketch import SketchParams
from vidtoon.filters.toon import ToonParams

__all__ = [
    "PROCEDURAL",
    "FilterParams",
    "PaintParams",
    "Procedural",
    "SketchParams",
    "ToonParams",
    "paint",
    "procedural",
    "sketch",
    "toon",
]
