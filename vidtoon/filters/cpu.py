"""OpenCV kernels for CPU tensors: the CPU fast path of `vidtoon.filters.ops`' blurs and enlargements.

`ops` calls these by itself when `usable(img)` holds (a float32 tensor on the CPU that needs no gradient); on any
other device, dtype, or under autograd it runs its torch code. Each kernel computes the same sum of the same pixels
as the torch code (edges replicated, bilinear with half-pixel centres), up to float rounding: tested equal within
1e-5 (tests/filters/test_filters_cpu.py). OpenCV works on one contiguous H×W plane at a time, in place in the
tensor's memory (no copies), 3-10× faster than torch's shifted sums and interpolation here.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

from vidtoon.convert import unit_to_levels
from vidtoon.filters import np_kernels
from vidtoon.filters.np_kernels import LUMA  # Rec. 601 luma weights of R, G, B (`ops.LUMA`)


def usable(img: Tensor) -> bool:
    """Whether N×C×H×W `img` can take the OpenCV path: float32 on the CPU, and no gradient is being recorded for it."""
    return (
        img.device.type == "cpu"
        and img.dtype == torch.float32
        and img.dim() == 4
        and not (torch.is_grad_enabled() and img.requires_grad)
        and img.numel() > 0
    )


def _planes(img: Tensor) -> Tensor:
    """N×C×H×W -> (N·C)×H×W view of a contiguous copy (no copy when `img` is already contiguous), detached (no
    gradient is recorded when this path runs)."""
    n, c, h, w = img.shape
    return img.detach().contiguous().view(n * c, h, w)


def box_blur(img: Tensor, radius: int) -> Tensor:
    """Mean over the (2 radius + 1)² square around each pixel of N×C×H×W `img`, edges replicated (`ops.box_blur`)."""
    src = _planes(img)
    out = torch.empty_like(src)
    k = 2 * radius + 1
    for plane, dst in zip(src.numpy(), out.numpy(), strict=True):
        cv2.blur(plane, (k, k), dst=dst, borderType=cv2.BORDER_REPLICATE)
    return out.view(img.shape)


def separable(img: Tensor, taps: list[float]) -> Tensor:
    """Correlation of every channel of N×C×H×W `img` with the odd-length 1-D `taps` along x, then y, edges replicated
    (`ops.gaussian_blur`)."""
    src = _planes(img)
    out = torch.empty_like(src)
    kernel = np.asarray(taps, dtype=np.float32)
    for plane, dst in zip(src.numpy(), out.numpy(), strict=True):
        cv2.sepFilter2D(plane, -1, kernel, kernel, dst=dst, borderType=cv2.BORDER_REPLICATE)
    return out.view(img.shape)


def enlarge(img: Tensor, height: int, width: int) -> Tensor:
    """Bilinear enlargement of N×C×H×W `img` to height×width (half-pixel centres, edges clamped: torch's
    `interpolate(mode="bilinear", align_corners=False)`); for sizes no smaller than the input's."""
    src = _planes(img)
    out = torch.empty(src.shape[0], height, width, dtype=img.dtype)
    for plane, dst in zip(src.numpy(), out.numpy(), strict=True):
        cv2.resize(plane, (width, height), dst=dst, interpolation=cv2.INTER_LINEAR)
    return out.view(*img.shape[:2], height, width)


def lab_to_rgb(lab: Tensor) -> Tensor:
    """N×3×H×W CIE L*a*b* (D65) -> sRGB in [0, 1], clamped (`ops.lab_to_rgb`): OpenCV's conversion on each image
    interleaved, about twice as fast as the torch code; within 4e-4 of it (its white point and sRGB curve are
    tabulated)."""
    out = torch.empty_like(lab)
    for image, dst in zip(_planes(lab).view(lab.shape).numpy(), out.numpy(), strict=True):
        rgb = cv2.cvtColor(cv2.merge(list(image)), cv2.COLOR_Lab2RGB)  # planes interleaved and back: cv2.merge/split
        for plane, channel in zip(cv2.split(rgb), dst, strict=True):
            np.clip(plane, 0, 1, out=channel)
    return out


def frames_hwc(x: Tensor) -> np.ndarray:
    """N×C×H×W float32 CPU `x` -> N×H×W×C numpy array: a view of a channels-last tensor (restyle's decoded frames),
    else an interleaved copy."""
    return x.detach().permute(0, 2, 3, 1).contiguous().numpy()


def is_channels_last(x: Tensor) -> bool:
    """Whether N×C×H×W `x` is laid out as N×H×W×C in memory (restyle's decoded frames)."""
    return x.permute(0, 2, 3, 1).is_contiguous()


def luma(img: Tensor) -> Tensor:
    """Rec. 601 luma of N×3×H×W `img` (any range: the weights sum to 1): N×1×H×W contiguous.

    Channels-last frames: one OpenCV pass per frame over the interleaved pixels (no planar copy of the frame); planar
    ones: three passes over the planes. The same sum, up to float rounding."""
    if not is_channels_last(img):
        out = torch.mul(img[:, 0:1], float(LUMA[0, 0])).add_(img[:, 1:2], alpha=float(LUMA[0, 1]))
        return out.add_(img[:, 2:3], alpha=float(LUMA[0, 2]))
    return luma_of_hwc(frames_hwc(img))


def frames_u8(x: Tensor, height: int, width: int) -> np.ndarray:
    """N×3×H×W `x` in [-1, 1] -> N×height×width×3 uint8 RGB (0..255 for [-1, 1]), shrunk when smaller by area
    averaging (`cv2.resize(INTER_AREA)`; `cv_resize.area_downscale` on other devices), rounded to 8 bits.

    Decoded frames are 8-bit already, so the rounding of `x` loses nothing; the shrink is OpenCV's uint8 area kernel
    (0.2 ms for 640×360 -> 480×270, a fifth of torch's antialiased bilinear uint8 kernel, and what follows reads 4× fewer
    bytes than floats)."""
    hwc = frames_hwc(x)
    out = np.empty(hwc.shape, np.uint8)
    for frame, dst in zip(hwc, out, strict=True):
        unit_to_levels(frame, dst)  # -> 0..255, rounded, saturated
    if (height, width) == tuple(x.shape[-2:]):
        return out
    return np.stack([cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in out])


def rgb_to_lab(rgb_u8: np.ndarray) -> Tensor:
    """N×H×W×3 uint8 sRGB (numpy) -> N×3×H×W CIE L*a*b* (D65) planes: `ops.rgb_to_lab` of `rgb_u8` / 255 within 2e-4,
    5-8× cheaper (`np_kernels.rgb_to_lab` on each frame: a table of the sRGB curve, OpenCV matrix passes and pow)."""
    n, h, w, _ = rgb_u8.shape
    out = torch.empty(n, 3, h, w)
    for frame, dst in zip(rgb_u8, out.numpy(), strict=True):
        for plane, channel in zip(cv2.split(np_kernels.rgb_to_lab(frame)), dst, strict=True):
            channel[...] = plane
    return out


def luma_of_u8(rgb_u8: np.ndarray) -> Tensor:
    """N×H×W×3 uint8 RGB (numpy) -> the Rec. 601 luma of `rgb_u8` / 255, N×1×H×W float32 in [0, 1]."""
    return luma_of_hwc(rgb_u8, divisor=255)


def luma_of_hwc(rgb_hwc: np.ndarray, divisor: float = 1) -> Tensor:
    """N×H×W×3 numpy (float32, or uint8 read as float32) -> its Rec. 601 luma / `divisor`, N×1×H×W float32 tensor
    (one OpenCV pass per frame)."""
    n, h, w, _ = rgb_hwc.shape
    out = torch.empty(n, 1, h, w)
    weights = LUMA / divisor if divisor != 1 else LUMA
    for frame, dst in zip(rgb_hwc, out.numpy(), strict=True):
        dst[0] = cv2.transform(frame.astype(np.float32, copy=False), weights)
    return out
