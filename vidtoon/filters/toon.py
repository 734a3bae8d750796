"""`toon`: a 2-D cel look after Winnemöller, Olsen & Gooch, "Real-Time Video Abstraction" (SIGGRAPH 2006).

Steps: iterated edge-preserving smoothing (a self-guided filter on every CIE Lab channel) at a reduced working
height; the smoothed colours brought back to full size by joint guided upsampling steered by the full-size luma
(He & Sun's fast guided filter, so edges stay as sharp as in the input); a mild chroma boost; soft luminance
quantization (smoothed steps that do not pop); and dark ink lines where a difference of Gaussians of the
smoothed luminance is strongly negative (the dark side of an edge). Flat regions give a DoG of zero whatever
their brightness, so dark areas are never inked; low-contrast texture stays below the line threshold.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vidtoon.filters import cpu, ops
from vidtoon.filters.cv_resize import area_downscale
from vidtoon.filters.param_sets import ToonParams
from vidtoon.filters.registry import procedural

BAND_PIXELS = 131072  # CPU: pixels per band of rows in the full-size part (its passes stay in the cache)


@procedural("toon", ToonParams, description="cel shading: flat colour steps and clean ink outlines (Winnemöller 2006)")
def toon(x: Tensor, params: ToonParams | None = None) -> Tensor:
    """Cartoon cel look of N×3×H×W `x` in [-1, 1] (any device, float32) -> N×3×H×W in [-1, 1]."""
    p = params or ToonParams()
    height, width = x.shape[-2:]
    h, w = ops.work_size(height, width, p.work_height)
    small_scale = p.scale(height) * h / height  # radii at the reference height -> pixels at the working size
    fast = cpu.usable(x)  # float32 on the CPU, no gradient: OpenCV's kernels, straight from channels-last frames
    if fast:  # the working-size frame in 8 bits (exact for decoded frames; see `cpu.frames_u8`), Lab by OpenCV
        small_u8 = cpu.frames_u8(x, h, w)
        lab = cpu.rgb_to_lab(small_u8)
    else:  # the same area-averaged shrink (`cv2.INTER_AREA`) in torch
        x = x.contiguous()  # the plane-by-plane blurs want planes
        small = ops.to_unit(area_downscale(x, (h, w)) if (h, w) != (height, width) else x)
        lab = ops.rgb_to_lab(small)
    radius = max(1, round(p.radius * small_scale))
    eps = p.tolerance**2
    for _ in range(p.smoothing):
        lab = ops.guided_filter(lab[:, :1], lab, radius, eps)
    if fast:  # a new tensor from the filter: the chroma gain in place
        lab[:, 1:].mul_(p.saturation)
    else:
        lab = lab * torch.tensor([1.0, p.saturation, p.saturation], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    smooth = ops.lab_to_rgb(lab)

    # joint upsampling: the smooth colours as a local linear function of the luma, A * luma + B, with A and B found
    # at the working size and applied to the full-size luma; both rewritten for [-1, 1] (A * luma(x) + A + 2B - 1)
    if (h, w) == (height, width):  # no enlargement to steer: the smooth colours themselves (A = 0, B = smooth)
        maps = [torch.zeros_like(smooth), ops.from_unit(smooth)]
    else:
        guide = cpu.luma_of_u8(small_u8) if fast else ops.luma(small)
        a, b = ops.guided_filter_coefficients(guide, smooth, 1, 1e-4)
        maps = [a, a + 2 * b - 1]
    if p.lines > 0:
        narrow, wide = ops.difference_of_gaussians(ops.luma(smooth), max(p.line_width * small_scale, 0.3))
        maps.append(narrow - wide)
    maps = ops.resize(torch.cat(maps, 1), height, width)
    if not fast:  # GPU, or a gradient to record: one band
        return _finish(_luma(x), maps, p)
    full_luma = cpu.luma(x)  # the full-size frame is read once, here: one OpenCV pass over its interleaved pixels
    out = torch.empty(x.shape[0], 3, height, width, dtype=x.dtype)
    band = max(1, BAND_PIXELS // width)
    for top in range(0, height, band):  # rows in bands: each band's dozen element-wise passes stay in the cache
        _finish(full_luma[:, :, top : top + band], maps[:, :, top : top + band], p, out=out[:, :, top : top + band])
    return out


def _luma(img: Tensor, scale: float = 1.0, offset: float = 0.0) -> Tensor:
    """scale · luma(img) + offset for N×3×h×W `img`: N×1×h×W (three passes over planes, cheaper than a 1×1 conv)."""
    out = torch.mul(img[:, 0:1], ops.LUMA[0] * scale).add_(img[:, 1:2], alpha=ops.LUMA[1] * scale)
    out.add_(img[:, 2:3], alpha=ops.LUMA[2] * scale)
    return out.add_(offset) if offset else out


def _finish(luma: Tensor, maps: Tensor, p: ToonParams, out: Tensor | None = None) -> Tensor:
    """The full-size part of `toon` for rows of N×1×h×W `luma` (of the frame `x` in [-1, 1]) and their N×7×h×W
    enlarged maps (A, A + 2B - 1, DoG): the smooth colours A · luma + (A + 2B - 1), their luma moved onto its quantized
    level, the ink; written into `out` (N×3×h×W) when given (no gradient is recorded then).

    The quantization is `ops.quantize` written out for the luma's position in its step (the same values to float
    rounding), the ink `1 - lines · smooth_ramp(-(DoG + threshold) / line_softness)`; both fused into few passes.
    """
    levels = p.levels
    colours = torch.addcmul(maps[:, 3:6], maps[:, 0:3], luma)  # the smooth colours at full size, in [-1, 1]
    frac = _luma(colours, levels / 2, levels / 2)  # luma in [0, 1] times levels
    frac = frac.sub_(torch.round(frac))  # the position within the nearest step, in [-0.5, 0.5]
    t = torch.mul(frac, (1 / levels) / max(p.softness * 0.5 / levels, 1e-6)).clamp_(-1, 1)
    soft = t.mul(t).mul_(-0.5).add_(1.5).mul_(t)  # ops.soft_sign(t)
    shift = soft.sub_(frac, alpha=2).mul_(1 / levels)  # quantized luma - luma, in [-1, 1] units
    if p.lines <= 0:
        return torch.add(colours, shift, out=out).clamp_(-1, 1) if out is not None else colours.add_(shift).clamp_(-1, 1)
    ramp = torch.mul(maps[:, 6:7], -1 / p.line_softness).sub_(p.line_threshold / p.line_softness).clamp_(0, 1)
    keep = torch.mul(ramp, 2 * p.lines).sub_(3 * p.lines).mul_(ramp).mul_(ramp).add_(1)  # 1 - lines · smooth_ramp
    # (colours + shift + 1) · keep - 1: the ink darkens towards black
    ink = shift.add_(1).mul_(keep).sub_(1)
    return (torch.addcmul(ink, colours, keep, out=out) if out is not None else torch.addcmul(ink, colours, keep)).clamp_(-1, 1)
