"""Translators: whatever turns a batch of frames into restyled frames (a torch generator, an ONNX graph).

The pipeline only sees this interface: `x` is N×3×H×W float32 in [-1, 1] on the translator's
device, the result has the same shape and range. H and W are multiples of `size_multiple`; a
translator with a `fixed_size` (H, W) only takes exactly that size (the pipeline tiles for it).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Protocol

import torch
from torch import nn

from vidtoon.device import check_precision
from vidtoon.errors import UsageError
from vidtoon.models.checkpoint import ModelCard


class Translator(Protocol):
    size_multiple: int
    fixed_size: tuple[int, int] | None
    device: torch.device

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W in [-1, 1] -> N×3×H×W in [-1, 1]."""


class TorchTranslator:
    """A registered generator with its card, on one device, with optional autocast precision.

    Args:
        precision: "fp32", "bf16" or "fp16" (autocast; fp16 only on CUDA).
        label: style label for a conditional model (CAAE), by name; required there, refused elsewhere.
        channels_last: run convolutions in channels-last memory format (faster on CPU and tensor cores).
    """

    fixed_size = None

    def __init__(
        self,
        model: nn.Module,
        card: ModelCard,
        *,
        device: torch.device,
        precision: str = "fp32",
        label: str | None = None,
        channels_last: bool = True,
    ):
        from vidtoon.models.catalog import get_family

        check_precision(precision, device)
        self.card = card
        self.device = device
        self.precision = precision
        self.size_multiple = card.size_multiple
        self.conditional = get_family(card.family).conditional
        self.label_index: int | None = None
        if self.conditional:
            if not card.styles:
                raise UsageError(f"the {card.family} model has no style labels in its card")
            if label is None:
                raise UsageError(
                    "this model holds several styles: choose one with --to-label", hint=f"labels: {', '.join(card.styles)}"
                )
            if label not in card.styles:
                raise UsageError(f"unknown style label {label!r}", hint=f"labels of this model: {', '.join(card.styles)}")
            self.label_index = card.styles.index(label)
        elif label is not None:
            raise UsageError("--to-label only applies to a multi-style (CAAE) model")
        self.channels_last = channels_last
        self.model = model.to(device).eval()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.card.value_range
        if (low, high) != (-1.0, 1.0):
            x = (x + 1) * ((high - low) / 2) + low
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)
        autocast = torch.autocast(self.device.type, dtype=dtype) if dtype is not None else nullcontext()
        with autocast:
            if self.conditional:
                label = torch.full((x.shape[0],), self.label_index, dtype=torch.long, device=x.device)
                y = self.model(x, label)
            else:
                y = self.model(x)
        y = y.float()
        if (low, high) != (-1.0, 1.0):
            y = (y - low) * (2 / (high - low)) - 1
        memory_format = torch.channels_last if self.channels_last and y.dim() == 4 else torch.contiguous_format
        return y.clamp_(-1, 1).contiguous(memory_format=memory_format)


class IdentityTranslator:
    """Frames that are already translated (`stabilize`: another tool's per-frame results), returned as they are."""

    size_multiple = 1
    fixed_size = None

    def __init__(self, device: torch.device):
        self.device = device

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x
