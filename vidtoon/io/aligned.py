"""Several frame sequences read in step against a source: one frame count, sizes checked, frames at one size.

`evaluate` (output, source, reference) and `stabilize` (processed, source) both take sequences
made from one original by some tool. Real data does not always line up: a tool may drop the last
frames (the DVP bedroom pair: 123 input, 121 processed) or work at another scale. The rules here
are the same for both: differing counts are an error naming every count unless `truncate` asks for
the common prefix; sizes must be the source's, or its aspect ratio to within a pixel (resized, with
a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import islice
from pathlib import Path

import numpy as np

from vidtoon.errors import InputError
from vidtoon.io.images import list_images, resize
from vidtoon.io.probe import probe
from vidtoon.io.reader import Frame
from vidtoon.io.sequence import count_frames, read_sequence
from vidtoon.streaming import zip_in_step

log = logging.getLogger(__name__)


def common_frame_count(paths: dict[str, Path], *, truncate: bool, minimum: int = 2) -> tuple[int, dict[str, int]]:
    """(frames to use, each role's count) for the sequences `paths` (role -> video or folder).

    Raises InputError when the counts differ and `truncate` is off, or when fewer than `minimum` frames remain.
    Videos at different frame rates are paired frame for frame, with a warning naming the rates.
    """
    counts = {role: count_frames(path) for role, path in paths.items()}
    frames = min(counts.values())
    if frames < minimum:  # before the counts: --truncate would not help
        short = min(counts, key=counts.get)
        raise InputError(f"has {frames} frame(s); temporal consistency needs at least {minimum}", path=paths[short])
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{role} {paths[role]} has {count}" for role, count in counts.items())
        if not truncate:
            raise InputError(f"frame counts differ: {listed}", hint=f"pass --truncate to use the first {frames} frames")
        log.warning("frame counts differ (%s): using the first %d frames", listed, frames)
    rates = {role: probe(path).fps for role, path in paths.items() if not path.is_dir()}
    if len({rate for rate in rates.values() if rate}) > 1:  # a folder has no rate of its own
        listed = ", ".join(
            f"{role} {paths[role]} {float(rate):.3f}".rstrip("0").rstrip(".") + " fps" for role, rate in rates.items()
        )
        log.warning("frame rates differ (%s): frames are paired by their number, not their time", listed)
    return frames, counts


def first_frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of the first frame of a video or frame folder."""
    frames = read_sequence(path)
    try:
        rgb = next(frames).rgb
    except StopIteration:
        raise InputError("holds no frames", path=path) from None
    finally:
        frames.close()
    return rgb.shape[1], rgb.shape[0]


def same_aspect(size: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether one scale maps the larger of two W×H sizes onto the smaller with each side within a pixel: the same
    picture at another scale, an odd side rounded by its encoder (480x270 at half size is 240x136) included."""
    (width, height), (big_width, big_height) = sorted((size, other))
    lowest = max((width - 1) / big_width, (height - 1) / big_height)
    return lowest <= min((width + 1) / big_width, (height + 1) / big_height)


def check_size(
    role: str, path: Path, size: tuple[int, int], base_path: Path, base_size: tuple[int, int], *, base_role: str = "source"
) -> None:
    """Accept `size` (of `role` at `path`) if it is `base_size`, or that aspect ratio to within a pixel of the smaller
    of the two (a warning: it will be resized to `base_size`); else InputError naming both files and sizes."""
    if size == base_size:
        return
    (width, height), (base_width, base_height) = size, base_size
    what = f"the {role} {path} is {width}x{height}, the {base_role} {base_path} is {base_width}x{base_height}"
    if same_aspect(size, base_size):
        log.warning("%s: same aspect ratio, so the %s is resized to %dx%d", what, role, base_width, base_height)
        return
    raise InputError(
        f"sizes differ: {what}",
        hint=f"give {'an' if role[0] in 'aeiou' else 'a'} {role} of the {base_role}'s size (or at least its aspect ratio)",
    )


def size_change(path: Path, index: int, size: tuple[int, int], native: tuple[int, int]) -> InputError:
    """The error for frame `index` of the video or frame folder `path` being `size` = (width, height) where its first
    frame is `native`: a folder's image is named by its file (the one to fix), a video's frame by its number."""
    (width, height), (native_width, native_height) = size, native
    if path.is_dir():
        files = list_images(path)
        return InputError(
            f"is {width}x{height}, the first image {files[0].name} is {native_width}x{native_height}",
            path=files[index],
            hint=f"every frame must have the same size: give it {native_width}x{native_height}, or remove it",
        )
    return InputError(
        f"frame {index} is {width}x{height}, the first frame is {native_width}x{native_height}",
        path=path,
        hint="every frame must have the same size",
    )


def frames_at_size(
    path: Path, count: int, native: tuple[int, int], size: tuple[int, int], *, fps: Fraction = Fraction(25)
) -> Iterator[Frame]:
    """The first `count` frames of `path` with their `rgb` at `size` = (width, height); each must have the
    first frame's `native` size (a frame of another size is an InputError naming its index). A folder's
    frames are timed at `fps`."""
    frames = read_sequence(path, fps=fps)
    try:
        for frame in islice(frames, count):
            height, width = frame.rgb.shape[:2]
            if (width, height) != native:
                raise size_change(path, frame.index, (width, height), native)
            yield frame if (width, height) == size else replace(frame, rgb=resize(frame.rgb, *size))
    finally:
        frames.close()


@dataclass(frozen=True, slots=True)
class GuidedFrame(Frame):
    """A frame together with the frame of the original it was made from (`guide`: H×W×3 uint8, the frame's size)."""

    guide: np.ndarray | None = None


def guided_frames(
    path: Path,
    guide_path: Path,
    count: int,
    *,
    native: tuple[int, int],
    guide_native: tuple[int, int],
    fps: Fraction = Fraction(25),
    start: Fraction = Fraction(0),
    timed_by_guide: bool = False,
) -> Iterator[GuidedFrame]:
    """The first `count` frames of `path` from time `start` on, each with the frame of `guide_path` at its
    index resized to its size; times count from `start` (as a reader opened at `start` gives them) and are the
    frames' own, or with `timed_by_guide` the guide's (a folder of frames made from a video plays as that video).
    `native`, `guide_native`: the first frames' (width, height) (see `first_frame_size`)."""
    pairs = zip_in_step(
        frames_at_size(path, count, native, native, fps=fps),
        frames_at_size(guide_path, count, guide_native, native, fps=fps),
    )
    for frame, guide in pairs:
        time = guide.time if timed_by_guide else frame.time
        if time >= start:
            yield GuidedFrame(index=frame.index, time=time - start, rgb=frame.rgb, guide=guide.rgb)
