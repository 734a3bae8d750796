"""Eyes: lid openings and gaze measured on landmarks, and the layers that draw them on the source.

Measures are pure numpy functions on (N, 2) landmarks (N = 478, MediaPipe's `refine_landmarks`, for the
gaze; 468 is enough for the lids). Each eye is measured in its own frame: its centre is the midpoint of
its corners, its axis runs from the image's left corner to its right one, and lengths are in eye widths,
so the numbers do not depend on the face's size, position or roll.
"""

from __future__ import annotations

import cv2
import numpy as np

from vidtoon.animate.landmarks import EYE_CORNERS, IRISES, LOWER_LIDS, NUM_REFINED, RIGID, UPPER_LIDS
from vidtoon.animate.motion import fit_similarity


def eye_frame(points: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre (2,), unit axis (2,) pointing to the image's right, width in px) of eye 0 or 1."""
    a, b = (np.asarray(points[i], np.float64) for i in EYE_CORNERS[eye])
    if a[0] > b[0]:
        a, b = b, a
    width = float(np.linalg.norm(b - a))
    return (a + b) / 2, (b - a) / max(width, 1e-9), width


def eye_openings(points: np.ndarray) -> np.ndarray:
    """(2,) each eye's lid gap (the mean of its 3 middle upper/lower pairs) in eye widths: ~0.3 open, ~0 shut."""
    out = np.zeros(2)
    for eye in range(2):
        _, axis, width = eye_frame(points, eye)
        normal = np.array([-axis[1], axis[0]])  # points down the face
        gaps = [(points[lo] - points[up]) @ normal for up, lo in zip(UPPER_LIDS[eye][2:5], LOWER_LIDS[eye][2:5], strict=True)]
        out[eye] = float(np.mean(gaps)) / max(width, 1e-9)
    return out


def gaze(points: np.ndarray) -> np.ndarray:
    """(2, 2): per eye, the iris centre's offset from the eye's centre along its axis (x, right) and across
    it (y, down), in eye widths. NaN without the iris landmarks (fewer than 478 points)."""
    if len(points) < NUM_REFINED:
        return np.full((2, 2), np.nan)
    out = np.zeros((2, 2))
    for eye in range(2):
        centre, axis, width = eye_frame(points, eye)
        normal = np.array([-axis[1], axis[0]])
        offset = np.asarray(points[IRISES[eye][0]], np.float64) - centre
        out[eye] = (offset @ axis / width, offset @ normal / width)
    return out


def lid_ratios(driver: np.ndarray, first: np.ndarray, *, widest: float = 1.25) -> np.ndarray:
    """(2,) each driver eye's opening relative to its first frame: 1 as open as then, 0 shut, capped at `widest`."""
    reference = np.maximum(eye_openings(first), 0.05)  # a driver that starts mid-blink does not divide by ~0
    return np.clip(eye_openings(driver) / reference, 0.0, widest)


OPEN = 0.5
"""Lid ratio (`lid_ratios`) below which an eye's iris landmarks are guesses: its gaze is left out (a wink)."""


def gaze_shift(driver: np.ndarray, first: np.ndarray, *, reach: tuple[float, float] = (0.3, 0.15)) -> np.ndarray:
    """(2,) how far the driver's irises moved since its first frame, in eye widths along (x) and across (y) the
    eye, averaged over the eyes that are open (lid ratio ≥ `OPEN`: the iris of a winking eye is a guess; both
    eyes when both are nearly shut), clipped to ±`reach`; zeros without iris landmarks."""
    if min(len(driver), len(first)) < NUM_REFINED:
        return np.zeros(2)
    shifts = gaze(driver) - gaze(first)
    open_eyes = lid_ratios(driver, first) >= OPEN
    shift = np.mean(shifts[open_eyes] if open_eyes.any() else shifts, axis=0)
    return np.clip(shift, -np.asarray(reach), np.asarray(reach))


def _knots(corners: np.ndarray, lid: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A lid's knots from corner to corner, sorted by x: (x, y, the value at each: `values` on the lid, 0 at the corners)."""
    points = np.r_[corners[:1], lid, corners[1:]]
    values = np.r_[0.0, values, 0.0]
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1], values[order]


def _soft(hard: np.ndarray, sigma: float = 0.7) -> np.ndarray:
    return cv2.GaussianBlur(hard.astype(np.float32), (0, 0), sigma)


LASH_DARKEN = 0.6
"""How much darker a shut eye's lash line (where the lids meet) is drawn: × (1 − `LASH_DARKEN` · (1 − lid ratio)) at
its centre. Without it the Mona Lisa's faint painted lash line, stretched with the lid, read as an eye a quarter open."""
LASH_WIDTH = 0.065
"""The lash line's half-width (a Gaussian's sigma), in eye widths (at least 0.6 px): ~1 px on a 15 px eye."""


class EyeRig:
    """The source's eyes as layers: irises that slide within the eye opening, lids drawn down over the eye.

    Args:
        image: H×W×3 uint8 image the points are in (the face box's patch).
        points: (468, 2) or (478, 2) its landmarks in that image's pixels; with 478 the irises can move.
    """

    def __init__(self, image: np.ndarray, points: np.ndarray):
        self.image = image
        self.points = np.asarray(points, np.float64)
        self.gap = [self.points[list(UPPER_LIDS[e])] - self.points[list(LOWER_LIDS[e])] for e in range(2)]
        self.irises = [self._iris_layer(e) for e in range(2)] if len(points) >= NUM_REFINED else []

    def _iris_layer(self, eye: int) -> dict:
        """The eye's crop, its opening (soft mask), its iris (colours + soft disc) and the crop with the iris
        inpainted away from the eye white."""
        height, width = self.image.shape[:2]
        _, axis, eye_width = eye_frame(self.points, eye)
        ring = self.points[list(IRISES[eye])]
        centre, radius = ring[0], float(np.mean(np.linalg.norm(ring[1:] - ring[0], axis=1)))
        outline = self.points[[EYE_CORNERS[eye][0], *UPPER_LIDS[eye], EYE_CORNERS[eye][1], *LOWER_LIDS[eye][::-1]]]
        pad = 0.35 * eye_width + radius
        x0, y0 = (int(max(0, np.floor(v - pad))) for v in outline.min(0))
        x1, y1 = int(min(width, np.ceil(outline[:, 0].max() + pad))), int(min(height, np.ceil(outline[:, 1].max() + pad)))
        crop = np.ascontiguousarray(self.image[y0:y1, x0:x1])
        opening_hard = np.zeros(crop.shape[:2], np.uint8)
        cv2.fillPoly(opening_hard, [np.round(outline - [x0, y0]).astype(np.int32).reshape(-1, 1, 2)], 1)
        disc_hard = np.zeros_like(opening_hard)
        cv2.circle(disc_hard, tuple(int(round(v)) for v in centre - [x0, y0]), int(round(radius + 1)), 1, -1)
        hole = cv2.dilate(disc_hard & opening_hard, np.ones((3, 3), np.uint8))
        eyeball = cv2.inpaint(crop, hole, max(2.0, radius / 3), cv2.INPAINT_TELEA)
        return {
            "box": (x0, y0, x1, y1),
            "opening": _soft(opening_hard),
            "disc": _soft(disc_hard),
            "iris": crop.astype(np.float32),
            "eyeball": eyeball.astype(np.float32),
            "axis": axis,
            "width": eye_width,
        }

    def look(self, shift: np.ndarray) -> np.ndarray:
        """The image with both irises moved by `shift` ((2,) eye widths along/across each eye), clipped by the
        lids; the image itself (not a copy) when the irises stay put or there are none."""
        if not self.irises or np.abs(shift).max() * min(layer["width"] for layer in self.irises) < 0.25:
            return self.image
        out = self.image.copy()
        for layer in self.irises:
            axis = layer["axis"]
            normal = np.array([-axis[1], axis[0]])
            dx, dy = layer["width"] * (shift[0] * axis + shift[1] * normal)
            move = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
            size = layer["iris"].shape[1::-1]
            iris = cv2.warpAffine(layer["iris"], move, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            alpha = (cv2.warpAffine(layer["disc"], move, size, flags=cv2.INTER_LINEAR) * layer["opening"])[..., None]
            x0, y0, x1, y1 = layer["box"]
            out[y0:y1, x0:x1] = np.clip(alpha * iris + (1 - alpha) * layer["eyeball"] + 0.5, 0, 255).astype(np.uint8)
        return out

    def open_lids(self, driven: np.ndarray) -> np.ndarray:
        """`driven` landmarks with each upper lid put back at the source's own opening, turned and scaled with the
        head: the warp keeps the eye as open as in the source; `close_lids` draws the lid down (a closing eye is
        covered, not squashed) and `raise_lids` up (the few pixels of a wider eye, which the thin-plate warp smeared
        away when the lid landmarks were moved instead)."""
        out = np.array(driven, np.float64)
        head = fit_similarity(self.points[list(RIGID)], out[list(RIGID)]).matrix
        for eye in range(2):
            lower = out[list(LOWER_LIDS[eye])]
            out[list(UPPER_LIDS[eye])] = lower + self.gap[eye] @ head.T
        return out

    def raise_lids(self, warped: np.ndarray, driven: np.ndarray, ratios: np.ndarray) -> np.ndarray:
        """Raise each upper lid to `ratios` (> 1: wider open than the source) of the opening in `driven` (from
        `open_lids`), as a surprised eye does: a vertical 2D warp of each column between the lid skin above (a band as
        tall as the opening, compressed upwards) and the lower lid (the eye's visible inside, iris and white, stretched
        up to the new lash line); continuous, so nothing is pasted. Eyes with a ratio ≤ 1 are left as they are.

        Args:
            warped: H×W×3 uint8 image with the eyes open at `driven`.
            driven: (N, 2) its landmarks.
            ratios: (2,) per eye.

        Returns:
            H×W×3 uint8 (`warped` itself when no eye opens wider).
        """
        if np.all(ratios <= 1.02):
            return warped
        out = warped.copy()
        height, width = warped.shape[:2]
        for eye in range(2):
            if ratios[eye] <= 1.02:
                continue
            upper, lower = driven[list(UPPER_LIDS[eye])], driven[list(LOWER_LIDS[eye])]
            corners = driven[list(EYE_CORNERS[eye])]
            gap = np.maximum(lower[:, 1] - upper[:, 1], 0.0)
            ux, uy, lift = _knots(corners, upper, (ratios[eye] - 1.0) * gap)
            lx, ly, _ = _knots(corners, lower, gap)
            band = float(max(gap.max(), 2.0))
            x0, x1 = int(max(0, np.floor(ux[0]) - 1)), int(min(width, np.ceil(ux[-1]) + 2))
            y0 = int(max(0, np.floor(uy.min() - lift.max() - band) - 1))
            y1 = int(min(height, np.ceil(max(ly.max(), corners[:, 1].max())) + 2))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
            line = np.interp(xs[0], ux, uy).astype(np.float32)[None, :]
            rise = np.interp(xs[0], ux, lift).astype(np.float32)[None, :]
            low = np.maximum(np.interp(xs[0], lx, ly).astype(np.float32)[None, :], line + 0.5)
            top, new = line - band - rise, line - rise
            # [top, new] samples [top, line] (the lid skin squeezed up); [new, low] samples [line, low] (the eye stretched)
            skin = top + (ys - top) * (line - top) / np.maximum(new - top, 1e-3)
            eye_inside = line + (ys - new) * (low - line) / np.maximum(low - new, 1e-3)
            source_y = np.where((ys < top) | (ys > low), ys, np.where(ys < new, skin, eye_inside)).astype(np.float32)
            out[y0:y1, x0:x1] = cv2.remap(warped, xs, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        return out

    def close_lids(self, warped: np.ndarray, driven: np.ndarray, ratios: np.ndarray) -> np.ndarray:
        """Draw each upper lid down to `ratios` (0 shut … 1 open) of the opening in `driven` (from `open_lids`):
        the band of lid skin above the lash line (half the open eye's height) unfolds down over the eye (a
        vertical 2D warp of the lid region whose lower edge is the lash line, anti-aliased), its lash line drawn
        darker the more it shuts (`LASH_DARKEN`); the eye below the new lid line stays as it is, the brow above the
        band does not move.

        Args:
            warped: H×W×3 uint8 image with the eyes open at `driven`.
            driven: (N, 2) its landmarks.
            ratios: (2,) per eye.

        Returns:
            H×W×3 uint8 (`warped` itself when both eyes stay open).
        """
        if np.all(ratios >= 0.98):
            return warped
        out = warped.copy()
        height, width = warped.shape[:2]
        for eye in range(2):
            if ratios[eye] >= 0.98:
                continue
            upper, lower = driven[list(UPPER_LIDS[eye])], driven[list(LOWER_LIDS[eye])]
            corners = driven[list(EYE_CORNERS[eye])]
            knots = np.r_[corners[:1], upper, corners[1:]]
            gap = np.maximum(lower[:, 1] - upper[:, 1], 0.0)
            drop = np.r_[0.0, (1.0 - ratios[eye]) * gap * 1.2, 0.0]  # a shut lid also hides the lower rim
            order = np.argsort(knots[:, 0])
            kx, ky, kd = knots[order, 0], knots[order, 1], drop[order]
            band = float(max(0.5 * gap.max(), 2.0))  # the lid skin's height above the lash line
            x0, x1 = int(max(0, np.floor(kx[0]) - 1)), int(min(width, np.ceil(kx[-1]) + 2))
            y0 = int(max(0, np.floor(ky.min() - band) - 1))
            y1 = int(min(height, np.ceil(max(lower[:, 1].max(), corners[:, 1].max(), (ky + kd).max())) + 2))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
            line = np.interp(xs[0], kx, ky).astype(np.float32)[None, :]
            shift = np.interp(xs[0], kx, kd).astype(np.float32)[None, :]
            # [line − band, line + shift] in the output samples [line − band, line]: the band stretched down.
            top = line - band
            inside = np.clip((ys - top) / (band + shift), 0.0, 1.0)
            source_y = np.where(ys < top, ys, top + inside * band).astype(np.float32)
            lid = cv2.remap(warped, xs, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            cover = np.clip(line + shift - ys + 0.5, 0.0, 1.0)[..., None]  # 1 above the new lid line
            region = warped[y0:y1, x0:x1].astype(np.float32)
            # the lash line where the lids meet, drawn darker the more the eye shuts (half a pixel above the lid's edge)
            sigma = max(0.6, LASH_WIDTH * float(np.linalg.norm(corners[1] - corners[0])))
            lash = np.exp(-0.5 * ((ys - line - shift + 0.5) / sigma) ** 2)[..., None]
            mixed = (cover * lid + (1 - cover) * region) * (1 - LASH_DARKEN * (1 - ratios[eye]) * lash)
            out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        return out
