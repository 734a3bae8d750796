"""The temporal stage's protocol, its registry of modes, and the mode that does nothing."""

from __future__ import annotations

import math
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
        feather: int = 5,
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


def photometric_ramp(area: int, tolerance: float) -> tuple[float, float, float, float]:
    """The trust mask's photometric ramp as a 1×4 affine row (`cv2.transform`'s matrix): |box sums| of RGB level
    differences over `area` pixels -> 1 − their mean magnitude over RGB / `tolerance` (in [-1, 1] units: a grey level
    is 1 / 127.5). Both flow-blend stages use it."""
    weight = -1 / (3 * area * 127.5 * tolerance)
    return weight, weight, weight, 1.0


def outlier_levels(threshold: float) -> int:
    """The largest difference in grey levels under `threshold` in [-1, 1] units (levels / 127.5 < threshold): a
    pixel whose difference in a channel exceeds it is an outlier. (The 1e-9: a threshold of exactly k levels, written
    k / 127.5, stays k whichever way the product rounds.)"""
    return math.ceil(threshold * 127.5 - 1e-9) - 1


def trust_size(height: int, width: int) -> tuple[int, int]:
    """(h, w) at which both flow-blend stages compute the trust mask for a flow of height × width: half of each side
    (rounded up, at least 8, at most the side). The mask is smooth (eroded and box-blurred); at half the flow's
    resolution it costs a quarter, and on 5 of 6 test sequences (DVP pairs, White-box-restyled clips) it removed more
    flicker for the same SSIM than at the flow's (docs/benchmarks.md, 2026-11-30)."""
    return min(height, max(8, (height + 1) // 2)), min(width, max(8, (width + 1) // 2))
