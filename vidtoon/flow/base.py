"""The flow backend protocol and the frame conversions every backend needs."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from vidtoon.registry import Registry
from vidtoon.settings import FLOW_NAMES

if TYPE_CHECKING:  # torch is imported where tensors are handled: DIS on uint8 frames needs none
    import torch


class FlowBackend(Protocol):
    """Estimates optical flow between batches of frames.

    `__call__(target, source)` takes two N×3×H×W float tensors in [-1, 1] (frame t and frame s)
    and returns N×2×H×W float32 pixel offsets on t's grid, on the inputs' device, such that
    target(p) ≈ source(p + flow(p)) (see `vidtoon.flow.warp`).

    `estimate(targets_u8, sources_u8)` is the same for sequences of H×W×3 uint8 RGB frames (all one
    size), returning one H×W×2 float32 array per pair: the temporal stage's path (RAFT still batches).
    """

    name: str

    def __call__(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor: ...

    def estimate(self, targets_u8: Sequence[np.ndarray], sources_u8: Sequence[np.ndarray]) -> list[np.ndarray]: ...


# backend name -> builder(*, preset, weights, device) -> FlowBackend; each backend module registers its own
FLOW_BACKENDS: Registry = Registry("flow backend")


def make_flow(name: str = "dis", *, preset: str = "fast", weights: str | None = None, device=None) -> FlowBackend:
    """The backend `name` (see `FLOW_BACKENDS`). `preset` is DIS's; `weights` is RAFT's weights file. Only that
    backend's module is imported (RAFT's imports torch); an unknown name imports them all, so the error lists them."""
    import_module(f"vidtoon.flow.{name}" if name in FLOW_NAMES else "vidtoon.flow.catalog")
    return FLOW_BACKENDS.get(name)(preset=preset, weights=weights, device=device)


def to_rgb_u8(frames: torch.Tensor) -> list[np.ndarray]:
    """N×3×H×W in [-1, 1] -> N contiguous H×W×3 uint8 RGB frames."""
    from vidtoon.convert import unit_to_u8_numpy

    return [np.ascontiguousarray(frame) for frame in unit_to_u8_numpy(frames.detach().float())]


def gray_u8(frame_u8: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 RGB -> H×W uint8 luma (BT.601 weights)."""
    return cv2.cvtColor(frame_u8, cv2.COLOR_RGB2GRAY)


def stack_flows(flows: list[np.ndarray], device: torch.device) -> torch.Tensor:
    """N H×W×2 float32 arrays -> N×2×H×W float32 tensor on `device`."""
    import torch

    return torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).contiguous().to(device)


def frames_to_tensor(frames_u8: Sequence[np.ndarray]) -> torch.Tensor:
    """N H×W×3 uint8 RGB frames -> N×3×H×W float32 in [-1, 1] (CPU)."""
    from vidtoon.convert import u8_to_unit

    return u8_to_unit(np.stack(frames_u8), "cpu")


def check_pair(target: torch.Tensor, source: torch.Tensor) -> None:
    """Both N×3×H×W of one shape, or ValueError."""
    if target.shape != source.shape or target.ndim != 4 or target.shape[1] != 3:
        raise ValueError(f"target {tuple(target.shape)} and source {tuple(source.shape)} must both be N×3×H×W")
