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
        previous = source[:-1] if self._previous_source is None else torch.cat((self._previous_source, source[:-1]))
        first = 0 if self._previous_source is not None else 1  # the very first frame has no past
        targets = source[first:]
        backward = forward = None
        if len(targets):
            backward = self._estimate(targets, previous)  # flow t -> t-1
            forward = self._estimate(previous, targets)  # flow t-1 -> t
        outputs = []
        for i in range(source.shape[0]):
            if i < first:
                outputs.append(translated[i:i + 1])
                continue
            k = i - first
            outputs.append(self._blend(source[i:i + 1], translated[i:i + 1], previous[k:k + 1], backward[k:k + 1], forward[k:k + 1]))
            self._previous_output = outputs[-1]
        if first:
            self._previous_output = outputs[-1]
        self._previous_source = source[-1:]
        return torch.cat(outputs)

    def trust(self, source: torch.Tensor, previous_source: torch.Tensor, backward: torch.Tensor, forward: torch.Tensor) -> torch.Tensor:
        """Soft trust N×1×H×W in [0, 1]: where the flow is consistent and the input agrees with its warp.

        Occlusion: the forward–backward mask, shrunk by the feather radius (min-pool) and softened,
        so nothing is blended right at an occlusion edge. Photometric: |input_t − warped input_{t−1}|
        of the feather-box low-passed colours (fine texture and noise average out), ramping trust from 1 at
        zero difference down to 0 at `photometric_tolerance`.
        """
        pad = self.feather // 2
        visible = consistency_mask(backward, forward).float()
        shrunk = -F.max_pool2d(-visible, self.feather, stride=1, padding=pad)
        occlusion = F.avg_pool2d(shrunk, self.feather, stride=1, padding=pad, count_include_pad=False)
        # compare low-passed colours: fine texture and sensor noise warp imperfectly, wrong content does not match at all
        mismatch = source - backward_warp(previous_source, backward)
        box = max(3, self.feather // 2 | 1)
        difference = F.avg_pool2d(mismatch, box, stride=1, padding=box // 2, count_include_pad=False).abs().mean(1, keepdim=True)
        photometric = (1 - difference / self.photometric_tolerance).clamp_(0, 1)
        # and no pixel whose own colour is far off (the uncovered background behind a moving edge)
        photometric = photometric * (mismatch.abs().amax(1, keepdim=True) < 2 * self.photometric_tolerance)
        return occlusion * photometric

    def _blend(self, source, translated, previous_source, backward, forward) -> torch.Tensor:
        trust = self.trust(source, previous_source, backward, forward)
        if trust.mean().item() < self.cut_fraction or self._previous_output is None:
            self.cuts += self._previous_output is not None
            return translated  # a new shot: nothing from the past
        warped = backward_warp(self._previous_output, backward)
        weight = self.strength * trust
        return weight * warped + (1 - weight) * translated

    def _estimate(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        height, width = target.shape[-2:]
        scale = min(1.0, self.flow_max_side / max(height, width))
        if scale >= 1.0:
            return self.flow(target, source)
        size = (max(8, round(height * scale)), max(8, round(width * scale)))
        small = self.flow(F.interpolate(target, size=size, mode="area"), F.interpolate(source, size=size, mode="area"))
        flow = F.interpolate(small, size=(height, width), mode="bilinear", align_corners=False)
        return flow * torch.tensor([width / size[1], height / size[0]], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)


def make_temporal_stage(mode: str = "none", *, strength: float = 0.6, flow: str = "dis", flow_preset: str = "fast",
                        flow_weights: str | None = None, device=None) -> TemporalStage:
    """The temporal stage for `mode` (see MODES)."""
    if mode == "none":
        return PassThrough()
    if mode == "flow":
        return FlowBlend(make_flow(flow, preset=flow_preset, weights=flow_weights, device=device), strength=strength)
    raise UsageError(f"unknown consistency mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
