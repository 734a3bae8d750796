"""Torch-free resizing of H×W×C arrays as `vidtoon.filters.ops.resize` resizes tensors, up to float rounding.

- `shrink`: antialiased bilinear reduction (torch's `interpolate(mode="bilinear", antialias=True,
  align_corners=False)`: a triangle filter as wide as the scale, half-pixel centres, weights normalised per output
  pixel): the same weights, applied as a banded matrix product along y, then along x.
- `enlarge_bands`: bilinear enlargement (half-pixel centres, edges clamped: `cv2.resize`, as `cpu.enlarge`) one band
  of output rows at a time, each band computed from just the source rows it needs, so a caller can consume the
  enlarged rows while they are in the cache. Bands start at multiples of the size ratio's numerator, where the
  enlargement of a slice of rows equals the rows of the whole enlargement.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from fractions import Fraction

import cv2
import numpy as np

_BLOCK = 16  # output rows per matrix product in `shrink`
# matrix products of at most this many multiply-adds (m·n·k): OpenBLAS runs them on the calling thread and they stay in
# the cache. Measured here: one thread up to ~500k; above, two threads, and on a loaded 2-core machine products up to
# 1000× slower (a 720p shrink took 240 ms instead of 8).
_SMALL_PRODUCT = 262144


@functools.cache
def _aa_weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(out_size × in_size float32 weights, first and one-past-last nonzero input index per block of `_BLOCK` outputs)
    of torch's antialiased bilinear reduction from `in_size` to `out_size` samples."""
    scale = in_size / out_size
    support = scale if scale >= 1.0 else 1.0
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((out_size, in_size), np.float64)
    for i in range(out_size):
        centre = scale * (i + 0.5)
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), in_size)
        taps = np.maximum(0.0, 1.0 - np.abs((np.arange(lo, hi) - centre + 0.5) * invscale))
        total = taps.sum()
        weights[i, lo:hi] = taps / total if total else taps
    blocks = range(0, out_size, _BLOCK)
    nonzero = weights != 0
    first = np.array([np.argmax(nonzero[b : b + _BLOCK].any(0)) for b in blocks])
    last = np.array([in_size - np.argmax(nonzero[b : b + _BLOCK].any(0)[::-1]) for b in blocks])
    return weights.astype(np.float32), first, last


def _resample_rows(src: np.ndarray, out_size: int) -> np.ndarray:
    """Antialiased reduction of the rows of 2-D `src` (in_size × K, any real dtype) to out_size × K float32."""
    weights, first, last = _aa_weights(src.shape[0], out_size)
    out = np.empty((out_size, src.shape[1]), np.float32)
    for block, (lo, hi) in enumerate(zip(first, last, strict=True)):
        rows = slice(block * _BLOCK, (block + 1) * _BLOCK)
        step = max(16, _SMALL_PRODUCT // (_BLOCK * (hi - lo)))
        taps, block_src = weights[rows, lo:hi], src[lo:hi].astype(np.float32, copy=False)
        for left in range(0, src.shape[1], step):
            columns = slice(left, left + step)
            np.matmul(taps, block_src[:, columns], out=out[rows, columns])
    return out


def shrink(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Antialiased bilinear reduction of H×W×C (or H×W) `img` (uint8 or float) to height×width, float32, for sizes no
    larger than the input's (`ops.resize` when shrinking)."""
    planar = img.ndim == 2
    img = img[..., None] if planar else img
    h, w, c = img.shape
    out = img.astype(np.float32) if (height, width) == (h, w) else img
    if height != h:
        out = _resample_rows(out.reshape(h, w * c), height).reshape(height, w, c)
    if width != w:  # along x: the columns as rows of the transposed image
        columns = np.ascontiguousarray(out.transpose(1, 0, 2)).reshape(w, height * c)
        out = np.ascontiguousarray(_resample_rows(columns, width).reshape(width, height, c).transpose(1, 0, 2))
    return out[..., 0] if planar else out


def band_rows(small_height: int, height: int, band_pixels: int, width: int) -> int:
    """Rows per band of an enlargement from `small_height` to `height` rows: about `band_pixels` / `width`, a multiple
    of the ratio's numerator (where a band's enlargement is exact); the whole height when that numerator is large."""
    step = Fraction(height, small_height).numerator
    wanted = max(1, band_pixels // max(width, 1))
    if step > 4 * wanted:
        return height
    return max(step, wanted // step * step)


def enlarge_bands(small: np.ndarray, height: int, width: int, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """(top, band) for the bands of `rows` output rows (from `band_rows`) of the bilinear enlargement of h×w×C (or h×w)
    float32 `small` to height×width (half-pixel centres, edges clamped: `cv2.resize(small, (width, height))`)."""
    h, w = small.shape[:2]
    ratio = Fraction(height, h)
    p, q = ratio.numerator, ratio.denominator
    fx, fy = width / w, height / h
    if rows >= height:
        yield 0, cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        return
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        first, last = top * q // p, math.ceil(bottom * q / p)
        # above, a margin of q source rows (p output rows: the band's first row keeps its place in the enlargement);
        # below, the one source row the band's last rows reach
        lo, hi = max(first - q, 0), min(last + 1, h)
        band = cv2.resize(small[lo:hi], None, fx=fx, fy=fy, interpolation=cv2.INTER_LINEAR)
        skip = (first - lo) * p // q
        yield top, band[skip : skip + bottom - top]
