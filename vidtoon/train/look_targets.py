"""The code-made looks a cartoon run's anchor phase distils (`CartoonConfig.anchor`), one registry of them.

    LOOK_TARGETS.get("anime")(rgb_u8)         # H×W×3 uint8 RGB -> the same size, in the look
    look_targets(bank.images, "film")          # every 3×H×W uint8 tensor of a training bank, on a thread pool
    map_images(targets, palette.apply)         # any H×W×3 uint8 -> H×W×3 uint8 function over such tensors

- "film" (`vidtoon.train.film_target`): 3D feature animation — flat surfaces, smooth shading, livelier colour;
- "anime" (`vidtoon.train.anime_target`): a 2D anime portrait — a high key, a few soft cel tones, ink lines.

Each keeps the photo's mean hue, so no colour cast is taught.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import torch

from vidtoon.registry import Registry
from vidtoon.train.anime_target import anime_look
from vidtoon.train.film_target import film_look

LookFunction = Callable[[np.ndarray], np.ndarray]  # H×W×3 uint8 RGB -> H×W×3 uint8 RGB

LOOK_TARGETS: Registry[LookFunction] = Registry("look target", hint="or anchor: guided (a self-guided filter)")
LOOK_TARGETS.add("film", film_look)
LOOK_TARGETS.add("anime", anime_look)


def look_targets(images: list[torch.Tensor], look: str, *, threads: int | None = None) -> list[torch.Tensor]:
    """The look `look` of every 3×H×W uint8 tensor (a training bank), in order, on a thread pool."""
    return map_images(images, LOOK_TARGETS.get(look), threads=threads)


def map_images(images: list[torch.Tensor], function: LookFunction, *, threads: int | None = None) -> list[torch.Tensor]:
    """`function` (H×W×3 uint8 RGB -> the same) of every 3×H×W uint8 tensor, in order, on a thread pool (OpenCV
    releases the GIL)."""

    def one(image: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(function(hwc(image))).permute(2, 0, 1).contiguous()

    with ThreadPoolExecutor(threads or min(16, cv2.getNumberOfCPUs())) as pool:
        return list(pool.map(one, images))


def hwc(image: torch.Tensor) -> np.ndarray:
    """A 3×H×W uint8 tensor (a training bank's image) as the H×W×3 uint8 array it shares memory with."""
    return image.permute(1, 2, 0).numpy()
