"""OpenCV DIS optical flow (Kroeger et al. 2016): fast, CPU, no weights. The default backend."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from vidtoon.errors import UsageError
from vidtoon.flow.base import FLOW_BACKENDS, check_pair, gray_u8, stack_flows, to_rgb_u8

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


class DISFlow:
    """DIS flow with a preset ("ultrafast", "fast", "medium"); one OpenCV instance per object (not thread-safe)."""

    name = "dis"

    def __init__(self, preset: str = "fast"):
        if preset not in PRESETS:
            raise UsageError(f"unknown DIS preset {preset!r}", hint=f"use one of {', '.join(PRESETS)}")
        self.preset = preset
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])

    def __call__(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        check_pair(target, source)
        return stack_flows(self.estimate(to_rgb_u8(target), to_rgb_u8(source)), target.device)

    def estimate(self, targets_u8: Sequence[np.ndarray], sources_u8: Sequence[np.ndarray]) -> list[np.ndarray]:
        grays: dict[int, np.ndarray] = {}  # by object: the temporal stage passes each frame twice (t -> t−1, t−1 -> t)

        def gray(frame: np.ndarray) -> np.ndarray:
            if id(frame) not in grays:
                grays[id(frame)] = gray_u8(frame)
            return grays[id(frame)]

        return [self._dis.calc(gray(t), gray(s), None) for t, s in zip(targets_u8, sources_u8, strict=True)]


@FLOW_BACKENDS.register("dis")
def build_backend(*, preset: str = "fast", weights: str | None = None, device=None, **_settings):
    """`--flow dis`: OpenCV DIS with `preset` (ultrafast, fast, medium)."""
    return DISFlow(preset)
