"""`sketch`: a pencil drawing on paper from the extended difference of Gaussians (XDoG, Winnemöller, Kyprianidis &
Olsen 2012).

On the luma: S = (1 + p) G_sigma - p G_{k sigma} = G_sigma + p (G_sigma - G_{k sigma}); the sharpened S is mapped by a
soft threshold to a tone T (white paper where S is above `threshold`, graphite ramping in below it, over `softness`),
so edges become dark strokes; flat dark areas keep only `shading` of their tone (a light graphite shading, never a
black blotch). The tone mixes paper and graphite colours.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidtoon.filters import ops
from vidtoon.filters.param_sets import SketchParams
from vidtoon.filters.registry import procedural
from vidtoon.filters.sketch_u8 import GRAPHITE, PAPER  # the two colours (sRGB), shared with the uint8 twin


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
