"""Still images: listing a frame folder in natural order, reading any image as RGB, fitting sizes."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from vidtoon.errors import InputError, UsageError
from vidtoon.files import StagingDir, ensure_writable_dir
from vidtoon.progress import Progress

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".exr"})
FIT_MODES = ("pad", "crop", "stretch")


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: frame2 < frame10."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def list_images(folder: str | Path, pattern: str | None = None) -> list[Path]:
    """Image files in `folder` (not its subfolders), in natural order.

    Args:
        pattern: a glob on file names (e.g. "shot1_*.png"); None = every image suffix.

    Raises:
        InputError: the folder is missing, a file, or holds no matching image.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError("folder not found", path=folder, hint="check the path and the spelling")
    if not folder.is_dir():
        raise InputError("is a file, not a folder of frames", path=folder, hint="give the folder that holds the images")
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and (fnmatch.fnmatch(p.name, pattern) if pattern else p.suffix.lower() in IMAGE_SUFFIXES)
    ]
    if not files:
        looked_for = f"files matching {pattern!r}" if pattern else f"images ({', '.join(sorted(IMAGE_SUFFIXES))})"
        raise InputError(f"no {looked_for} in this folder", path=folder, hint="check the folder, or pass --pattern")
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: str | Path) -> np.ndarray:
    """Read any image as H×W×3 uint8 RGB: greyscale is expanded, alpha composited over black,
    16-bit and float images scaled to 8 bits.

    Raises:
        InputError: the file cannot be read as an image.
    """
    path = Path(path)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError("cannot be read as an image (damaged, or not an image)", path=path, hint="remove it or replace it")
    if image.dtype == np.uint16:
        image = (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3].astype(np.float32) * alpha + 0.5).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: Path, rgb: np.ndarray, *, jpeg_quality: int = 95) -> None:
    """Write H×W×3 uint8 RGB to `path` (format from the suffix)."""
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if path.suffix.lower() in (".jpg", ".jpeg") else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    )
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise InputError("cannot write this image", path=path, hint="check free space and permissions")


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to exactly width×height (area filter when shrinking, cubic when enlarging)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    shrinking = width * height < rgb.shape[0] * rgb.shape[1]
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def center_crop_to_aspect(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The largest centred crop of `rgb` with the aspect ratio width:height."""
    h, w = rgb.shape[:2]
    if w * height > h * width:  # too wide
        new_w = max(1, round(h * width / height))
        x0 = (w - new_w) // 2
        return rgb[:, x0 : x0 + new_w]
    new_h = max(1, round(w * height / width))
    y0 = (h - new_h) // 2
    return rgb[y0 : y0 + new_h]


def fit(rgb: np.ndarray, width: int, height: int, mode: str = "pad") -> np.ndarray:
    """Bring an image to width×height.

    Modes: "pad" keeps the aspect ratio and fills the rest with black (letterbox), "crop" keeps
    the aspect ratio and cuts the overflow (centred), "stretch" ignores the aspect ratio.
    """
    if mode not in FIT_MODES:
        raise UsageError(f"unknown fit mode {mode!r}", hint=f"use one of {', '.join(FIT_MODES)}")
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    if mode == "stretch":
        return resize(rgb, width, height)
    if mode == "crop":
        return resize(center_crop_to_aspect(rgb, width, height), width, height)
    scale = min(width / w, height / h)
    new_w, new_h = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    canvas = np.zeros((height, width, 3), np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    canvas[y0 : y0 + new_h, x0 : x0 + new_w] = resize(rgb, new_w, new_h)
    return canvas


def check_output_folder(output: Path, *, inputs: Iterable[Path] = (), force: bool = False) -> Path:
    """UsageError unless the folder `output` may be written: absent (or `force`), and not one of `inputs`."""
    output = Path(output)
    if output.exists() and not force:
        raise UsageError(f"output folder {output} exists", hint="choose another with -o, or pass --force")
    if any(output.resolve() == Path(path).resolve() for path in inputs):
        raise UsageError(f"output folder {output} is an input", hint="choose another with -o")
    if output.exists() and not output.is_dir():
        raise UsageError(f"output {output} is a file, not a folder", hint="give a folder name with -o")
    return output


def write_image_folder(
    output: Path,
    images: Iterable[tuple[str, np.ndarray]],
    *,
    inputs: Iterable[Path] = (),
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write (file name, H×W×3 uint8 RGB) pairs into the folder `output`, all appearing at once when the last is done.

    An existing `output` needs `force`; `output` may not be one of `inputs`. The files are staged in a
    hidden folder beside it, so a failure (or Ctrl-C) leaves no half-written folder under the final name.
    """
    output = check_output_folder(output, inputs=inputs, force=force)
    ensure_writable_dir(output)
    staging = StagingDir(output)
    try:
        for name, rgb in images:
            write_image(staging.path / name, rgb)
            if progress is not None:
                progress.advance()
        staging.commit()
    except BaseException:
        staging.abort()
        raise
    return output
