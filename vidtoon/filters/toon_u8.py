"""`toon_u8`: the torch-free twin of `vidtoon.filters.toon.toon` on one uint8 frame (numpy and OpenCV only).

The same algorithm with the same parameters, the same maths up to float rounding (tests/filters/test_twins.py bounds
the difference on real frames): the frame shrunk to the working height (area averaging, `cv2.INTER_AREA`), CIE
Lab, `smoothing` self-guided passes, the chroma gain, back to sRGB; joint guided upsampling coefficients (A, B)
steered by the luma; the difference of Gaussians of the smooth luma. The full-size part then runs in bands of rows
that stay in the cache: each band's maps are enlarged (exact bilinear, see `np_resize.enlarge_bands`), its luma read
from the frame, and the smooth colours, their quantized luma and the ink are computed in a dozen passes written
straight to uint8 (rounded half to even, saturated: `convert.unit_to_u8_numpy` of the torch result).
"""

from __future__ import annotations

import cv2
import numpy as np

from vidtoon.filters import np_kernels as nk
from vidtoon.filters import np_resize
from vidtoon.filters.frame_twins import check_frame, frame_twin
from vidtoon.filters.param_sets import ToonParams

BAND_PIXELS = 65536  # full-size pixels per band of rows (a band's float32 colour planes fit in a core's L2 cache)
_TO_UNIT_LUMA = np.array([[*(nk.LUMA[0] / np.float32(127.5)), -1.0]], np.float32)  # luma of u8 RGB, in [-1, 1]


@frame_twin("toon")
def toon_u8(image_u8: np.ndarray, params: ToonParams | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Cartoon cel look of H×W×3 uint8 RGB `image_u8` -> H×W×3 uint8 RGB (into `out` when given): `toon` of the frame
    in [-1, 1], converted back to 8 bits, without torch."""
    p = params or ToonParams()
    out = check_frame(image_u8, out)
    height, width = image_u8.shape[:2]
    h, w = nk.work_size(height, width, p.work_height)
    small_scale = p.scale(height) * h / height  # radii at the reference height -> pixels at the working size
    enlarged = (h, w) != (height, width)
    small_u8 = cv2.resize(image_u8, (w, h), interpolation=cv2.INTER_AREA) if enlarged else image_u8  # `cpu.frames_u8`'s
    work = np.empty((_work_planes(h, w), h, w), np.float32)  # the working-size passes' scratch, reused by each
    interleaved = work[9:12].reshape(h, w, 3), work[12:15].reshape(h, w, 3)
    lab = work[:3]
    lab[...] = nk.rgb_to_lab(small_u8, interleaved).transpose(2, 0, 1)
    radius = max(1, round(p.radius * small_scale))
    for _ in range(p.smoothing):
        nk.self_guided_filter(lab, radius, p.tolerance**2, work[3:12])
    lab[1:] *= np.float32(p.saturation)
    smooth = nk.lab_to_rgb(cv2.merge(list(lab), dst=interleaved[0]), dst=interleaved[1])  # h×w×3 in [0, 1]

    # joint upsampling: smooth = A · luma + B at the working size, A and B applied to the full-size luma; written for
    # the frame's luma Y in [-1, 1] and colours + 1: A · Y + (A + 2B) (`toon`'s maps A, A + 2B - 1, plus one)
    if enlarged:
        guide = nk.luma(small_u8, 255, scratch=interleaved[0])
        a, b = nk.guided_coefficients(guide, smooth.transpose(2, 0, 1), 1, 1e-4, work[:9])
        b *= np.float32(2)
        b += a
        maps = [*a, *b]
    else:  # no enlargement to steer: the smooth colours themselves (A = 0)
        maps = [None, None, None, *(nk.planes(smooth) * np.float32(2))]
    if p.lines > 0:
        narrow, wide = nk.difference_of_gaussians(nk.luma(smooth), max(p.line_width * small_scale, 0.3))
        maps.append(narrow - wide)
    rows = np_resize.band_rows(h, height, BAND_PIXELS, width) if enlarged else max(1, BAND_PIXELS // width)
    bands = [_bands(m, height, width, rows, enlarged) if m is not None else None for m in maps]
    for top in range(0, height, rows):
        band = [next(b)[1] if b is not None else None for b in bands]
        bottom = min(top + rows, height)
        _finish(image_u8[top:bottom], band, p, out[top:bottom])
    return out


def _work_planes(h: int, w: int) -> int:
    """Planes of the working-size scratch: 16, or enough for 4 MB when that is less than twice as much (numpy asks the
    kernel for huge pages from 4 MB on: a few page faults instead of one per 4 kB page, which cost more here than the
    passes that touch them)."""
    huge = (1 << 22) // (4 * h * w) + 1
    return huge if 16 < huge <= 32 else 16


def _bands(small: np.ndarray, height: int, width: int, rows: int, enlarged: bool):
    """The bands of `rows` rows of `small` at height×width (enlarged when `enlarged`, else slices of it)."""
    if enlarged:
        yield from np_resize.enlarge_bands(small, height, width, rows)
    else:
        for top in range(0, height, rows):
            yield top, small[top : top + rows]


def _finish(frame_u8: np.ndarray, maps: list, p: ToonParams, out: np.ndarray) -> None:
    """The full-size part of `toon` for rows of the frame (h×W×3 uint8) and their maps, h×W planes: A (R, G, B; None
    when there is no enlargement), A + 2B (R, G, B), and the DoG when there are lines: the smooth colours, their luma
    moved onto its quantized level, the ink, written to `out` (h×W×3 uint8). `toon._finish`'s arithmetic, regrouped:
    out = (colours + 1 + shift) · keep, in 8-bit units."""
    levels = p.levels
    if maps[0] is None:
        colours = maps[3:6]  # colours + 1 (read only)
    else:
        luma = cv2.transform(frame_u8.astype(np.float32), _TO_UNIT_LUMA)
        colours = [cv2.multiply(a, luma) for a in maps[:3]]
        for colour, c in zip(colours, maps[3:6], strict=True):
            colour += c
    # luma(colours) · levels/2 + levels/2 = luma(colours + 1) · levels/2: the luma in [0, 1] times levels
    weights = nk.LUMA[0] * np.float32(levels / 2)
    frac = cv2.addWeighted(colours[0], float(weights[0]), colours[1], float(weights[1]), 0.0)
    frac = cv2.scaleAdd(colours[2], float(weights[2]), frac)
    frac -= np.rint(frac)  # the position within the nearest step, in [-0.5, 0.5]
    t = frac * np.float32((1 / levels) / max(p.softness * 0.5 / levels, 1e-6))
    np.clip(t, -1, 1, out=t)
    soft = cv2.multiply(t, t, scale=-0.5)
    soft += np.float32(1.5)
    soft *= t  # ops.soft_sign(t)
    shift = cv2.addWeighted(soft, 127.5 / levels, frac, -255.0 / levels, 0.0)  # quantized luma - luma, 8-bit units
    if len(maps) > 6:  # the ink: keep = 1 - lines · smooth_ramp(-(DoG + threshold) / softness), here times 127.5
        ramp = cv2.addWeighted(maps[6], -1 / p.line_softness, maps[6], 0.0, -p.line_threshold / p.line_softness)
        np.clip(ramp, 0, 1, out=ramp)
        keep = cv2.addWeighted(ramp, 2 * p.lines, ramp, 0.0, -3 * p.lines)
        keep = cv2.multiply(keep, cv2.multiply(ramp, ramp), scale=127.5)
        keep += np.float32(127.5)
        shift = cv2.multiply(shift, keep, scale=1 / 127.5)
    else:
        keep = np.float32(127.5)
    channels = [cv2.add(colour * keep, shift, dtype=cv2.CV_8U) for colour in colours]  # rounded, saturated
    cv2.merge(channels, dst=out)
