"""The temporal stage: the one stateful compute step between translation and encoding.

It sees each batch of input frames and their fresh translations, in order, and returns the
frames to encode. `none` passes translations through; flow-guided blending comes with the
temporal-consistency work. A scene cut or a seek calls `reset()`.
"""

from __future__ import annotations

from typing import Protocol

import torch

from vidtoon.errors import UsageError

MODES = ("none",)


class TemporalStage(Protocol):
    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1], consecutive frames -> N×3×H×W to encode."""

    def reset(self) -> None:
        """Forget the past (scene cut, seek, new segment)."""


class PassThrough:
    """No temporal processing: every frame is its own translation."""

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        return translated

    def reset(self) -> None:
        pass


def make_temporal_stage(mode: str = "none") -> TemporalStage:
    """The temporal stage for `mode` (see MODES)."""
    if mode == "none":
        return PassThrough()
    raise UsageError(f"unknown consistency mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
