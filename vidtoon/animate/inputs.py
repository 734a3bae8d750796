"""The inputs of `animate`: the still face (scaled), the driving video, the default output name."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidtoon.errors import InputError, UsageError
from vidtoon.io.images import read_image
from vidtoon.io.probe import VideoInfo, probe


def default_animate_output(source: Path, driver: Path) -> Path:
    """face.jpg + driver.mp4 -> face.driver.mp4 beside the source."""
    return source.with_name(f"{source.stem}.{driver.stem}.mp4")


def load_source(source: Path, size: int | None) -> np.ndarray:
    """The source still as H×W×3 uint8 RGB (upright, as its EXIF orientation says), its longer side scaled to `size`
    when given.

    Raises:
        InputError: missing, unreadable, or a video rather than a still image.
    """
    info = probe(source)
    if not info.is_image:
        raise InputError(
            "is a video; the face to animate must be a still image",
            path=source,
            hint="pick one frame, e.g. `vidtoon frames VIDEO --fps 1 --size none -o frames/`, and pass an image",
        )
    rgb = read_image(source)  # a phone's photo upright, as its EXIF orientation says it is shown
    if size is not None:
        if size < 64:
            raise UsageError(f"--size must be at least 64 px, got {size}")
        height, width = rgb.shape[:2]
        scale = size / max(width, height)
        new = (max(2, round(width * scale)), max(2, round(height * scale)))
        rgb = cv2.resize(rgb, new, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return rgb


def check_driver(driver: Path) -> VideoInfo:
    """The driver's probe; it must be a video (a still image cannot drive anything).

    Raises:
        InputError: missing, without a video stream, or a still image.
    """
    info = probe(driver)
    if info.is_image:
        raise InputError(
            "is a still image; the driver must be a video of a moving face",
            path=driver,
            hint="give a video (e.g. .mp4) of someone talking",
        )
    return info
