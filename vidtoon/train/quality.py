"""Look measures of a style checkpoint, computed on held-out frames: colour cast, checkerboard and blotches.

- `colour_cast(x_in, x_out)`: how far the output's mean colour moved from the input's, as the length of the
  shift of the mean (a, b) in CIE Lab. A style may change tone and saturation; a shift of the mean hue of a
  whole frame (everything greener, warmer) is a cast. 2.3 Lab units is a just-noticeable difference;
  `CAST_BOUND` (6) is where a viewer comparing side by side calls it a tint.
- `checkerboard(x, stride)`: periodic energy at the upsampler's stride. An upsampler of stride s that
  leaves a pattern repeats it every s pixels, which puts isolated peaks at the frequencies k·H/s (k = 1 .. s-1)
  of the spectrum. The score is the largest ratio of such a peak to the median magnitude of the bins around it.
  Measured on 80 photos (BSDS500, Kodak, McMaster): median 1.3, 90th percentile 1.7, highest 3.0 (JPEG 8×8
  blocking lands on the same frequencies); a ±1 grey-level checkerboard added to a photo scores 77, ±5 levels 374.
  `CHECKER_BOUND` is 5. (One Sintel frame of the style data scores 31: its source was upscaled.)
- `blotches(x_in, x_out)`: the fraction of pixels that the style made far brighter or more saturated than the
  median change of their neighbourhood (1/8 of the frame wide): the bright, saturated "droplets" a generator with
  instance normalisation learns under an adversary. The guided-filter anchor of 8 held-out photos scores 0.0000,
  the droplet-ridden sheet of /work/runs/pixar-cpu (step 2,000) 0.004-0.025 per frame (mean 0.013); a Gaussian
  blur (σ 2) or `cv2.stylization` of Kodak photos 0.0000-0.0068 (mean 0.002). `BLOTCH_BOUND` is 0.005.

Pure functions on tensors; `x` is N×3×H×W float in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CAST_BOUND = 6.0
CHECKER_BOUND = 5.0
BLOTCH_BOUND = 0.005

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


def target_distance(x_out: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute difference between outputs and their targets, two N×3×H×W in [-1, 1], in grey levels (0-255)."""
    return float((x_out - target).abs().mean()) * 127.5


def _spectrum(x: torch.Tensor, multiple: int, tile: int = 128) -> torch.Tensor:
    """Welch's estimate of the grey image's amplitude spectrum: N×3×H×W -> N×t×t, t = `tile` (or less for small images).

    Hann-windowed, mean-free tiles of t×t pixels overlapping by half, their power spectra averaged: far less
    variance than one periodogram, so a score does not reach the bound by chance on textured images.
    """
    grey = (x.float() * torch.tensor([0.299, 0.587, 0.114], device=x.device)[None, :, None, None]).sum(1)
    t = min(tile, grey.shape[-2], grey.shape[-1]) // multiple * multiple
    if t == 0:
        raise ValueError(f"image {tuple(x.shape[-2:])} is smaller than {multiple} pixels")
    tiles = grey.unfold(1, t, max(1, t // 2)).unfold(2, t, max(1, t // 2)).reshape(grey.shape[0], -1, t, t)
    tiles = tiles - tiles.mean((2, 3), keepdim=True)
    window = torch.hann_window(t, periodic=True, device=x.device)
    power = torch.fft.fft2(tiles * (window[:, None] * window[None])).abs().pow(2).mean(1)
    return power.sqrt()


def checkerboard(x: torch.Tensor, stride: int = 2, *, radius: int = 3) -> torch.Tensor:
    """Periodic energy at `stride`: N×3×H×W in [-1, 1] -> N scores (1–3 for photos; ≥ `CHECKER_BOUND`: a grid).

    For every frequency (k·t/stride, l·t/stride), k, l in 0..stride-1 and not both 0, of the t×t tile spectrum
    (see `_spectrum`), the amplitude there divided by the median magnitude of the (2·radius+1)² bins around it (the peak bin and its
    direct neighbours left out, which the Hann window spreads a peak over); the score is the largest ratio.
    Use the generator's total upsampling factor (4 for two ×2 stages: it covers the stride-2 frequencies too).
    """
    if stride < 2:
        raise ValueError(f"stride must be >= 2, got {stride}")
    magnitude = _spectrum(x, stride * 8)  # t×t bins: the stride's frequencies fall on whole bins
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


def _local_median(x: torch.Tensor, window: int) -> torch.Tensor:
    """Median over the window×window neighbourhood, computed at 1/4 resolution and resized back: N×1×H×W -> N×1×H×W."""
    small = F.avg_pool2d(x, 4, ceil_mode=True) if min(x.shape[-2:]) >= 8 else x
    k = max(3, window // (x.shape[-1] // small.shape[-1]) | 1)
    padded = F.pad(small, (k // 2,) * 4, mode="replicate")
    median = padded.unfold(2, k, 1).unfold(3, k, 1).flatten(-2).median(-1).values
    return F.interpolate(median, size=x.shape[-2:], mode="bilinear", align_corners=False)


def _value_saturation(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """HSV value (max of R, G, B) and saturation ((max - min) / max), both in 0..1: N×3×H×W -> two N×1×H×W."""
    rgb = ((x.float() + 1) / 2).clamp(0, 1)
    value = rgb.amax(1, keepdim=True)
    return value, (value - rgb.amin(1, keepdim=True)) / value.clamp_min(1e-3)


def blotches(x_in: torch.Tensor, x_out: torch.Tensor, *, jump: float = 0.3, window: int = 0) -> torch.Tensor:
    """Fraction of "droplet" pixels of each output: two N×3×H×W in [-1, 1] -> N fractions in [0, 1].

    Per pixel, the change from input to output of HSV value and of saturation; a pixel counts when either change
    exceeds its median over the window×window neighbourhood (default 1/8 of the shorter side, at least 9 px) by more
    than `jump`. A style that brightens or saturates whole regions moves the median with it and scores 0; a spot
    brighter or more saturated than both its input and its surroundings counts.
    """
    if x_in.shape != x_out.shape:
        raise ValueError(f"input and output shapes differ: {tuple(x_in.shape)} vs {tuple(x_out.shape)}")
    window = window or max(9, min(x_in.shape[-2:]) // 8)
    high = torch.zeros_like(x_in[:, :1], dtype=torch.bool)
    for before, after in zip(_value_saturation(x_in), _value_saturation(x_out)):
        change = after - before
        high |= change - _local_median(change, window) > jump
    return high.float().mean((1, 2, 3))


def look_report(x_in: torch.Tensor, x_out: torch.Tensor, *, stride: int = 4) -> dict[str, float]:
    """The measures over a held-out batch: mean and worst colour cast, checkerboard score and blotch fraction."""
    cast = colour_cast(x_in, x_out)
    checker = checkerboard(x_out, stride)
    blotch = blotches(x_in, x_out)
    return {
        "cast_mean": float(cast.mean()),
        "cast_max": float(cast.max()),
        "checker_mean": float(checker.mean()),
        "checker_max": float(checker.max()),
        "blotch_mean": float(blotch.mean()),
        "blotch_max": float(blotch.max()),
    }
