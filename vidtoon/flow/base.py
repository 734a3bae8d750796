"""The flow backend protocol and the frame conversions every backend needs."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch


class FlowBackend(Protocol):
    """Estimates optical flow between batches of frames.

    `__call__(target, source)` takes two N×3×H×W float tensors in [-1, 1] (frame t and frame s)
    and returns N×2×H×W float32 pixel offsets on t's grid, on the inputs' device, such that
    target(p) ≈ source(p + flow(p)) (see `vidtoon.flow.warp`).
    """

    name: str

    def __call__(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor: ...


def to_gray_u8(frames: torch.Tensor) -> list[np.ndarray]:
    """N×3×H×W in [-1, 1] -> N contiguous H×W uint8 luma images (BT.601 weights)."""
    weights = torch.tensor([0.299, 0.587, 0.114], device=frames.device, dtype=torch.float32).view(1, 3, 1, 1)
    luma = ((frames.float() + 1) * 127.5 * weights).sum(1).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    return [np.ascontiguousarray(image) for image in luma]
