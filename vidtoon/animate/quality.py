"""How well an animation follows its driver: pure numpy measures on landmark tracks.

A track is (T, N, 2) landmarks over T frames (NaN rows where no face was found). The measures compare
the *motion* of two different faces, so every one is normalised by face size and measured against
each face's own first frame, in the spirit of FOMM's average keypoint distance (AKD), which compares
the keypoints of a driver and a reconstruction of the same person.
"""

from __future__ import annotations

import numpy as np

from vidtoon.animate.eyes import eye_openings, gaze
from vidtoon.animate.landmarks import EYE_GAPS, MOUTH_GAP, NUM_LANDMARKS, RIGID
from vidtoon.animate.motion import face_size, fit_similarity
from vidtoon.animate.turn import fit_pose, rotation_angles
from vidtoon.errors import UsageError


def _check_track(track: np.ndarray) -> np.ndarray:
    track = np.asarray(track, np.float64)
    if track.ndim != 3 or track.shape[2] != 2 or len(track) < 2:
        raise UsageError(f"a landmark track must be T×N×2 with T ≥ 2, got {track.shape}")
    if np.isnan(track[0]).any():
        raise UsageError("the track's first frame has no face: it is the reference every measure starts from")
    return track


SIGNALS = ("mouth", "eyes", "gaze_x", "gaze_y", "yaw", "pitch", "roll")
"""The signals of `motion_signals`, in report order."""
SHUT = 0.12
"""Eye opening (lid gap in eye widths, `eyes.eye_openings`; ~0.3 open) below which the gaze is not measured."""


def motion_signals(track: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame expression and pose signals of a (T, 468 or 478, 2) track; each (T,), NaN where no face.

    mouth: inner-lip gap / face size; eyes: mean eyelid gap / face size; gaze_x, gaze_y: the irises'
    offset from their eye's centre along / across the eye, in eye widths, both eyes averaged; NaN where either
    eye is nearly shut (opening < `SHUT` eye widths: a blink or a wink), or without the 478 refined points; roll: head rotation (radians) since frame 0, fitted on the rigid points; yaw,
    pitch: horizontal, vertical nose-tip offset from the rigid points' centre / face size.
    """
    track = _check_track(track)
    rigid = list(RIGID)
    out = {name: np.full(len(track), np.nan) for name in SIGNALS}
    for t, points in enumerate(track):
        if np.isnan(points).any():
            continue
        size = face_size(points[:NUM_LANDMARKS])  # the irises (478) would make it follow the gaze
        upper, lower = MOUTH_GAP
        out["mouth"][t] = np.linalg.norm(points[upper] - points[lower]) / size
        out["eyes"][t] = np.mean([np.linalg.norm(points[a] - points[b]) for a, b in EYE_GAPS]) / size
        out["roll"][t] = fit_similarity(track[0][rigid], points[rigid]).angle
        out["yaw"][t] = (points[1, 0] - points[rigid, 0].mean()) / size
        out["pitch"][t] = (points[1, 1] - points[rigid, 1].mean()) / size
        if (eye_openings(points) >= SHUT).all():  # the iris landmarks of a shut eye are guesses (a wink: one eye)
            out["gaze_x"][t], out["gaze_y"][t] = np.mean(gaze(points), axis=0)
    return out


def head_angles(track: np.ndarray) -> dict[str, np.ndarray]:
    """Head pose since frame 0 of a (T, N, 3) track with depth (`track_landmarks(depth=True)`): the rotation fitted
    on the rigid points in 3D (`turn.fit_pose`), as yaw, pitch and roll in radians (`turn.rotation_angles`); each
    (T,), NaN where no face. A truer yaw and pitch than `motion_signals`' nose offsets, which a 2D warp can mimic."""
    track = np.asarray(track, np.float64)
    if track.ndim != 3 or track.shape[2] != 3 or len(track) < 2 or np.isnan(track[0]).any():
        raise UsageError(f"head angles need a T×N×3 track (T ≥ 2, a face in frame 0), got {track.shape}")
    rigid = list(RIGID)
    out = np.full((len(track), 3), np.nan)
    for t, points in enumerate(track):
        if not np.isnan(points).any():
            out[t] = rotation_angles(fit_pose(track[0][rigid], points[rigid]).rotation)
    return {"yaw": out[:, 0], "pitch": out[:, 1], "roll": out[:, 2]}


def range_ratio(driver: np.ndarray, output: np.ndarray) -> float:
    """How much of the driver's swing a signal keeps: (max − min) of `output` ÷ (max − min) of `driver`, both
    over the frames where both are defined ((T,) signals). 1 = the same swing, 0 = still; NaN if < 3 frames
    or the driver is flat."""
    driver, output = np.asarray(driver, np.float64), np.asarray(output, np.float64)
    ok = ~(np.isnan(driver) | np.isnan(output))
    if ok.sum() < 3 or np.ptp(driver[ok]) == 0:
        return float("nan")
    return float(np.ptp(output[ok]) / np.ptp(driver[ok]))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two (T,) signals over the frames where both are defined (NaN if < 3 or flat)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:  # (std of equal floats can be 1e-17, not 0)
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def relative_keypoint_distance(driver: np.ndarray, output: np.ndarray) -> np.ndarray:
    """Per frame: how far the output's landmark motion is from the driver's, in face sizes.

    motion = (landmarks_t − landmarks_0) / face size of frame 0; the driver's is rotated into the
    output's frame (the rotation that aligns the two first frames). 0 = the same motion; a still output
    scores the driver's own motion magnitude (`relative_keypoint_distance(driver, output[:1] repeated)`).

    Args:
        driver, output: (T, N, 2) tracks of the same length.

    Returns:
        (T,) mean landmark distance in face sizes; NaN where either has no face.
    """
    driver, output = _check_track(driver), _check_track(output)
    if driver.shape != output.shape:
        raise UsageError(f"tracks differ in shape: {driver.shape} and {output.shape}")
    rotation = fit_similarity(driver[0][list(RIGID)], output[0][list(RIGID)])
    turn = rotation.matrix / rotation.scale
    moved_driver = (driver - driver[0]) / face_size(driver[0]) @ turn.T
    moved_output = (output - output[0]) / face_size(output[0])
    return np.linalg.norm(moved_driver - moved_output, axis=2).mean(axis=1)


def identity_drift(source: np.ndarray, output: np.ndarray, driver: np.ndarray, *, quantile: float = 0.1) -> float:
    """How far the output's face shape strays from the source's when the driver is back to neutral.

    The frames where the driver is closest to its first frame (the lowest `quantile` of its motion)
    are taken as neutral; there the output's landmarks, aligned to the source's by a similarity, should
    sit on the source's. Returns their mean distance in the source's face sizes.

    Args:
        source: (N, 2) the source image's landmarks.
        output, driver: (T, N, 2) tracks.
    """
    output, driver = _check_track(output), _check_track(driver)
    motion = np.linalg.norm(driver - driver[0], axis=2).mean(axis=1)
    ok = ~(np.isnan(motion) | np.isnan(output).any(axis=(1, 2)))
    if not ok.any():
        return float("nan")
    threshold = np.quantile(motion[ok], quantile)
    frames = np.flatnonzero(ok & (motion <= threshold))
    size = face_size(source)
    drifts = [np.linalg.norm(fit_similarity(output[t], source)(output[t]) - source, axis=1).mean() / size for t in frames]
    return float(np.mean(drifts))
