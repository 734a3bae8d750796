"""RAFT optical flow (Teed & Deng 2020) with torchvision's architecture and weights from a local file.

Nothing is downloaded: the weights file comes from `--flow-weights FILE` or `$VIDTOON_RAFT_WEIGHTS`,
a torchvision RAFT state dict (`.safetensors`, or a `.pth`/`.pt` read with `weights_only=True`).
Large or small is read from the state dict's shapes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from vidtoon.errors import InputError, UsageError
from vidtoon.flow.base import FLOW_BACKENDS, check_pair, frames_to_tensor

WEIGHTS_ENV = "VIDTOON_RAFT_WEIGHTS"
if TYPE_CHECKING:
    from torchvision.models.optical_flow import RAFT

_HINT = f"give a torchvision RAFT state dict with --flow-weights FILE or ${WEIGHTS_ENV} (--flow dis needs no weights)"
_FIRST_CONV = "feature_encoder.convnormrelu.0.weight"  # out channels: 64 in raft_large, 32 in raft_small
_MIN_SIZE = 128  # RAFT's correlation pyramid needs feature maps of ≥ 16 cells at 1/8 scale
_CHANNELS = {64: "raft_large", 32: "raft_small"}


def weights_path(weights: str | os.PathLike | None = None) -> Path:
    """The RAFT weights file: `weights`, else `$VIDTOON_RAFT_WEIGHTS`; it must exist.

    Raises:
        UsageError: neither is given.
        InputError: the file does not exist.
    """
    value = weights if weights not in (None, "") else os.environ.get(WEIGHTS_ENV)
    if not value:
        raise UsageError("the RAFT flow backend needs a weights file and none was given", hint=_HINT)
    path = Path(value).expanduser()
    if not path.is_file():
        raise InputError("RAFT weights file not found", path=path, hint=_HINT)
    return path


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a `.safetensors` file, or of a `torch.save`d state dict read with `weights_only=True`.

    Raises:
        InputError: the file cannot be read, holds more than tensors, or is not a mapping of tensors.
    """
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # safetensors, pickle and zip each raise their own types for a damaged or foreign file
        what = "cannot read RAFT weights: neither a .safetensors file nor a state dict torch.load reads with weights_only=True"
        raise InputError(f"{what} ({type(error).__name__})", path=path, hint=_HINT) from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError("not a RAFT state dict (expected a mapping of names to tensors)", path=path, hint=_HINT)
    return state


def build_raft(state: dict[str, torch.Tensor], *, path: str | os.PathLike | None = None) -> RAFT:
    """torchvision's raft_large or raft_small (chosen from the state dict's shapes) with `state` loaded strictly, in eval mode.

    Raises:
        InputError: the state dict is not torchvision RAFT's (unknown shapes, missing or extra keys).
    """
    name = architecture(state, path=path)
    from torchvision.models import optical_flow  # 2-6 s to import: only when a RAFT model is built

    model = getattr(optical_flow, name)(weights=None, progress=False)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(line.strip() for line in str(error).splitlines()[1:]) or str(error)
        detail = detail if len(detail) <= 200 else detail[:200] + "…"
        raise InputError(f"does not fit torchvision's {name}: {detail}", path=path, hint=_HINT) from error
    return model.eval()


def architecture(state: dict[str, torch.Tensor], *, path: str | os.PathLike | None = None) -> str:
    """ "raft_large" or "raft_small", from the output channels of the first feature-encoder convolution (64 or 32).

    Raises:
        InputError: that tensor is missing or has another shape.
    """
    first = state.get(_FIRST_CONV)
    channels = first.shape[0] if first is not None and first.ndim == 4 and first.shape[1:] == (3, 7, 7) else None
    if channels not in _CHANNELS:
        found = "missing" if first is None else f"shape {tuple(first.shape)}"
        raise InputError(f"not a torchvision RAFT state dict ({_FIRST_CONV}: {found})", path=path, hint=_HINT)
    return _CHANNELS[channels]


def pad_to_multiple(x: torch.Tensor, multiple: int = 8, minimum: int = 0) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Replicate-pad N×C×H×W so H and W are multiples of `multiple` and at least `minimum`, split evenly on both sides.

    Returns the padded tensor and (left, right, top, bottom), the amounts to crop off afterwards.
    """
    height, width = x.shape[-2:]
    pad_h = max(minimum, height + -height % multiple) - height
    pad_w = max(minimum, width + -width % multiple) - width
    pads = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
    return (F.pad(x, pads, mode="replicate") if any(pads) else x), pads


class RAFTFlow:
    """RAFT flow on `device`, same protocol and convention as `DISFlow` (see `vidtoon.flow.base.FlowBackend`).

    `__call__(target, source)`: two N×3×H×W tensors in [-1, 1] (RAFT's own input range) -> N×2×H×W
    float32 flow from target to source, target(p) ≈ source(p + flow(p)), on the inputs' device.
    Frames are replicate-padded to multiples of 8 (and to at least 128 px, which RAFT's correlation
    pyramid needs), run on `device` in batches of `batch_size` pairs with `num_flow_updates`
    refinement iterations, and the flow is cropped back to H×W.

    Args:
        weights: the weights file; None reads `$VIDTOON_RAFT_WEIGHTS` (see `weights_path`).
        device: where the model runs (resolved once by the caller); None means CPU.
        num_flow_updates: RAFT's recurrent refinement iterations (12 in the paper's evaluation).
        batch_size: pairs per forward pass.
    """

    name = "raft"

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        device: torch.device | str | None = None,
        *,
        num_flow_updates: int = 12,
        batch_size: int = 8,
    ):
        if num_flow_updates < 1 or batch_size < 1:
            raise UsageError(f"RAFT needs num_flow_updates ≥ 1 and batch_size ≥ 1, got {num_flow_updates} and {batch_size}")
        self.weights = weights_path(weights)
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.num_flow_updates = num_flow_updates
        self.batch_size = batch_size
        state = load_state_dict(self.weights)
        self.architecture = architecture(state, path=self.weights)
        self.model = build_raft(state, path=self.weights).to(self.device)

    @torch.no_grad()
    def __call__(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        check_pair(target, source)
        height, width = target.shape[-2:]
        flows = []
        for start in range(0, target.shape[0], self.batch_size):
            stop = start + self.batch_size
            pair = torch.cat((target[start:stop], source[start:stop])).to(self.device, torch.float32)
            padded, (left, _, top, _) = pad_to_multiple(pair, 8, _MIN_SIZE)
            image1, image2 = padded.chunk(2)
            flow = self.model(image1.contiguous(), image2.contiguous(), num_flow_updates=self.num_flow_updates)[-1]
            flows.append(flow[:, :, top : top + height, left : left + width].float())
        return torch.cat(flows).to(target.device).contiguous()

    def estimate(self, targets_u8: Sequence[np.ndarray], sources_u8: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not targets_u8:
            return []
        flows = self(frames_to_tensor(targets_u8), frames_to_tensor(sources_u8))  # batched on the device
        return list(flows.permute(0, 2, 3, 1).cpu().numpy())


@FLOW_BACKENDS.register("raft")
def build_backend(*, preset: str = "fast", weights: str | None = None, device=None, **_settings):
    """`--flow raft`: torchvision's RAFT with local `weights` (or $VIDTOON_RAFT_WEIGHTS), on `device`."""
    return RAFTFlow(weights=weights, device=device)
