"""Look measures of a style checkpoint, computed on held-out frames: colour cast and checkerboard.

- `colour_cast(x_in, x_out)`: how far the output's mean colour moved from the input's, as the length of the
  shift of the mean (a, b) in CIE Lab. A style may change tone and saturation; a shift of the mean hue of a
  whole frame (everything greener, warmer) is a cast. 2.3 Lab units is a just-noticeable difference;
  `CAST_BOUND` (6) is where a viewer comparing side by side calls it a tint.
- `checkerboard(x, stride)`: periodic energy at the upsampler's stride. An upsampler of stride s that
  leaves a pattern repeats it every s pixels, which puts isolated peaks at the frequencies k·H/s (k = 1 .. s-1)
  of the spectrum. The score is the largest ratio of such a peak to the median magnitude of the bins around it
  (a natural image: about 1; `CHECKER_BOUND` (3) and above: a visible grid).

Pure functions on tensors; `x` is N×3×H×W float in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CAST_BOUND = 6.0
CHECKER_BOUND = 3.0

# sRGB (D65) -> XYZ, and the D65 white point
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
_WHITE = torch.tensor([0.950456, 1.0, 1.088754])


def rgb_to_lab(x: torch.Tensor) -> torch.Tensor:
    """sRGB in [-1, 1] -> CIE Lab (L in 0..100, a and b about -128..127). N×3×H×W -> N×3×H×W float32."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected N×3×H×W, got {tuple(x.shape)}")
    rgb = ((x.float() + 1) / 2).clamp(0, 1)
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", _RGB_TO_XYZ.to(x.device), linear) / _WHITE.to(x.device)[None, :, None, None]
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    lightness = 116 * f[:, 1] - 16
    return torch.stack([lightness, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def colour_cast(x_in: torch.Tensor, x_out: torch.Tensor) -> torch.Tensor:
    """Length of the shift of the mean (a, b) in Lab from each input to its output: two N×3×H×W -> N (Lab units).

    The mean is over all pixels of a frame; compare against `CAST_BOUND`.
    """
    if x_in.shape != x_out.shape:
        raise ValueError(f"input and output shapes differ: {tuple(x_in.shape)} vs {tuple(x_out.shape)}")
    shift = rgb_to_lab(x_out)[:, 1:].mean((2, 3)) - rgb_to_lab(x_in)[:, 1:].mean((2, 3))
    return shift.norm(dim=1)


def _spectrum(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """|FFT| of the Hann-windowed, mean-free grey image, cropped to a multiple of `multiple`: N×3×H×W -> N×h×w."""
    grey = (x.float() * torch.tensor([0.299, 0.587, 0.114], device=x.device)[None, :, None, None]).sum(1)
    h, w = grey.shape[-2] // multiple * multiple, grey.shape[-1] // multiple * multiple
    if h == 0 or w == 0:
        raise ValueError(f"image {tuple(x.shape[-2:])} is smaller than {multiple} pixels")
    grey = grey[:, :h, :w]
    grey = grey - grey.mean((1, 2), keepdim=True)
    window = torch.hann_window(h, periodic=True, device=x.device)[:, None] * torch.hann_window(w, periodic=True, device=x.device)[None]
    return torch.fft.fft2(grey * window).abs()


def checkerboard(x: torch.Tensor, stride: int = 2, *, radius: int = 3) -> torch.Tensor:
    """Periodic energy at `stride`: N×3×H×W in [-1, 1] -> N scores (≈1 for natural images; ≥ `CHECKER_BOUND`: a grid).

    For every frequency (k·h/stride, l·w/stride), k, l in 0..stride-1 and not both 0, the magnitude of the
    spectrum there divided by the median magnitude of the (2·radius+1)² bins around it (the peak bin and its
    direct neighbours left out, which the Hann window spreads a peak over); the score is the largest ratio.
    Use the generator's total upsampling factor (4 for two ×2 stages: it covers the stride-2 frequencies too).
    """
    if stride < 2:
        raise ValueError(f"stride must be >= 2, got {stride}")
    magnitude = _spectrum(x, stride * 8)
    n, h, w = magnitude.shape
    offsets = torch.arange(-radius, radius + 1, device=x.device)
    ring = (offsets[:, None].abs() > 1) | (offsets[None, :].abs() > 1)
    scores = torch.zeros(n, device=x.device)
    for k in range(stride):
        for m in range(stride):
            if k == 0 and m == 0:
                continue
            fy, fx = k * h // stride, m * w // stride
            rows = (fy + offsets) % h
            cols = (fx + offsets) % w
            patch = magnitude[:, rows][:, :, cols]
            background = patch[:, ring].median(dim=1).values.clamp_min(1e-6)
            peak = patch[:, radius, radius]
            scores = torch.maximum(scores, peak / background)
    return scores


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad the bottom and right so H and W are multiples of `multiple`. N×C×H×W -> N×C×H'×W'."""
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect") if pad_h or pad_w else x


def look_report(x_in: torch.Tensor, x_out: torch.Tensor, *, stride: int = 4) -> dict[str, float]:
    """Both measures over a held-out batch: mean and worst colour cast, mean and worst checkerboard score."""
    cast = colour_cast(x_in, x_out)
    checker = checkerboard(x_out, stride)
    return {"cast_mean": float(cast.mean()), "cast_max": float(cast.max()),
            "checker_mean": float(checker.mean()), "checker_max": float(checker.max())}
