"""`sketch`: a pencil drawing on paper from the extended difference of Gaussians (XDoG, Winnemöller, Kyprianidis &
Olsen 2012).

On the luma: S = (1 + p) G_sigma - p G_{k sigma} = G_sigma + p (G_sigma - G_{k sigma}); the sharpened S is mapped by a
soft threshold to a tone T (white paper where S is above `threshold`, graphite ramping in below it, over `softness`),
so edges become dark strokes; flat dark areas keep only `shading` of their tone (a light graphite shading, never a
black blotch). The tone mixes paper and graphite colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from vidtoon.filters import ops
from vidtoon.filters.params import FilterParams, option
from vidtoon.filters.registry import procedural

PAPER = (0.96, 0.94, 0.89)  # warm off-white, sRGB
GRAPHITE = (0.16, 0.17, 0.20)  # blue-grey pencil, sRGB


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


@procedural("sketch", SketchParams, description="pencil drawing on paper tone (XDoG, Winnemöller 2012)")
def sketch(x: Tensor, params: SketchParams | None = None) -> Tensor:
    """Pencil sketch of N×3×H×W `x` in [-1, 1] (any device, float32) -> N×3×H×W in [-1, 1]."""
    p = params or SketchParams()
    x = x.contiguous()  # restyle hands channels-last frames: the plane-by-plane blurs want planes (toon 1.5× faster)
    height, width = x.shape[-2:]
    h, w = ops.work_size(height, width, p.work_height)
    y = ops.luma(ops.resize(x, h, w)).mul_(0.5).add_(0.5)  # luma in [0, 1]
    sigma = max(p.line_width * p.scale(height) * h / height, 0.3)
    narrow, wide = ops.difference_of_gaussians(y, sigma)
    sharpened = narrow + p.sharpen * (narrow - wide)  # XDoG: darker on the dark side of edges, lighter on the bright
    tone = ops.smooth_ramp(sharpened.sub_(p.threshold).mul_(-1 / p.softness))
    flat = ops.smooth_ramp(narrow.sub(p.threshold).mul_(-1 / p.softness))  # the tone the area would have without its edges
    graphite = (tone - (1 - p.shading) * flat).clamp(0, 1) * p.pencil  # flat dark areas only get `shading`
    graphite = ops.resize(graphite, height, width)
    paper = torch.tensor(PAPER, device=x.device, dtype=x.dtype).view(1, 3, 1, 1) * 2 - 1
    lead = torch.tensor(GRAPHITE, device=x.device, dtype=x.dtype).view(1, 3, 1, 1) * 2 - 1
    return torch.addcmul(paper, lead - paper, graphite)  # a mix of two colours in [-1, 1]: in range
