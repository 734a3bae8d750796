"""The temporal stage: the one stateful compute step between translation and encoding.

`flow` mode (the default for videos): optical flow is computed on the *input* frames; the previous
*output* is warped onto the current frame and blended with the fresh translation where the flow
is trustworthy — visible in both frames (forward–backward consistent), photometrically
consistent in the input, and not across a scene cut. Occluded and disoccluded pixels come from
the fresh translation alone, so moving edges do not ghost; every frame keeps a (1 − strength)
share of its own translation, so errors fade instead of accumulating. A scene cut (too little of
the frame trustworthy) resets the state. `none` passes translations through.
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F

from vidtoon.errors import UsageError
from vidtoon.flow import FlowBackend, backward_warp, consistency_mask, make_flow

MODES = ("none", "flow")


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


class FlowBlend:
    """Flow-guided blending of the previous output into the current translation.

    Args:
        flow: the flow backend (computed on the input frames).
        strength: weight of the warped previous output where the flow is trustworthy (0..1).
        flow_max_side: flow is estimated on frames downscaled to this longer side (then scaled up).
        photometric_tolerance: mean |input_t − warped input_{t−1}| of low-passed colours (in [-1, 1]
            units) at which trust reaches zero (it ramps down linearly from no difference).
        cut_fraction: a frame with less than this fraction of trustworthy pixels starts a new shot.
        feather: side (px) of the box filters: trust-mask edges, colour low-pass.
            Defaults tuned on the DVP pairs (see scripts/bench_temporal.py).
    """

    def __init__(self, flow: FlowBackend, *, strength: float = 0.6, flow_max_side: int = 640,
                 photometric_tolerance: float = 0.3, cut_fraction: float = 0.35, feather: int = 9):
        if not 0.0 <= strength < 1.0:
            raise UsageError(f"--strength must be in [0, 1), got {strength}", hint="0 keeps each frame as translated; 0.6 is the default")
        self.flow = flow
        self.strength = strength
        self.flow_max_side = flow_max_side
        self.photometric_tolerance = photometric_tolerance
        self.cut_fraction = cut_fraction
        self.feather = feather | 1
        self.cuts = 0  # scene cuts seen (for reports and tests)
        self.reset()

    def reset(self) -> None:
        self._previous_source: torch.Tensor | None = None  # 1×3×H×W
        self._previous_output: torch.Tensor | None = None

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        if source.shape != translated.shape:
            raise ValueError(f"source {tuple(source.shape)} and translated {tuple(translated.shape)} differ in shape")
        if self._previous_source is not None and self._previous_source.shape[-2:] != source.shape[-2:]:
            self.reset()
        # Flow and trust are computed at flow resolution (≤ flow_max_side); only the warp and blend at full size.
        small = self._downscale(source)
        previous = small[:-1] if self._previous_source is None else torch.cat((self._previous_source, small[:-1]))
        first = 0 if self._previous_source is not None else 1  # the very first frame has no past
        targets = small[first:]
        if len(targets):
            backward = self.flow(targets, previous)  # flow t -> t-1
            forward = self.flow(previous, targets)  # flow t-1 -> t
            trust = self.trust(targets, previous, backward, forward)
            backward_full, trust_full = self._upscale(backward, trust, source.shape[-2:])
        outputs = []
        for i in range(source.shape[0]):
            if i < first:
                outputs.append(translated[i:i + 1])
            else:
                k = i - first
                outputs.append(self._blend(translated[i:i + 1], trust_full[k:k + 1], backward_full[k:k + 1]))
            self._previous_output = outputs[-1]
        self._previous_source = small[-1:]
        return torch.cat(outputs)

    def trust(self, source: torch.Tensor, previous_source: torch.Tensor, backward: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
        """Soft trust N×1×H×W in [0, 1]: where the flow is consistent and the input agrees with its warp.

        Occlusion: the forward–backward mask, shrunk by the feather radius (min-pool) and softened,
        so nothing is blended right at an occlusion edge. Photometric: |input_t − warped input_{t−1}|
        of the feather-box low-passed colours (fine texture and noise average out), ramping trust from 1 at
        zero difference down to 0 at `photometric_tolerance`.
        """
        visible = consistency_mask(backward, forward).float()
        shrunk = (box_filter(1 - visible, self.feather) < 1e-3).float()  # min-pool: untrusted grows by the radius
        occlusion = box_filter(shrunk, self.feather)
        # compare low-passed colours: fine texture and sensor noise warp imperfectly, wrong content does not match at all
        mismatch = source - backward_warp(previous_source, backward)
        difference = box_filter(mismatch, max(3, self.feather // 2 | 1)).abs().mean(1, keepdim=True)
        photometric = (1 - difference / self.photometric_tolerance).clamp_(0, 1)
        # and no pixel whose own colour is far off (the uncovered background behind a moving edge)
        photometric = photometric * (mismatch.abs().amax(1, keepdim=True) < 2 * self.photometric_tolerance)
        return occlusion * photometric

    def _blend(self, translated: torch.Tensor, trust: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
        if trust.mean().item() < self.cut_fraction or self._previous_output is None:
            self.cuts += self._previous_output is not None
            return translated  # a new shot: nothing from the past
        warped = backward_warp(self._previous_output, backward)
        weight = self.strength * trust
        return torch.lerp(translated, warped, weight)

    def _downscale(self, frames: torch.Tensor) -> torch.Tensor:
        height, width = frames.shape[-2:]
        scale = min(1.0, self.flow_max_side / max(height, width))
        if scale >= 1.0:
            return frames
        return F.interpolate(frames, size=(max(8, round(height * scale)), max(8, round(width * scale))), mode="area")

    @staticmethod
    def _upscale(flow: torch.Tensor, trust: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Flow (offsets scaled too) and trust from flow resolution to `size`."""
        if flow.shape[-2:] == size:
            return flow, trust
        (height, width), (small_h, small_w) = size, flow.shape[-2:]
        flow = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
        flow = flow * torch.tensor([width / small_w, height / small_h], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)
        return flow, F.interpolate(trust, size=size, mode="bilinear", align_corners=False)


def box_filter(x: torch.Tensor, size: int) -> torch.Tensor:
    """Mean over a size×size box around each pixel (edges: mean over the part inside): N×C×H×W -> N×C×H×W.

    Integral-image implementation: the cost does not grow with `size` (pooling ops do, a lot, on CPUs).
    """
    radius = size // 2
    height, width = x.shape[-2:]

    def along(values: torch.Tensor, dim: int, length: int) -> torch.Tensor:
        padded = F.pad(torch.cumsum(values, dim), (0, 0, 1, 0) if dim == 2 else (1, 0))
        index = torch.arange(length, device=values.device)
        upper = (index + radius + 1).clamp(max=length)
        lower = (index - radius).clamp(min=0)
        return padded.index_select(dim, upper) - padded.index_select(dim, lower), (upper - lower).to(values.dtype)

    rows, row_counts = along(x, 2, height)
    both, col_counts = along(rows, 3, width)
    return both / (row_counts.view(-1, 1) * col_counts.view(1, -1))


def make_temporal_stage(mode: str = "none", *, strength: float = 0.6, flow: str = "dis", flow_preset: str = "fast",
                        flow_weights: str | None = None, device=None) -> TemporalStage:
    """The temporal stage for `mode` (see MODES)."""
    if mode == "none":
        return PassThrough()
    if mode == "flow":
        return FlowBlend(make_flow(flow, preset=flow_preset, weights=flow_weights, device=device), strength=strength)
    raise UsageError(f"unknown consistency mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
