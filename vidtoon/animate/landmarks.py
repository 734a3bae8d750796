"""Face landmarks: MediaPipe's face mesh (468 points, models inside the wheel) and a lag-free smoother.

MediaPipe is optional (`pip install 'vidtoon[animate]'`); it is imported only when a detector is made,
and a missing or unsuitable install raises a `UsageError` that says what to install.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from vidtoon.errors import UsageError

log = logging.getLogger(__name__)

NUM_LANDMARKS = 468
"""Points of MediaPipe's face mesh without the iris refinement."""
NUM_REFINED = 478
"""Points with `refine_landmarks`: the 468 plus 5 per iris (a centre, then 4 on its rim)."""

# Indices into the 468-point mesh (MediaPipe's canonical face model topology).
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
"""The face outline, in order around the face (a polygon)."""
RIGID = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 234, 454, 127, 356, 10, 109, 338)
"""Points that move with the head but not with expressions (eye corners, nose, temples, forehead): pose is fitted on these."""
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
"""The inner lip contour, in order (a polygon): the mouth opening."""
OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
"""The outer lip contour, in order."""
EYES = (
    33,
    7,
    163,
    144,
    145,
    153,
    154,
    155,
    133,
    173,
    157,
    158,
    159,
    160,
    161,
    246,
    263,
    249,
    390,
    373,
    374,
    380,
    381,
    382,
    362,
    398,
    384,
    385,
    386,
    387,
    388,
    466,
)
"""Both eye contours."""
BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
"""Both eyebrows."""
CONTROL = tuple(
    sorted(
        set(range(0, NUM_LANDMARKS, 5)) | set(FACE_OVAL) | set(RIGID) | set(INNER_LIPS) | set(OUTER_LIPS) | set(EYES) | set(BROWS)
    )
)
"""The landmarks that steer the warp: every fifth point plus every contour that moves with expressions (~190);
all 468 would make the spline slower and no better (neighbours a few pixels apart only add noise)."""
MOUTH_GAP = (13, 14)
"""Upper and lower inner lip at the middle: their distance is how far the mouth is open."""
EYE_GAPS = ((159, 145), (386, 374))
"""Upper and lower eyelid of each eye."""
UPPER_LIDS = ((246, 161, 160, 159, 158, 157, 173), (466, 388, 387, 386, 385, 384, 398))
"""Each eye's upper lid, outer to inner corner (the image's left eye first)."""
LOWER_LIDS = ((7, 163, 144, 145, 153, 154, 155), (249, 390, 373, 374, 380, 381, 382))
"""Each eye's lower lid, point for point below `UPPER_LIDS`."""
EYE_CORNERS = ((33, 133), (263, 362))
"""Each eye's outer and inner corner."""
IRISES = ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477))
"""Each eye's iris with `refine_landmarks`: its centre, then 4 points on its rim (same eye order as `UPPER_LIDS`)."""

_INSTALL_HINT = (
    "install the optional landmark model with: pip install 'vidtoon[animate]' (or use --method fomm --checkpoint FILE)"
)


def load_face_mesh_module():
    """`mediapipe.solutions.face_mesh`, or a UsageError saying what to install.

    Raises:
        UsageError: mediapipe is missing, or a release without the bundled legacy face mesh (> 0.10.21).
    """
    try:
        import mediapipe
    except ImportError as exc:
        raise UsageError(f"the landmark method needs MediaPipe, which is not installed ({exc})", hint=_INSTALL_HINT) from None
    face_mesh = getattr(getattr(mediapipe, "solutions", None), "face_mesh", None)
    if face_mesh is None:
        version = getattr(mediapipe, "__version__", "unknown")
        raise UsageError(
            f"MediaPipe {version} has no bundled face mesh (0.10.21 is the last release that carries it)",
            hint=_INSTALL_HINT,
        )
    return face_mesh


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to ask (not on Linux/macOS): nothing to flush
        pass


@contextmanager
def native_stderr_silenced(settle: float = 0.0) -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to /dev/null for a while.

    MediaPipe's C++ (absl/glog, TF Lite) prints several lines of start-up chatter to stderr that no
    environment variable silences; the CLI promises one clean line per error.
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        time.sleep(settle)  # the graph's threads print just after the call returns
        _flush_c_stdio()  # what C++ buffered goes to /dev/null too, not to the restored stderr
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class FaceMeshDetector:
    """MediaPipe face mesh on RGB frames: 468 landmarks in pixels, or None when no face is seen.

    Args:
        video: track across consecutive frames (faster and steadier); False treats every image alone.
        min_confidence: face detection confidence below which no face is reported.
        refine: MediaPipe's `refine_landmarks`: 478 points, the irises included (`IRISES`).
        depth: also return each point's depth z (MediaPipe's, away from the camera, in the pixel unit of x).
        max_faces: how many faces `faces` looks for (calling the detector returns the first).

    Use as a context manager or call `close()` (it holds a MediaPipe graph).
    """

    def __init__(
        self, *, video: bool = True, min_confidence: float = 0.5, refine: bool = False, depth: bool = False, max_faces: int = 1
    ):
        self.count = NUM_REFINED if refine else NUM_LANDMARKS
        self.depth = depth
        face_mesh = load_face_mesh_module()
        with native_stderr_silenced(settle=0.3):
            self._mesh = face_mesh.FaceMesh(
                static_image_mode=not video,
                max_num_faces=max_faces,
                refine_landmarks=refine,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence,
            )
        self._quiet_calls = 3  # the first frames start the graph's inference threads, which print too

    def __enter__(self) -> FaceMeshDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._mesh.close()

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """Landmarks of the most prominent face in an H×W×3 uint8 RGB image.

        Returns:
            (468, 2) float64 pixel coordinates (x right, y down) ((478, 2) with `refine`; (…, 3) with `depth`, z in
            the pixel unit of x), or None when no face is found.
        """
        faces = self.faces(rgb)
        return faces[0] if faces else None

    def faces(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Landmarks of each face found in an H×W×3 uint8 RGB image (at most `max_faces`, MediaPipe's order), each
        as `__call__` returns them; empty when there is none."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise UsageError(f"landmarks need an H×W×3 uint8 RGB image, got shape {rgb.shape} of {rgb.dtype}")
        if self._quiet_calls:
            self._quiet_calls -= 1
            with native_stderr_silenced():
                result = self._mesh.process(np.ascontiguousarray(rgb))
        else:
            result = self._mesh.process(np.ascontiguousarray(rgb))
        height, width = rgb.shape[:2]
        faces = [face.landmark[: self.count] for face in result.multi_face_landmarks or []]
        if self.depth:
            return [np.array([(p.x * width, p.y * height, p.z * width) for p in face], dtype=np.float64) for face in faces]
        return [np.array([(p.x * width, p.y * height) for p in face], dtype=np.float64) for face in faces]


def detect_landmarks(rgb: np.ndarray, *, refine: bool = False, depth: bool = False) -> np.ndarray | None:
    """Landmarks of one still image ((468, 2) pixels, (478, 2) with `refine`, (…, 3) with `depth`, or None when no
    face): see `FaceMeshDetector`."""
    with FaceMeshDetector(video=False, refine=refine, depth=depth) as detector:
        return detector(rgb)


def detect_faces(rgb: np.ndarray, *, refine: bool = False, depth: bool = False, max_faces: int = 4) -> list[np.ndarray]:
    """Landmarks of each face in one still image (at most `max_faces`; empty when none), each as `detect_landmarks`
    returns them."""
    with FaceMeshDetector(video=False, refine=refine, depth=depth, max_faces=max_faces) as detector:
        return detector.faces(rgb)


def track_landmarks(frames_rgb, *, refine: bool = False, depth: bool = False) -> np.ndarray:
    """Landmarks of every frame of a sequence (an iterable of H×W×3 uint8 RGB images, streamed).

    Returns:
        (T, 468, 2) float64 pixels ((T, 478, ·) with `refine`, (T, ·, 3) with `depth`); rows of NaN where no face was found.
    """
    rows = []
    with FaceMeshDetector(video=True, refine=refine, depth=depth) as detector:
        for rgb in frames_rgb:
            points = detector(rgb)
            rows.append(points if points is not None else np.full((detector.count, 3 if depth else 2), np.nan))
    return np.stack(rows) if rows else np.zeros((0, NUM_REFINED if refine else NUM_LANDMARKS, 3 if depth else 2))
