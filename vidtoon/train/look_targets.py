"""The code-made looks a cartoon run's anchor phase distils (`CartoonConfig.anchor`), one registry of them.

    LOOK_TARGETS.get("anime")(rgb_u8)         # H×W×3 uint8 RGB -> the same size, in the look
    look_targets(bank.images, "film")          # every 3×H×W uint8 tensor of a training bank, on a thread pool
    map_images(targets, palette.apply)         # any H×W×3 uint8 -> H×W×3 uint8 function over such tensors

- "film" (`vidtoon.train.film_target`): 3D feature animation — flat surfaces, smooth shading, livelier colour;
- "anime" (`vidtoon.train.anime_target`): a 2D anime portrait — a high key, a few soft cel tones, ink lines.

Each keeps the photo's mean hue, so no colour cast is taught. A run may instead read each photo's target from a
folder (`read_targets`: anchor "images", made by any tool, or by this module on another machine).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch

from vidtoon.errors import InputError
from vidtoon.io.images import IMAGE_SUFFIXES, read_image, resize
from vidtoon.parsing import first_few
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


def read_targets(folder: str | Path, photos: list[torch.Tensor], names: list[str]) -> list[torch.Tensor]:
    """Each photo's target from `folder`: the image with the photo's file name (or its stem and another image
    suffix), resized to the photo as loaded (3×H×W uint8 tensors, in the photos' order).

    Raises:
        InputError: the folder is missing, a photo has no target (they are named), or a target's aspect ratio is not
            its photo's.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("the targets folder is not found", path=folder, hint="give the folder of each photo's target")
    by_stem = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()}
    found = [by_stem.get(Path(name).stem) for name in names]  # a video's frame (clip.mp4@1.000s) has none
    missing = [name for name, path in zip(names, found) if path is None]
    if missing:
        raise InputError(
            f"{len(missing)} of {len(names)} photos have no target here: {first_few(missing, 5)}",
            path=folder,
            hint="name each photo's target as the photo (frames of a video in --a have none: give images)",
        )
    targets = []
    for photo, path in zip(photos, found):
        rgb = read_image(path)
        (height, width), (h, w) = photo.shape[1:], rgb.shape[:2]
        if abs(w * height - h * width) > max(w, h, width, height):  # more than a pixel of rounding apart
            raise InputError(
                f"is {w}x{h}, its photo {width}x{height} as loaded: another aspect ratio",
                path=path,
                hint="a target must show its photo's whole picture",
            )
        targets.append(torch.from_numpy(np.ascontiguousarray(resize(rgb, width, height))).permute(2, 0, 1).contiguous())
    return targets


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
