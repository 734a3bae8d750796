"""Faces: detection, a square crop box tracked over time, and feathered paste-back.

Used by `restyle --faces` (translate only the faces, at the model's working size, and leave every
other pixel as it was) and by `animate --method fomm` (its square crops).

Boxes are in pixels of the full image: a face is (x, y, w, h) from the detector; a square is
(cx, cy, side) floats (centre and side, may reach outside the image); a crop is (x0, y0, side)
integers, inside the image.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from vidtoon.errors import UsageError

HAAR = "haarcascade_frontalface_alt2.xml"  # fewer false faces than the default cascade on clothes and props


def face_detector() -> cv2.CascadeClassifier:
    """OpenCV's bundled frontal-face Haar cascade (no download, no network)."""
    detector = cv2.CascadeClassifier(cv2.data.haarcascades + HAAR)
    if detector.empty():
        raise UsageError(
            f"OpenCV's face detector ({HAAR}) is missing from this OpenCV install",
            hint="reinstall opencv-contrib-python-headless",
        )
    return detector


def detect_faces(rgb: np.ndarray, detector: cv2.CascadeClassifier, *, max_side: int = 320) -> list[tuple[int, int, int, int]]:
    """Every frontal face in an H×W×3 uint8 RGB image as (x, y, w, h) pixels, most certain first.

    Detection runs on the image downscaled to `max_side` on its longer side (faces under ~24 px there are missed).
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, max_side / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    faces, _, certainty = detector.detectMultiScale3(
        cv2.equalizeHist(small), scaleFactor=1.1, minNeighbors=5, minSize=(24, 24), outputRejectLevels=True
    )
    if len(faces) == 0:
        return []
    order = np.argsort(-np.ravel(certainty))
    return [tuple(int(round(v / scale)) for v in faces[i]) for i in order]


def detect_face_box(rgb: np.ndarray, detector: cv2.CascadeClassifier) -> tuple[int, int, int, int] | None:
    """The most certain frontal face as (x, y, w, h) in pixels, or None."""
    faces = detect_faces(rgb, detector)
    return faces[0] if faces else None


def square_crop(face: tuple[int, int, int, int], image_size: tuple[int, int], *, zoom: float = 1.9) -> tuple[int, int, int]:
    """A square (x0, y0, side) around a face box, `zoom` × its size, shifted to stay inside the image (FOMM's crop)."""
    x, y, w, h = face
    return crop_inside((x + w / 2, y + h / 2 + 0.05 * h, max(w, h) * zoom), image_size)  # vox crops sit a little low


def face_square(face: tuple[int, int, int, int], *, margin: float) -> np.ndarray:
    """(cx, cy, side) float64 of the square around a face box with `margin` × its size added on every side."""
    x, y, w, h = face
    return np.array([x + w / 2, y + h / 2, max(w, h) * (1 + 2 * margin)], np.float64)


def crop_inside(square, image_size: tuple[int, int]) -> tuple[int, int, int]:
    """The integer crop (x0, y0, side) of a square (cx, cy, side), shrunk to fit and shifted to stay inside the image."""
    width, height = image_size
    cx, cy, side = (float(v) for v in square)
    side = int(max(1, min(round(side), width, height)))
    x0 = int(np.clip(round(cx - side / 2), 0, width - side))
    y0 = int(np.clip(round(cy - side / 2), 0, height - side))
    return x0, y0, side


@functools.lru_cache(maxsize=16)
def disc_mask(side: int, *, feather: float) -> np.ndarray:
    """side×side float32 weights: 1 inside the inscribed disc's inner part, 0 outside the disc (read-only, cached).

    With ρ the distance from the centre over the radius (side / 2, pixel centres), the weight is
    clip((1 − ρ) / feather, 0, 1): 1 up to ρ = 1 − feather, falling linearly to 0 at the disc's edge,
    so the square's corners and border keep the source's pixels.
    """
    if not 0 < feather <= 1:
        raise UsageError(f"face feather must be in (0, 1], got {feather}")
    centre = (side - 1) / 2
    axis = (np.arange(side, dtype=np.float32) - centre) / (side / 2)
    rho = np.sqrt(axis[None, :] ** 2 + axis[:, None] ** 2)
    mask = np.clip((1 - rho) / feather, 0, 1).astype(np.float32)
    mask.flags.writeable = False
    return mask


def cut(rgb: np.ndarray, crop: tuple[int, int, int], size: int) -> np.ndarray:
    """The crop (x0, y0, side) of an H×W×3 uint8 image, resized to size×size×3 uint8."""
    x0, y0, side = crop
    patch = rgb[y0 : y0 + side, x0 : x0 + side]
    if side == size:
        return np.ascontiguousarray(patch)
    return cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)


def paste(rgb: np.ndarray, face_u8: np.ndarray, crop: tuple[int, int, int], *, feather: float = 0.3) -> np.ndarray:
    """Paste a square face image (S×S×3 uint8, any S) back into `rgb` (H×W×3 uint8) at `crop`, feathered.

    Returns a new H×W×3 uint8 image: source · (1 − m) + face · m with m = `disc_mask`, rounded; every pixel
    where m = 0 (outside the crop's inscribed disc) is exactly the source's.
    """
    x0, y0, side = crop
    face = (
        face_u8
        if face_u8.shape[0] == side
        else cv2.resize(face_u8, (side, side), interpolation=cv2.INTER_CUBIC if side > face_u8.shape[0] else cv2.INTER_AREA)
    )
    mask = disc_mask(side, feather=feather)
    out = rgb.copy()
    region = out[y0 : y0 + side, x0 : x0 + side]
    mixed = cv2.blendLinear(np.ascontiguousarray(face), np.ascontiguousarray(region), mask, 1 - mask)  # one rounded pass
    np.copyto(region, mixed, where=(mask > 0)[..., None])  # outside the disc: the source's bytes, by construction
    return out


class OneEuroFilter:
    """The One-Euro filter (Casiez et al., CHI 2012) on arrays of points: steady when still, no lag when moving.

    A first-order low-pass whose cutoff rises with the speed of the signal: slow motion (jitter) is
    smoothed hard, fast motion passes almost unfiltered, so the output does not trail the face.

    Args:
        min_cutoff: cutoff (Hz) when still; lower = steadier.
        beta: how fast the cutoff rises with speed (per unit of the signal's speed); higher = less lag.
        d_cutoff: cutoff (Hz) of the speed estimate.
        scale: the signal's unit (e.g. the face size in pixels): speeds are measured in `scale`s per second,
            so the same settings work for any image size.
    """

    def __init__(self, *, min_cutoff: float = 1.0, beta: float = 20.0, d_cutoff: float = 1.0, scale: float = 1.0):
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0 or scale <= 0:
            raise UsageError("One-Euro filter needs min_cutoff > 0, d_cutoff > 0, beta >= 0 and scale > 0")
        self.min_cutoff, self.beta, self.d_cutoff, self.scale = min_cutoff, beta, d_cutoff, scale
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter the points `x` (any shape, e.g. N×2) observed at time `t` (seconds); returns the same shape."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), float(t)
            return x.copy()
        dt = float(t) - self._t
        dx = (x - self._x) / dt / self.scale
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = float(t)
        return self._x.copy()


class BoxTrack:
    """One face followed over time: its square (cx, cy, side) smoothed with a One-Euro filter.

    A detection belongs to the track when its centre lies within `gate` × the track's side of the
    track's centre and its side is within a factor 1.5; anything else is another face (or a cut) and
    starts a new track, so a jump never drags the smoothed box across the frame.

    Args:
        square: the first detection's (cx, cy, side); time: its time in seconds.
        min_cutoff, beta: the One-Euro filter's settings (speeds in face sides per second).
    """

    def __init__(self, square: np.ndarray, time: float, *, min_cutoff: float = 1.0, beta: float = 5.0, gate: float = 0.5):
        self.filter = OneEuroFilter(min_cutoff=min_cutoff, beta=beta, scale=float(square[2]))
        self.gate = gate
        self.square = self.filter(square, time)
        self.missed = 0  # consecutive frames without a matching detection

    def matches(self, square: np.ndarray) -> bool:
        """Whether a detection's square continues this track."""
        distance = float(np.hypot(*(square[:2] - self.square[:2])))
        ratio = float(square[2] / self.square[2])
        return distance <= self.gate * self.square[2] and 1 / 1.5 <= ratio <= 1.5

    def update(self, square: np.ndarray, time: float) -> np.ndarray:
        """Feed the detection at `time`; returns the smoothed (cx, cy, side)."""
        self.square = self.filter(square, time)
        self.missed = 0
        return self.square


def match_tracks(tracks: list[BoxTrack], squares: list[np.ndarray]) -> tuple[list[tuple[int, int]], list[int]]:
    """Greedy nearest matching of detections to tracks: ([(track index, square index)], unmatched square indices)."""
    pairs = sorted(
        (
            (float(np.hypot(*(s[:2] - t.square[:2]))), i, j)
            for i, t in enumerate(tracks)
            for j, s in enumerate(squares)
            if t.matches(s)
        )
    )
    used_tracks, used_squares, matched = set(), set(), []
    for _, i, j in pairs:
        if i not in used_tracks and j not in used_squares:
            used_tracks.add(i)
            used_squares.add(j)
            matched.append((i, j))
    return matched, [j for j in range(len(squares)) if j not in used_squares]
