"""CycleGAN / pix2pix networks with the module layout of junyanz/pytorch-CycleGAN-and-pix2pix.

Module structure and parameter names are those of that project's `models/networks.py`, so its
`*_net_G.pth` / `*_net_D.pth` state dicts load with `strict=True` (see `vidtoon.models.legacy`):

- `ResnetGenerator`: keys `model.1.weight` (7×7 stem), `model.4`/`model.7` (downsampling),
  `model.10.conv_block.1.weight` ... (residual blocks), then the upsampling and the 7×7 head.
- `UnetGenerator`: nested `UnetSkipConnectionBlock`s, keys `model.model.0.weight`,
  `model.model.1.model.1.weight`, `model.model.1.model.3.model.1.weight` ...
- `NLayerDiscriminator`: the 70×70 PatchGAN, keys `model.0.weight`, `model.2.weight` ...

Generators take `x`, N×3×H×W in [-1, 1], and return N×3×H×W in [-1, 1] (tanh).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vidtoon.models.registry import register

NORMS = ("instance", "batch", "group", "none")
PADDINGS = ("reflect", "replicate", "zero")
UPSAMPLES = ("transpose", "resize")


class InstanceNorm2d(nn.InstanceNorm2d):
    """`nn.InstanceNorm2d` computed as a GroupNorm with one group per channel (the same statistics).

    On CPU, `F.instance_norm` of a channels_last tensor copies it to NCHW and back and returns NCHW, so
    every convolution after it converts again; `F.group_norm` keeps channels_last and is several times faster.
    Same parameters (none), same state dict, same results up to float rounding.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.track_running_stats or x.dim() != 4:
            return super().forward(x)
        return F.group_norm(x, self.num_features, self.weight, self.bias, self.eps)


def _no_norm(channels: int) -> nn.Module:
    return nn.Identity()


def _layer_norm(channels: int) -> nn.Module:
    return nn.GroupNorm(1, channels)


def norm_layer(norm: str) -> Callable[[int], nn.Module]:
    """The original's `get_norm_layer`: "instance" (no affine parameters, no running statistics) or "batch"; and
    "group" (one group: a layer norm over all channels and pixels, with affine parameters `weight`, `bias`) or "none"
    (an `nn.Identity` in the same place, so every other key of the state dict stays where it was).

    "instance" normalises each channel over the image it sees: trained on small crops and run on whole frames, its
    statistics differ, and under an adversary it learns "droplets" (StyleGAN2, Karras et al. 2020, §2). "none" is a
    purely local, fully convolutional network (White-box Cartoonization's generator has no normalisation either).
    """
    if norm == "instance":
        return functools.partial(InstanceNorm2d, affine=False, track_running_stats=False)
    if norm == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == "group":
        return _layer_norm
    if norm == "none":
        return _no_norm
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


class ResnetBlock(nn.Module):
    """x + conv_block(x): pad, 3×3 conv, norm, ReLU, [dropout 0.5], pad, 3×3 conv, norm. N×C×H×W -> N×C×H×W."""

    def __init__(self, dim: int, padding_type: str, norm: Callable[[int], nn.Module], use_dropout: bool, use_bias: bool):
        super().__init__()
        conv_padding = _conv_padding(padding_type)  # 1 for "zero", else an explicit padding layer (fresh for each conv)
        self.conv_block = nn.Sequential(
            *_padding(padding_type),
            nn.Conv2d(dim, dim, 3, padding=conv_padding, bias=use_bias),
            norm(dim),
            nn.ReLU(True),
            *([nn.Dropout(0.5)] if use_dropout else []),
            *_padding(padding_type),
            nn.Conv2d(dim, dim, 3, padding=conv_padding, bias=use_bias),
            norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def _padding(padding_type: str) -> list[nn.Module]:
    if padding_type not in PADDINGS:
        raise ValueError(f"padding_type must be one of {PADDINGS}, got {padding_type!r}")
    return {"reflect": [nn.ReflectionPad2d(1)], "replicate": [nn.ReplicationPad2d(1)], "zero": []}[padding_type]


def _conv_padding(padding_type: str) -> int:
    return 1 if padding_type == "zero" else 0


class ResnetGenerator(nn.Module):
    """Johnson-style generator: 7×7 stem, two stride-2 downsamplings, `n_blocks` residual blocks, two ×2 upsamplings, 7×7 tanh.

    Args:
        input_nc, output_nc: image channels in and out.
        ngf: filters of the first layer (64 in the original; the blocks run at 4·ngf).
        norm: "instance" (the CycleGAN default), "batch", "group" (layer norm) or "none" (see `norm_layer`; the
            convolutions have biases unless "batch").
        use_dropout: dropout 0.5 inside each residual block (shifts the second conv from `conv_block.5` to `conv_block.6`).
        n_blocks: residual blocks (6 for 128 px, 9 for 256 px in the original).
        padding_type: "reflect", "replicate" or "zero" inside the residual blocks.
        upsample: "transpose" (the original 3×3 stride-2 ConvTranspose2d) or "resize" (nearest ×2, reflection pad, 3×3 conv:
            no checkerboard artefacts; the upsampling layers become `model.<i>.2.weight` instead of `model.<i>.weight`,
            every other key is unchanged).
        skip: add the input to the logits before the final tanh, tanh(f(x) + atanh(x)) (input_nc == output_nc): the
            network learns the change from the input, so it starts near the identity and keeps the input's detail
            (no parameters added; the state dict is unchanged).
        long_skips: add the stem's full-resolution features to the last upsampling's output and the first
            downsampling's to the first upsampling's (a U-Net's skips, by addition): the last layers see the input's fine
            detail, which the 1/4-resolution blocks cannot carry, so the network can remove texture (an input skip alone
            can only keep it). No parameters added; the state dict is unchanged.

    Shapes: N×input_nc×H×W -> N×output_nc×H×W, H and W multiples of 4.
    """

    size_multiple = 4

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        ngf: int = 64,
        norm: str = "instance",
        use_dropout: bool = False,
        n_blocks: int = 6,
        padding_type: str = "reflect",
        upsample: str = "transpose",
        skip: bool = False,
        long_skips: bool = False,
    ):
        super().__init__()
        if skip and input_nc != output_nc:
            raise ValueError(f"skip needs as many input as output channels, got {input_nc} and {output_nc}")
        self.skip, self.long_skips = skip, long_skips
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        if upsample not in UPSAMPLES:
            raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")
        self.in_channels = input_nc
        make_norm = norm_layer(norm)
        use_bias = norm != "batch"
        stem = nn.Conv2d(input_nc, ngf, 7, bias=use_bias)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), stem, make_norm(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            down = nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=use_bias)
            layers += [down, make_norm(ngf * mult * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, padding_type, make_norm, use_dropout, use_bias) for _ in range(n_blocks)]
        for mult in (4, 2):
            layers += [_upsampling(upsample, ngf * mult, ngf * mult // 2, use_bias), make_norm(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×input_nc×H×W in [-1, 1] -> N×output_nc×H×W in [-1, 1]."""
        if not self.skip and not self.long_skips:
            return self.model(x)
        logits = self._long_skip_logits(x) if self.long_skips else self.model[:-1](x)
        return torch.tanh(logits + torch.atanh(x.clamp(-0.999, 0.999)) if self.skip else logits)

    def _long_skip_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The logits (before the tanh) with the stem's and the first downsampling's features added back on the way up.

        Layers of `model`: stem 0-3, downsamplings 4-6 and 7-9, blocks, upsamplings (3 layers each), pad + conv, tanh.
        """
        layers, ends = self.model, len(self.model)
        full = layers[0:4](x)
        half = layers[4:7](full)
        deep = layers[7 : ends - 9](half)
        half = layers[ends - 9 : ends - 6](deep) + half
        full = layers[ends - 6 : ends - 3](half) + full
        return layers[ends - 3 : ends - 1](full)


def _upsampling(upsample: str, in_nc: int, out_nc: int, use_bias: bool) -> nn.Module:
    """A ×2 upsampling layer: N×in_nc×H×W -> N×out_nc×2H×2W."""
    if upsample == "transpose":
        return nn.ConvTranspose2d(in_nc, out_nc, 3, stride=2, padding=1, output_padding=1, bias=use_bias)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.ReflectionPad2d(1),
        nn.Conv2d(in_nc, out_nc, 3, bias=use_bias),
    )


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: x -> cat([x, up(submodule(down(x)))]) (the outermost level returns up(...) alone).

    `model` is a Sequential: outermost `[downconv, submodule, ReLU, upconv, Tanh]`; innermost `[LeakyReLU, downconv, ReLU,
    upconv, upnorm]`; otherwise `[LeakyReLU, downconv, downnorm, submodule, ReLU, upconv, upnorm, (Dropout 0.5)]`.
    Down: 4×4 stride-2 conv; up: 4×4 stride-2 transposed conv.

    Shapes: N×input_nc×H×W -> N×(input_nc + outer_nc)×H×W (outermost: N×outer_nc×H×W).
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: str = "instance",
        use_dropout: bool = False,
    ):
        super().__init__()
        self.outermost = outermost
        make_norm = norm_layer(norm)
        use_bias = norm != "batch"
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=use_bias)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1)
            layers = [downconv, submodule, nn.ReLU(True), upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.LeakyReLU(0.2, True), downconv, nn.ReLU(True), upconv, make_norm(outer_nc)]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=use_bias)
            layers = [nn.LeakyReLU(0.2, True), downconv, make_norm(inner_nc), submodule]
            layers += [nn.ReLU(True), upconv, make_norm(outer_nc), *([nn.Dropout(0.5)] if use_dropout else [])]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """The pix2pix U-Net: `num_downs` 4×4 stride-2 levels with skip connections by concatenation, tanh out.

    Encoder filters ngf, 2·ngf, 4·ngf, 8·ngf, then 8·ngf for the remaining levels (num_downs=8: 64-128-256-512-512-512-512-512);
    the decoder mirrors it with transposed convolutions. With `use_dropout` the `num_downs - 5` levels next to the innermost
    one apply dropout 0.5 (a Dropout has no parameters, so it does not show in a state dict).

    Args:
        num_downs: levels (>= 5); the innermost feature map is 1×1 at an input of 2**num_downs pixels.
        norm: "instance" (CycleGAN default) or "batch" (pix2pix default).

    Shapes: N×input_nc×H×W -> N×output_nc×H×W, H and W multiples of `size_multiple` = 2**num_downs.
    """

    def __init__(
        self,
        input_nc: int,
        output_nc: int,
        num_downs: int,
        ngf: int = 64,
        norm: str = "instance",
        use_dropout: bool = False,
    ):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be >= 5, got {num_downs}")
        self.in_channels = input_nc
        self.size_multiple = 2**num_downs
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=use_dropout)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×input_nc×H×W in [-1, 1] -> N×output_nc×H×W in [-1, 1]."""
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """PatchGAN: 4×4 convs, `n_layers` of stride 2 (filters ndf·min(2**i, 8)), one of stride 1, then a 1-channel 4×4 conv.

    n_layers=3 is the 70×70 PatchGAN. Returns raw scores (no sigmoid; the losses decide).

    Shapes: N×input_nc×H×W -> N×1×h×w, h ≈ H / 2**n_layers - 2 (H must be at least about 2**(n_layers + 2)).
    """

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        self.in_channels = input_nc
        make_norm = norm_layer(norm)
        use_bias = norm != "batch"
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            mult_prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * mult_prev, ndf * mult, 4, stride=stride, padding=1, bias=use_bias),
                make_norm(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×input_nc×H×W -> N×1×h×w patch scores."""
        return self.model(x)


@register("cyclegan_resnet", size_multiple=4, tiny={"n_blocks": 1, "ngf": 8})
def cyclegan_resnet(
    *,
    n_blocks: int = 9,
    ngf: int = 64,
    use_dropout: bool = False,
    norm: str = "instance",
    upsample: str = "transpose",
    skip: bool = False,
    long_skips: bool = False,
) -> ResnetGenerator:
    """RGB -> RGB `ResnetGenerator` with reflection padding (defaults: the original's `resnet_9blocks` with instance norm).

    A model card without `norm` (`skip`, `long_skips`) in its kwargs is an instance-norm generator without the input
    skip (without long skips): every checkpoint written before the options.
    """
    return ResnetGenerator(
        3, 3, ngf=ngf, norm=norm, use_dropout=use_dropout, n_blocks=n_blocks, upsample=upsample, skip=skip, long_skips=long_skips
    )


@register("cyclegan_unet", size_multiple=256, tiny={"num_downs": 5, "ngf": 8})
def cyclegan_unet(*, num_downs: int = 8, ngf: int = 64, use_dropout: bool = False, norm: str = "instance") -> UnetGenerator:
    """RGB -> RGB `UnetGenerator` (defaults: the original's `unet_256`).

    The family's registered size multiple (256) is that of the default; the model's own `size_multiple` is 2**num_downs,
    and that is what a checkpoint card records.
    """
    return UnetGenerator(3, 3, num_downs, ngf=ngf, norm=norm, use_dropout=use_dropout)


@register("patchgan", kind="discriminator", size_multiple=1, tiny={"ndf": 8, "n_layers": 2})
def patchgan(*, n_layers: int = 3, ndf: int = 64, norm: str = "instance") -> NLayerDiscriminator:
    """RGB `NLayerDiscriminator` (defaults: the original's `basic` 70×70 PatchGAN with instance norm)."""
    return NLayerDiscriminator(3, ndf=ndf, n_layers=n_layers, norm=norm)
