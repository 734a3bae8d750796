"""`toon`: a 2-D cel look after Winnemöller, Olsen & Gooch, "Real-Time Video Abstraction" (SIGGRAPH 2006).

Steps: iterated edge-preserving smoothing (a self-guided filter on every CIE Lab channel) at a reduced working
height; the smoothed colours brought back to full size by joint guided upsampling steered by the full-size luma
(He & Sun's fast guided filter, so edges stay as sharp as in the input); a mild chroma boost; soft luminance
quantization (smoothed steps that do not pop); and dark ink lines where a difference of Gaussians of the
smoothed luminance is strongly negative (the dark side of an edge). Flat regions give a DoG of zero whatever
their brightness, so dark areas are never inked; low-contrast texture stays below the line threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from vidtoon.filters import ops
from vidtoon.filters.params import FilterParams, option
from vidtoon.filters.registry import procedural


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


@procedural("toon", ToonParams, description="cel shading: flat colour steps and clean ink outlines (Winnemöller 2006)")
def toon(x: Tensor, params: ToonParams | None = None) -> Tensor:
    """Cartoon cel look of N×3×H×W `x` in [-1, 1] (any device, float32) -> N×3×H×W in [-1, 1]."""
    p = params or ToonParams()
    x = x.contiguous()  # restyle hands channels-last frames: the plane-by-plane blurs want planes (toon 1.5× faster)
    height, width = x.shape[-2:]
    h, w = ops.work_size(height, width, p.work_height)
    small_scale = p.scale(height) * h / height  # radii at the reference height -> pixels at the working size
    small = ops.to_unit(ops.resize(x, h, w))

    lab = ops.rgb_to_lab(small)
    radius = max(1, round(p.radius * small_scale))
    eps = p.tolerance**2
    for _ in range(p.smoothing):
        lab = ops.guided_filter(lab[:, :1], lab, radius, eps)
    lab = lab * torch.tensor([1.0, p.saturation, p.saturation], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    smooth = ops.lab_to_rgb(lab)

    # joint upsampling: the smooth colours as a local linear function of the luma, A * luma + B, with A and B found
    # at the working size and applied to the full-size luma; both rewritten for [-1, 1] (A * luma(x) + A + 2B - 1)
    a, b = ops.guided_filter_coefficients(ops.luma(small), smooth, 1, 1e-4)
    maps = [a, a + 2 * b - 1]
    if p.lines > 0:
        narrow, wide = ops.difference_of_gaussians(ops.luma(smooth), max(p.line_width * small_scale, 0.3))
        maps.append(narrow - wide)
    maps = ops.resize(torch.cat(maps, 1), height, width)
    out = torch.addcmul(maps[:, 3:6], maps[:, 0:3], ops.luma(x))  # the smooth colours at full size, in [-1, 1]
    luma = ops.luma(out).add_(1).mul_(0.5)
    shift = (ops.quantize(luma, p.levels, p.softness) - luma).mul_(2)  # moves the luma onto its quantized value
    if p.lines > 0:
        keep = 1 - p.lines * ops.smooth_ramp((maps[:, 6:7] + p.line_threshold) * (-1 / p.line_softness))
        # (out + shift + 1) * keep - 1: the ink darkens towards black
        out = torch.addcmul(shift.add_(1).mul_(keep).sub_(1), out, keep)
    else:
        out += shift
    return out.clamp_(-1, 1)
