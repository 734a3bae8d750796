"""Loading published first-order-motion-model checkpoints safely: `torch.load(weights_only=True)` (a pickle
that refers to code is refused, nothing from the file is executed), the architecture's sizes read from the
state dicts' shapes, and the weights loaded strictly.

A checkpoint (`vox-cpk.pth.tar`) is a dict with `generator` and `kp_detector` state dicts.
"""

from __future__ import annotations

import logging
import pickle
import re
from dataclasses import asdict
from pathlib import Path

import torch
from torch import Tensor

from vidtoon.animate.fomm_model import FommConfig, KeypointDetector, OcclusionAwareGenerator
from vidtoon.errors import InputError

log = logging.getLogger(__name__)


def _count(state: dict[str, Tensor], pattern: str) -> int:
    found = {int(m.group(1)) for key in state if (m := re.fullmatch(pattern, key))}
    return max(found) + 1 if found else 0


def _scale_from_kernel(state: dict[str, Tensor], key: str) -> float:
    if key not in state:
        return 1.0
    size = state[key].shape[-1]
    for scale in (0.5, 0.25, 0.125, 0.0625):
        if 2 * round((1 / scale - 1) / 2 * 4) + 1 == size:
            return scale
    raise InputError(f"anti-aliasing kernel of size {size} matches no known scale", hint="is this a FOMM checkpoint?")


def infer_config(kp_state: dict[str, Tensor], generator_state: dict[str, Tensor]) -> FommConfig:
    """The architecture's sizes read from the state dicts' shapes (temperature and variance as published)."""
    kp_blocks = _count(kp_state, r"predictor\.encoder\.down_blocks\.(\d+)\.conv\.weight")
    dm_blocks = _count(generator_state, r"dense_motion_network\.hourglass\.encoder\.down_blocks\.(\d+)\.conv\.weight")
    down_blocks = _count(generator_state, r"down_blocks\.(\d+)\.conv\.weight")
    kp_first = kp_state["predictor.encoder.down_blocks.0.conv.weight"]
    dm_first = generator_state["dense_motion_network.hourglass.encoder.down_blocks.0.conv.weight"]
    num_kp = kp_state["kp.weight"].shape[0]
    num_channels = kp_first.shape[1]
    # Not in the weights: the keypoint head's padding (0), softmax temperature (0.1), keypoint variance (0.01),
    # as in every published config.
    return FommConfig(
        num_kp=num_kp,
        num_channels=num_channels,
        estimate_jacobian="jacobian.weight" in kp_state,
        kp_block_expansion=kp_first.shape[0] // 2,
        kp_max_features=max(kp_state[f"predictor.encoder.down_blocks.{i}.conv.weight"].shape[0] for i in range(kp_blocks)),
        kp_num_blocks=kp_blocks,
        kp_scale=_scale_from_kernel(kp_state, "down.weight"),
        block_expansion=generator_state["first.conv.weight"].shape[0],
        max_features=max(generator_state[f"down_blocks.{i}.conv.weight"].shape[0] for i in range(down_blocks)),
        num_down_blocks=down_blocks,
        num_bottleneck_blocks=_count(generator_state, r"bottleneck\.r(\d+)\.conv1\.weight"),
        estimate_occlusion_map="dense_motion_network.occlusion.weight" in generator_state,
        dm_block_expansion=dm_first.shape[0] // 2,
        dm_max_features=max(
            generator_state[f"dense_motion_network.hourglass.encoder.down_blocks.{i}.conv.weight"].shape[0]
            for i in range(dm_blocks)
        ),
        dm_num_blocks=dm_blocks,
        dm_scale=_scale_from_kernel(generator_state, "dense_motion_network.down.weight"),
    )


def _read_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise InputError("checkpoint not found", path=path, hint="give the FOMM checkpoint file, e.g. vox-cpk.pth.tar")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL (\S+) was not an allowed global", str(exc))
        if found is None:
            raise InputError(
                "cannot be read as a PyTorch checkpoint (damaged, or another format)",
                path=path,
                hint="give the FOMM checkpoint file, e.g. vox-cpk.pth.tar",
            ) from None
        raise InputError(
            f"refused: the checkpoint refers to code ({found.group(1)}), not only tensors and plain values",
            path=path,
            hint="vidtoon never runs code from a checkpoint; use the published FOMM weights",
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise InputError(
            f"cannot be read as a PyTorch checkpoint ({exc})", path=path, hint="the file may be damaged or another format"
        ) from None


def load_fomm(path: str | Path, *, device: torch.device | str = "cpu") -> tuple[KeypointDetector, OcclusionAwareGenerator]:
    """The keypoint detector and generator of a published FOMM checkpoint (dict with `kp_detector` and
    `generator` state dicts), in eval mode on `device`. Sizes come from the weights; loading is strict.

    Raises:
        InputError: missing, unreadable, holds code (refused), or not a FOMM checkpoint.
    """
    path = Path(path)
    checkpoint = _read_checkpoint(path)
    if not isinstance(checkpoint, dict) or not {"kp_detector", "generator"} <= checkpoint.keys():
        keys = ", ".join(map(str, list(checkpoint)[:6])) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise InputError(
            f"not a first-order-motion-model checkpoint (has {keys}; expected kp_detector and generator)",
            path=path,
            hint="use vox-cpk.pth.tar (or another FOMM checkpoint) from the first-order-model project",
        )
    kp_state, generator_state = checkpoint["kp_detector"], checkpoint["generator"]
    try:
        config = infer_config(kp_state, generator_state)
    except KeyError as exc:
        raise InputError(f"not a first-order-motion-model checkpoint (no {exc} weights)", path=path) from None
    kp_detector, generator = KeypointDetector(config), OcclusionAwareGenerator(config)
    for module, state, name in ((kp_detector, kp_state, "kp_detector"), (generator, generator_state, "generator")):
        state = dict(state)
        for key, value in module.state_dict().items():  # older BatchNorm states lack the batch counter
            if key.endswith("num_batches_tracked") and key not in state:
                state[key] = value
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise InputError(
                f"{name} weights do not fit the architecture ({str(exc).splitlines()[0]})",
                path=path,
                hint="the checkpoint is not a first-order motion model, or a variant vidtoon does not know",
            ) from None
    log.debug("FOMM checkpoint %s: %s", path, asdict(config))
    return kp_detector.to(device).eval(), generator.to(device).eval()
