"""Frame sequences from a video or a folder of images, read the same way."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

from vidtoon.io.images import list_images, read_image
from vidtoon.io.probe import probe
from vidtoon.io.reader import Frame, read_frames


def count_frames(path: str | Path) -> int:
    """Frames in a video (decoded count when the container does not know it exactly) or images in a folder."""
    path = Path(path)
    if path.is_dir():
        return len(list_images(path))
    info = probe(path)
    if info.frame_count_exact and info.frame_count is not None:
        return info.frame_count
    return sum(1 for _ in read_frames(path))


def read_sequence(path: str | Path, *, fps: Fraction = Fraction(25)) -> Iterator[Frame]:
    """Yield the frames of a video, or of a folder of images in natural order (times index/fps)."""
    path = Path(path)
    if path.is_dir():
        for index, image in enumerate(list_images(path)):
            yield Frame(index=index, time=Fraction(index) / fps, rgb=read_image(image))
    else:
        yield from read_frames(path)
