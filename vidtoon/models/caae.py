"""A conditional adversarial autoencoder (after Zhang, Song & Qi, "Age Progression/Regression by CAAE", CVPR 2017).

One model holds several styles: an encoder maps a frame to a latent `z` in [-1, 1], and a decoder renders
`z` in the style chosen by a label. Training (vidtoon.train) pairs it with two discriminators: one on `z`
(pushing it towards a uniform prior) and one on images conditioned on the label.

Design choice — a spatial latent. The paper's encoder ends in a fully connected layer (a 50-vector for a
128×128 face), which ties the model to one input size. Films come at any size (360×640, 1080×1920), so here
the encoder is fully convolutional and `z` is a grid: N×z_dim×H/16×W/16, each cell describing a 16×16 patch.
The label is broadcast to constant one-hot maps on that grid and concatenated to `z`; a 1×1 convolution plays
the paper's fully connected layer, per cell. Any H and W that are multiples of 16 work (a 368×640 frame gives
a 23×40 grid); other sizes are padded to the multiple before translation, as for every family (360×640 -> 368×640).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vidtoon.models.cyclegan import NLayerDiscriminator
from vidtoon.models.registry import register

N_DOWN = 4  # stride-2 stages between the image and the latent grid


def label_maps(label: torch.Tensor, n_styles: int, size: tuple[int, int]) -> torch.Tensor:
    """One-hot style maps: N int64 labels in [0, n_styles) -> N×n_styles×h×w float, constant over space."""
    if label.ndim != 1 or label.dtype != torch.long:
        raise ValueError(f"label must be an N-long int64 tensor, got shape {tuple(label.shape)} dtype {label.dtype}")
    one_hot = F.one_hot(label, n_styles).float()
    return one_hot[:, :, None, None].expand(-1, -1, *size)


class CAAEGenerator(nn.Module):
    """Encoder + label-conditioned decoder.

    Encoder: four 5×5 stride-2 convs (ngf, 2·ngf, 4·ngf, 8·ngf; ReLU), then a 1×1 conv to `z_dim` channels and tanh.
    Decoder: cat([z, label maps]) -> 1×1 conv to 8·ngf (ReLU) -> four (nearest ×2, 3×3 conv, ReLU) stages
    (4·ngf, 2·ngf, ngf, ngf) -> 3×3 conv to RGB -> tanh. Resize-then-conv instead of transposed convs avoids
    checkerboard artefacts, which flicker in video.

    Args:
        n_styles: number of style labels.
        z_dim: latent channels per grid cell.
        ngf: filters of the first encoder layer.

    Shapes: forward(x N×3×H×W in [-1, 1], label N int64) -> N×3×H×W in [-1, 1]; H and W multiples of 16.
    """

    size_multiple = 2**N_DOWN
    in_channels = 3

    def __init__(self, n_styles: int, z_dim: int = 50, ngf: int = 64):
        super().__init__()
        if n_styles < 1:
            raise ValueError(f"n_styles must be >= 1, got {n_styles}")
        self.n_styles = n_styles
        widths = [ngf * 2**i for i in range(N_DOWN)]  # ngf, 2ngf, 4ngf, 8ngf
        encoder: list[nn.Module] = []
        for c_in, c_out in zip([3, *widths[:-1]], widths, strict=True):
            encoder += [nn.Conv2d(c_in, c_out, 5, stride=2, padding=2), nn.ReLU(True)]
        encoder += [nn.Conv2d(widths[-1], z_dim, 1), nn.Tanh()]
        self.encoder = nn.Sequential(*encoder)
        decoder: list[nn.Module] = [nn.Conv2d(z_dim + n_styles, widths[-1], 1), nn.ReLU(True)]
        up_widths = [*reversed(widths[:-1]), ngf]  # 4ngf, 2ngf, ngf, ngf
        for c_in, c_out in zip([widths[-1], *up_widths[:-1]], up_widths, strict=True):
            conv = nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="reflect")
            decoder += [nn.Upsample(scale_factor=2, mode="nearest"), conv, nn.ReLU(True)]
        decoder += [nn.Conv2d(ngf, 3, 3, padding=1, padding_mode="reflect"), nn.Tanh()]
        self.decoder = nn.Sequential(*decoder)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W in [-1, 1] -> z, N×z_dim×H/16×W/16 in [-1, 1]."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """z N×z_dim×h×w, label N int64 -> N×3×16h×16w in [-1, 1]."""
        return self.decoder(torch.cat([z, label_maps(label, self.n_styles, z.shape[-2:]).to(z.dtype)], 1))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """N×3×H×W in [-1, 1], N int64 labels -> N×3×H×W in [-1, 1], rendered in each label's style."""
        return self.decode(self.encode(x), label)


class CAAELatentDiscriminator(nn.Module):
    """Judges whether a latent grid looks drawn from the uniform prior on [-1, 1].

    The paper's D_z is an MLP on the z vector; on a spatial latent that MLP becomes 1×1 convolutions, applied per cell:
    z_dim -> ndf -> ndf/2 -> ndf/4 -> 1, LeakyReLU 0.2 between.

    Shapes: N×z_dim×h×w -> N×1×h×w raw scores.
    """

    def __init__(self, z_dim: int = 50, ndf: int = 64):
        super().__init__()
        self.in_channels = z_dim
        widths = [z_dim, ndf, max(1, ndf // 2), max(1, ndf // 4)]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, 1), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(widths[-1], 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """N×z_dim×h×w -> N×1×h×w."""
        return self.model(z)


class CAAEImageDiscriminator(nn.Module):
    """A PatchGAN (`NLayerDiscriminator`) on the image concatenated with its label's one-hot maps.

    Shapes: forward(x N×3×H×W, label N int64) -> N×1×h×w raw scores (h ≈ H / 2**n_layers - 2).
    """

    in_channels = 3

    def __init__(self, n_styles: int, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        self.n_styles = n_styles
        self.patch = NLayerDiscriminator(3 + n_styles, ndf=ndf, n_layers=n_layers)

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """N×3×H×W, N int64 labels -> N×1×h×w."""
        return self.patch(torch.cat([x, label_maps(label, self.n_styles, x.shape[-2:]).to(x.dtype)], 1))


@register("caae", conditional=True, size_multiple=2**N_DOWN, tiny={"n_styles": 2, "ngf": 8, "z_dim": 8})
def caae(*, n_styles: int, z_dim: int = 50, ngf: int = 64) -> CAAEGenerator:
    """`CAAEGenerator` with `n_styles` labels; the card's `styles` names them in index order."""
    return CAAEGenerator(n_styles, z_dim=z_dim, ngf=ngf)


@register("caae_latent_discriminator", kind="discriminator", size_multiple=1, tiny={"z_dim": 8, "ndf": 8})
def caae_latent_discriminator(*, z_dim: int = 50, ndf: int = 64) -> CAAELatentDiscriminator:
    """D_z of the CAAE: latent grid -> per-cell scores."""
    return CAAELatentDiscriminator(z_dim=z_dim, ndf=ndf)


@register(
    "caae_image_discriminator",
    kind="discriminator",
    size_multiple=1,
    conditional=True,
    tiny={"n_styles": 2, "ndf": 8, "n_layers": 2},
)
def caae_image_discriminator(*, n_styles: int, ndf: int = 64, n_layers: int = 3) -> CAAEImageDiscriminator:
    """D_img of the CAAE: image + label -> patch scores."""
    return CAAEImageDiscriminator(n_styles, ndf=ndf, n_layers=n_layers)
