"""OpenCV's resizes written in torch, on any device, differentiable: `area_downscale` (`cv2.INTER_AREA`: each output
pixel the mean of the input area it covers) and `resize_linear` (`cv2.INTER_LINEAR` with OpenCV's coefficients).

The GPU temporal stage (`temporal.flow_blend_torch`) uses them to match the CPU stage's OpenCV calls, and `toon`'s
tensor path shrinks to its working size with `area_downscale`, as its CPU path and uint8 twin do with
`cv2.resize(INTER_AREA)` (tests/test_temporal_torch.py checks both against OpenCV).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F


def resize_linear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N×C×h×w -> N×C×H×W for size (H, W), bilinear with half-pixel centres, edge pixels repeated, no antialiasing:
    `cv2.resize(INTER_LINEAR)` with OpenCV's coefficients (float32, computed in double), rows first.

    The same sampling as `interpolate(bilinear, align_corners=False)`, which rounds its coefficients differently
    (~1e-6 apart)."""
    height, width = x.shape[-2:]
    if (height, width) == tuple(size):
        return x
    x = _apply_taps(x, *_taps(_linear_taps, width, size[1], x.device), dim=-1)
    return _apply_taps(x, *_taps(_linear_taps, height, size[0], x.device), dim=-2)


def area_downscale(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N×C×H×W -> N×C×h×w for size (h, w) ≤ (H, W): `cv2.resize(INTER_AREA)` (each output pixel the mean of the input
    area it covers, partial pixels weighted by their overlap). Returns a copy even at the same size."""
    height, width = x.shape[-2:]
    if (height, width) == tuple(size):
        return x.clone()
    if height % size[0] == 0 and width % size[1] == 0:  # OpenCV's fast path: plain block means (bit-exact at 2×)
        return F.avg_pool2d(x, (height // size[0], width // size[1]))
    x = _apply_taps(x, *_taps(_area_taps, width, size[1], x.device), dim=-1)  # rows first, as OpenCV does
    return _apply_taps(x, *_taps(_area_taps, height, size[0], x.device), dim=-2)


def area_downscale_levels(levels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N×C×H×W uint8 -> N×C×h×w uint8: `cv2.resize(INTER_AREA)` of a uint8 image, bit-exact. Whole-number factors take
    OpenCV's integer path (the block's sum, rounded half up); others the float means of `area_downscale`, rounded half
    to even as OpenCV casts them."""
    height, width = levels.shape[-2:]
    if (height, width) == tuple(size):
        return levels.clone()
    values = levels.to(torch.float32)
    if height % size[0] == 0 and width % size[1] == 0:
        area = (height // size[0]) * (width // size[1])
        sums = F.avg_pool2d(values, (height // size[0], width // size[1]), divisor_override=1)  # exact: whole numbers
        return torch.div(sums + area // 2, area, rounding_mode="floor").to(torch.uint8)
    return area_downscale(values, size).round_().to(torch.uint8)


def _apply_taps(x: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, dim: int) -> torch.Tensor:
    """Σ_k weight[j, k] · x[..., index[j, k], ...] along `dim`, summed in k order (weights K columns of size out)."""
    shape = [1] * x.ndim
    shape[dim] = -1
    total = None
    for k in range(index.shape[1]):
        term = x.index_select(dim, index[:, k]) * weight[:, k].view(shape)
        total = term if total is None else total + term
    return total


def _area_taps(source: int, target: int) -> list[list[tuple[int, float]]]:
    """OpenCV's INTER_AREA table for one axis (target ≤ source): per target pixel, (source index, weight) pairs.

    A target pixel covers [j·s, (j+1)·s) of the source (s = source / target); whole pixels weigh 1/cell,
    partial ones their overlap / cell (overlaps under 1e-3 px dropped), cell = min(s, source − j·s).
    An upscaling axis (only for extreme aspect ratios) gets linear weights instead (OpenCV differs slightly there).
    """
    if target > source:
        return _linear_taps(source, target)
    scale = 1.0 / (target / source)
    rows = []
    for j in range(target):
        start = j * scale
        end = start + scale
        cell = min(scale, source - start)
        last = min(math.floor(end), source - 1)
        first = min(math.ceil(start), last)
        taps = [(first - 1, (first - start) / cell)] if first - start > 1e-3 else []
        taps += [(i, 1.0 / cell) for i in range(first, last)]
        if end - last > 1e-3:
            taps.append((last, min(end - last, 1.0, cell) / cell))
        rows.append(taps)
    return rows


def _linear_taps(source: int, target: int) -> list[list[tuple[int, float]]]:
    """OpenCV's INTER_LINEAR table for one axis: position (j + 0.5)·s − 0.5 rounded to float32, its two neighbours
    weighted 1 − f and f, clamped to the edge pixel outside."""
    scale = 1.0 / (target / source)
    rows = []
    for j in range(target):
        position = float(np.float32((j + 0.5) * scale - 0.5))
        left = math.floor(position)
        fraction = float(np.float32(position - left))
        if left < 0:
            left, fraction = 0, 0.0
        if left >= source - 1:
            left, fraction = source - 1, 0.0
        rows.append([(left, float(np.float32(1 - fraction))), (min(left + 1, source - 1), fraction)])
    return rows


@functools.lru_cache(maxsize=32)
def _taps_cpu(table, source: int, target: int) -> tuple[torch.Tensor, torch.Tensor]:
    rows = table(source, target)
    width = max(len(taps) for taps in rows)
    index = torch.zeros(target, width, dtype=torch.long)  # zero-weight padding: adds exactly 0
    weight = torch.zeros(target, width, dtype=torch.float32)
    for j, taps in enumerate(rows):
        for k, (i, w) in enumerate(taps):
            index[j, k], weight[j, k] = i, w
    return index, weight


@functools.lru_cache(maxsize=32)
def _taps(table, source: int, target: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(index, weight), target × K each, of `table` on `device` (cached: no upload per batch)."""
    index, weight = _taps_cpu(table, source, target)
    return index.to(device), weight.to(device)
