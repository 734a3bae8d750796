"""Dense warps from moved landmarks: a thin-plate spline anchored at the border, and feathered face masks.

All functions are pure: numpy arrays in, numpy arrays out. Points are (N, 2) pixel coordinates (x, y);
images are H×W×3 uint8; maps are H×W×2 float32 source coordinates for every output pixel (backward
warping, as `cv2.remap` takes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidtoon.errors import UsageError


@dataclass(frozen=True)
class ThinPlateSpline:
    """f(x) = [1, x, y] · affine + Σ_i weights_i · U(|x − centers_i|), U(r) = r² log r².

    Attributes:
        centers: (N, 2) control points (where f is pinned).
        weights: (N, 2) non-affine coefficients.
        affine: (3, 2) affine part.
        unit: lengths are divided by this before U (keeps the system well conditioned; any positive value
            gives the same interpolant when `regularization` is 0).
    """

    centers: np.ndarray
    weights: np.ndarray
    affine: np.ndarray
    unit: float

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Evaluate at (M, 2) points; returns (M, 2)."""
        points = np.asarray(points, np.float64)
        kernel = _tps_kernel(points / self.unit, self.centers / self.unit)
        return kernel @ self.weights + np.c_[np.ones(len(points)), points] @ self.affine


def _tps_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """U(|a_i − b_j|) for (M, 2) and (N, 2) points: (M, N)."""
    r2 = np.maximum(np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2 * a @ b.T, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = r2 * np.log(r2)
    u[r2 < 1e-20] = 0.0
    return u


def fit_tps(src: np.ndarray, dst: np.ndarray, *, regularization: float | np.ndarray = 0.0) -> ThinPlateSpline:
    """The thin-plate spline that maps `src` points onto `dst` points.

    Args:
        src, dst: (N, 2) corresponding points, N ≥ 3 and not all on one line.
        regularization: λ ≥ 0, one for all points or (N,) one per point; 0 interpolates exactly, larger
            values trade exactness for smoothness (noisy, crowded points).

    Returns:
        f with f(src_i) = dst_i (exactly when λ = 0). dst == src gives the identity; dst = src + c gives
        the translation by c.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.ndim != 2 or src.shape[1] != 2 or src.shape != dst.shape or len(src) < 3:
        raise UsageError(f"thin-plate spline needs two N×2 point sets (N ≥ 3), got {src.shape} and {dst.shape}")
    n = len(src)
    unit = float(np.ptp(src, axis=0).max()) or 1.0
    kernel = _tps_kernel(src / unit, src / unit) + np.diag(np.broadcast_to(np.asarray(regularization, np.float64), (n,)))
    p = np.c_[np.ones(n), src]
    system = np.zeros((n + 3, n + 3))
    system[:n, :n], system[:n, n:], system[n:, :n] = kernel, p, p.T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = dst
    try:
        solution = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    return ThinPlateSpline(centers=src, weights=solution[:n], affine=solution[n:], unit=unit)


def border_anchors(width: int, height: int, *, per_side: int = 8) -> np.ndarray:
    """Points spaced evenly around the image border, corners included: (4·per_side, 2) pixels."""
    if per_side < 1 or width < 2 or height < 2:
        raise UsageError(f"border anchors need per_side ≥ 1 and a size of at least 2×2, got {per_side}, {width}x{height}")
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    right, bottom = width - 1.0, height - 1.0
    return np.concatenate(
        [
            np.c_[t * right, np.zeros(per_side)],
            np.c_[np.full(per_side, right), t * bottom],
            np.c_[right - t * right, np.full(per_side, bottom)],
            np.c_[np.zeros(per_side), bottom - t * bottom],
        ]
    )


def warp_map(
    moved: np.ndarray,
    original: np.ndarray,
    size: tuple[int, int],
    *,
    anchors: int = 8,
    step: int = 8,
    regularization: float | np.ndarray = 0.1,
    anchor_regularization: float = 0.1,
) -> np.ndarray:
    """Backward map of the warp that carries the `original` points to the `moved` points, the border fixed.

    Args:
        moved: (N, 2) where the points are in the output.
        original: (N, 2) where they are in the image being warped.
        size: (width, height) of the output (and of the image).
        anchors: fixed points per border side (0 = border free: the warp extrapolates).
        step: the spline is evaluated every `step` pixels and interpolated bilinearly in between.
        regularization: thin-plate smoothing λ of the moved points, one or (N,) (see `fit_tps`); 0.1 keeps crowded,
            jittery landmarks from folding the map (points a few pixels apart pulled in opposite directions);
            smaller values follow small motions (eyelids) more closely.
        anchor_regularization: λ of the border anchors: 0 pins the border exactly; 0.1 lets it give by a pixel
            or so, which keeps a face moved close to the border from folding the map there.

    Returns:
        H×W×2 float32: for each output pixel, the (x, y) to sample from the image (for `remap`).
    """
    width, height = size
    pins = border_anchors(width, height, per_side=anchors) if anchors else np.zeros((0, 2))
    smoothing = np.r_[
        np.broadcast_to(np.asarray(regularization, np.float64), (len(moved),)), np.full(len(pins), anchor_regularization)
    ]
    spline = fit_tps(np.r_[moved, pins], np.r_[original, pins], regularization=smoothing)
    step = max(1, int(step))
    xs = np.r_[np.arange(0, width - 1, step), width - 1].astype(np.float64)
    ys = np.r_[np.arange(0, height - 1, step), height - 1].astype(np.float64)
    gx, gy = np.meshgrid(xs, ys)
    coarse = spline(np.c_[gx.ravel(), gy.ravel()]).reshape(len(ys), len(xs), 2)
    if step == 1:
        return coarse.astype(np.float32)
    offsets = (coarse - np.stack([gx, gy], -1)).astype(np.float32)
    # Bilinear interpolation of the offsets from the coarse grid's own positions to every pixel.
    fx = np.interp(np.arange(width), xs, np.arange(len(xs))).astype(np.float32)
    fy = np.interp(np.arange(height), ys, np.arange(len(ys))).astype(np.float32)
    map_x, map_y = np.meshgrid(fx, fy)
    dense = cv2.remap(offsets, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    px, py = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.stack([px + dense[..., 0], py + dense[..., 1]], -1)


def remap(image: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Sample `image` (H×W×C) at `mapping` (H'×W'×2 float32 x, y): bilinear, edges reflected."""
    return cv2.remap(image, mapping[..., 0], mapping[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def feathered_mask(polygons: list[np.ndarray], size: tuple[int, int], *, grow: float, feather: float) -> np.ndarray:
    """A soft mask: 1 inside the union of the polygons grown by `grow` px, falling to 0 over `feather` px.

    Args:
        polygons: (K, 2) pixel outlines.
        size: (width, height).
        grow: outward growth in pixels (≥ 0).
        feather: width of the soft edge in pixels (≥ 0; 0 = hard edge).

    Returns:
        H×W float32 in [0, 1].
    """
    width, height = size
    hard = np.zeros((height, width), np.uint8)
    for polygon in polygons:
        cv2.fillPoly(hard, [np.round(np.asarray(polygon)).astype(np.int32).reshape(-1, 1, 2)], 1)
    if grow > 0:
        # Distance outside the union; 1 within `grow`, then a linear fall over `feather`.
        outside = cv2.distanceTransform(1 - hard, cv2.DIST_L2, 5)
        mask = np.clip((grow + feather - outside) / max(feather, 1e-6), 0.0, 1.0)
    else:
        mask = hard.astype(np.float32)
    if feather > 0:
        sigma = feather / 3.0
        mask = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


def border_ramp(size: tuple[int, int], *, width: float) -> np.ndarray:
    """H×W float32 weights: 0 on the image border, rising linearly to 1 at `width` px inside it."""
    w, h = size
    dx = np.minimum(np.arange(w), w - 1 - np.arange(w)).astype(np.float32)
    dy = np.minimum(np.arange(h), h - 1 - np.arange(h)).astype(np.float32)
    return np.clip(np.minimum(dx[None, :], dy[:, None]) / max(width, 1e-6), 0.0, 1.0)


def blend(foreground: np.ndarray, background: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """mask · foreground + (1 − mask) · background, rounded: H×W×3 uint8 images, H×W float mask."""
    m = mask[..., None].astype(np.float32)
    out = m * foreground.astype(np.float32) + (1.0 - m) * background.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """The convex hull of (N, 2) points as a (K, 2) polygon."""
    return cv2.convexHull(np.asarray(points, np.float32).reshape(-1, 1, 2)).reshape(-1, 2).astype(np.float64)
