"""Whole-frame statistics for per-sample normalisation layers, so tiled inference matches whole frames.

InstanceNorm and GroupNorm normalise each sample by its own mean and variance. Run on tiles, each
tile is normalised by *its* statistics: colours and contrast shift from tile to tile. Inside
`SharedNormStats`, a first pass over the whole frame (downscaled to fit) records every such
layer's statistics; the tiles are then normalised with those, as the whole frame would be.
"""

from __future__ import annotations

import types

import torch
from torch import nn

_PER_SAMPLE = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.GroupNorm)


def per_sample_norm_layers(model: nn.Module) -> list[nn.Module]:
    """InstanceNorm/GroupNorm layers of `model` that normalise by per-sample statistics."""
    return [m for m in model.modules() if isinstance(m, _PER_SAMPLE) and not getattr(m, "track_running_stats", False)]


class SharedNormStats:
    """Context manager: `record()` then run the whole (downscaled) frame; `reuse()` then run its tiles.

    Statistics are per channel (InstanceNorm) or per group (GroupNorm), shape 1×C×1×1 or 1×G×1×1×1,
    and broadcast over every tile of the recorded frame. Outside `record`/`reuse`, layers behave
    as usual. The model is restored on exit.
    """

    def __init__(self, model: nn.Module):
        self.layers = per_sample_norm_layers(model)
        self.mode: str | None = None
        self._stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __enter__(self) -> SharedNormStats:
        for layer in self.layers:
            layer.forward = types.MethodType(self._forward_for(layer), layer)
        return self

    def __exit__(self, *exc) -> None:
        for layer in self.layers:
            del layer.forward  # back to the class's forward
        self._stats.clear()

    def record(self) -> None:
        self.mode = "record"
        self._stats.clear()

    def reuse(self) -> None:
        if len(self._stats) != len(self.layers):
            raise RuntimeError("reuse() before a recorded pass over the whole frame")
        self.mode = "reuse"

    def _forward_for(self, layer: nn.Module):
        original = type(layer).forward
        group = isinstance(layer, nn.GroupNorm)

        def forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
            if self.mode is None:
                return original(module, x)
            shape = x.shape
            grouped = x.float().reshape(shape[0], module.num_groups, -1) if group else x.float().flatten(2)
            if self.mode == "record":
                var, mean = torch.var_mean(grouped, dim=-1, keepdim=True, correction=0)
                self._stats[id(module)] = (mean, var)
            mean, var = self._stats[id(module)]
            y = ((grouped - mean) * torch.rsqrt(var + module.eps)).reshape(shape)
            if getattr(module, "affine", False) and module.weight is not None:
                view = (1, -1) + (1,) * (len(shape) - 2)
                y = y * module.weight.float().view(view) + module.bias.float().view(view)
            return y.to(x.dtype)

        return forward
