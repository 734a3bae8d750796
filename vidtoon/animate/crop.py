"""The face box: the pixel rectangle around the landmarks that the landmark method warps and pastes back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned pixel rectangle [x0, x1) × [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def size(self) -> tuple[int, int]:
        return self.x1 - self.x0, self.y1 - self.y0

    @property
    def offset(self) -> np.ndarray:
        return np.array([self.x0, self.y0], np.float64)


def face_box(points: np.ndarray, image_size: tuple[int, int], *, margin: float, square: bool = False) -> Box:
    """The landmarks' bounding box grown by `margin` × its larger side on every side, clipped to the image.

    Args:
        points: (N, 2) pixel landmarks.
        image_size: (width, height).
        margin: growth per side as a fraction of the box's larger side.
        square: make the box square (around the same centre) before clipping.
    """
    width, height = image_size
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = (side if square else x1 - x0) / 2 + margin * side
    half_h = (side if square else y1 - y0) / 2 + margin * side
    box = Box(
        int(max(0, np.floor(cx - half_w))),
        int(max(0, np.floor(cy - half_h))),
        int(min(width, np.ceil(cx + half_w))),
        int(min(height, np.ceil(cy + half_h))),
    )
    return box
