"""Procedural styles: pure tensor functions N×3×H×W in [-1, 1] -> same, with user-tunable parameters.

`PROCEDURAL` (from `vidtoon.filters.catalog`, which imports each filter module by name and so registers it) holds
`toon` (cel shading with ink lines), `paint` (anisotropic Kuwahara) and `sketch` (XDoG pencil on paper). `FRAME_TWINS`
(from `vidtoon.filters.twin_catalog`) holds torch-free twins of `toon` and `sketch` on one H×W×3 uint8 frame. Names are
imported on first use (`vidtoon.lazy`): the parameter classes (`vidtoon.filters.param_sets`) need no torch, so a
style's options are checked before the filters, and torch, are loaded.
"""

from __future__ import annotations

from vidtoon.lazy import lazy_api

# public name -> module that defines it
_LAZY = {
    "PROCEDURAL": "vidtoon.filters.catalog",
    "FRAME_TWINS": "vidtoon.filters.twin_catalog",
    "FilterParams": "vidtoon.filters.params",
    "PaintParams": "vidtoon.filters.param_sets",
    "SketchParams": "vidtoon.filters.param_sets",
    "ToonParams": "vidtoon.filters.param_sets",
    "Procedural": "vidtoon.filters.registry",
    "procedural": "vidtoon.filters.registry",
}

__all__ = [
    "FRAME_TWINS",
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

lazy_api(__name__, _LAZY)
