"""Photos and folders of photos through a `Restyler`: each picture on its own (no temporal state carried over)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidtoon.files import check_output, write_atomic
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.images import ALPHA_SUFFIXES, list_images, read_image_and_alpha, write_image, write_image_folder
from vidtoon.progress import Progress
from vidtoon.restyle.batches import Restyler
from vidtoon.restyle.check import check_image_output, still_names


def restyle_image(source: Path, output: Path, restyler: Restyler, *, force: bool, max_pixels: int = DEFAULT_MAX_PIXELS) -> Path:
    """One photo -> one image file (written whole or not at all); a transparent one keeps its alpha in a .png, .webp
    or .tiff (other types get the picture restyled over black)."""
    check_output(output, inputs=(source,), force=force)
    check_image_output(output)
    restyled = _restyle_still(source, restyler, max_pixels=max_pixels, keep_alpha=output.suffix.lower() in ALPHA_SUFFIXES)
    restyler.check_still(source)
    # a full disk names `output`; from its rename on, a signal no longer stops the command (the CLI says what it wrote)
    return write_atomic(output, lambda staged: write_image(staged, restyled), final=True)


def restyle_folder(
    source: Path, output: Path, restyler: Restyler, *, force: bool, progress: Progress, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Path:
    """A folder of photos -> a folder of PNGs with the same stems (appearing all at once; transparent ones keep their
    alpha)."""
    files = list_images(source)
    names = still_names(files, source)
    progress.start(len(files), source.name)

    def restyled():
        for path, name in zip(files, names):
            yield name, _restyle_still(path, restyler, max_pixels=max_pixels, keep_alpha=True)

    result = write_image_folder(output, restyled(), inputs=(source,), force=force, progress=progress, final=True)
    restyler.finish("images")
    return result


def _restyle_still(path: Path, restyler: Restyler, *, max_pixels: int, keep_alpha: bool) -> np.ndarray:
    """The picture at `path` restyled on its own (no temporal state carried over): H×W×3 uint8 RGB, or H×W×4 RGBA
    with the source's alpha when `keep_alpha` and the source has transparency (restyled over black)."""
    rgb, alpha = read_image_and_alpha(path, max_pixels=max_pixels)
    restyler.reset()  # no frame follows another
    restyled = restyler([rgb])[0]
    if not keep_alpha or alpha is None or restyled.shape[:2] != alpha.shape:
        return restyled
    return np.dstack([restyled, alpha])
