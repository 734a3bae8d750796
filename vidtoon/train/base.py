"""What every trainer shares: one device, autocast precision, channels_last, Adam with CycleGAN's
learning-rate schedule, a gradient scaler for fp16, and a state dict of plain tensors."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vidtoon.device import check_precision
from vidtoon.registry import Registry
from vidtoon.train.config import RunConfig
from vidtoon.train.losses import linear_decay

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def init_weights(model: nn.Module, gain: float = 0.02) -> nn.Module:
    """CycleGAN's initialisation: conv weights N(0, gain²), biases 0, norm weights N(1, gain²)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, gain)
            nn.init.zeros_(module.bias)
    return model


def set_requires_grad(models: list[nn.Module], flag: bool) -> None:
    for model in models:
        for parameter in model.parameters():
            parameter.requires_grad_(flag)


class Trainer:
    """Base of the CycleGAN and CAAE trainers.

    Subclasses fill `models` and `optimizers` (name -> object) and implement `train_step(batch) -> losses`,
    `sample_rows(batch) -> rows of images` and `exported_generator()`. Extra state goes in `extra_state()`.

    Args:
        precision: "fp32", "bf16" (autocast) or "fp16" (autocast with a gradient scaler; CUDA only).
    """

    kind = ""

    def __init__(self, config: RunConfig, *, device: torch.device, precision: str):
        check_precision(precision, device)
        self.config = config
        self.device = device
        self.precision = precision
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
        self.models: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def autocast(self):
        dtype = DTYPES.get(self.precision)
        return torch.autocast(self.device.type, dtype=dtype) if dtype is not None else nullcontext()

    def prepare(self, model: nn.Module, *, normal_init: bool = True) -> nn.Module:
        """Initialise (N(0, 0.02) when `normal_init`, else PyTorch's defaults), move to the device and memory format, train mode.

        N(0, 0.02) suits networks with normalisation layers (CycleGAN); without them (the CAAE) it shrinks the
        signal layer by layer to nothing, and PyTorch's fan-in-scaled defaults are the right start.
        """
        if normal_init:
            init_weights(model)
        return model.to(self.device, memory_format=self.memory_format).train()

    def adam(self, models: list[nn.Module]) -> torch.optim.Optimizer:
        parameters = [p for model in models for p in model.parameters()]
        return torch.optim.Adam(parameters, lr=self.config.lr, betas=(self.config.beta1, self.config.beta2))

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        """A batch N×3×H×W onto the device, in the memory format of the models."""
        return x.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)

    def set_step(self, step: int) -> float:
        """Set every optimiser's learning rate for step `step` (constant, then linear decay); returns it."""
        lr = self.config.lr * linear_decay(step, steps=self.config.steps, decay_start=self.config.decay_start)
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = lr
        return lr

    def minimise(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)

    def start_fresh(self) -> None:
        """Called once on a new run (not on a resumed one), before its first step: e.g. load the weights it starts from."""

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        raise NotImplementedError

    @torch.no_grad()
    def sample_rows(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Rows of a sample grid, each N×3×H×W in [-1, 1] (inputs, translations, reconstructions)."""
        raise NotImplementedError

    def exported_generator(self, direction: str) -> tuple[nn.Module, str, dict[str, Any], tuple[str, ...]]:
        """(generator, registry family, its kwargs, style labels) for `vidtoon export`."""
        raise NotImplementedError

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """Models, optimisers, scaler and extras: plain tensors and numbers only."""
        return {
            "models": {name: model.state_dict() for name, model in self.models.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, model in self.models.items():
            model.load_state_dict(state["models"][name], strict=True)
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.load_extra_state(state.get("extra", {}))

    def train(self, mode: bool = True) -> None:
        for model in self.models.values():
            model.train(mode)


@dataclass(frozen=True)
class TrainerKind:
    """One trainer (`vidtoon train NAME`): its config class, trainer class and data builder ((config, device) ->
    TrainData: the images held on that device, None: the CPU), and `check` (config -> None, raises): what a new run
    checks before its data loads (files it names, cheap)."""

    config: type[RunConfig]
    trainer: Callable[..., Trainer]
    data: Callable[[Any, torch.device | None], Any]
    check: Callable[[Any], None] | None = None


# trainer name -> TrainerKind; each trainer module registers its own (imported by name in vidtoon.train.run)
TRAINERS: Registry[TrainerKind] = Registry("trainer")
