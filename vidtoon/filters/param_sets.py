"""Each procedural style's parameters, without torch: a style card's `params:` and a user's `--style-opt` are checked
(names, types, ranges) before the filters themselves, and torch, are imported.

`PARAMS` maps a procedural style's name to its parameter class; `vidtoon.filters.registry.procedural` registers a
filter under the same name with the same class (and adds the class here when it is not yet known), so the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vidtoon.filters.params import FilterParams, option
from vidtoon.registry import Registry

HINT = "procedural styles live in vidtoon/filters/"
PARAMS: Registry[type[FilterParams]] = Registry("procedural style", hint=HINT)


@dataclass(frozen=True)
class ToonParams(FilterParams):
    """Options of `toon`. Radii and widths are in pixels at `reference_height`.

    Attributes:
        levels: luminance steps. softness: width of a step's ramp, in steps (0: hard steps).
        smoothing: guided-filter passes. radius: their box radius. tolerance: the luminance difference (Lab L,
            0-100) that counts as an edge; smaller differences are smoothed away.
        saturation: chroma gain. lines: ink strength (0: no lines). line_width: the DoG's inner sigma.
        line_threshold: the DoG depth (luma, 0-1) where ink starts; line_softness: how much deeper it is full.
        work_height: the height at which the smoothing runs (frames taller than this are shrunk for it).
    """

    filter_name: ClassVar[str] = "toon"
    levels: int = option(10, 2, 32, "luminance steps")
    softness: float = option(0.35, 0.0, 1.0, "width of a step's ramp, in steps")
    smoothing: int = option(2, 0, 8, "edge-preserving smoothing passes")
    radius: float = option(4.0, 0.5, 64.0, "smoothing radius, px at reference height")
    tolerance: float = option(5.0, 0.5, 50.0, "edge contrast (Lab L) kept by the smoothing")
    saturation: float = option(1.25, 0.0, 3.0, "chroma gain")
    lines: float = option(1.0, 0.0, 1.0, "ink strength")
    line_width: float = option(1.6, 0.3, 8.0, "line sigma, px at reference height")
    line_threshold: float = option(0.005, 0.0, 0.5, "DoG depth where ink starts (luma 0-1)")
    line_softness: float = option(0.01, 0.001, 0.5, "extra DoG depth to full ink")
    work_height: int = option(270, 32, 4320, "height the smoothing runs at")


@dataclass(frozen=True)
class PaintParams(FilterParams):
    """Options of `paint`. Radii are in pixels at `reference_height`.

    Attributes:
        radius: the filter radius (the ellipse's mean semi-axis). anisotropy: alpha; smaller stretches the ellipses
            more along edges. sharpness: q / 2, the exponent of the sector weights (higher: crisper, blockier).
        rings: sample rings per direction. tensor_sigma: smoothing of the structure tensor.
        saturation: chroma gain of the result. work_height: the height the filter runs at (taller frames are
            shrunk for it and the result enlarged).
    """

    filter_name: ClassVar[str] = "paint"
    radius: float = option(20.0, 1.0, 64.0, "filter radius, px at reference height")
    anisotropy: float = option(0.5, 0.1, 10.0, "alpha: smaller stretches strokes more")
    sharpness: int = option(4, 1, 8, "exponent q/2 of the sector weights")
    rings: int = option(2, 1, 8, "sample rings per direction")
    tensor_sigma: float = option(3.0, 0.5, 16.0, "structure tensor smoothing, px at reference height")
    saturation: float = option(1.1, 0.0, 3.0, "chroma gain")
    work_height: int = option(360, 32, 4320, "height the filter runs at")


@dataclass(frozen=True)
class SketchParams(FilterParams):
    """Options of `sketch`. Widths are in pixels at `reference_height`.

    Attributes:
        line_width: sigma of the inner Gaussian. sharpen: p, the weight of the DoG (edge emphasis).
        threshold: the sharpened luma (0-1) below which graphite starts. softness: the luma span over which it
            reaches full strength (larger: softer shading). shading: how dark shaded areas may get (0: lines only).
        pencil: overall graphite strength. work_height: the height the XDoG runs at (taller frames are shrunk).
    """

    filter_name: ClassVar[str] = "sketch"
    line_width: float = option(1.0, 0.3, 8.0, "inner sigma, px at reference height")
    sharpen: float = option(24.0, 0.0, 200.0, "DoG weight p (edge emphasis)")
    threshold: float = option(0.55, 0.0, 1.5, "luma below which graphite starts")
    softness: float = option(0.6, 0.01, 2.0, "luma span to full graphite")
    shading: float = option(0.45, 0.0, 1.0, "darkest shading of flat dark areas")
    pencil: float = option(0.9, 0.0, 1.0, "graphite strength")
    work_height: int = option(720, 32, 4320, "height the XDoG runs at")


for _params in (PaintParams, SketchParams, ToonParams):
    PARAMS.add(_params.filter_name, _params)
