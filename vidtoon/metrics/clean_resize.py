"""clean-fid's "clean" resize: each channel of a uint8 image resized as a float image by PIL's bicubic filter.

clean-fid (Parmar, Zhang & Zhu 2022) showed that FID moves with the resize in front of the network, and that
pytorch-fid's (bilinear, no antialiasing: a shrink skips pixels) aliases. Its "clean" mode resizes each channel as
a 32-bit float image with PIL's `Image.resize(..., BICUBIC)`, clips to [0, 255] and keeps the floats (no rounding).
This is that filter, written out in numpy so vidtoon needs no PIL: PIL's separable convolution resampling with the
cubic kernel a = −0.5, its support widened by the shrink factor (antialiasing), each output pixel's weights
normalised to sum 1, the horizontal pass first and each pass stored as float32, as PIL does for mode "F" images.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bicubic_weights", "clean_resize"]

_A = -0.5  # PIL's bicubic


def _cubic(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    near = ((_A + 2) * x - (_A + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * _A
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def bicubic_weights(size_in: int, size_out: int) -> np.ndarray:
    """The size_out × size_in matrix of PIL's bicubic resampling along one axis (rows sum to 1), float64."""
    scale = size_in / size_out
    filter_scale = max(scale, 1.0)
    support = 2.0 * filter_scale
    weights = np.zeros((size_out, size_in))
    for i in range(size_out):
        center = (i + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), size_in)
        taps = _cubic((np.arange(lo, hi) - center + 0.5) / filter_scale)
        total = taps.sum()
        weights[i, lo:hi] = taps / total if total != 0 else taps
    return weights


def clean_resize(frames_u8: np.ndarray, size: int = 299) -> np.ndarray:
    """N×H×W×3 uint8 → N×size×size×3 float32 in [0, 255]: clean-fid's PIL bicubic float resize of every channel."""
    if frames_u8.ndim != 4 or frames_u8.shape[-1] != 3 or frames_u8.dtype != np.uint8:
        raise ValueError(f"clean_resize: expected N×H×W×3 uint8, got {frames_u8.shape} {frames_u8.dtype}")
    height, width = frames_u8.shape[1:3]
    across = bicubic_weights(width, size).astype(np.float64)
    down = bicubic_weights(height, size).astype(np.float64)
    x = frames_u8.astype(np.float64)
    x = np.einsum("nhwc,ow->nhoc", x, across).astype(np.float32)  # PIL: horizontal first, stored as float32
    x = np.einsum("nhwc,oh->nowc", x.astype(np.float64), down).astype(np.float32)
    return np.clip(x, 0, 255)
