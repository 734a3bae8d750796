"""Head turns in 2.5D: the driver's yaw and pitch applied to the source's own 3D landmarks, projected back.

Pure numpy functions on landmarks with depth: (N, 3) pixel coordinates (x right, y down, z away from the camera,
in the same pixel unit as x; MediaPipe's z, see `landmarks.FaceMeshDetector(depth=True)`). The driver's motion
since its first frame is split, in 3D, into a head pose (a rotation, scale and shift fitted on the rigid points)
and an expression (what is left once the pose is undone). The expression is carried into the source's frame,
then the source's own 3D shape is turned by the driver's rotation (yaw and pitch limited so the warp does not
tear) and projected orthographically: the far side of the face is compressed, the near side widened, by the
source's own depth rather than by the driver's face shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidtoon.errors import UsageError


@dataclass(frozen=True)
class Pose3D:
    """x ↦ scale · x · rotationᵀ + shift, for row vectors of (N, 3) points.

    Attributes:
        scale: isotropic scale (> 0).
        rotation: (3, 3) proper rotation (det +1).
        shift: (3,) translation in pixels.
    """

    scale: float
    rotation: np.ndarray
    shift: np.ndarray

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Apply to (N, 3) points; returns (N, 3)."""
        return self.scale * np.asarray(points, np.float64) @ self.rotation.T + self.shift

    def inverse(self) -> Pose3D:
        rotation = self.rotation.T
        return Pose3D(1.0 / self.scale, rotation, -(rotation @ self.shift) / self.scale)


def fit_pose(src: np.ndarray, dst: np.ndarray) -> Pose3D:
    """Least-squares similarity (rotation, scale, shift; no reflection) that maps (N, 3) `src` onto `dst` (Umeyama 1991).

    Raises:
        UsageError: shapes differ, fewer than 3 points, or `src` has no extent.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.ndim != 2 or src.shape[1] != 3 or src.shape != dst.shape or len(src) < 3:
        raise UsageError(f"a 3D pose needs two N×3 point sets (N ≥ 3), got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    energy = float(np.sum(s * s))
    if energy <= 1e-12:
        raise UsageError("the source landmarks all lie on one point: no pose can be fitted")
    u, sigma, vt = np.linalg.svd(d.T @ s)
    flip = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ flip @ vt
    scale = float(np.sum(sigma * np.diag(flip)) / energy)
    return Pose3D(scale, rotation, mu_d - scale * rotation @ mu_s)


def rotation_angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in radians of R = R_z(roll) · R_x(pitch) · R_y(yaw) (x right, y down, z into the image):
    yaw turns about the vertical axis, pitch nods about the horizontal one, roll tilts in the image plane."""
    r = np.asarray(rotation, np.float64)
    pitch = float(np.arcsin(np.clip(r[2, 1], -1.0, 1.0)))  # the last row is R_x · R_y's: (−cos p sin y, sin p, cos p cos y)
    yaw = float(np.arctan2(-r[2, 0], r[2, 2]))
    roll = float(np.arctan2(-r[0, 1], r[1, 1]))
    return yaw, pitch, roll


def rotation_from_angles(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The (3, 3) rotation R_z(roll) · R_x(pitch) · R_y(yaw) (the inverse of `rotation_angles`)."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    r_y = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    r_x = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    r_z = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return r_z @ r_x @ r_y


def limit_turn(rotation: np.ndarray, *, yaw: float, pitch: float) -> np.ndarray:
    """`rotation` with its yaw and pitch clipped to ±`yaw`, ±`pitch` radians (roll kept): (3, 3)."""
    y, p, r = rotation_angles(rotation)
    return rotation_from_angles(float(np.clip(y, -yaw, yaw)), float(np.clip(p, -pitch, pitch)), r)


def transfer_turn(
    source: np.ndarray,
    driver_first: np.ndarray,
    driver: np.ndarray,
    *,
    rigid: np.ndarray | None = None,
    max_yaw: float = np.radians(30.0),
    max_pitch: float = np.radians(25.0),
) -> np.ndarray:
    """Move the source's landmarks the way the driver moved since its first frame, turning the source in 3D.

    driver = P(driver_first + E) with P a 3D pose (rotation, scale, shift) fitted on the `rigid` points and E the
    expression. A (driver_first → source, fitted on `rigid`) aligns pose and face size. The source's 3D points get
    A·E added, are turned by P's rotation as the camera sees it (yaw, pitch limited; about the source face's centre),
    scaled and shifted like the driver (the shift scaled by the face-size ratio and turned by the roll between the
    faces), and projected orthographically (z dropped).

    Args:
        source: (N, 3) source landmarks with depth.
        driver_first: (N, 3) driver landmarks of the reference (first) frame.
        driver: (N, 3) driver landmarks of the current frame.
        rigid: indices of the points the poses are fitted on; None = all.
        max_yaw, max_pitch: the largest turn applied, radians (beyond, a 2D warp of one view tears or folds).

    Returns:
        (N, 2) driven source landmarks in pixels. driver == driver_first gives the source's x, y back.
    """
    source, driver_first, driver = (np.asarray(a, np.float64) for a in (source, driver_first, driver))
    if source.ndim != 2 or source.shape[1] != 3 or not source.shape == driver_first.shape == driver.shape:
        raise UsageError(
            f"3D landmarks must be N×3 arrays of the same shape, got {source.shape}, {driver_first.shape}, {driver.shape}"
        )
    idx = slice(None) if rigid is None else np.asarray(rigid)
    align = fit_pose(driver_first[idx], source[idx])  # driver frame -> source frame
    head = fit_pose(driver_first[idx], driver[idx])  # first -> current driver pose
    expression = head.inverse()(driver) - driver_first
    moved = source + align.scale * expression @ align.rotation.T
    # The driver's turn as the camera sees it (yaw about the image's vertical, pitch about its horizontal), limited,
    # about the source's rigid centre; its shift scaled by the face-size ratio and turned by the in-plane roll
    # between the two faces. (Conjugating the turn into the source's own head frame made a three-quarter view
    # roll when the driver nodded: Mona Lisa's roll range 1.89× the driver's instead of 1.09×.)
    turn = limit_turn(head.rotation, yaw=max_yaw, pitch=max_pitch)
    centre = source[idx].mean(0)
    roll = rotation_from_angles(0.0, 0.0, rotation_angles(align.rotation)[2])
    shift = align.scale * roll @ (head(driver_first[idx].mean(0)[None])[0] - driver_first[idx].mean(0))
    out = head.scale * (moved - centre) @ turn.T + centre + shift
    return out[:, :2]
