"""Frame conversions between uint8 pictures and the [-1, 1] float tensors the models and stages work on.

One place for the arithmetic, on any device: uint8 data crosses between host and device (4× less
than float32), the conversion runs where the frames live.

    value_unit = value_u8 / 127.5 − 1          0 -> −1.0, 255 -> 1.0, 127.5 would be 0.0
    value_u8   = clamp(round((x + 1) · 127.5), 0, 255)

Rounding is half to even (`torch.round`, the same as OpenCV's `cvRound`): x = 0.0 gives 127.5 and so
128 (the only exact midpoint in float32: the other (2k + 1) / 255 − 1 are not representable). The round
trip u8 -> unit -> u8 is exact for all 256 values. Values outside [-1, 1] clamp to 0 and 255.

Names say the layout: `frames_u8` is N×H×W×3 uint8 RGB, `image_u8` H×W×3 uint8, `x` N×3×H×W float
in [-1, 1], `image` 3×H×W float in [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

__all__ = ["image_u8_to_unit", "u8_to_unit", "unit_to_image_u8_numpy", "unit_to_u8", "unit_to_u8_numpy"]


def u8_to_unit(
    frames_u8: np.ndarray | torch.Tensor | Sequence[np.ndarray], device: torch.device | str | None = None
) -> torch.Tensor:
    """N×H×W×3 uint8 RGB -> N×3×H×W float32 in [-1, 1] on `device` (channels-last memory).

    `frames_u8` is a numpy array, a uint8 tensor (on any device) or a sequence of H×W×3 uint8 arrays of
    one size. `device` defaults to the tensor's device (the CPU for numpy input). The uint8 data is
    copied to the device once; the conversion runs there.
    """
    if not isinstance(frames_u8, (np.ndarray, torch.Tensor)):
        frames_u8 = np.stack(frames_u8) if len(frames_u8) else np.empty((0, 0, 0, 3), np.uint8)
    frames = torch.from_numpy(frames_u8) if isinstance(frames_u8, np.ndarray) else frames_u8
    _check_u8(frames, 4, "frames_u8", "N×H×W×3")
    frames = frames.to(frames.device if device is None else device)
    return frames.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def unit_to_u8(x: torch.Tensor) -> torch.Tensor:
    """N×3×H×W float in [-1, 1] -> N×H×W×3 uint8 RGB on x's device (contiguous; rounded half to even, clamped).

    `x` may be any float dtype (bf16/fp16 are widened to float32 first) and any memory layout; it is not
    modified.
    """
    _check_unit(x, 4, "x", "N×3×H×W")
    return x.detach().float().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def unit_to_levels(x: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """A float32 array in [-1, 1] (a plane, or H×W×C up to 4 channels) -> its uint8 grey levels x · 127.5 + 127.5,
    rounded half to even and saturated, in one OpenCV pass (into `dst` when given)."""
    return cv2.addWeighted(x, 127.5, x, 0.0, 127.5, dst=dst, dtype=cv2.CV_8U)


def unit_to_u8_numpy(x: torch.Tensor) -> np.ndarray:
    """N×3×H×W float in [-1, 1] on any device -> N×H×W×3 uint8 RGB numpy array (converted on the device, one download).

    A float32 CPU tensor is converted by OpenCV (x · 127.5 + 127.5, rounded half to even and saturated) instead of
    torch's five passes: a channels-last one (what the CPU temporal stage returns) in one pass per frame, a contiguous
    N×3×H×W one (what the procedural styles return) plane by plane, the uint8 planes then interleaved; the same values
    up to float rounding at an exact half level."""
    if x.device.type == "cpu" and x.dtype == torch.float32 and x.ndim == 4:
        if x.permute(0, 2, 3, 1).is_contiguous():
            _check_unit(x, 4, "x", "N×3×H×W")
            frames = x.detach().permute(0, 2, 3, 1).numpy()
            out = np.empty(frames.shape, np.uint8)
            for frame, dst in zip(frames, out, strict=True):
                unit_to_levels(frame, dst)
            return out
        if x.is_contiguous():
            _check_unit(x, 4, "x", "N×3×H×W")
            out = np.empty((x.shape[0], *x.shape[2:], x.shape[1]), np.uint8)
            for planes, dst in zip(x.detach().numpy(), out, strict=True):
                levels = [unit_to_levels(plane) for plane in planes]
                cv2.merge(levels, dst=dst)
            return out
    return unit_to_u8(x).cpu().numpy()


def image_u8_to_unit(image_u8: np.ndarray | torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """H×W×3 uint8 RGB -> 3×H×W float32 in [-1, 1] on `device` (see `u8_to_unit`)."""
    image = torch.from_numpy(image_u8) if isinstance(image_u8, np.ndarray) else image_u8
    _check_u8(image, 3, "image_u8", "H×W×3")
    return u8_to_unit(image[None], device)[0]


def unit_to_image_u8_numpy(image: torch.Tensor) -> np.ndarray:
    """3×H×W float in [-1, 1] on any device -> H×W×3 uint8 RGB numpy array (see `unit_to_u8`)."""
    _check_unit(image, 3, "image", "3×H×W")
    return unit_to_u8_numpy(image[None])[0]


def _check_u8(frames: torch.Tensor, ndim: int, name: str, layout: str) -> None:
    if frames.dtype != torch.uint8 or frames.ndim != ndim or frames.shape[-1] != 3:
        raise ValueError(f"{name} must be {layout} uint8 RGB, got {tuple(frames.shape)} {frames.dtype}")


def _check_unit(x: torch.Tensor, ndim: int, name: str, layout: str) -> None:
    if not x.is_floating_point() or x.ndim != ndim or x.shape[-3] != 3:
        raise ValueError(f"{name} must be {layout} float in [-1, 1], got {tuple(x.shape)} {x.dtype}")
