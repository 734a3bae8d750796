"""Torch-free numpy/OpenCV kernels on interleaved H×W×C float32 arrays: the building blocks of the uint8 frame twins
(`toon_u8`, `sketch_u8`) and of `vidtoon.filters.cpu` (which wraps some of them for tensors).

Each computes what its `vidtoon.filters.ops` namesake computes, on one image laid out H×W×C instead of N×C×H×W, up
to float rounding: edges replicated, Gaussian taps of radius ceil(3 sigma) normalised in float64, CIE L*a*b* (D65)
from the constants in `vidtoon.filters.cielab`. Importing this module imports neither torch nor anything that does.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from vidtoon.filters import cielab

LUMA = np.array([[0.299, 0.587, 0.114]], np.float32)  # Rec. 601 luma weights of R, G, B (`ops.LUMA`)


def work_size(height: int, width: int, work_height: int) -> tuple[int, int]:
    """The internal processing size: the frame shrunk to at most `work_height` rows, aspect kept (never enlarged)."""
    if height <= work_height:
        return height, width
    return work_height, max(1, round(width * work_height / height))


def gaussian_taps(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian of radius ceil(3 sigma) (at least 1 tap each side), float32 (`ops.gaussian_kernel1d`,
    computed in float64)."""
    radius = max(1, math.ceil(3 * sigma))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of H×W or H×W×C float32 `img` (sigma <= 0.05: `img` itself), edges replicated."""
    if sigma <= 0.05:
        return img
    taps = gaussian_taps(sigma)
    return cv2.sepFilter2D(img, -1, taps, taps, borderType=cv2.BORDER_REPLICATE)


def box_blur(img: np.ndarray, radius: int) -> np.ndarray:
    """Mean over the (2 radius + 1)² square around each pixel of H×W or H×W×C float32 `img` (radius 0: `img`)."""
    if radius <= 0:
        return img
    k = 2 * radius + 1
    return cv2.blur(img, (k, k), borderType=cv2.BORDER_REPLICATE)


def luma(img: np.ndarray, divisor: float = 1, scratch: np.ndarray | None = None) -> np.ndarray:
    """Rec. 601 luma of H×W×3 `img` (float32, or uint8 read as float32, in `scratch` when given: H×W×3 float32)
    divided by `divisor`: H×W float32."""
    weights = LUMA / np.float32(divisor) if divisor != 1 else LUMA
    if img.dtype != np.float32 and scratch is not None:
        np.copyto(scratch, img)
        img = scratch
    return cv2.transform(img.astype(np.float32, copy=False), weights)


@functools.cache
def lab_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sRGB curve for the 256 8-bit values (exact, in float64 then rounded), sRGB -> XYZ / white, and
    (f(X), f(Y), f(Z), 1) -> (L, a, b) (`ops.rgb_to_lab`'s constants)."""
    v = np.arange(256, dtype=np.float64) / 255
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)
    to_xyz = np.asarray(cielab.RGB_TO_XYZ, np.float32)
    to_lab = np.asarray([[*row, offset] for row, offset in zip(cielab.F_TO_LAB, (-16.0, 0.0, 0.0), strict=True)], np.float32)
    return linear, to_xyz, to_lab


def rgb_to_lab(image_u8: np.ndarray, scratch: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """H×W×3 uint8 sRGB -> H×W×3 float32 CIE L*a*b* (D65): `ops.rgb_to_lab` of `image_u8` / 255 within 2e-4. The sRGB
    curve is a table of the 256 values; XYZ and Lab are one OpenCV matrix pass each; the cube root (OpenCV's pow) and
    the linear piece below the knee as `ops._joined` writes them. `scratch`: two H×W×3 float32 arrays to work in (the
    result is the second), else new ones."""
    linear, to_xyz, to_lab = lab_tables()
    one, two = scratch if scratch is not None else (np.empty(image_u8.shape, np.float32), np.empty(image_u8.shape, np.float32))
    cv2.transform(cv2.LUT(image_u8, linear, dst=one), to_xyz, dst=two)  # XYZ
    np.maximum(two, np.float32(cielab.LAB_EPS), out=one)
    cv2.pow(one, 1 / 3, dst=one)  # the curve, above the knee
    np.minimum(two, np.float32(cielab.LAB_EPS), out=two)  # the straight piece: slope · (t - knee), 0 above the knee
    two -= np.float32(cielab.LAB_EPS)
    two *= np.float32(cielab.LAB_KAPPA / 116)
    one += two
    return cv2.transform(one, to_lab, dst=two)


def lab_to_rgb(lab: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """H×W×3 float32 CIE L*a*b* (D65) -> sRGB in [0, 1], clamped (OpenCV's conversion; `ops.lab_to_rgb` within 4e-4),
    into `dst` when given."""
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB, dst=dst)
    return np.clip(rgb, 0, 1, out=rgb)


def planes(img: np.ndarray) -> np.ndarray:
    """H×W×C -> C×H×W contiguous (the blurs and element-wise passes are fastest on single planes)."""
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def blur_planes(stack: np.ndarray, radius: int) -> np.ndarray:
    """`box_blur` of every plane of C×H×W float32 `stack`, in place; returns it."""
    for plane in stack:
        cv2.blur(plane, (2 * radius + 1, 2 * radius + 1), dst=plane, borderType=cv2.BORDER_REPLICATE)
    return stack


def _work(work: np.ndarray | None, count: int, shape: tuple[int, ...]) -> np.ndarray:
    """`count` planes of `shape` from `work` (float32, at least that many planes), or new ones."""
    if work is None:
        return np.empty((count, *shape), np.float32)
    return work[:count]


def self_guided_filter(src: np.ndarray, radius: int, eps: float, work: np.ndarray | None = None) -> np.ndarray:
    """He et al.'s guided filter of C×H×W float32 planes `src` steered by its own first plane (`ops.guided_filter(
    src[:, :1], src, radius, eps)`, with `_self_guided_coefficients`' arithmetic), written over `src` and returned.
    `work`: at least 2C + 3 scratch planes of H×W float32, else new ones."""
    c = src.shape[0]
    work = _work(work, 2 * c + 3, src.shape[1:])
    stats, mean_g, denominator, product = work[: 2 * c], work[2 * c], work[2 * c + 1], work[2 * c + 2]
    stats[:c] = src
    np.multiply(src, src[0], out=stats[c:])
    blur_planes(stats, radius)  # mean(src), mean(guide · src)
    mean_s, corr = stats[:c], stats[c:]
    mean_g[...] = mean_s[0]
    np.multiply(mean_g, mean_g, out=product)
    np.subtract(corr[0], product, out=denominator)
    denominator += np.float32(eps)  # var(guide) + eps
    for i in range(c):
        np.multiply(mean_g, mean_s[i], out=product)
        corr[i] -= product
        corr[i] /= denominator  # A
        np.multiply(corr[i], mean_g, out=product)
        mean_s[i] -= product  # B = mean(src) - A · mean(guide)
    blur_planes(stats, radius)
    for i in (*range(1, c), 0):  # the guide, src[0], last: the others read it
        np.multiply(stats[c + i], src[0], out=src[i])
        src[i] += stats[i]
    return src


def guided_coefficients(
    guide: np.ndarray, src: np.ndarray, radius: int, eps: float, work: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Box-averaged coefficients (A, B) of the guided filter of C×H×W float32 planes `src` (any strides) steered by H×W
    `guide` (`ops.guided_filter_coefficients`): the filtered image is A · guide + B; each C×H×W float32, in `work`
    (at least 2C + 3 planes of H×W float32) when given."""
    c = src.shape[0]
    work = _work(work, 2 * c + 3, guide.shape)
    stats, product = work[: 2 * c + 2], work[2 * c + 2]
    stats[0] = guide
    np.multiply(guide, guide, out=stats[1])
    stats[2 : 2 + c] = src
    np.multiply(src, guide, out=stats[2 + c :])
    blur_planes(stats, radius)
    mean_g, sq, mean_s, corr = stats[0], stats[1], stats[2 : 2 + c], stats[2 + c :]
    np.multiply(mean_g, mean_g, out=product)
    sq -= product
    sq += np.float32(eps)
    for i in range(c):
        np.multiply(mean_s[i], mean_g, out=product)
        corr[i] -= product
        corr[i] /= sq  # A
        np.multiply(corr[i], mean_g, out=product)
        mean_s[i] -= product  # B
    blur_planes(stats[2:], radius)
    return stats[2 + c :], stats[2 : 2 + c]


def difference_of_gaussians(img: np.ndarray, sigma: float, k: float = 1.6) -> tuple[np.ndarray, np.ndarray]:
    """(G_sigma * img, G_{k sigma} * img) for float32 `img`; the wider blur is cascaded from the narrower one."""
    narrow = gaussian_blur(img, sigma)
    return narrow, gaussian_blur(narrow, sigma * math.sqrt(k * k - 1))


def smooth_ramp(t: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, the smoothstep 3t² - 2t³ between; `t` (float32) is overwritten and returned."""
    np.clip(t, 0, 1, out=t)
    ramp = t * np.float32(-2)
    ramp += np.float32(3)
    ramp *= t
    ramp *= t
    return ramp
