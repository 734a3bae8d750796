"""Losses of the trainers: pure functions on tensors (computed in float32 whatever the autocast)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lsgan_loss(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017): mean (D(x) - 1)² for real targets, mean D(x)² for fake.

    scores: N×1×h×w raw discriminator outputs -> scalar.
    """
    scores = scores.float()
    return F.mse_loss(scores, torch.ones_like(scores) if real else torch.zeros_like(scores))


def l1_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of two N×C×H×W tensors -> scalar."""
    return F.l1_loss(x.float(), y.float())


def fine_detail(x: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """x minus its Gaussian blur (σ `sigma` px, reflected borders): the fine detail, texture and the crisp side of edges.

    N×C×H×W -> N×C×H×W float32.
    """
    x = x.float()
    radius = max(1, round(3 * sigma))
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype) / sigma) ** 2)
    taps = taps / taps.sum()
    channels = x.shape[1]
    blurred = F.pad(x, (radius,) * 4, mode="reflect")
    blurred = F.conv2d(blurred, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    blurred = F.conv2d(blurred, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
    return x - blurred


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of vertical and horizontal neighbours (anisotropic TV). N×C×H×W -> scalar."""
    x = x.float()
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def linear_decay(step: int, *, steps: int, decay_start: float) -> float:
    """Learning-rate factor: 1 until `decay_start` × steps, then linearly down to 0 at `steps` (CycleGAN's schedule)."""
    start = int(steps * decay_start)
    if step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1, steps - start))
