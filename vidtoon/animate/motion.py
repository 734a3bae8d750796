"""Motion transfer between faces: pure numpy functions on landmark arrays (N×2 pixel coordinates).

The driver's motion is split into a head pose (a similarity: rotation, scale, shift about the face) and
an expression (what is left once the pose is undone). Relative transfer applies both, measured against
the driver's first frame, to the source: the expression is rotated and scaled into the source's frame
(face-size ratio, pose alignment), then the head pose is applied about the source face's own centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidtoon.errors import UsageError


@dataclass(frozen=True)
class Similarity:
    """x ↦ scale · R(angle) · x + shift, for row vectors of points (N×2).

    Attributes:
        scale: isotropic scale factor (> 0).
        angle: rotation in radians (counter-clockwise in x-right/y-up; clockwise on screen, y down).
        shift: (2,) translation in pixels.
    """

    scale: float
    angle: float
    shift: np.ndarray

    @property
    def matrix(self) -> np.ndarray:
        """The 2×2 linear part scale · R."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        return self.scale * np.array([[c, -s], [s, c]])

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Apply to (N, 2) points; returns (N, 2)."""
        return np.asarray(points, dtype=np.float64) @ self.matrix.T + self.shift

    def inverse(self) -> Similarity:
        inv = Similarity(1.0 / self.scale, -self.angle, np.zeros(2))
        return Similarity(inv.scale, inv.angle, -inv.matrix @ self.shift)

    def then(self, other: Similarity) -> Similarity:
        """`other` after `self`: x ↦ other(self(x))."""
        return Similarity(self.scale * other.scale, self.angle + other.angle, other.matrix @ self.shift + other.shift)


def _check_points(*arrays: np.ndarray) -> None:
    shape = np.shape(arrays[0])
    for a in arrays:
        if np.ndim(a) != 2 or np.shape(a)[1] != 2 or np.shape(a) != shape:
            raise UsageError(f"landmarks must be N×2 arrays of the same shape, got {[np.shape(x) for x in arrays]}")
    if shape[0] < 2:
        raise UsageError(f"at least 2 landmarks are needed, got {shape[0]}")


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> Similarity:
    """Least-squares similarity that maps `src` onto `dst` (Umeyama 1991, no reflection).

    Args:
        src, dst: (N, 2) corresponding points, N ≥ 2.

    Returns:
        The `Similarity` T minimising Σ |T(src_i) − dst_i|².
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    _check_points(src, dst)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    # Complex-number form: d ≈ z · s with z = scale · e^{i angle}.
    sc, dc = s[:, 0] + 1j * s[:, 1], d[:, 0] + 1j * d[:, 1]
    energy = float(np.sum(np.abs(sc) ** 2))
    if energy <= 1e-12:
        raise UsageError("the source landmarks all lie on one point: no pose can be fitted")
    z = np.sum(np.conj(sc) * dc) / energy
    scale, angle = float(abs(z)), float(np.angle(z))
    if scale <= 1e-12:
        raise UsageError("the target landmarks all lie on one point: no pose can be fitted")
    t = Similarity(scale, angle, np.zeros(2))
    return Similarity(scale, angle, mu_d - t.matrix @ mu_s)


def face_size(points: np.ndarray) -> float:
    """Root-mean-square distance of the landmarks from their centroid, in pixels ((N, 2) in)."""
    points = np.asarray(points, np.float64)
    return float(np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1))))


def transfer_relative(
    source: np.ndarray,
    driver_first: np.ndarray,
    driver: np.ndarray,
    *,
    rigid: np.ndarray | None = None,
    pose: bool = True,
) -> np.ndarray:
    """Move the source's landmarks the way the driver moved since its first frame.

    driver = P(driver_first + E) with P a head-pose similarity fitted on the `rigid` points and E the
    expression. A (driver_first → source, fitted on `rigid`) aligns pose and face size. The result is
    source + A.linear·E, then moved by A∘P∘A⁻¹ (the same rotation and scale about the source's face;
    the driver's shift scaled by the face-size ratio and rotated into the source's frame).

    Args:
        source: (N, 2) source landmarks (pixels of the source image).
        driver_first: (N, 2) driver landmarks of the reference (first) frame.
        driver: (N, 2) driver landmarks of the current frame.
        rigid: indices of the points the head pose is fitted on; None = all.
        pose: False keeps the source's head still (expressions only).

    Returns:
        (N, 2) driven source landmarks. driver == driver_first gives `source` back exactly.
    """
    source, driver_first, driver = (np.asarray(a, np.float64) for a in (source, driver_first, driver))
    _check_points(source, driver_first, driver)
    idx = slice(None) if rigid is None else np.asarray(rigid)
    align = fit_similarity(driver_first[idx], source[idx])  # driver frame -> source frame
    head = fit_similarity(driver_first[idx], driver[idx])  # first -> current driver pose
    expression = head.inverse()(driver) - driver_first  # in the driver's first-frame coordinates
    out = source + expression @ align.matrix.T
    if pose:
        out = align.inverse().then(head).then(align)(out)
    return out


def transfer_absolute(
    source: np.ndarray, driver_first: np.ndarray, driver: np.ndarray, *, rigid: np.ndarray | None = None
) -> np.ndarray:
    """The driver's own landmarks placed on the source face: the similarity that aligns the driver's first
    frame with the source (fitted on `rigid`) applied to the current driver frame. The source takes the
    driver's face shape (its identity leaks through); `transfer_relative` keeps the source's own shape.

    Args and returns as `transfer_relative`.
    """
    source, driver_first, driver = (np.asarray(a, np.float64) for a in (source, driver_first, driver))
    _check_points(source, driver_first, driver)
    idx = slice(None) if rigid is None else np.asarray(rigid)
    return fit_similarity(driver_first[idx], source[idx])(driver)


def normalised_distance(a: np.ndarray, b: np.ndarray, *, size: float) -> float:
    """Mean landmark distance between (N, 2) sets `a` and `b`, divided by a face size in pixels."""
    _check_points(np.asarray(a), np.asarray(b))
    if size <= 0:
        raise UsageError(f"face size must be positive, got {size}")
    return float(np.mean(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=1)) / size)
