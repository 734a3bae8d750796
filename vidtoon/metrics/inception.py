"""Inception-v3 as FID measures with it: the pool3 (2048-d) features of the network pytorch-fid builds.

FID numbers are only comparable when the features come from the same network, weights and input
handling. pytorch-fid's network is torchvision's Inception-v3 layout (1008-way classifier, no
auxiliary head) with four changes the TensorFlow original has: the average pools inside the
InceptionA, InceptionC and the first InceptionE block leave the zero padding out of the average
(`count_include_pad=False`), and the last InceptionE block pools with a 3×3 max instead of an
average. Its weights (`pt_inception-2015-12-05-6726825d.pth`, ported from TensorFlow's
`inception-2015-12-05`) are not in any package and vidtoon never downloads anything: the user
fetches the file once from `FID_WEIGHTS_URL` and passes it with `--inception-weights`.

Input handling ("legacy", pytorch-fid's): RGB in [0, 1], resized to 299×299 by bilinear
interpolation (`align_corners=False`, no antialiasing), then mapped to [-1, 1] by 2x − 1. Or ("clean",
clean-fid's resize): PIL's antialiased bicubic on float channels, then (x − 128) / 128. clean-fid runs a
TorchScript export of the TensorFlow graph where vidtoon runs pytorch-fid's port of the same weights, so "clean"
numbers are close to clean-fid's, not equal. `FIDInceptionV3.forward` takes the 299×299 [-1, 1] tensor;
`to_network_input` makes it from frames.

Weights load with `torch.load(weights_only=True)` (or safetensors), which executes no code; the keys
and shapes are checked against this architecture first, so a wrong file is one line naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidtoon.errors import InputError
from vidtoon.metrics.clean_resize import clean_resize
from vidtoon.settings import FID_MODES, FID_WEIGHTS_URL
from vidtoon.settings import FID_WEIGHTS_HINT as WEIGHTS_HINT

__all__ = ["FID_WEIGHTS_URL", "FEATURES", "FIDInceptionV3", "load_inception", "to_network_input"]
FEATURES = 2048
INPUT_SIZE = 299
MIN_INPUT_SIZE = 75  # the smallest input whose feature maps survive every stride


class Conv(nn.Module):
    """Convolution without bias, batch norm (eps 0.001, as TensorFlow's), ReLU: torchvision's BasicConv2d."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3×3 average pool, stride 1, that leaves the zero padding out of the average (TensorFlow's)."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def _max_pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 3, stride=1, padding=1)


class BlockA(nn.Module):
    """35×35 block: 1×1, 5×5, double 3×3 and pooled branches (64 + 64 + 96 + `pool_features` channels)."""

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = Conv(cin, 64, 1)
        self.branch5x5_1, self.branch5x5_2 = Conv(cin, 48, 1), Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1, self.branch3x3dbl_2 = Conv(cin, 64, 1), Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, padding=1)
        self.branch_pool = Conv(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        five = self.branch5x5_2(self.branch5x5_1(x))
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), five, double, self.branch_pool(_tf_avg_pool(x))], 1)


class BlockB(nn.Module):
    """Reduction 35×35 → 17×17: strided 3×3, strided double 3×3 and a max pool."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1, self.branch3x3dbl_2 = Conv(cin, 64, 1), Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), double, F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    """17×17 block with factorised 7×7 convolutions (1×7 then 7×1), 4 × 192 channels out."""

    def __init__(self, cin: int, c7: int):
        super().__init__()
        row, col = dict(kernel=(1, 7), padding=(0, 3)), dict(kernel=(7, 1), padding=(3, 0))
        self.branch1x1 = Conv(cin, 192, 1)
        self.branch7x7_1, self.branch7x7_2, self.branch7x7_3 = Conv(cin, c7, 1), Conv(c7, c7, **row), Conv(c7, 192, **col)
        self.branch7x7dbl_1, self.branch7x7dbl_2 = Conv(cin, c7, 1), Conv(c7, c7, **col)
        self.branch7x7dbl_3, self.branch7x7dbl_4 = Conv(c7, c7, **row), Conv(c7, c7, **col)
        self.branch7x7dbl_5 = Conv(c7, 192, **row)
        self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seven = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            double = layer(double)
        return torch.cat([self.branch1x1(x), seven, double, self.branch_pool(_tf_avg_pool(x))], 1)


class BlockD(nn.Module):
    """Reduction 17×17 → 8×8: strided 3×3 after 1×1, strided 3×3 after 1×7/7×1, and a max pool."""

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1, self.branch3x3_2 = Conv(cin, 192, 1), Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = Conv(cin, 192, 1)
        self.branch7x7x3_2 = Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = Conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seven = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """8×8 block with split 1×3/3×1 branches (320 + 768 + 768 + 192 = 2048 channels); `pool` is the FID variant's
    pooling of the pool branch (TensorFlow's average in Mixed_7b, a max in Mixed_7c)."""

    def __init__(self, cin: int, pool: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.pool = pool
        self.branch1x1 = Conv(cin, 320, 1)
        self.branch3x3_1 = Conv(cin, 384, 1)
        self.branch3x3_2a, self.branch3x3_2b = Conv(384, 384, (1, 3), padding=(0, 1)), Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1, self.branch3x3dbl_2 = Conv(cin, 448, 1), Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        split = self.branch3x3_1(x)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(split),
                self.branch3x3_2b(split),
                self.branch3x3dbl_3a(double),
                self.branch3x3dbl_3b(double),
                self.branch_pool(self.pool(x)),
            ],
            1,
        )


class FIDInceptionV3(nn.Module):
    """pytorch-fid's FID Inception-v3 up to its final average pool: N×3×H×W in [-1, 1] → N×2048 features.

    Parameter names are torchvision's (`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch1x1.bn.running_mean`, ...), so
    pytorch-fid's weights file loads as it is. H and W are normally 299 (see `to_network_input`); the network is
    fully convolutional down to the pool, so any size of at least 75 runs (small sizes only suit tests).
    """

    num_features = FEATURES

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = Conv(80, 192, 3)
        self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = BlockA(192, 32), BlockA(256, 64), BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b, self.Mixed_6c = BlockC(768, 128), BlockC(768, 160)
        self.Mixed_6d, self.Mixed_6e = BlockC(768, 160), BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b, self.Mixed_7c = BlockE(1280, _tf_avg_pool), BlockE(2048, _max_pool)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: N×3×H×W float in [-1, 1] (H, W ≥ 75; 299 for standard numbers) → N×2048 pool3 features (float)."""
        if x.ndim != 4 or x.shape[1] != 3 or min(x.shape[-2:]) < MIN_INPUT_SIZE:
            raise ValueError(f"FIDInceptionV3: expected N×3×H×W with H, W ≥ {MIN_INPUT_SIZE}, got {tuple(x.shape)}")
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c):
            x = block(x)
        for block in (self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        return x.mean(dim=(2, 3))


def to_network_input(
    frames_u8: np.ndarray | torch.Tensor, *, size: int | None = INPUT_SIZE, mode: str = "legacy", device=None
) -> torch.Tensor:
    """Frames as the network takes them: N×H×W×3 uint8 RGB → N×3×size×size float in [-1, 1].

    mode "legacy" (pytorch-fid's): values go to [0, 1] (/255), are resized bilinearly to size×size
    (`align_corners=False`, no antialiasing: a shrink by more than two skips pixels), then mapped by 2x − 1.
    mode "clean" (clean-fid's): each channel resized by PIL's bicubic filter as floats (`clean_resize`), then mapped
    by (x − 128) / 128 as clean-fid's network wrapper does.
    `size=None` keeps the frames' own size (tests only: numbers are then not comparable with anyone's).
    """
    if mode not in FID_MODES:
        raise ValueError(f"to_network_input: mode must be one of {FID_MODES}, got {mode!r}")
    frames = torch.as_tensor(frames_u8)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
        raise ValueError(f"to_network_input: expected N×H×W×3 uint8, got {tuple(frames.shape)} {frames.dtype}")
    if mode == "clean":
        resized = frames.numpy() if size is None else clean_resize(frames.cpu().numpy(), size)
        return (torch.from_numpy(np.ascontiguousarray(resized)).to(device).permute(0, 3, 1, 2).float() - 128) / 128
    x = frames.to(device).permute(0, 3, 1, 2).float() / 255
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return 2 * x - 1


# Keys a weights file may hold beyond the feature network: the 1008-way classifier pytorch-fid's file carries.
_CLASSIFIER = {"fc.weight": (1008, FEATURES), "fc.bias": (1008,)}


def load_inception(path: str | Path, *, device: str | torch.device = "cpu") -> FIDInceptionV3:
    """The FID Inception network with the weights in `path`, in eval mode on `device`.

    `path`: pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (read with `torch.load(weights_only=True)`) or a
    `.safetensors` file with the same keys. Its classifier (`fc.*`, 1008 classes) is allowed and unused; BatchNorm's
    `num_batches_tracked` counters may be present or not. Every other key must be this architecture's, with its shape.

    Raises:
        InputError: the file is missing, cannot be read as a state dict, or does not fit the architecture (one line
            naming the file, the missing/unexpected keys or the first wrong shapes, and where the right file comes from).
    """
    path = Path(path)
    state = _read_state_dict(path)
    network = FIDInceptionV3()
    check_state_dict(state, network, path)
    wanted = network.state_dict()
    network.load_state_dict({key: value for key, value in state.items() if key in wanted}, strict=False)
    return network.eval().to(device)


def check_state_dict(state: dict[str, torch.Tensor], network: nn.Module, path: Path) -> None:
    """Raise InputError unless `state`'s keys and shapes are `network`'s (classifier and BN counters tolerated)."""
    wanted = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    optional = {key for key in wanted if key.endswith("num_batches_tracked")}
    missing = sorted(set(wanted) - set(state) - optional)
    unexpected = sorted(set(state) - set(wanted) - set(_CLASSIFIER))
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s) ({_few(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s) ({_few(unexpected)})")
    expected_shapes = wanted | _CLASSIFIER
    shapes = [
        f"{key} is {tuple(value.shape)}, expected {expected_shapes[key]}"
        for key, value in state.items()
        if key in expected_shapes and tuple(value.shape) != expected_shapes[key]
    ]
    if shapes:
        problems.append(f"{len(shapes)} wrong shape(s) ({_few(shapes)})")
    if problems:
        guess = (
            " — it looks like torchvision's ImageNet Inception-v3, not the FID network"
            if any("AuxLogits" in k for k in unexpected)
            else ""
        )
        raise InputError(f"not FID Inception-v3 weights: {'; '.join(problems)}{guess}", path=path, hint=WEIGHTS_HINT)


def _few(items: list[str], shown: int = 3) -> str:
    return ", ".join(items[:shown]) + (", ..." if len(items) > shown else "")


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors in `path` by name, read without executing code."""
    if not path.exists():
        raise InputError("Inception weights file not found", path=path, hint=WEIGHTS_HINT)
    if not path.is_file():
        raise InputError("is not a file (expected Inception weights)", path=path, hint=WEIGHTS_HINT)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any unreadable file: torch and safetensors raise many types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if first.startswith("Weights only load failed"):  # torch's advice to load with weights_only=False runs the file's code
            first = (
                "not a PyTorch tensor file: torch.load(weights_only=True) refused it, it holds other objects or is no checkpoint"
            )
        raise InputError(f"cannot read Inception weights ({first[:200]})", path=path, hint=WEIGHTS_HINT) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError("holds no state dict of tensors (expected Inception weights)", path=path, hint=WEIGHTS_HINT)
    return state
