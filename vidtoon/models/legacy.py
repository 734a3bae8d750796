"""Recognise other projects' generator state dicts by their key layout and shapes.

Known layouts:
- pytorch-CycleGAN-and-pix2pix `ResnetGenerator` (`latest_net_G_A.pth`, `*_net_G.pth` of `resnet_6blocks`/`resnet_9blocks`),
- pytorch-CycleGAN-and-pix2pix `UnetGenerator` (`unet_128`/`unet_256`, e.g. pix2pix's `latest_net_G.pth`),
- AnimeGANv2 PyTorch `Generator` (bryandlee/animegan2-pytorch: `face_paint_512_v2.pt`, `paprika.pt`, `celeba_distill.pt`).

Nothing here reads files: `vidtoon.models.checkpoint` loads the tensors (never executing code), passes them through
`clean_state_dict`, asks `model_from_state_dict` which architecture they fit, and loads them with `strict=True`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vidtoon.errors import InputError
from vidtoon.models.card import ModelCard
from vidtoon.models.catalog import build_model

KNOWN_LAYOUTS = (
    "pytorch-CycleGAN-and-pix2pix ResnetGenerator (e.g. latest_net_G_A.pth)",
    "pytorch-CycleGAN-and-pix2pix UnetGenerator (e.g. pix2pix latest_net_G.pth)",
    "AnimeGANv2 PyTorch Generator (e.g. paprika.pt, face_paint_512_v2.pt)",
)
_KNOWN_HINT = f"known layouts: {'; '.join(KNOWN_LAYOUTS)}"
UNKNOWN = "unknown (external checkpoint)"
_RUNNING_STATS = ("running_mean", "running_var", "num_batches_tracked")
_RESNET_BLOCK_CONV = re.compile(r"^model\.(\d+)\.conv_block\.(\d+)\.weight$")


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy of `state` ready for `load_state_dict(strict=True)`.

    Strips the `module.` prefix that `nn.DataParallel` adds, and drops running statistics of norm layers without
    parameters (InstanceNorm layers saved by PyTorch < 0.4 carry them; pytorch-CycleGAN-and-pix2pix drops them the same way).
    """
    state = {key.removeprefix("module."): value for key, value in state.items()}
    return {
        key: value
        for key, value in state.items()
        if not (key.rsplit(".", 1)[-1] in _RUNNING_STATS and f"{key.rsplit('.', 1)[0]}.weight" not in state)
    }


def model_from_state_dict(state: dict[str, torch.Tensor], path: Path) -> tuple[nn.Module, ModelCard]:
    """An unloaded model whose architecture fits `state`, and its card; load `clean_state_dict(state)` into it.

    Args:
        state: a foreign generator state dict (a `module.` prefix is allowed).
        path: the file it came from (names the card and any error).

    Raises:
        InputError: the layout is none of `KNOWN_LAYOUTS`, or it is one of them but not for RGB -> RGB.
    """
    state = clean_state_dict(state)
    if "block_a.0.1.weight" in state:
        family, kwargs, source = "animegan", _animegan_kwargs(state, path), "AnimeGANv2 PyTorch Generator"
    elif "model.model.0.weight" in state:
        family, kwargs, source = "cyclegan_unet", _unet_kwargs(state, path), "pytorch-CycleGAN-and-pix2pix UnetGenerator"
    elif "model.1.weight" in state and state["model.1.weight"].ndim == 4 and state["model.1.weight"].shape[-2:] == (7, 7):
        family, kwargs, source = "cyclegan_resnet", _resnet_kwargs(state, path), "pytorch-CycleGAN-and-pix2pix ResnetGenerator"
    else:
        first = ", ".join(list(state)[:3]) or "no tensors"
        raise InputError(f"unrecognised state-dict layout (keys start {first})", path=path, hint=_KNOWN_HINT)
    model = build_model(family, **kwargs)
    card = ModelCard(
        family=family,
        kwargs=kwargs,
        size_multiple=model.size_multiple,
        value_range=(-1.0, 1.0),
        name=path.stem,
        data=UNKNOWN,
        licence=UNKNOWN,
        notes={"source": source, "file": path.name},
    )
    return model, card


def _resnet_kwargs(state: dict[str, torch.Tensor], path: Path) -> dict[str, Any]:
    """`model.1.weight` is ngf×3×7×7; blocks are `model.<10+i>.conv_block.*`; with dropout the second conv is index 6, not 5."""
    stem = state["model.1.weight"]
    _require_rgb(stem.shape[1], "input", path)
    block_convs: dict[int, set[int]] = {}
    for key in state:
        if match := _RESNET_BLOCK_CONV.match(key):
            block_convs.setdefault(int(match[1]), set()).add(int(match[2]))
    n_blocks = len(block_convs)
    if sorted(block_convs) != list(range(10, 10 + n_blocks)):
        raise InputError(f"residual blocks at unexpected positions {sorted(block_convs)}", path=path, hint=_KNOWN_HINT)
    head = state.get(f"model.{10 + n_blocks + 7}.weight")
    _require_rgb(head.shape[0] if head is not None else -1, "output", path)
    return {
        "n_blocks": n_blocks,
        "ngf": int(stem.shape[0]),
        "use_dropout": any(6 in convs for convs in block_convs.values()),
        "norm": "batch" if "model.2.weight" in state else "instance",
        "upsample": "transpose",
    }


def _unet_kwargs(state: dict[str, torch.Tensor], path: Path) -> dict[str, Any]:
    """Walk the nested blocks: the outermost holds its submodule at `model.1`, every deeper block at `model.3`.

    `use_dropout` is False: a Dropout layer has no parameters, so a state dict cannot tell, and it is inactive in eval mode.
    """
    down = state["model.model.0.weight"]
    _require_rgb(down.shape[1], "input", path)
    _require_rgb(state["model.model.3.weight"].shape[1] if "model.model.3.weight" in state else -1, "output", path)
    num_downs, prefix = 1, "model.model.1.model."
    while any(key.startswith(prefix) for key in state):
        num_downs += 1
        prefix += "3.model."
    if num_downs < 5:
        raise InputError(f"a U-Net of {num_downs} levels; the original has at least 5", path=path, hint=_KNOWN_HINT)
    return {
        "num_downs": num_downs,
        "ngf": int(down.shape[0]),
        "use_dropout": False,
        "norm": "batch" if "model.model.1.model.2.weight" in state else "instance",
    }


def _animegan_kwargs(state: dict[str, torch.Tensor], path: Path) -> dict[str, Any]:
    """`block_a.0.1.weight` is (32·width)×3×7×7."""
    stem = state["block_a.0.1.weight"]
    _require_rgb(stem.shape[1], "input", path)
    return {"width": stem.shape[0] / 32, "align_corners": True}


def _require_rgb(channels: int, side: str, path: Path) -> None:
    if channels != 3:
        raise InputError(
            f"the generator's {side} has {channels} channels, vidtoon translates RGB (3)"
            if channels > 0
            else f"no {side} layer found where the layout puts it",
            path=path,
            hint=_KNOWN_HINT,
        )
