"""Photos and folders of photos through a `Restyler`: each picture on its own (no temporal state carried over)."""

from __future__ import annotations

from pathlib import Path

from vidtoon.files import AtomicFile, check_output
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.images import list_images, read_image, write_image, write_image_folder
from vidtoon.progress import Progress
from vidtoon.restyle.batches import Restyler
from vidtoon.restyle.check import check_image_output, still_names


def restyle_image(source: Path, output: Path, restyler: Restyler, *, force: bool, max_pixels: int = DEFAULT_MAX_PIXELS) -> Path:
    """One photo -> one image file (written whole or not at all)."""
    check_output(output, inputs=(source,), force=force)
    check_image_output(output)
    rgb = read_image(source, max_pixels=max_pixels)
    restyler.reset()
    restyled = restyler([rgb])[0]
    restyler.check_still(source)
    with AtomicFile(output) as staged:
        write_image(staged.path, restyled)
    return output


def restyle_folder(
    source: Path, output: Path, restyler: Restyler, *, force: bool, progress: Progress, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Path:
    """A folder of photos -> a folder of PNGs with the same stems (appearing all at once)."""
    files = list_images(source)
    names = still_names(files, source)
    progress.start(len(files), source.name)

    def restyled():
        for path, name in zip(files, names):
            restyler.reset()  # a folder of photos: no frame follows another
            yield name, restyler([read_image(path, max_pixels=max_pixels)])[0]

    result = write_image_folder(output, restyled(), inputs=(source,), force=force, progress=progress)
    restyler.finish("images")
    return result
