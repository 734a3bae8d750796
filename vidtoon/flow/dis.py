"""OpenCV DIS optical flow (Kroeger et al. 2016): fast, CPU, no weights. The default backend."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidtoon.errors import UsageError
from vidtoon.flow.base import check_pair, gray_u8, stack_flows, to_rgb_u8

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


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
        return stack_flows([self.estimate(t, s) for t, s in zip(to_rgb_u8(target), to_rgb_u8(source))], target.device)

    def estimate(self, target_u8: np.ndarray, source_u8: np.ndarray) -> np.ndarray:
        return self._dis.calc(gray_u8(target_u8), gray_u8(source_u8), None)
