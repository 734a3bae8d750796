"""The AnimeGANv2 generator with the module layout of bryandlee/animegan2-pytorch (`model.py`).

Parameter names match that project, so its published state dicts (`face_paint_512_v2.pt`, `paprika.pt`,
`celeba_distill.pt`, ...) load with `strict=True` (see `vidtoon.models.legacy`). Keys: `block_a.0.1.weight`,
`block_c.1.layers.0.1.weight`, ..., `out_layer.0.weight`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vidtoon.models.registry import register


class ConvNormLReLU(nn.Sequential):
    """Reflection pad, conv (no bias unless asked), GroupNorm(1, out_ch) with affine, LeakyReLU 0.2.

    Shapes: N×in_ch×H×W -> N×out_ch×H'×W' (H' = H for stride 1 and matching padding).

    Args:
        padding: an int, or (left, right, top, bottom) as for `nn.ReflectionPad2d`.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | tuple[int, int, int, int] = 1,
        groups: int = 1,
        bias: bool = False,
    ):
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(in_ch, out_ch, kernel_size=kernel_size, stride=stride, padding=0, groups=groups, bias=bias),
            nn.GroupNorm(num_groups=1, num_channels=out_ch, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    """MobileNetV2-style block: 1×1 expand (×expansion_ratio), 3×3 depthwise, 1×1 project + GroupNorm.

    Residual (x + block(x)) when in_ch == out_ch.

    Shapes: N×in_ch×H×W -> N×out_ch×H×W.
    """

    def __init__(self, in_ch: int, out_ch: int, expansion_ratio: float = 2):
        super().__init__()
        self.use_res_connect = in_ch == out_ch
        bottleneck = int(round(in_ch * expansion_ratio))
        layers: list[nn.Module] = []
        if expansion_ratio != 1:
            layers.append(ConvNormLReLU(in_ch, bottleneck, kernel_size=1, padding=0))
        layers.append(ConvNormLReLU(bottleneck, bottleneck, groups=bottleneck, bias=True))
        layers.append(nn.Conv2d(bottleneck, out_ch, kernel_size=1, padding=0, bias=False))
        layers.append(nn.GroupNorm(num_groups=1, num_channels=out_ch, affine=True))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.use_res_connect else out


class Generator(nn.Module):
    """AnimeGANv2: two stride-2 stages, four inverted residual blocks at 1/4 size, two bilinear ×2 upsamplings, tanh.

    Args:
        width: multiplies every channel count (1.0: the published layout, 32-64-128-256 channels); smaller values give
            a tiny variant for tests.
        align_corners: upsample to the exact earlier sizes with `align_corners=True` (the v2 weights); False upsamples
            by a factor 2 with `align_corners=False`, which the project's older `face_paint_512_v0` weights expect.

    Shapes: N×3×H×W in [-1, 1] -> N×3×H×W in [-1, 1]; H and W multiples of `size_multiple`.
    """

    size_multiple = 8
    in_channels = 3

    def __init__(self, width: float = 1.0, align_corners: bool = True):
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        self.align_corners = align_corners
        c32, c64, c128, c256 = (max(1, round(c * width)) for c in (32, 64, 128, 256))
        self.block_a = nn.Sequential(
            ConvNormLReLU(3, c32, kernel_size=7, padding=3),
            ConvNormLReLU(c32, c64, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(c64, c64),
        )
        self.block_b = nn.Sequential(
            ConvNormLReLU(c64, c128, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(c128, c128),
        )
        self.block_c = nn.Sequential(
            ConvNormLReLU(c128, c128),
            InvertedResBlock(c128, c256, 2),
            InvertedResBlock(c256, c256, 2),
            InvertedResBlock(c256, c256, 2),
            InvertedResBlock(c256, c256, 2),
            ConvNormLReLU(c256, c128),
        )
        self.block_d = nn.Sequential(
            ConvNormLReLU(c128, c128),
            ConvNormLReLU(c128, c128),
        )
        self.block_e = nn.Sequential(
            ConvNormLReLU(c128, c64),
            ConvNormLReLU(c64, c64),
            ConvNormLReLU(c64, c32, kernel_size=7, padding=3),
        )
        self.out_layer = nn.Sequential(
            nn.Conv2d(c32, 3, kernel_size=1, stride=1, padding=0, bias=False),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W in [-1, 1] -> N×3×H×W in [-1, 1]."""
        out = self.block_a(x)
        half_size = out.shape[-2:]
        out = self.block_c(self.block_b(out))
        out = self.block_d(self._upsample(out, half_size))
        out = self.block_e(self._upsample(out, x.shape[-2:]))
        return self.out_layer(out)

    def _upsample(self, x: torch.Tensor, size: torch.Size) -> torch.Tensor:
        if self.align_corners:
            return F.interpolate(x, size, mode="bilinear", align_corners=True)
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


@register("animegan", size_multiple=8, tiny={"width": 0.125})
def animegan(*, width: float = 1.0, align_corners: bool = True) -> Generator:
    """AnimeGANv2 `Generator` (defaults: the published layout)."""
    return Generator(width=width, align_corners=align_corners)
