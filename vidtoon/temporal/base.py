"""The temporal stage's protocol, its registry of modes, and the mode that does nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vidtoon.errors import UsageError
from vidtoon.registry import Registry
from vidtoon.settings import CONSISTENCY_MODES, DEFAULT_STRENGTH

if TYPE_CHECKING:
    import numpy as np
    import torch


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

    def blend_u8(self, sources_u8: list[np.ndarray], translated_u8: list[np.ndarray]) -> list[np.ndarray]:
        """The same on uint8 frames (`FlowBlend.blend_u8`'s form)."""
        return list(translated_u8)

    def reset(self) -> None:
        pass


@TEMPORAL_MODES.register("none")
def build_pass_through(**_settings) -> PassThrough:
    """`--consistency none`: per-frame translations, unchanged."""
    return PassThrough()


class FlowBlendSettings:
    """What both flow-blend stages (OpenCV `FlowBlend`, torch `TorchFlowBlend`) are made with, checked once.

    Args:
        flow: the flow backend (computed on the input frames).
        strength: weight of the warped previous output where the flow is trustworthy (0..1).
        flow_max_side, photometric_tolerance, outlier_threshold, cut_fraction, feather, contraction, threads: see
            `FlowBlend` (`TorchFlowBlend` runs on its device's own threads).
    """

    def __init__(
        self,
        flow,
        *,
        strength: float = DEFAULT_STRENGTH,
        flow_max_side: int = 640,
        photometric_tolerance: float = 0.6,
        outlier_threshold: float = 0.8,
        cut_fraction: float = 0.35,
        feather: int = 9,
        contraction: float = 0.15,
        threads: int | None = None,
    ):
        if not 0.0 <= strength < 1.0:
            raise UsageError(
                f"--strength must be in [0, 1), got {strength}",
                hint=f"0 keeps each frame as translated; {DEFAULT_STRENGTH} is the default",
            )
        self.flow = flow
        self.strength = strength
        self.flow_max_side = flow_max_side
        self.photometric_tolerance = photometric_tolerance
        self.outlier_threshold = outlier_threshold
        self.cut_fraction = cut_fraction
        self.feather = feather | 1
        self.contraction = contraction
        self.threads = threads
        self.cuts = 0  # scene cuts seen (for reports and tests)
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError
