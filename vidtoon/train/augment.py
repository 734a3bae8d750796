"""Augmentation of training images: pure functions on tensors, every random draw from the `generator` given.

So a batch is a function of its step's generator (see `vidtoon.train.data.step_generator`): resumed runs see
exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vidtoon.train.config import AugmentConfig


def _beside(drawn: torch.Tensor, x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A CPU tensor of random draws on `x`'s device, in `dtype` (default x's). To a GPU through pinned memory: a copy
    from pageable memory waits for all the work queued on the device first, stalling a batch thread behind training."""
    drawn = drawn.to(dtype or x.dtype)
    if x.device.type == "cuda":
        return drawn.pin_memory().to(x.device, non_blocking=True)
    return drawn.to(x.device)


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * torch.rand((), generator=generator).item()


def to_unit(image_u8: torch.Tensor) -> torch.Tensor:
    """3×H×W uint8 -> 3×H×W float in [-1, 1]."""
    return image_u8.float().div_(127.5).sub_(1.0)


def random_resized_crop(
    image_u8: torch.Tensor, size: int, *, scale: tuple[float, float], ratio: tuple[float, float], generator: torch.Generator
) -> torch.Tensor:
    """A random crop of `scale` × the area and aspect in `ratio`, resized to size×size.

    3×H×W uint8 -> 3×size×size float in [-1, 1]. Falls back to the centred square after ten misses.
    """
    _, h, w = image_u8.shape
    box = None
    for _ in range(10):
        area = h * w * _uniform(generator, *scale)
        aspect = math.exp(_uniform(generator, math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            y0 = int(torch.randint(0, h - ch + 1, (), generator=generator))
            x0 = int(torch.randint(0, w - cw + 1, (), generator=generator))
            box = (y0, x0, ch, cw)
            break
    if box is None:
        side = min(h, w)
        box = ((h - side) // 2, (w - side) // 2, side, side)
    y0, x0, ch, cw = box
    crop = to_unit(image_u8[:, y0 : y0 + ch, x0 : x0 + cw])[None]
    return F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].clamp_(-1, 1)


def center_crop(image_u8: torch.Tensor, size: int) -> torch.Tensor:
    """The centred square, resized: 3×H×W uint8 -> 3×size×size float in [-1, 1]."""
    _, h, w = image_u8.shape
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = to_unit(image_u8[:, y0 : y0 + side, x0 : x0 + side])[None]
    return F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].clamp_(-1, 1)


def random_flip(x: torch.Tensor, *, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Flip each image left-right with probability p. N×C×H×W -> N×C×H×W."""
    flip = torch.rand(x.shape[0], generator=generator) < p
    return torch.where(_beside(flip, x, torch.bool)[:, None, None, None], x.flip(-1), x)


def color_jitter(
    x: torch.Tensor, *, brightness: float, contrast: float, saturation: float, generator: torch.Generator
) -> torch.Tensor:
    """Per-image brightness, contrast and saturation factors drawn from [1 - v, 1 + v].

    N×3×H×W in [-1, 1] -> N×3×H×W in [-1, 1]. Contrast and saturation pull towards the image's grey
    mean and each pixel's grey value (Rec. 601 luma), as torchvision does.
    """
    n = x.shape[0]

    def factors(amount: float) -> torch.Tensor:
        return _beside(1 + amount * (2 * torch.rand(n, generator=generator) - 1), x)[:, None, None, None]

    y = (x + 1) / 2
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device)[None, :, None, None]
    if brightness:
        y = y * factors(brightness)
    if contrast:
        mean = (y * weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
        y = (y - mean) * factors(contrast) + mean
    if saturation:
        grey = (y * weights).sum(1, keepdim=True)
        y = (y - grey) * factors(saturation) + grey
    return y.clamp(0, 1) * 2 - 1


def random_tint(x: torch.Tensor, *, amount: float, generator: torch.Generator) -> torch.Tensor:
    """A random white balance per image: each RGB channel × a gain from [e^-amount, e^amount], the three scaled so
    the Rec. 601 luma of grey stays. N×3k×H×W in [-1, 1] (k images side by side per sample, e.g. a photo and its
    target: each gets the same gains) -> the same shape, clamped to [-1, 1]."""
    n, channels = x.shape[:2]
    if channels % 3:
        raise ValueError(f"random_tint needs 3, 6, ... channels, got {channels}")
    gains = torch.exp(amount * (2 * torch.rand(n, 3, generator=generator) - 1))
    gains /= (gains * torch.tensor([0.299, 0.587, 0.114])).sum(1, keepdim=True)
    gains = _beside(gains.repeat(1, channels // 3), x)[:, :, None, None]
    return (((x + 1) * gains).clamp_(0, 2) - 1).clamp_(-1, 1)


def add_noise(x: torch.Tensor, *, std: float, generator: torch.Generator) -> torch.Tensor:
    """x + N(0, std²) noise, clamped to [-1, 1]. N×C×H×W -> N×C×H×W."""
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return (x + std * noise.to(x.device)).clamp(-1, 1)


def augment_batch(images_u8: list[torch.Tensor], size: int, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Crop, flip, jitter, tint and noise a list of 3×H×W uint8 images -> N×3×size×size float in [-1, 1]."""
    x = torch.stack(
        [random_resized_crop(img, size, scale=config.scale, ratio=config.ratio, generator=generator) for img in images_u8]
    )
    if config.flip:
        x = random_flip(x, generator=generator)
    if config.brightness or config.contrast or config.saturation:
        x = color_jitter(
            x, brightness=config.brightness, contrast=config.contrast, saturation=config.saturation, generator=generator
        )
    if config.tint:
        x = random_tint(x, amount=config.tint, generator=generator)
    if config.noise:
        x = add_noise(x, std=config.noise, generator=generator)
    return x
