"""`FaceRestyler`: only the faces restyled, each face a smoothed track with its own temporal stage."""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtoon.errors import InputError, UsageError
from vidtoon.faces import BoxTrack, crop_inside, cut, detect_faces, face_detector, face_square, match_tracks, paste
from vidtoon.models.translator import Translator
from vidtoon.restyle.frames import FrameRestyler
from vidtoon.temporal import TemporalStage

log = logging.getLogger(__name__)


class _FaceTrack:
    """One face over time: its smoothed box and its own translate + temporal stages."""

    def __init__(self, box: BoxTrack, restyler: FrameRestyler):
        self.box, self.restyler = box, restyler


class FaceRestyler:
    """uint8 RGB frames in and out, only the faces restyled; every pixel outside their feathered discs is the source's.

    Per frame: detect the faces (OpenCV's Haar cascade), follow each as a `BoxTrack` (One-Euro-smoothed square),
    cut its square at `face_size`×`face_size`, translate it with the track's own `FrameRestyler` (so the temporal
    stage sees only that face's crops, flow computed on the input crops), and paste it back with `paste`.
    A detection that continues no track starts a fresh one (fresh temporal state). Only faces detected in a frame
    are painted: a frame with none is passed through unchanged and counted (`frames_without_face`). A track
    missing for up to `hold` frames keeps its state (box filter, temporal stage), so a detector's dropout does
    not restart it; missing longer, it ends.

    Args:
        translator: the model, on its device.
        make_temporal: makes a new temporal stage for each face track.
        face_size: side of the crop the model sees (px). margin: added around the face box, × its size, each side.
        feather: width of the paste-back's soft edge as a fraction of the disc's radius.
        hold: frames a track survives without a detection (not painted meanwhile).
    """

    def __init__(
        self,
        translator: Translator,
        make_temporal: Callable[[], TemporalStage],
        *,
        face_size: int = 256,
        margin: float = 0.4,
        feather: float = 0.3,
        hold: int = 2,
        max_side: int | None = None,
        tile: int = 512,
        overlap: int = 32,
    ):
        if face_size < 32:
            raise UsageError(f"--face-size must be at least 32 px, got {face_size}", hint="256 suits most face models")
        if margin < 0:
            raise UsageError(f"face margin must be 0 or more, got {margin}")
        self.translator = translator
        self.make_temporal = make_temporal
        self.face_size, self.margin, self.feather, self.hold = face_size, margin, feather, hold
        self._restyler_args = {"max_side": max_side, "tile": tile, "overlap": overlap}
        self.detector = face_detector()
        self.tracks: list[_FaceTrack] = []
        self.frames_seen = 0
        self.frames_without_face = 0
        self.faces_translated = 0
        self.tracks_started = 0

    def reset(self) -> None:
        """Forget every track (a seek, a segment start, a new photo)."""
        self.tracks = []

    def finish(self, what: str) -> None:
        """Say how many frames (or images) had no face and were left unchanged."""
        if self.frames_without_face:
            log.warning(
                "%d of %d %s had no face and were left unchanged (--no-faces restyles the whole %s)",
                self.frames_without_face,
                self.frames_seen,
                what,
                "frame" if what == "frames" else "picture",
            )

    def check_still(self, source: Path) -> None:
        """A photo with no face is an error (the whole picture would come out unchanged)."""
        if self.frames_without_face:
            raise InputError(
                "no face found in this image",
                path=source,
                hint="restyle the whole picture with --no-faces, or use one with a clear, frontal face",
            )

    def __call__(
        self, frames_u8: list[np.ndarray], times: list[Fraction] | None = None, guides_u8: list[np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8, times: their times in seconds (None: one photo each, no smoothing).

        `guides_u8` (already translated frames' originals) has no meaning here: faces are found and translated."""
        if guides_u8 is not None:
            raise UsageError("restyling faces needs the original frames, not already translated ones")
        out = []
        for i, rgb in enumerate(frames_u8):
            if times is None:
                self.reset()
            out.append(self._frame(rgb, float(times[i]) if times is not None else 0.0))
        return out

    def _frame(self, rgb: np.ndarray, time: float) -> np.ndarray:
        self.frames_seen += 1
        height, width = rgb.shape[:2]
        squares = [face_square(face, margin=self.margin) for face in detect_faces(rgb, self.detector)]
        matched, new = match_tracks([track.box for track in self.tracks], squares)
        seen = set()
        for i, j in matched:
            self.tracks[i].box.update(squares[j], time)
            seen.add(i)
        for i, track in enumerate(self.tracks):
            if i not in seen:
                track.box.missed += 1
        self.tracks = [track for track in self.tracks if track.box.missed <= self.hold]
        for j in new:
            restyler = FrameRestyler(self.translator, self.make_temporal(), **self._restyler_args)
            self.tracks.append(_FaceTrack(BoxTrack(squares[j], time), restyler))
            self.tracks_started += 1
        visible = [track for track in self.tracks if track.box.missed == 0]
        if not visible:
            self.frames_without_face += 1
            return rgb
        result = rgb
        for track in visible:
            crop = crop_inside(track.box.square, (width, height))
            face = track.restyler([cut(rgb, crop, self.face_size)])[0]
            result = paste(result, face, crop, feather=self.feather)
            self.faces_translated += 1
        return result
