"""Helpers of the procedural-style tests: synthetic images and the clean-line measures."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidtoon.filters import ops


def to_x(rgb: np.ndarray) -> torch.Tensor:
    """H×W×3 float in [0, 1] -> 1×3×H×W in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None] * 2 - 1


def luma_np(x: torch.Tensor) -> np.ndarray:
    """Luma in [0, 1] of the first image of N×3×H×W `x` in [-1, 1], as H×W numpy."""
    return ops.luma(ops.to_unit(x))[0, 0].numpy()


def shapes_image(height: int) -> np.ndarray:
    """A synthetic test card at any height (aspect 4:3): a dark disc, a mid-grey square and a bright bar on a
    light-blue background, drawn at 8× and shrunk with area averaging, so every size shows the same picture."""
    big = 8 * height
    img = np.zeros((big, big * 4 // 3, 3), np.float32)
    img[:] = (0.55, 0.7, 0.85)
    cv2.circle(img, (big * 4 // 10, big // 2), big // 4, (0.15, 0.1, 0.1), -1)
    cv2.rectangle(img, (big * 7 // 10, big // 5), (big * 12 // 10, big * 3 // 5), (0.45, 0.45, 0.4), -1)
    cv2.rectangle(img, (big * 2 // 10, big * 8 // 10), (big * 11 // 10, big * 9 // 10), (0.95, 0.85, 0.3), -1)
    return cv2.resize(img, (height * 4 // 3, height), interpolation=cv2.INTER_AREA)


def line_measures(mask: np.ndarray, dark: np.ndarray) -> tuple[float, float]:
    """(fraction of line pixels with no line pixel among their 8 neighbours,
    fraction of the pixels of large dark flat areas that are line pixels)."""
    m = mask.astype(np.uint8)
    neighbours = cv2.filter2D(m, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT) - m
    isolated = float((m & (neighbours == 0)).sum() / max(int(m.sum()), 1))
    return isolated, float((m & dark).sum() / max(int(dark.sum()), 1))


def dark_flat_areas(x: torch.Tensor) -> np.ndarray:
    """Pixels inside large dark flat areas of `x`: 9×9 mean luma < 0.12 and std < 0.03, eroded by 4 pixels."""
    y = luma_np(x)
    mean = cv2.blur(y, (9, 9))
    std = np.sqrt(np.maximum(cv2.blur(y * y, (9, 9)) - mean * mean, 0))
    return cv2.erode(((mean < 0.12) & (std < 0.03)).astype(np.uint8), np.ones((9, 9), np.uint8))


U8_STEP = 1 / 127.5  # one grey level in [-1, 1] units: what the uint8 twins' 8-bit input and output may move a value


def via_twin(name: str):
    """`name`'s uint8 frame twin as a function of N×3×H×W `x` in [-1, 1] (and params), like the torch function: each
    image converted to 8 bits, restyled by the twin, converted back."""
    from vidtoon.convert import u8_to_unit, unit_to_u8
    from vidtoon.filters import FRAME_TWINS

    twin = FRAME_TWINS.get(name)

    def run(x: torch.Tensor, params=None) -> torch.Tensor:
        frames = unit_to_u8(x).numpy()
        return u8_to_unit(np.stack([twin.function(frame, params) for frame in frames]))

    return run


def implementations(name: str, torch_function) -> list:
    """pytest params: (function, tolerance) for the torch function (0) and its uint8 twin (one grey level)."""
    import pytest

    return [
        pytest.param((torch_function, 0.0), id="torch"),
        pytest.param((via_twin(name), U8_STEP), id="uint8-twin"),
    ]
