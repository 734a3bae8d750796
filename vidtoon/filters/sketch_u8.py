"""`sketch_u8`: the torch-free twin of `vidtoon.filters.sketch.sketch` on one uint8 frame (numpy and OpenCV only).

The same XDoG with the same parameters, the same maths up to float rounding: the luma in [0, 1] (shrunk to the
working height first when the frame is taller: torch's antialiased bilinear weights, applied to the luma rather than
to the three channels, which is the same sum), the two Gaussians, the soft thresholds, the graphite (enlarged back
bilinearly), then paper and graphite mixed straight into 8 bits (rounded half to even, saturated). The element-wise
part runs in bands of rows that stay in the cache.
"""

from __future__ import annotations

import cv2
import numpy as np

from vidtoon.filters import np_kernels as nk
from vidtoon.filters import np_resize
from vidtoon.filters.frame_twins import check_frame, frame_twin
from vidtoon.filters.param_sets import SketchParams

PAPER = (0.96, 0.94, 0.89)  # warm off-white, sRGB
GRAPHITE = (0.16, 0.17, 0.20)  # blue-grey pencil, sRGB
BAND_PIXELS = 65536  # pixels per band of rows in the element-wise part
# graphite g in [0, 1] -> 8-bit colour: (paper + (graphite - paper) · g) · 255, one row per channel: (slope, offset)
_MIX = np.array([[(lead - paper) * 255, paper * 255] for paper, lead in zip(PAPER, GRAPHITE, strict=True)], np.float32)


@frame_twin("sketch")
def sketch_u8(image_u8: np.ndarray, params: SketchParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Pencil sketch of H×W×3 uint8 RGB `image_u8` -> H×W×3 uint8 RGB (into `out` when given): `sketch` of the frame
    in [-1, 1], converted back to 8 bits, without torch."""
    p = params or SketchParams()
    out = check_frame(image_u8, out)
    height, width = image_u8.shape[:2]
    h, w = nk.work_size(height, width, p.work_height)
    y = nk.luma(image_u8, 255)  # luma in [0, 1]
    if (h, w) != (height, width):
        y = np_resize.shrink(y, h, w)
    sigma = max(p.line_width * p.scale(height) * h / height, 0.3)
    narrow, wide = nk.difference_of_gaussians(y, sigma)
    graphite = np.empty_like(narrow)
    rows = max(1, BAND_PIXELS // w)
    for top in range(0, h, rows):
        band = slice(top, top + rows)
        graphite[band] = _graphite(narrow[band], wide[band], p)
    if (h, w) != (height, width):
        graphite = cv2.resize(graphite, (width, height), interpolation=cv2.INTER_LINEAR)
    rows = max(1, BAND_PIXELS // width)
    for top in range(0, height, rows):
        band = slice(top, top + rows)
        colour = cv2.transform(graphite[band][..., None], _MIX)
        cv2.addWeighted(colour, 1.0, colour, 0.0, 0.0, dst=out[band], dtype=cv2.CV_8U)
    return out


def _graphite(narrow: np.ndarray, wide: np.ndarray, p: SketchParams) -> np.ndarray:
    """The graphite strength in [0, pencil] of rows of the two Gaussians of the luma (`sketch`'s arithmetic)."""
    scale = np.float32(-1 / p.softness)
    sharpened = narrow - wide
    sharpened *= np.float32(p.sharpen)
    sharpened += narrow  # XDoG: darker on the dark side of edges, lighter on the bright
    sharpened -= np.float32(p.threshold)
    sharpened *= scale
    tone = nk.smooth_ramp(sharpened)
    flat = narrow - np.float32(p.threshold)  # the tone the area would have without its edges
    flat *= scale
    flat = nk.smooth_ramp(flat)
    flat *= np.float32(1 - p.shading)
    tone -= flat  # flat dark areas only get `shading`
    np.clip(tone, 0, 1, out=tone)
    tone *= np.float32(p.pencil)
    return tone
