"""Full-reference image quality: PSNR and SSIM as pure functions on batches of RGB images.

Both take two N×3×H×W float tensors with values in [0, `data_range`] (default [0, 1]) and return
one value per image (a tensor of shape N), so a video is scored frame by frame and averaged by
the caller.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_pair(a: torch.Tensor, b: torch.Tensor, name: str) -> None:
    if a.ndim != 4 or a.shape != b.shape:
        raise ValueError(f"{name}: expected two N×C×H×W tensors of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if not (a.is_floating_point() and b.is_floating_point()):
        raise ValueError(f"{name}: expected float tensors (values in [0, data_range]), got {a.dtype} and {b.dtype}")


def psnr(a: torch.Tensor, b: torch.Tensor, *, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, one value per image.

    PSNR = 10·log10(data_range² / MSE), the MSE taken over channels and pixels of each image.
    Identical images give +inf; a constant offset δ on [0, 1] images gives 10·log10(1/δ²).

    Args:
        a, b: N×C×H×W float tensors with values in [0, data_range].
    Returns:
        N float tensor (dtype of the inputs, at least float32).
    """
    _check_pair(a, b, "psnr")
    dtype = torch.promote_types(a.dtype, torch.float32)
    mse = ((a.to(dtype) - b.to(dtype)) ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(data_range**2 / mse)


def gaussian_window(size: int = 11, sigma: float = 1.5, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """The normalised 1-D Gaussian of `size` taps (centred), shape (size,): the separable SSIM window."""
    coords = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    window = torch.exp(-(coords**2) / (2 * sigma**2))
    return (window / window.sum()).to(dtype)


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filtering of each channel: N×C×H×W -> N×C×(H-k+1)×(W-k+1)."""
    channels, size = x.shape[1], window.numel()
    x = F.conv2d(x, window.view(1, 1, 1, size).expand(channels, 1, 1, size), groups=channels)
    return F.conv2d(x, window.view(1, 1, size, 1).expand(channels, 1, size, 1), groups=channels)


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    data_range: float = 1.0,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004), one value per image.

    The standard definition: local means, variances and covariance under an 11-tap Gaussian window
    (sigma 1.5, weights summing to 1, population not sample statistics), C1 = (k1·L)², C2 = (k2·L)²
    with L = `data_range`, the SSIM map over the positions where the window fits inside the image
    ("valid", as the authors' `ssim_index.m`; no border padding, no automatic downsampling),
    averaged over the map of each channel and then over the channels.

    Identical images give 1. Two constant images c and d give (2cd + C1) / (c² + d² + C1).

    Args:
        a, b: N×C×H×W float tensors with values in [0, data_range], H and W at least `window_size`.
    Returns:
        N float tensor (dtype of the inputs, at least float32).
    """
    _check_pair(a, b, "ssim")
    if min(a.shape[-2:]) < window_size:
        raise ValueError(f"ssim: images of {a.shape[-1]}x{a.shape[-2]} are smaller than the {window_size}-pixel window")
    dtype = torch.promote_types(a.dtype, torch.float32)
    window = gaussian_window(window_size, sigma, dtype=dtype, device=a.device)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    # Statistics of the images less their channel means: the same variances and covariance, without the
    # float32 cancellation of E[x²] − E[x]² on bright flat areas (a constant image gets exactly 0).
    offset_a, offset_b = a.to(dtype).mean(dim=(2, 3), keepdim=True), b.to(dtype).mean(dim=(2, 3), keepdim=True)
    a, b = a.to(dtype) - offset_a, b.to(dtype) - offset_b
    mu_a, mu_b = _filter(a, window), _filter(b, window)
    var_a = _filter(a * a, window) - mu_a**2
    var_b = _filter(b * b, window) - mu_b**2
    cov = _filter(a * b, window) - mu_a * mu_b
    mu_a, mu_b = mu_a + offset_a, mu_b + offset_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return ssim_map.mean(dim=(2, 3)).mean(dim=1)
