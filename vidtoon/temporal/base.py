"""The temporal stage's protocol, its registry of modes, and the mode that does nothing."""

from __future__ import annotations

from typing import Protocol

import torch

from vidtoon.registry import Registry
from vidtoon.settings import CONSISTENCY_MODES


class TemporalStage(Protocol):
    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1], consecutive frames -> N×3×H×W to encode."""

    def reset(self) -> None:
        """Forget the past (scene cut, seek, new segment)."""


# mode name -> builder(*, strength, flow, flow_preset, flow_weights, device) -> TemporalStage
TEMPORAL_MODES: Registry = Registry("consistency mode", hint=f"use one of {', '.join(CONSISTENCY_MODES)}")


class PassThrough:
    """No temporal processing: every frame is its own translation."""

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        return translated

    def reset(self) -> None:
        pass


@TEMPORAL_MODES.register("none")
def build_pass_through(**_settings) -> PassThrough:
    """`--consistency none`: per-frame translations, unchanged."""
    return PassThrough()
