"""Pure tensor operations the procedural styles share: blurs, colour spaces, guided filter, structure tensor.

Conventions: `rgb` is N×3×H×W float in [0, 1] (sRGB, gamma-encoded); `lab` is N×3×H×W CIE L*a*b* (D65) with L in
[0, 100]; `img` is any N×C×H×W float tensor. Every function works on any device, is batched and differentiable
(unless it says otherwise), and keeps its input's dtype and device. Borders are handled by replicating the edge.
On float32 CPU tensors for which no gradient is recorded, the blurs and enlargements run OpenCV's kernels
(`vidtoon.filters.cpu`: the same values to float rounding, several times faster); elsewhere the torch code below.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from vidtoon.filters import cielab, cpu
from vidtoon.filters.np_kernels import work_size  # noqa: F401  (torch-free, shared with the uint8 twins)

_RGB_TO_XYZ, _F_TO_LAB, _LAB_TO_F = cielab.RGB_TO_XYZ, cielab.F_TO_LAB, cielab.LAB_TO_F
_XYZ_TO_RGB = tuple(tuple(row) for row in torch.linalg.inv(torch.tensor(_RGB_TO_XYZ, dtype=torch.float64)).tolist())
LUMA = (0.299, 0.587, 0.114)  # Rec. 601 luma weights of R, G, B
_LAB_EPS, _LAB_KAPPA = cielab.LAB_EPS, cielab.LAB_KAPPA


def to_unit(x: Tensor) -> Tensor:
    """N×3×H×W in [-1, 1] -> [0, 1]."""
    return x * 0.5 + 0.5


def from_unit(rgb: Tensor) -> Tensor:
    """N×3×H×W in [0, 1] -> [-1, 1], clamped."""
    return torch.mul(rgb, 2).sub_(1).clamp_(-1, 1)  # one new tensor, not three


def gaussian_kernel1d(sigma: float, *, device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
    """A normalised 1-D Gaussian of radius ceil(3 sigma) (at least 1 tap each side)."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, device=device, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).to(dtype)


def _shift_sum(img: Tensor, taps: list[float], dim: int, out: Tensor | None = None) -> Tensor:
    """Correlate N×C×H×W `img` with the odd-length 1-D kernel `taps` along `dim` (-1: x, -2: y), edges replicated
    (into `out` when given).

    A sum of shifted slices: on CPUs several times faster than a depthwise convolution for short kernels.
    """
    r = len(taps) // 2
    size = img.shape[dim]
    padded = F.pad(img, (r, r, 0, 0) if dim == -1 else (0, 0, r, r), mode="replicate")
    out = torch.mul(padded.narrow(dim, 0, size), taps[0], out=out)
    for i in range(1, len(taps)):
        out.add_(padded.narrow(dim, i, size), alpha=taps[i])
    return out


def _separable(img: Tensor, taps: list[float], one_pass=None) -> Tensor:
    """Filter every channel of N×C×H×W `img` with `taps` along x, then along y (replicated borders); `one_pass(img, dim,
    out=None)` replaces the shifted sum of `taps` along one axis when given.

    On the CPU the planes are filtered one at a time, so each stays in the cache between the two passes.
    """
    one_pass = one_pass or (lambda plane, dim, out=None: _shift_sum(plane, taps, dim, out=out))
    if img.device.type != "cpu" or img.shape[0] * img.shape[1] == 1 or torch.is_grad_enabled() and img.requires_grad:
        return one_pass(one_pass(img, -1), -2)
    n, c, h, w = img.shape
    planes = img.reshape(n * c, 1, h, w)
    out = torch.empty_like(planes)
    for i in range(n * c):
        one_pass(one_pass(planes[i : i + 1], -1), -2, out=out[i : i + 1])
    return out.reshape(n, c, h, w)


def _box_of_threes(img: Tensor, radius: int, dim: int, out: Tensor | None = None) -> Tensor:
    """Mean over the 2 radius + 1 = 3 m pixels around each pixel along `dim` (edges replicated), as a mean of 3
    neighbours followed by a mean of m samples 3 apart: 3 + m shifted sums instead of 3 m (the same sum of the same
    pixels, up to float rounding)."""
    size = img.shape[dim]
    padded = F.pad(img, (radius, radius, 0, 0) if dim == -1 else (0, 0, radius, radius), mode="replicate")
    inner = padded.shape[dim] - 2
    threes = torch.add(padded.narrow(dim, 0, inner), padded.narrow(dim, 1, inner)).add_(padded.narrow(dim, 2, inner))
    out = torch.mul(threes.narrow(dim, 0, size), 1.0 / (2 * radius + 1), out=out)
    for i in range(1, (2 * radius + 1) // 3):
        out.add_(threes.narrow(dim, 3 * i, size), alpha=1.0 / (2 * radius + 1))
    return out


def gaussian_blur(img: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of N×C×H×W `img` with standard deviation `sigma` pixels (`sigma` <= 0.05: unchanged)."""
    if sigma <= 0.05:
        return img
    taps = gaussian_kernel1d(sigma, dtype=torch.float64).tolist()
    if cpu.usable(img):
        return cpu.separable(img, taps)
    return _separable(img, taps)


def box_blur(img: Tensor, radius: int) -> Tensor:
    """Mean over the (2 radius + 1)² square around each pixel of N×C×H×W `img` (radius 0: unchanged).

    Shifted sums for small radii, running sums (cumsum) along x then y for larger ones.
    """
    if radius <= 0:
        return img
    if cpu.usable(img):
        return cpu.box_blur(img, radius)
    k = 2 * radius + 1
    if k % 3 == 0 and k <= 15:  # 9, 15: a box of 3 then a sparse box
        return _separable(img, [], lambda plane, dim, out=None: _box_of_threes(plane, radius, dim, out=out))
    if k <= 9:
        return _separable(img, [1.0 / k] * k)
    sums = F.pad(img, (radius + 1, radius, 0, 0), mode="replicate").cumsum(-1)
    rows = sums[..., k:] - sums[..., :-k]
    sums = F.pad(rows, (0, 0, radius + 1, radius), mode="replicate").cumsum(-2)
    return (sums[..., k:, :] - sums[..., :-k, :]) * (1.0 / (k * k))


def resize(img: Tensor, height: int, width: int) -> Tensor:
    """Bilinear resize of N×C×H×W `img` to height×width (antialiased when shrinking; same size: unchanged)."""
    if img.shape[-2:] == (height, width):
        return img
    shrink = height < img.shape[-2] or width < img.shape[-1]
    if not shrink and cpu.usable(img):
        return cpu.enlarge(img, height, width)
    if img.device.type == "cpu" and not shrink and img.shape[0] * img.shape[1] > 1:  # plane by plane: cache-friendly
        n, c = img.shape[:2]
        planes = img.reshape(n * c, 1, *img.shape[-2:]).split(1)
        return torch.cat([F.interpolate(p, size=(height, width), mode="bilinear", align_corners=False) for p in planes]).reshape(
            n, c, height, width
        )
    return F.interpolate(img, size=(height, width), mode="bilinear", align_corners=False, antialias=shrink)


def mix_channels(img: Tensor, matrix: tuple[tuple[float, ...], ...] | Tensor, offset: tuple[float, ...] | None = None) -> Tensor:
    """Per-pixel linear map of N×C×H×W `img` by the O×C `matrix` (plus `offset`): N×O×H×W (a 1×1 convolution)."""
    weight = torch.as_tensor(matrix, dtype=img.dtype).to(img.device)
    bias = None if offset is None else torch.as_tensor(offset, dtype=img.dtype).to(img.device)
    return F.conv2d(img, weight.view(*weight.shape, 1, 1), bias)


def luma(rgb: Tensor) -> Tensor:
    """Rec. 601 luma of N×3×H×W `rgb`: N×1×H×W (in [0, 1] for `rgb` in [0, 1], in [-1, 1] for [-1, 1])."""
    if cpu.usable(rgb):
        return cpu.luma(rgb)
    return mix_channels(rgb, (LUMA,))


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """N×3×H×W sRGB in [0, 1] -> CIE L*a*b* (D65): L in [0, 100], a and b roughly in [-110, 110]."""
    rgb = rgb.clamp(0, 1)
    linear = _joined(rgb, 0.04045, lambda v: _power(v.add(0.055).mul_(1 / 1.055), 2.4), 1 / 12.92)
    xyz = mix_channels(linear, _RGB_TO_XYZ)
    f = _joined(xyz, _LAB_EPS, lambda v: _power(v, 1 / 3), _LAB_KAPPA / 116)
    return mix_channels(f, _F_TO_LAB, (-16.0, 0.0, 0.0))


def lab_to_rgb(lab: Tensor) -> Tensor:
    """N×3×H×W CIE L*a*b* (D65) -> sRGB in [0, 1] (out-of-gamut colours clamped)."""
    if cpu.usable(lab):
        return cpu.lab_to_rgb(lab)
    f = mix_channels(lab, _LAB_TO_F, (16 / 116, 16 / 116, 16 / 116))
    xyz = _joined(f, 6 / 29, lambda v: v.mul(v).mul_(v), 116 / _LAB_KAPPA)
    linear = mix_channels(xyz, _XYZ_TO_RGB).clamp(0, 1)
    return _joined(linear, 0.0031308, lambda v: torch.log(v).mul_(1 / 2.4).add_(math.log(1.055)).exp_(), 12.92, -0.055)


def _joined(t: Tensor, knee: float, curve, slope: float, offset: float = 0.0) -> Tensor:
    """`curve(t) + offset` above `knee`, `slope · (t - knee) + curve(knee) + offset` below: the sRGB and Lab
    transfer functions, whose two pieces meet at the knee, evaluated without branches (torch.where on both pieces
    costs twice as much on the CPU); `curve` gets `t` clamped to >= knee (> 0, so fractional powers are safe)."""
    below = t.clamp_max(knee).sub_(knee).mul_(slope)
    below.add_(curve(t.clamp_min(knee)))
    return below.add_(offset) if offset else below


def _power(positive: Tensor, exponent: float) -> Tensor:
    """`positive ** exponent` for a tensor > 0, as exp(exponent · log): on the CPU about twice as fast as pow with a
    fractional exponent (within float32 rounding of it)."""
    return torch.log(positive).mul_(exponent).exp_()


def guided_filter_coefficients(guide: Tensor, src: Tensor, radius: int, eps: float) -> tuple[Tensor, Tensor]:
    """Box-averaged linear coefficients (A, B) of He et al.'s guided filter, so that the output is A * guide + B.

    Args:
        guide: N×C×H×W (or N×1×H×W shared by every channel of `src`).
        src: N×C×H×W, the image to filter.
        radius: box radius in pixels.
        eps: regularisation in the squared units of `guide`; edges whose variance is far above `eps` are kept.
    """
    cg, cs = guide.shape[1], src.shape[1]
    if torch.is_grad_enabled() and (guide.requires_grad or src.requires_grad):
        stats = box_blur(torch.cat((guide, guide * guide, src, guide * src), 1), radius)
        mean_g, sq, mean_s, corr = torch.split(stats, (cg, cg, cs, cs), 1)
        a = (corr - mean_g * mean_s) / (sq - mean_g * mean_g + eps)
        b = mean_s - a * mean_g
        a, b = box_blur(torch.cat((a, b), 1), radius).chunk(2, 1)
        return a, b
    if cg == 1 and cs > 1 and guide.data_ptr() == src.data_ptr() and guide.stride() == src.stride():
        return _self_guided_coefficients(src, radius, eps)
    # the same values with no gradient to record: the four statistics written into one tensor, then worked on in place
    # (about half the passes over memory); B and A end up side by side, blurred as one block
    stats = torch.empty(guide.shape[0], 2 * (cg + cs), *guide.shape[2:], dtype=src.dtype, device=src.device)
    stats[:, :cg] = guide
    torch.mul(guide, guide, out=stats[:, cg : 2 * cg])
    stats[:, 2 * cg : 2 * cg + cs] = src
    torch.mul(guide, src, out=stats[:, 2 * cg + cs :])
    stats = box_blur(stats, radius)
    mean_g, sq, mean_s, corr = torch.split(stats, (cg, cg, cs, cs), 1)
    a = corr.sub_(mean_g * mean_s).div_(sq.addcmul_(mean_g, mean_g, value=-1).add_(eps))
    b = mean_s.addcmul_(a, mean_g, value=-1)
    b, a = box_blur(stats[:, 2 * cg :], radius).split(cs, 1)
    return a, b


def _self_guided_coefficients(src: Tensor, radius: int, eps: float) -> tuple[Tensor, Tensor]:
    """`guided_filter_coefficients(src[:, :1], src, ...)` with no gradient to record: the guide is the first channel,
    so its mean and its square's mean are the first planes of the source's mean and of guide · source, blurred once
    instead of twice (2 C planes of statistics, not 2 C + 2: toon's Lab pass blurs 12 planes instead of 14). The same
    arithmetic, so the same values."""
    cs = src.shape[1]
    stats = torch.empty(src.shape[0], 2 * cs, *src.shape[2:], dtype=src.dtype, device=src.device)
    stats[:, :cs] = src
    torch.mul(src[:, :1], src, out=stats[:, cs:])
    stats = box_blur(stats, radius)
    mean_s, corr = stats.split(cs, 1)
    mean_g = mean_s[:, :1].clone()
    denominator = corr[:, :1].addcmul(mean_g, mean_g, value=-1).add_(eps)  # var(guide) + eps
    a = corr.addcmul_(mean_g, mean_s, value=-1).div_(denominator)
    mean_s.addcmul_(a, mean_g, value=-1)  # B = mean(src) - A · mean(guide)
    b, a = box_blur(stats, radius).split(cs, 1)
    return a, b


def guided_filter(guide: Tensor, src: Tensor, radius: int, eps: float) -> Tensor:
    """Edge-preserving smoothing of N×C×H×W `src` steered by `guide` (He, Sun & Tang 2013); same shape as `src`."""
    a, b = guided_filter_coefficients(guide, src, radius, eps)
    return torch.addcmul(b, a, guide)


def sobel(img: Tensor) -> tuple[Tensor, Tensor]:
    """Sobel derivatives (d/dx, d/dy) of every channel of N×C×H×W `img`, each N×C×H×W, in units per pixel."""
    n, c, h, w = img.shape
    flat = F.pad(img.reshape(n * c, 1, h, w), (1, 1, 1, 1), mode="replicate")
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=img.device, dtype=img.dtype) / 8
    k = torch.stack((kx, kx.T)).unsqueeze(1)
    g = F.conv2d(flat, k).reshape(n, c, 2, h, w)
    return g[:, :, 0], g[:, :, 1]


def structure_tensor(img: Tensor, sigma: float) -> Tensor:
    """Smoothed structure tensor of N×C×H×W `img`, summed over channels: N×3×H×W holding (E, F, G) =
    (gx·gx, gx·gy, gy·gy) blurred by a Gaussian of `sigma` pixels."""
    gx, gy = sobel(img)
    tensor = torch.stack(((gx * gx).sum(1), (gx * gy).sum(1), (gy * gy).sum(1)), 1)
    return gaussian_blur(tensor, sigma)


def orientation(tensor: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Local orientation from an N×3×H×W structure tensor (E, F, G).

    Returns:
        (tx, ty, anisotropy): the unit tangent (the direction along which the image changes least; (1, 0) where
        the tensor is isotropic), each N×1×H×W, and the anisotropy (λ1 - λ2) / (λ1 + λ2) in [0, 1].
    """
    e, f, g = tensor.unbind(1)
    root = torch.sqrt((e - g) ** 2 + 4 * f * f + 1e-20)  # the tiny term keeps the gradient finite where it is 0
    lam1 = 0.5 * (e + g + root)
    lam2 = 0.5 * (e + g - root)
    # the eigenvector of lam2, from whichever row of (T - lam2 I) t = 0 is better conditioned
    ax, ay = lam1 - e, -f
    bx, by = f, lam2 - e
    use_b = bx * bx + by * by > ax * ax + ay * ay
    tx, ty = torch.where(use_b, bx, ax), torch.where(use_b, by, ay)
    norm = torch.sqrt(tx * tx + ty * ty + 1e-30)
    flat = norm < 1e-12
    safe = torch.where(flat, torch.ones_like(norm), norm)
    tx = torch.where(flat, torch.ones_like(tx), tx / safe)
    ty = torch.where(flat, torch.zeros_like(ty), ty / safe)
    total = lam1 + lam2
    anisotropy = torch.where(total > 1e-12, (lam1 - lam2) / total.clamp_min(1e-12), torch.zeros_like(total))
    return tx.unsqueeze(1), ty.unsqueeze(1), anisotropy.clamp(0, 1).unsqueeze(1)


def difference_of_gaussians(img: Tensor, sigma: float, k: float = 1.6) -> tuple[Tensor, Tensor]:
    """(G_sigma * img, G_{k sigma} * img) for N×C×H×W `img`; the wider blur is cascaded from the narrower one."""
    narrow = gaussian_blur(img, sigma)
    wide = gaussian_blur(narrow, sigma * math.sqrt(k * k - 1))
    return narrow, wide


def soft_sign(t: Tensor) -> Tensor:
    """A tanh-like step, cheap on any device: -1 below -1, +1 above 1, the cubic t (3 - t²) / 2 between (C¹ smooth)."""
    t = t.clamp(-1, 1)
    return t * (1.5 - 0.5 * t * t)


def smooth_ramp(t: Tensor) -> Tensor:
    """0 below 0, 1 above 1, the smoothstep 3t² - 2t³ between."""
    t = t.clamp(0, 1)
    return t * t * (3 - 2 * t)


def quantize(values: Tensor, levels: int, softness: float) -> Tensor:
    """Soft quantization of `values` in [0, 1] to `levels` flat steps at the bin centres (k + 1/2) / levels.

    Winnemöller et al.'s tanh-smoothed steps: each bin boundary becomes a smooth ramp `softness` bins wide
    (0: hard steps), so a slow change in the input moves the output smoothly instead of popping.
    """
    step = 1.0 / levels
    boundary = torch.round(values * levels) * step
    half = 0.5 * step
    return boundary + half * soft_sign((values - boundary) / max(softness * half, 1e-6))
