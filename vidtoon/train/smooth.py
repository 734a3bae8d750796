"""Edge smoothing of cartoon images, the preprocessing of CartoonGAN (Chen et al. 2018) and AnimeGAN.

Cartoons have crisp edges. To teach a discriminator that *blurry* edges are not cartoon-like, those
papers add a third set of images: the style images with their edges smoothed. Recipe: find edges
(Canny), dilate them into a band, and replace the pixels of that band with a Gaussian blur of the image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vidtoon.errors import InputError, UsageError
from vidtoon.files import StagingDir
from vidtoon.io.images import list_images, read_image, write_staged_image
from vidtoon.io.paths import WRITABLE_IMAGE_SUFFIXES
from vidtoon.progress import NoProgress, Progress

log = logging.getLogger(__name__)


def edge_band(rgb_u8: np.ndarray, *, kernel: int = 5, low: int = 100, high: int = 200) -> np.ndarray:
    """Canny edges of the grey image dilated by a kernel×kernel square: H×W×3 uint8 -> H×W bool."""
    grey = cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, low, high)
    return cv2.dilate(edges, np.ones((kernel, kernel), np.uint8)) > 0


def check_kernel(kernel: int) -> None:
    """UsageError unless `kernel` is an odd whole number from 3 to 99."""
    if not isinstance(kernel, int) or isinstance(kernel, bool) or not 3 <= kernel <= 99 or kernel % 2 == 0:
        raise UsageError(f"--kernel (the smoothing kernel) must be odd and from 3 to 99, got {kernel!r}")


def smooth_edges(rgb_u8: np.ndarray, *, kernel: int = 5, low: int = 100, high: int = 200) -> np.ndarray:
    """The image with its edge band replaced by a kernel×kernel Gaussian blur: H×W×3 uint8 -> H×W×3 uint8.

    Args:
        kernel: odd side of the dilation and blur kernels (CartoonGAN: 5).
        low, high: Canny hysteresis thresholds on 0..255 grey levels.
    """
    if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3 or rgb_u8.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 image, got shape {rgb_u8.shape} dtype {rgb_u8.dtype}")
    check_kernel(kernel)
    band = edge_band(rgb_u8, kernel=kernel, low=low, high=high)
    blurred = cv2.GaussianBlur(rgb_u8, (kernel, kernel), 0, borderType=cv2.BORDER_REFLECT)
    out = rgb_u8.copy()
    out[band] = blurred[band]
    return out


@dataclass(frozen=True)
class SmoothResult:
    """The smoothed images written, and the inputs that could not be read (skipped with a warning)."""

    files: list[Path]
    skipped: list[Path]


def smooth_folder(
    source: str | Path, output: str | Path, *, kernel: int = 5, force: bool = False, progress: Progress | None = None
) -> SmoothResult:
    """Edge-smooth every image of `source` into `output` (same file names); all appear at once at the end.

    Damaged images are skipped with a warning naming them.

    Raises:
        InputError: `source` is missing, empty, or nothing in it is readable; UsageError: `output` exists (without
            `force`) or is `source`, or an image is of a type a colour picture cannot be written as (.pgm, .exr: each
            keeps its name); OutputError: an image cannot be written (named as `output` / its name), and nothing of
            this run is left in `output`.
    """
    check_kernel(kernel)
    source, output = Path(source), Path(output)
    files = list_images(source)
    if output.exists() and output.resolve() == source.resolve():
        raise UsageError(f"output folder {output} is the input folder", hint="choose another with -o")
    if output.exists() and not output.is_dir():
        raise UsageError(f"output {output} is a file", hint="give a folder with -o")
    if output.exists() and any(output.iterdir()) and not force:
        raise UsageError(f"output folder {output} is not empty", hint="choose another with -o, or pass --force")
    unwritable = [path for path in files if path.suffix.lower() not in WRITABLE_IMAGE_SUFFIXES]
    if unwritable:  # each output keeps its input's name: refused before anything is smoothed, by the name it would have
        raise UsageError(
            f"output {output / unwritable[0].name}: a colour picture cannot be written as {unwritable[0].suffix}"
            + (f" ({len(unwritable)} such images)" if len(unwritable) > 1 else ""),
            hint="convert them to .png first (each smoothed image keeps its input's name)",
        )
    progress = progress or NoProgress()
    staging = StagingDir(output, make=True)
    skipped = []
    progress.start(len(files), source.name)
    try:
        for path in files:
            try:
                rgb = read_image(path)
            except InputError:
                skipped.append(path)
            else:
                write_staged_image(staging, path.name, smooth_edges(rgb, kernel=kernel))
            progress.advance()
        if len(skipped) == len(files):
            raise InputError(f"none of the {len(files)} images can be read", path=source, hint="check the files")
        written = staging.commit()
    except BaseException as exc:
        staging.fail(exc)  # nothing staged is left, nor a folder made for this run; a full disk names the folder
        raise
    if skipped:
        log.warning(
            "skipped %d of %d images that cannot be read: %s", len(skipped), len(files), ", ".join(p.name for p in skipped[:10])
        )
    return SmoothResult(written, skipped)
