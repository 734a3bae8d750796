"""The first-order motion model's networks (Siarohin et al., NeurIPS 2019): keypoint detector, dense motion
network and occlusion-aware generator as `nn.Module`s whose parameter names follow the published checkpoints
(`vox-cpk.pth.tar`), so their state dicts load as they are (see `vidtoon.animate.fomm_checkpoint`).

Images are (B, 3, H, W) float in [0, 1]; keypoints are (B, K, 2) (x, y) in [-1, 1] with (B, K, 2, 2)
Jacobians; dense motion fields are (B, H, W, 2) sampling grids in [-1, 1] (for `grid_sample`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# -- pure functions ------------------------------------------------------------------------------------


def coordinate_grid(height: int, width: int, *, device=None, dtype=torch.float32) -> Tensor:
    """(H, W, 2) pixel-centre coordinates (x, y) spanning [-1, 1] corner to corner (align_corners=True)."""
    x = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype)
    y = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype)
    return torch.stack(torch.meshgrid(x, y, indexing="xy"), dim=-1)


def keypoint_gaussians(keypoints: Tensor, height: int, width: int, variance: float) -> Tensor:
    """exp(−|z − kp|² / 2σ²) for every keypoint: (B, K, 2) in [-1, 1] → (B, K, H, W)."""
    grid = coordinate_grid(height, width, device=keypoints.device, dtype=keypoints.dtype)
    diff = grid[None, None] - keypoints[:, :, None, None, :]
    return torch.exp(-0.5 * diff.pow(2).sum(-1) / variance)


def heatmap_to_keypoints(heatmap: Tensor) -> Tensor:
    """Expected coordinates of (B, K, H, W) probability maps (each sums to 1): (B, K, 2) in [-1, 1]."""
    grid = coordinate_grid(*heatmap.shape[2:], device=heatmap.device, dtype=heatmap.dtype)
    return (heatmap[..., None] * grid).sum(dim=(2, 3))


# -- building blocks (parameter names as in the published checkpoints) -----------------------------------


class ConvNorm(nn.Module):
    """conv → batch norm → ReLU, then ×0.5 average pooling (`down`), ×2 nearest upsampling first (`up`), or neither."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, *, mode: str = "same"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        self.norm = nn.BatchNorm2d(cout, affine=True)
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "up":
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(self.norm(self.conv(x)))
        return F.avg_pool2d(x, 2) if self.mode == "down" else x


class ResBlock(nn.Module):
    """Pre-activation residual block: x + conv2(relu(norm2(conv1(relu(norm1(x))))))."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm1 = nn.BatchNorm2d(channels, affine=True)
        self.norm2 = nn.BatchNorm2d(channels, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


def _width(block_expansion: int, max_features: int, level: int) -> int:
    return min(max_features, block_expansion * 2**level)


class _Encoder(nn.Module):
    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        self.down_blocks = nn.ModuleList(
            ConvNorm(
                in_features if i == 0 else _width(block_expansion, max_features, i),
                _width(block_expansion, max_features, i + 1),
                mode="down",
            )
            for i in range(num_blocks)
        )


class _Decoder(nn.Module):
    def __init__(self, block_expansion: int, num_blocks: int, max_features: int):
        super().__init__()
        self.up_blocks = nn.ModuleList(
            ConvNorm(
                (1 if i == num_blocks - 1 else 2) * _width(block_expansion, max_features, i + 1),
                _width(block_expansion, max_features, i),
                mode="up",
            )
            for i in reversed(range(num_blocks))
        )


class Hourglass(nn.Module):
    """U-Net: `num_blocks` halvings, then doublings, each concatenated with the encoder's feature at its size.

    (B, in_features, H, W) → (B, block_expansion + in_features, H, W); H and W divisible by 2**num_blocks.
    """

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        self.encoder = _Encoder(block_expansion, in_features, num_blocks, max_features)
        self.decoder = _Decoder(block_expansion, num_blocks, max_features)
        self.out_filters = block_expansion + in_features

    def forward(self, x: Tensor) -> Tensor:
        skips = [x]
        for block in self.encoder.down_blocks:
            skips.append(block(skips[-1]))
        out = skips.pop()
        for block in self.decoder.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return out


class AntiAliasDown(nn.Module):
    """Gaussian blur then nearest resampling by `scale` (< 1): band-limited downscaling, per channel."""

    def __init__(self, channels: int, scale: float):
        super().__init__()
        sigma = (1 / scale - 1) / 2
        size = 2 * round(sigma * 4) + 1
        self.pad = size // 2
        axis = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
        g = torch.exp(-(axis**2) / (2 * sigma**2))
        kernel = torch.outer(g, g)
        self.register_buffer("weight", (kernel / kernel.sum()).expand(channels, 1, size, size).contiguous())
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        x = F.conv2d(F.pad(x, (self.pad,) * 4), self.weight, groups=x.shape[1])
        return F.interpolate(x, scale_factor=(self.scale, self.scale), mode="nearest")


def _downscaler(channels: int, scale: float) -> AntiAliasDown | None:
    return AntiAliasDown(channels, scale) if scale != 1 else None


# -- the three networks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FommConfig:
    """The architecture's sizes (defaults: the published `vox-256` model)."""

    num_kp: int = 10
    num_channels: int = 3
    estimate_jacobian: bool = True
    kp_block_expansion: int = 32
    kp_max_features: int = 1024
    kp_num_blocks: int = 5
    kp_scale: float = 0.25
    kp_pad: int = 0
    temperature: float = 0.1
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    num_bottleneck_blocks: int = 6
    estimate_occlusion_map: bool = True
    dm_block_expansion: int = 64
    dm_max_features: int = 1024
    dm_num_blocks: int = 5
    dm_scale: float = 0.25
    kp_variance: float = 0.01


class KeypointDetector(nn.Module):
    """Image (B, C, H, W) in [0, 1] → {"value": (B, K, 2) in [-1, 1], "jacobian": (B, K, 2, 2)}."""

    def __init__(self, config: FommConfig):
        super().__init__()
        c = config
        self.predictor = Hourglass(c.kp_block_expansion, c.num_channels, c.kp_num_blocks, c.kp_max_features)
        self.kp = nn.Conv2d(self.predictor.out_filters, c.num_kp, 7, padding=c.kp_pad)
        self.jacobian = nn.Conv2d(self.predictor.out_filters, 4 * c.num_kp, 7, padding=c.kp_pad) if c.estimate_jacobian else None
        if self.jacobian is not None:  # start at the identity, as trained
            nn.init.zeros_(self.jacobian.weight)
            self.jacobian.bias.data.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0] * c.num_kp))
        self.down = _downscaler(c.num_channels, c.kp_scale)
        self.temperature = c.temperature

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        x = self.down(image) if self.down is not None else image
        features = self.predictor(x)
        logits = self.kp(features)
        b, k, h, w = logits.shape
        heatmap = F.softmax(logits.view(b, k, -1) / self.temperature, dim=2).view(b, k, h, w)
        out = {"value": heatmap_to_keypoints(heatmap)}
        if self.jacobian is not None:
            maps = self.jacobian(features).view(b, k, 4, h, w)
            out["jacobian"] = (heatmap[:, :, None] * maps).sum(dim=(3, 4)).view(b, k, 2, 2)
        return out


class DenseMotionNetwork(nn.Module):
    """Sparse keypoint motions → a dense motion field (B, h, w, 2) and an occlusion map (B, 1, h, w) at `dm_scale`."""

    def __init__(self, config: FommConfig):
        super().__init__()
        c = config
        self.hourglass = Hourglass(
            c.dm_block_expansion, (c.num_kp + 1) * (c.num_channels + 1), c.dm_num_blocks, c.dm_max_features
        )
        self.mask = nn.Conv2d(self.hourglass.out_filters, c.num_kp + 1, 7, padding=3)
        self.occlusion = nn.Conv2d(self.hourglass.out_filters, 1, 7, padding=3) if c.estimate_occlusion_map else None
        self.down = _downscaler(c.num_channels, c.dm_scale)
        self.num_kp, self.kp_variance = c.num_kp, c.kp_variance

    def sparse_motions(self, h: int, w: int, driving: dict[str, Tensor], source: dict[str, Tensor]) -> Tensor:
        """(B, K+1, h, w, 2): for each keypoint, where each driving-frame point comes from in the source
        (first-order Taylor expansion about the keypoint); index 0 is the identity (background)."""
        grid = coordinate_grid(h, w, device=source["value"].device, dtype=source["value"].dtype)
        b = source["value"].shape[0]
        rel = grid[None, None] - driving["value"][:, :, None, None, :]  # (B, K, h, w, 2)
        if "jacobian" in driving:
            jac = source["jacobian"] @ torch.inverse(driving["jacobian"])  # (B, K, 2, 2)
            rel = torch.einsum("bkij,bkhwj->bkhwi", jac, rel)
        motions = rel + source["value"][:, :, None, None, :]
        return torch.cat([grid[None, None].expand(b, 1, h, w, 2), motions], dim=1)

    def forward(self, source_image: Tensor, driving: dict[str, Tensor], source: dict[str, Tensor]) -> dict[str, Tensor]:
        image = self.down(source_image) if self.down is not None else source_image
        b, c, h, w = image.shape
        k1 = self.num_kp + 1
        heat = keypoint_gaussians(driving["value"], h, w, self.kp_variance) - keypoint_gaussians(
            source["value"], h, w, self.kp_variance
        )
        heat = torch.cat([heat.new_zeros(b, 1, h, w), heat], dim=1)[:, :, None]  # (B, K+1, 1, h, w)
        motions = self.sparse_motions(h, w, driving, source)
        deformed = F.grid_sample(
            image[:, None].expand(b, k1, c, h, w).reshape(b * k1, c, h, w), motions.reshape(b * k1, h, w, 2), align_corners=True
        ).view(b, k1, c, h, w)
        prediction = self.hourglass(torch.cat([heat, deformed], dim=2).view(b, -1, h, w))
        mask = F.softmax(self.mask(prediction), dim=1)  # (B, K+1, h, w)
        out = {"deformation": (motions * mask[..., None]).sum(dim=1), "mask": mask}
        if self.occlusion is not None:
            out["occlusion_map"] = torch.sigmoid(self.occlusion(prediction))
        return out


class OcclusionAwareGenerator(nn.Module):
    """Source image + source/driving keypoints → the source in the driving pose: {"prediction": (B, C, H, W) in [0, 1], ...}."""

    def __init__(self, config: FommConfig):
        super().__init__()
        c = config
        self.dense_motion_network = DenseMotionNetwork(c)
        self.first = ConvNorm(c.num_channels, c.block_expansion, 7)
        self.down_blocks = nn.ModuleList(
            ConvNorm(_width(c.block_expansion, c.max_features, i), _width(c.block_expansion, c.max_features, i + 1), mode="down")
            for i in range(c.num_down_blocks)
        )
        self.up_blocks = nn.ModuleList(
            ConvNorm(
                _width(c.block_expansion, c.max_features, c.num_down_blocks - i),
                _width(c.block_expansion, c.max_features, c.num_down_blocks - i - 1),
                mode="up",
            )
            for i in range(c.num_down_blocks)
        )
        width = _width(c.block_expansion, c.max_features, c.num_down_blocks)
        self.bottleneck = nn.Sequential()
        for i in range(c.num_bottleneck_blocks):
            self.bottleneck.add_module(f"r{i}", ResBlock(width))
        self.final = nn.Conv2d(c.block_expansion, c.num_channels, 7, padding=3)

    @staticmethod
    def deform(x: Tensor, deformation: Tensor) -> Tensor:
        """Sample (B, C, H, W) features along a (B, h, w, 2) field, resized to H×W first."""
        if deformation.shape[1:3] != x.shape[2:]:
            deformation = F.interpolate(
                deformation.permute(0, 3, 1, 2), size=x.shape[2:], mode="bilinear", align_corners=False
            ).permute(0, 2, 3, 1)
        return F.grid_sample(x, deformation, align_corners=True)

    def forward(self, source_image: Tensor, driving: dict[str, Tensor], source: dict[str, Tensor]) -> dict[str, Tensor]:
        out = self.first(source_image)
        for block in self.down_blocks:
            out = block(out)
        motion = self.dense_motion_network(source_image, driving, source)
        out = self.deform(out, motion["deformation"])
        if "occlusion_map" in motion:
            occlusion = motion["occlusion_map"]
            if occlusion.shape[2:] != out.shape[2:]:
                occlusion = F.interpolate(occlusion, size=out.shape[2:], mode="bilinear", align_corners=False)
            out = out * occlusion
        out = self.bottleneck(out)
        for block in self.up_blocks:
            out = block(out)
        return {"prediction": torch.sigmoid(self.final(out)), **motion}
