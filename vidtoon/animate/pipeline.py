"""`animate`: a still face driven by a video, streamed frame by frame with the driver's timing and sound."""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from vidtoon.animate.avatar import restyle_still
from vidtoon.animate.crop import Box, face_box
from vidtoon.animate.eyes import EyeRig, gaze_shift, lid_ratios
from vidtoon.animate.inputs import check_driver, default_animate_output, load_source
from vidtoon.animate.landmarks import (
    CONTROL,
    EYES,
    INNER_LIPS,
    MOUTH_GAP,
    NUM_LANDMARKS,
    NUM_REFINED,
    OUTER_LIPS,
    RIGID,
    FaceMeshDetector,
    detect_faces,
)
from vidtoon.animate.motion import face_size, transfer_absolute, transfer_relative
from vidtoon.animate.options import METHODS as ANIMATE_METHODS
from vidtoon.animate.options import TURNS, AnimateOptions, check_turn
from vidtoon.animate.report import check_report_path, write_report
from vidtoon.animate.turn import transfer_turn
from vidtoon.animate.warp import blend, border_ramp, feathered_mask, remap, warp_map
from vidtoon.checks import renamed
from vidtoon.errors import InputError
from vidtoon.faces import OneEuroFilter
from vidtoon.files import check_output
from vidtoon.io.audio import AudioSource
from vidtoon.io.formats import check_encoding, check_quality_flags
from vidtoon.io.reader import VideoReader
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.progress import NoProgress, Progress

log = logging.getLogger(__name__)

METHODS = ANIMATE_METHODS
PRESET = "medium"  # x264's preset of the video when none is given (with CRF 18 unless one is given)


class Animator(Protocol):
    """Turns driver frames into frames of the animated source (one method's state for one run)."""

    faces_found: int
    """Driver frames in which a face was found so far."""

    def __call__(self, driver_rgb: np.ndarray, time: float) -> np.ndarray:
        """The output frame (H×W×3 uint8, the source's size) for one driver frame (any size) at `time` s."""


class LandmarkAnimator:
    """The offline method: MediaPipe landmarks on the driver move the source's, a thin-plate spline warps it.

    Args:
        source_rgb: H×W×3 uint8 source image.
        source_points: (468, 2) its landmarks, or (478, 2) with the irises (`refine`): then the irises follow the
            driver's gaze. The lids follow its blinks either way. (…, 3) with depth (`detect_landmarks(depth=True)`):
            the head turns in 2.5D (see `turns`).
        relative: transfer the driver's motion relative to its first frame (True) or its absolute shape.
        crop: warp only a box around the face (anchored at the box's border); False warps the whole
            image anchored at the image border.
        smooth: One-Euro filter the driver's landmarks (removes jitter without lag).
        eyes: draw the lids over the eyes as the driver blinks, move the irises with its gaze (False: the eyes are
            only warped with the rest of the face, as before the eye layers; benchmarks compare the two).
        turn: head turns (`options.TURNS`; with `relative`). "2.5d": with 3D source points, turn the source's own 3D
            landmarks by the driver's yaw and pitch (`turn.transfer_turn`, limited so the warp does not tear) instead of
            carrying the driver's 2D face shape over ("2d", or 2D points: the in-plane similarity plus the driver's 2D
            deformation, as before); "none": the driver's pose fitted in 3D, only its in-plane part kept (roll, scale,
            shift; no yaw or pitch), expressions carried over as in "2.5d".
    """

    def __init__(
        self,
        source_rgb: np.ndarray,
        source_points: np.ndarray,
        *,
        relative: bool = True,
        crop: bool = True,
        smooth: bool = True,
        eyes: bool = True,
        turn: str = TURNS[0],
    ):
        source_points = np.asarray(source_points, np.float64)
        self.turn = check_turn(turn)
        self.points3 = source_points[:NUM_LANDMARKS] if turn != "2d" and source_points.shape[1] == 3 else None
        if turn == "none" and self.points3 is None:  # only the in-plane turn is applied: depth matters for the fit alone
            self.points3 = np.c_[source_points[:NUM_LANDMARKS, :2], np.zeros(NUM_LANDMARKS)]
        source_points = source_points[:, :2]
        self.source = source_rgb
        self.points = source_points[:NUM_LANDMARKS]
        self.relative = relative
        height, width = source_rgb.shape[:2]
        self.size = face_size(source_points)
        self.box = face_box(source_points, (width, height), margin=0.45) if crop else Box(0, 0, width, height)
        self.patch = np.ascontiguousarray(source_rgb[self.box.y0 : self.box.y1, self.box.x0 : self.box.x1])
        self.control = list(CONTROL)
        # Eyelids and lips make small, precise motions: follow them closely (λ 0.01); everything else is
        # smoothed (λ 0.1) so that crowded, jittery points cannot fold the map.
        precise = set(EYES) | set(INNER_LIPS) | set(OUTER_LIPS)
        self.stiffness = np.array([0.01 if i in precise else 0.1 for i in self.control])
        self.ramp = border_ramp(self.box.size, width=0.1 * self.size)  # the patch melts into the untouched image
        self.mouth_gap = _gap(source_points)
        outer, inner = (
            feathered_mask([source_points[list(ring)] - self.box.offset], self.box.size, grow=0, feather=0) > 0.5
            for ring in (OUTER_LIPS, INNER_LIPS)
        )
        lips = outer & ~inner
        self.mouth_colour = (self.patch[lips].mean(0) * 0.3 if lips.any() else np.array([50.0, 20.0, 20.0])).astype(np.float32)
        self.eyes = EyeRig(self.patch, np.asarray(source_points, np.float64) - self.box.offset) if eyes else None
        refine = eyes and len(source_points) >= NUM_REFINED
        self.detector = FaceMeshDetector(video=True, refine=refine, depth=self.points3 is not None)
        self.smooth = smooth
        self.filter: OneEuroFilter | None = None
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.gaze: np.ndarray | None = None
        self.faces_found = 0

    def close(self) -> None:
        self.detector.close()

    def reset(self) -> None:
        """Forget the driver's past, as for a new driver: its first frame (what `relative` motion is measured from), its
        smoothing, its last pose and gaze. `live` calls it when its input changes size (another camera, another
        framing): landmarks of the new framing measured against the old first frame would move the face by the change of
        framing, and the smoothing would glide from the old framing's points to the new. The next frame with a face is
        the new first (the still as it is); until then the still is shown."""
        self.filter = self.first = self.last = self.gaze = None

    def driver_points(self, driver_rgb: np.ndarray, time: float) -> np.ndarray | None:
        """Smoothed driver landmarks of this frame ((N, 2), or (N, 3) with depth when the source has it); the last
        good ones when no face is seen (None before any)."""
        points = self.detector(driver_rgb)
        if points is None:
            return self.last
        self.faces_found += 1
        if self.smooth:
            if self.filter is None:
                self.filter = OneEuroFilter(min_cutoff=1.0, beta=5.0, scale=face_size(points[:, :2]))
            points = self.filter(points, time)
        if self.first is None:
            self.first = points
        self.last = points
        return points

    def driven_points(self, driver: np.ndarray) -> np.ndarray:
        """Where the source's (468, 2) landmarks go for these driver landmarks ((N, 2) or (N, 3), see `driver_points`)."""
        n = NUM_LANDMARKS
        if self.points3 is not None and self.relative and driver.shape[1] == 3:
            limits = {"max_yaw": 0.0, "max_pitch": 0.0} if self.turn == "none" else {}
            return transfer_turn(self.points3, self.first[:n], driver[:n], rigid=np.array(RIGID), **limits)
        transfer = transfer_relative if self.relative else transfer_absolute
        return transfer(self.points, self.first[:n, :2], driver[:n, :2], rigid=np.array(RIGID))

    def eye_motion(self, driver: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lid ratios (2,), gaze shift (2,)) of these driver landmarks (see `eyes.lid_ratios`, `eyes.gaze_shift`);
        the gaze holds still while the eyes are nearly shut (the iris landmarks are guesses then)."""
        if self.eyes is None:
            return np.ones(2), np.zeros(2)
        driver, first = driver[:, :2], self.first[:, :2]
        ratios = lid_ratios(driver, first)
        if ratios.mean() >= 0.35 or self.gaze is None:
            self.gaze = gaze_shift(driver, first)
        return ratios, self.gaze

    def render(self, driven: np.ndarray, eyes: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """The source with its landmarks moved to `driven` ((468, 2) pixels) and its eyes set to `eyes`
        ((lid ratios, gaze shift), as `eye_motion` gives; None: open, looking ahead): H×W×3 uint8."""
        ratios, look = eyes if eyes is not None else (np.ones(2), np.zeros(2))
        mapping, moved = self.warp(driven)
        if self.eyes is None:
            warped = remap(self.patch, mapping)
        else:
            warped = self.eyes.raise_lids(
                self.eyes.close_lids(remap(self.eyes.look(look), mapping), moved, ratios), moved, ratios
            )
        warped = self.paint_mouth(warped, moved)
        out = self.source.copy()
        out[self.box.y0 : self.box.y1, self.box.x0 : self.box.x1] = blend(warped, self.patch, self.ramp)
        return out

    def warp(self, driven: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The face box's backward map (h×w×2 float32, box pixels) for landmarks `driven` ((468, 2) image pixels)
        with the upper lids held open (`EyeRig.open_lids`), and those moved landmarks in box pixels."""
        moved, original = driven - self.box.offset, self.points - self.box.offset
        if self.eyes is not None:
            moved = self.eyes.open_lids(moved)
        mapping = warp_map(
            moved[self.control], original[self.control], self.box.size, anchors=8, step=8, regularization=self.stiffness
        )
        return mapping, moved

    def paint_mouth(self, warped: np.ndarray, moved: np.ndarray) -> np.ndarray:
        """Darken the mouth opening where the driven mouth opens wider than the source's (a warp only stretches lips)."""
        opening = (_gap(moved) - self.mouth_gap) / (0.12 * self.size)
        if opening <= 0.05 or self.mouth_gap > 0.08 * self.size:  # still closed, or the source's own mouth is open
            return warped
        mask = feathered_mask([moved[list(INNER_LIPS)]], self.box.size, grow=0, feather=0.04 * self.size)
        mask *= min(1.0, opening) * 0.8
        dark = np.broadcast_to(self.mouth_colour, warped.shape)
        return blend(dark, warped, mask)

    def __call__(self, driver_rgb: np.ndarray, time: float) -> np.ndarray:
        driver = self.driver_points(driver_rgb, time)
        if driver is None:
            return self.source.copy()
        return self.render(self.driven_points(driver), self.eye_motion(driver))


def _gap(points: np.ndarray) -> float:
    """How far the mouth is open: the distance between the inner lips' middles, in pixels."""
    upper, lower = MOUTH_GAP
    return float(np.linalg.norm(points[upper] - points[lower]))


def make_animator(
    method: str,
    source_rgb: np.ndarray,
    source: Path,
    *,
    relative: bool,
    crop: bool,
    checkpoint: str | Path | None,
    device: str,
    turn: str = TURNS[0],
) -> Animator:
    """The method's animator for this source image (`turn`: the landmark method's head turns, `options.TURNS`).

    Raises:
        UsageError: a bad option (`AnimateOptions`), landmarks without MediaPipe.
        InputError: no face in the source image.
    """
    AnimateOptions(method=method, checkpoint=checkpoint, relative=relative, crop=crop, device=device, turn=turn)
    if method == "fomm":
        from vidtoon.animate.fomm import FommAnimator

        return FommAnimator(source_rgb, source, checkpoint, relative=relative, crop=crop, device=device)
    faces = sorted(detect_faces(source_rgb, refine=True, depth=True), key=lambda p: face_size(p[:, :2]), reverse=True)
    if not faces:
        raise InputError(
            "no face found in the source image",
            path=source,
            hint="use a picture with one clearly visible face, roughly frontal and at least ~100 px tall",
        )
    if len(faces) > 1:
        x, y = faces[0][:, :2].mean(0)
        log.warning(
            "%s: %d faces found; the largest, around x=%d y=%d px, is animated (crop the image to choose another)",
            source.name,
            len(faces),
            x,
            y,
        )
    return LandmarkAnimator(source_rgb, faces[0], relative=relative, crop=crop, turn=turn)


def animate(
    source: str | Path,
    driver: str | Path,
    output: str | Path | None = None,
    *,
    method: str = "landmarks",
    checkpoint: str | Path | None = None,
    relative: bool = True,
    crop: bool = True,
    size: int | None = None,
    device: str = "auto",
    options: EncodeOptions = EncodeOptions(),
    force: bool = False,
    progress: Progress | None = None,
    to: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    report: str | Path | None = None,
    turn: str = TURNS[0],
    style: str | None = None,
) -> Path:
    """Animate the face in the still image `source` with the motion of the face in the video `driver`.

    The output has the driver's frames (count and timestamps) and its sound, and the source's size (its
    longer side scaled to `size` when given). The driver is streamed: memory does not grow with its length.
    Driver frames without a face hold the last good pose (frames before the first face show the source
    unchanged); their count is logged as a warning.

    Args:
        source: a still image with one face.
        driver: a video of a moving face.
        output: video to write (default SOURCE.DRIVER.mp4 beside the source).
        method: "landmarks" (offline, MediaPipe) or "fomm" (needs `checkpoint`).
        checkpoint: FOMM checkpoint (e.g. vox-cpk.pth.tar), read without executing code.
        relative: transfer motion relative to the driver's first frame (keeps the source's face shape).
        crop: work on a box around the face and paste it back (False: the whole image).
        size: longer side of the output in pixels (None: the source's size).
        device: torch device for fomm and for restyling the still ("auto", "cpu", "cuda[:N]").
        to, model, like: restyle the still first (`--to STYLE`, `--model FILE`, `--like IMAGE`; at most one),
            then animate the restyled face (an avatar). `style=` is `to`'s older name, still taken.
        options: the encoder's settings (x264 at `PRESET` when they give no preset; a preset or CRF the output's
            encoder has not, GIF's or VP9's, is refused).
        report: write a fidelity report here (JSON: per signal the output/driver range ratio and correlation,
            landmarks re-detected on the output; identity drift; fps). See `vidtoon.animate.report`.
        turn: head turns of the landmark method: "2.5d" (the source's own 3D shape turned by the driver's yaw and
            pitch), "2d" (the driver's 2D landmark motion), "none" (no yaw or pitch; roll, scale and shift kept).

    Returns:
        The output path.

    Raises:
        InputError: missing or unusable inputs, no face in the source, no face in any driver frame.
        UsageError: bad option values, or the landmark method without MediaPipe installed.
    """
    to = renamed("to", to, "style", style)
    progress = progress or NoProgress()
    AnimateOptions(method=method, checkpoint=checkpoint, relative=relative, crop=crop, size=size, device=device, turn=turn)
    source, driver = Path(source), Path(driver)
    output = Path(output) if output is not None else default_animate_output(source, driver)
    report_path = check_report_path(report)
    source_rgb = load_source(source, size)
    info = check_driver(driver)
    check_output(output, inputs=(source, driver), force=force)
    check_encoding(output, options)  # the suffix, and --pix-fmt for its encoder, before a model loads
    check_quality_flags(output, options)  # a --crf or --preset the encoder has not (GIF, VP9), a --crf past its scale
    options = options.or_preset(PRESET)  # x264's preset applied here, where the video is written: the user's, else medium
    source_rgb = restyle_still(source_rgb, style=to, model=model, like=like, device=device)
    animator = make_animator(
        method, source_rgb, source, relative=relative, crop=crop, checkpoint=checkpoint, device=device, turn=turn
    )
    frames = 0
    started = time.perf_counter()
    try:
        progress.start(info.frame_count, f"animate {source.name}")
        # The per-frame linear algebra is small: extra BLAS threads only contend (×20 slower on 2 busy cores).
        with (
            threadpool_limits(limits=1, user_api="blas"),
            VideoWriter(
                output,
                fps=info.fps or Fraction(25),
                time_base=info.time_base,
                options=options,
                audio=AudioSource(driver),
                metadata=info.metadata,
                inputs=(source, driver),
                force=force,
            ) as writer,
            VideoReader(driver) as reader,
        ):
            for frame in reader:
                writer.write(animator(frame.rgb, float(frame.time)), frame.time)
                frames += 1
                progress.advance()
            if animator.faces_found == 0:
                raise InputError(
                    f"no face found in any of the driver's {frames} frames",
                    path=driver,
                    hint="the driver must show one face, roughly frontal",
                )
    finally:
        close = getattr(animator, "close", None)
        if close is not None:
            close()
    fps = frames / max(time.perf_counter() - started, 1e-9)
    missed = frames - animator.faces_found
    if missed:
        log.warning("no face in %d of %d driver frames of %s: the last good pose was held there", missed, frames, driver.name)
    if report_path is not None:
        write_report(report_path, source_rgb, driver, writer.path, fps=fps)
    return writer.path
