"""`paint`: brush strokes that follow the edges, by the anisotropic Kuwahara filter (Kyprianidis, Kang & Döllner,
"Image and Video Abstraction by Anisotropic Kuwahara Filtering", Pacific Graphics 2009).

The smoothed structure tensor gives each pixel a local orientation and an anisotropy A in [0, 1]. Around each
pixel an ellipse is laid along the orientation (semi-axes r (alpha + A) / alpha along the edge and
r alpha / (alpha + A) across it) and cut into 8 sectors. Each sector's mean colour and variance are taken from
samples on rings of the ellipse (smoothly overlapping sectors, Gaussian fall-off with the radius); the output
weights the sector means by (sigma²_min / sigma²)^(q/2) (Papari et al.'s relative weights, with a small floor
on the variance, rather than Kyprianidis' absolute 1 / (1 + (255 sigma²)^(q/2)), so that low-contrast areas get
strokes too), and the flattest sector, the one not crossing an edge, wins. Flat areas become strokes along the structure; edges stay sharp. The result of a frame depends on that frame
only and varies smoothly with it (no random strokes), so it is temporally coherent by construction.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from vidtoon.filters import ops
from vidtoon.filters.param_sets import PaintParams
from vidtoon.filters.registry import procedural

SECTORS = 8
BAND_PIXELS = 16384  # CPU: pixels per band of rows, so that the per-band work stays in the cache
FLOOR = 1e-4  # added to every sector variance (summed over RGB in [0, 1]): below it sectors count as equally flat
DIRECTIONS = 2 * SECTORS  # one sample per sector centre and one on each sector boundary (shared half-half)


def _sector_matrix(device: torch.device, dtype: torch.dtype) -> Tensor:
    """8×16: how much each of the 16 sample directions counts in each sector (its centre 1, its two boundaries ½)."""
    mix = torch.zeros(SECTORS, DIRECTIONS, dtype=dtype)
    for i in range(SECTORS):
        mix[i, 2 * i] = 1.0
        mix[i, (2 * i + 1) % DIRECTIONS] = 0.5
        mix[i, (2 * i - 1) % DIRECTIONS] = 0.5
    return mix.to(device)


def anisotropic_kuwahara(
    rgb: Tensor, radius: float, *, anisotropy: float = 1.0, sharpness: int = 4, rings: int = 3, tensor_sigma: float = 2.0
) -> Tensor:
    """Anisotropic Kuwahara filter of N×3×H×W `rgb` in [0, 1] -> N×3×H×W in [0, 1]; `radius`, `tensor_sigma` in pixels.

    On the CPU the rows are filtered in bands of about 16k pixels, so each band's sector sums stay in the cache.
    """
    h, w = rgb.shape[-2:]
    tx, ty, aniso = ops.orientation(ops.structure_tensor(rgb, tensor_sigma))
    along = radius * (anisotropy + aniso) / anisotropy
    across = radius * anisotropy / (anisotropy + aniso)
    # pixel offset of the ellipse point (cos t, sin t) * rho: rho (cos t * along * tangent + sin t * across * normal),
    # in grid_sample's normalised units (align_corners=False: one pixel is 2 / size)
    axes = torch.cat((along * tx * (2 / w), along * ty * (2 / h), -across * ty * (2 / w), across * tx * (2 / h)), 1)
    image = rgb.contiguous(memory_format=torch.channels_last)  # grid_sample reads all channels of a pixel together
    band = h if rgb.device.type != "cpu" else max(1, BAND_PIXELS // w)
    rows = [
        _filter_rows(image, rgb[:, :, top : top + band], axes[:, :, top : top + band], top, rings, sharpness)
        for top in range(0, h, band)
    ]
    return torch.cat(rows, 2)


def _filter_rows(image: Tensor, centre: Tensor, axes: Tensor, top: int, rings: int, sharpness: int) -> Tensor:
    """The filter for rows top .. top + b of `image` (N×3×H×W): `centre` N×3×b×W their colours, `axes` N×4×b×W the
    ellipse axes (along x, along y, across x, across y) in normalised units -> N×3×b×W."""
    n, c, h, w = image.shape
    b = centre.shape[2]
    device, dtype = image.device, image.dtype
    ys = (torch.arange(top, top + b, device=device, dtype=dtype) * 2 + 1) / h - 1
    xs = (torch.arange(w, device=device, dtype=dtype) * 2 + 1) / w - 1
    base = torch.stack(torch.broadcast_tensors(xs.view(1, w), ys.view(b, 1)), -1).view(1, 1, b, w, 2)
    angles = torch.arange(DIRECTIONS // 2, device=device, dtype=dtype) * (2 * math.pi / DIRECTIONS)
    along = axes[:, 0:2].permute(0, 2, 3, 1).unsqueeze(1)  # N×1×b×W×2
    across = axes[:, 2:4].permute(0, 2, 3, 1).unsqueeze(1)
    half = torch.addcmul(angles.cos().view(1, -1, 1, 1, 1) * along, angles.sin().view(1, -1, 1, 1, 1), across)
    offsets = torch.cat((half, -half), 1)  # N×16×b×W×2: the direction t + pi is the opposite point
    mix = _sector_matrix(device, dtype)
    sums = torch.zeros(n * c, SECTORS, b * w, device=device, dtype=dtype)
    squares = torch.zeros(n, SECTORS, b * w, device=device, dtype=dtype)  # of |colour|², summed over the channels
    total_weight = 1.0
    for k in range(1, rings + 1):
        rho = k / rings
        weight = math.exp(-2 * rho * rho)  # Gaussian fall-off: sigma = half the radius
        grid = torch.add(base, offsets, alpha=rho).view(n, DIRECTIONS * b, w, 2)
        ring = F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)
        ring = ring.reshape(n * c, DIRECTIONS, b * w)
        sums.baddbmm_(mix.expand(n * c, SECTORS, DIRECTIONS), ring, alpha=weight)
        ring = (ring * ring).view(n, c, DIRECTIONS, b * w).sum(1)
        squares.baddbmm_(mix.expand(n, SECTORS, DIRECTIONS), ring, alpha=weight)
        total_weight += 2 * weight
    flat = centre.reshape(n, c, 1, b * w)
    mean = sums.view(n, c, SECTORS, b * w).add_(flat).mul_(1 / total_weight)
    square = squares.add_((flat * flat).sum(1)).mul_(1 / total_weight).unsqueeze(1)  # N×1×8×bW
    variance = (square - (mean * mean).sum(1, keepdim=True)).clamp_min_(0).add_(FLOOR)  # N×1×8×bW
    ratio = variance.amin(2, keepdim=True) / variance  # in (0, 1]: 1 for the flattest sector
    alpha = ratio
    for _ in range(sharpness - 1):
        alpha = alpha * ratio
    return ((alpha * mean).sum(2) / alpha.sum(2)).view(n, c, b, w)


@procedural("paint", PaintParams, description="painterly brush strokes along edges (anisotropic Kuwahara, 2009)")
def paint(x: Tensor, params: PaintParams | None = None) -> Tensor:
    """Painterly N×3×H×W `x` in [-1, 1] (any device, float32) -> N×3×H×W in [-1, 1]."""
    p = params or PaintParams()
    x = x.contiguous()  # restyle hands channels-last frames: the plane-by-plane blurs want planes (toon 1.5× faster)
    height, width = x.shape[-2:]
    h, w = ops.work_size(height, width, p.work_height)
    scale = p.scale(height) * h / height
    small = ops.to_unit(ops.resize(x, h, w))
    out = anisotropic_kuwahara(
        small,
        p.radius * scale,
        anisotropy=p.anisotropy,
        sharpness=p.sharpness,
        rings=p.rings,
        tensor_sigma=p.tensor_sigma * scale,
    )
    if p.saturation != 1:
        grey = ops.luma(out)
        out = grey + p.saturation * (out - grey)
    return ops.from_unit(ops.resize(out, height, width))
