"""`paint` (anisotropic Kuwahara): flat stays flat, edges stay sharp, oriented texture keeps its orientation."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from filter_helpers import luma_np, shapes_image, to_x

from vidtoon.filters import PaintParams, ops
from vidtoon.filters.paint import paint

INNER = (slice(12, -12), slice(12, -12))


def stripes(size: int = 96, period: float = 8.0, degrees: float = 30.0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy) oblique sine stripes, size×size in [0, 1] (noise: Gaussian, fixed seed)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    a = math.radians(degrees)
    clean = 0.5 + 0.35 * np.sin(2 * math.pi * (xx * math.cos(a) + yy * math.sin(a)) / period)
    noisy = clean + noise * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    return clean, np.clip(noisy, 0, 1)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[INNER] - a[INNER].mean(), b[INNER] - b[INNER].mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def square_kuwahara(rgb: torch.Tensor, radius: int) -> torch.Tensor:
    """The classic Kuwahara filter (four (r+1)² squares, the flattest one's mean): the baseline paint must beat."""
    k, (h, w) = radius + 1, rgb.shape[-2:]
    padded = F.pad(rgb, (radius,) * 4, mode="replicate")
    mean, square = F.avg_pool2d(padded, k, stride=1), F.avg_pool2d(padded * padded, k, stride=1)
    variance = (square - mean * mean).sum(1, keepdim=True)
    corners = [(0, 0), (0, radius), (radius, 0), (radius, radius)]
    means = torch.stack([mean[..., y : y + h, x : x + w] for y, x in corners])
    flattest = torch.stack([variance[..., y : y + h, x : x + w] for y, x in corners]).argmin(0, keepdim=True)
    return means.gather(0, flattest.expand(1, *means.shape[1:]))[0]


def test_flat_image_stays_flat():
    x = torch.full((1, 3, 24, 32), -0.4)
    assert (paint(x) - x).abs().max().item() < 1e-5


def test_noisy_step_keeps_a_sharp_edge_and_loses_its_noise():
    torch.manual_seed(0)
    x = torch.full((1, 3, 48, 64), 0.2)
    x[..., 32:] = 0.8
    noisy = (x + 0.05 * torch.randn(1, 1, 48, 64)).clamp(0, 1)
    out = luma_np(paint(noisy * 2 - 1, PaintParams(reference_height=48, radius=4.0, saturation=1.0)))
    rows = out[8:40]
    assert rows[:, 31].max() < 0.3 and rows[:, 32].min() > 0.7  # the edge stays within one pixel
    assert rows[:, 4:26].std() < 0.6 * luma_np(noisy * 2 - 1)[8:40, 4:26].std()  # the noise is damped (measured: 0.45)


def test_oriented_stripes_stay_stripes_where_square_kuwahara_breaks_them():
    clean, noisy = stripes()
    x = to_x(np.repeat(noisy[..., None], 3, -1))
    out = luma_np(paint(x, PaintParams(reference_height=96, radius=6.0, saturation=1.0)))
    square = ops.luma(square_kuwahara(ops.to_unit(x), 6))[0, 0].numpy()
    assert correlation(out, clean) > 0.9  # measured 0.94 (the noisy input: 0.93)
    assert out[INNER].std() > 0.85 * clean[INNER].std()  # full stripe contrast (Gaussian blur of r/2: 7 %)
    assert correlation(square, clean) < 0.5  # measured -0.14: the square sectors cut across the stripes


def test_batch_equals_single_images():
    a, b = to_x(shapes_image(48)), to_x(shapes_image(48)[::-1].copy())
    both = paint(torch.cat((a, b)))
    assert torch.allclose(both[:1], paint(a), atol=1e-5) and torch.allclose(both[1:], paint(b), atol=1e-5)


def test_scale_invariance_twice_the_size_looks_the_same():
    params = PaintParams(reference_height=96)
    small = luma_np(paint(to_x(shapes_image(96)), params))
    large = luma_np(paint(to_x(shapes_image(192)), params))
    shrunk = cv2.resize(large, small.shape[::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk - small).mean() < 0.02


def test_work_height_shrinks_and_restores_the_size():
    x = to_x(shapes_image(120))
    out = paint(x, PaintParams(work_height=60))
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1


def test_gradient_flows():
    x = to_x(shapes_image(24)).requires_grad_()
    paint(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
