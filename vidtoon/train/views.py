"""Representations computed by code, the losses of the one-way cartoon trainer (after White-box Cartoonization,
Wang & Yu, CVPR 2020), with no pretrained network:

- `anchor`: an edge-preserving abstraction of the input photo (self-guided filter): the content and structure
  target, in place of a VGG content loss;
- `surface_view`: the colour surface (guided-filtered: smooth shading, flat regions) a discriminator judges;
- `texture_view`: a grey view with a random channel mix (so the discriminator judges texture and edges, not hue);
- `colour_moments`: per-image spread of lightness and chroma, matched to the style domain's (saturation and
  contrast come from the films; the mean hue stays the input's, so no cast is learnt).

All are pure functions on N×C×H×W tensors; images are in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vidtoon.train.quality import rgb_to_lab


def box_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2r+1)² window around each pixel, borders reflected: N×C×H×W -> N×C×H×W."""
    if radius < 1:
        return x
    padded = F.pad(x, (radius, radius, radius, radius), mode="reflect" if min(x.shape[-2:]) > radius else "replicate")
    return F.avg_pool2d(padded, 2 * radius + 1, stride=1)


def guided_filter(x: torch.Tensor, guide: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He et al.'s guided filter, a grey-per-channel guide (each channel of `guide` guides the same channel of `x`).

    x, guide: N×C×H×W (same shape) -> N×C×H×W. Larger `eps` smooths across stronger edges; `radius` in pixels.
    With guide = x it is an edge-preserving smoothing.
    """
    x, guide = x.float(), guide.float()
    mean_g, mean_x = box_filter(guide, radius), box_filter(x, radius)
    cov = box_filter(guide * x, radius) - mean_g * mean_x
    var = box_filter(guide * guide, radius) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_x - a * mean_g
    return box_filter(a, radius) * guide + box_filter(b, radius)


def anchor(x: torch.Tensor, *, radius: int = 2, eps: float = 0.01, passes: int = 1) -> torch.Tensor:
    """Content/structure target: the input with fine texture smoothed and edges kept, `passes` self-guided filters
    in a row. N×3×H×W -> N×3×H×W in [-1, 1]."""
    for _ in range(passes):
        x = guided_filter(x, x, radius, eps).clamp(-1, 1)
    return x


def surface_view(x: torch.Tensor, *, radius: int = 3, eps: float = 0.05) -> torch.Tensor:
    """Smooth colour surface (edge-preserving): what the surface discriminator sees. N×3×H×W -> N×3×H×W."""
    return guided_filter(x, x.detach(), radius, eps)


def texture_view(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Grey with per-image channel weights, repeated to 3 channels: N×3×H×W, weights N×3 -> N×3×H×W.

    Draw the weights with `random_grey_weights` (White-box's random colour shift) for real and fake alike.
    """
    w = weights.to(x.dtype) / weights.sum(1, keepdim=True).to(x.dtype)
    grey = (x * w[:, :, None, None]).sum(1, keepdim=True)
    return grey.expand(-1, 3, -1, -1)


def random_grey_weights(n: int, generator: torch.Generator) -> torch.Tensor:
    """N×3 channel weights around Rec. 601 luma (0.299, 0.587, 0.114), each ±0.1."""
    base = torch.tensor([0.299, 0.587, 0.114])
    return (base + (torch.rand(n, 3, generator=generator) * 0.2 - 0.1)).clamp_min(0.01)


def colour_moments(x: torch.Tensor) -> torch.Tensor:
    """Per image: std of L, std of a, std of b, mean chroma (√(a² + b²)), in Lab units. N×3×H×W -> N×4."""
    lab = rgb_to_lab(x)
    chroma = lab[:, 1:].pow(2).sum(1).add(1e-6).sqrt()
    return torch.cat([lab.flatten(2).std(2), chroma.flatten(1).mean(1, keepdim=True)], 1)
