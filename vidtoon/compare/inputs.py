"""What `compare` compares: the source and the results as one line-up, checked before anything is drawn.

An input is a video, a still image or a folder of frames. All inputs must be of one sort (stills, or sequences:
videos and folders), have the source's aspect ratio (to within a pixel of rounding) and, for sequences, the same
number of frames (unless `truncate`: the common first frames). A folder's frames are timed at the line-up's rate:
the first video's nominal rate, else 25 fps. Within a sequence every frame keeps its first frame's shape: the video
refuses any other size (`io.aligned.frames_at_size`), a sheet (`frame_at`) another aspect ratio, with the same
message (the same picture at another scale fills its cell unchanged), rather than stretching it into its cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtoon.errors import InputError, UsageError
from vidtoon.io.aligned import common_frame_count, same_aspect, size_change
from vidtoon.io.images import list_images, read_image
from vidtoon.io.paths import check_input_file
from vidtoon.io.probe import VideoInfo, probe
from vidtoon.io.reader import VideoReader

FOLDER_FPS = Fraction(25)


@dataclass(frozen=True)
class Entry:
    """One input: `kind` is "video", "image" or "folder"; `size` = (width, height) as displayed; `info` for videos."""

    path: Path
    label: str
    kind: str
    size: tuple[int, int]
    info: VideoInfo | None = None

    @property
    def aspect(self) -> Fraction:
        return Fraction(self.size[0], self.size[1])


@dataclass(frozen=True)
class Lineup:
    """The source (when given) and the results, in column order, with their common timing.

    Attributes:
        entries: the source first (when given), then the results.
        has_source: whether entries[0] is the source.
        frames: frames compared in every sequence (1 for stills).
        fps: frames per second of the timing base (the first video's nominal rate, else 25).
        still: whether the inputs are still images.
        truncated: whether some sequence has frames beyond the ones compared (`truncate`).
    """

    entries: tuple[Entry, ...]
    has_source: bool
    frames: int
    fps: Fraction
    still: bool
    truncated: bool = False

    @property
    def results(self) -> tuple[Entry, ...]:
        return self.entries[1:] if self.has_source else self.entries

    @property
    def span(self) -> Fraction:
        """Seconds the compared frames cover (frames / fps)."""
        return self.frames / self.fps


def describe(path: Path, label: str) -> Entry:
    """An `Entry` for `path` (InputError when it is missing or unreadable)."""
    path = Path(path)
    if path.is_dir():
        first = read_image(list_images(path)[0])
        return Entry(path, label, "folder", (first.shape[1], first.shape[0]))
    check_input_file(path)
    info = probe(path)
    return Entry(path, label, "image" if info.is_image else "video", (info.width, info.height), info)


def make_lineup(
    results: list[Path], *, source: Path | None = None, labels: list[str] | None = None, truncate: bool = False
) -> Lineup:
    """Check the inputs (see the module doc) and time them.

    Raises:
        UsageError: no result, or `labels` of another count than the results.
        InputError: an input is missing or unreadable; stills mixed with sequences; aspect ratios or frame counts differ.
    """
    results = [Path(p) for p in results]
    if not results:
        raise UsageError("nothing to compare", hint="give one or more results (videos, images or frame folders)")
    if labels and len(labels) != len(results):
        raise UsageError(f"{len(labels)} --label for {len(results)} results", hint="give one --label per result, in order")
    names = list(labels or _default_names(results))
    if len(set(names)) < len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise UsageError(
            f"two results are both named {', '.join(twice)}: the sheet, the video and the page's key could not tell them apart",
            hint="give one distinct --label per result, in order",
        )
    entries = ([describe(source, "source")] if source is not None else []) + [describe(p, n) for p, n in zip(results, names)]
    kinds = {entry.kind == "image" for entry in entries}
    if len(kinds) > 1:
        stills = [str(e.path) for e in entries if e.kind == "image"]
        raise InputError(
            f"still images ({', '.join(stills)}) mixed with videos or frame folders",
            hint="compare stills with stills, videos and frame folders with each other",
        )
    base = entries[0]
    for entry in entries[1:]:
        if not same_aspect(entry.size, base.size):  # a pixel at the smaller size: 480x270 at half size is 240x136
            role = "source" if source is not None else "first result"
            raise InputError(
                f"aspect ratios differ: {entry.path} is {entry.size[0]}x{entry.size[1]} ({float(entry.aspect):.3f}:1), "
                f"the {role} {base.path} is {base.size[0]}x{base.size[1]} ({float(base.aspect):.3f}:1)",
                hint=f"compare results made at the {role}'s aspect ratio",
            )
    still = kinds == {True}
    fps = next((e.info.fps for e in entries if e.kind == "video" and e.info.fps), None) or FOLDER_FPS
    frames, counts = 1, {}
    if not still:
        roles, seen = {}, set()
        for i, entry in enumerate(entries):  # one count per file: a video without an exact count is decoded to count it
            if entry.path.resolve() not in seen:
                seen.add(entry.path.resolve())
                roles["source" if i == 0 and source is not None else f"result {entry.label}"] = entry.path
        frames, counts = common_frame_count(roles, truncate=truncate, minimum=1)
    truncated = any(count != frames for count in counts.values())
    return Lineup(tuple(entries), source is not None, frames, Fraction(fps), still, truncated)


def _default_names(results: list[Path]) -> list[str]:
    """Each result's file stem, or folder/stem where stems repeat (runs/a/out.mp4, runs/b/out.mp4 -> a/out, b/out)."""
    stems = [p.stem or p.name for p in results]
    return [f"{p.resolve().parent.name}/{stem}" if stems.count(stem) > 1 else stem for p, stem in zip(results, stems)]


def frame_at(entry: Entry, time: Fraction, fps: Fraction) -> np.ndarray:
    """H×W×3 uint8: the frame of `entry` shown at `time` seconds (the last one starting at or before it).

    A frame of another aspect ratio than the entry's first (`Entry.size`) is an InputError naming it (the video's
    message, `io.aligned.size_change`), not stretched into the sheet's cell.

    Videos are read through `VideoReader` from a little before `time` (a seek to the keyframe before it); a
    folder's frame is number floor(time × fps); a still image is itself. `time` is on the line-up's clock (`fps`):
    a video at another nominal rate is matched frame for frame, as the side-by-side video and the page pair
    frames, so its frame number floor(time × fps) is taken, not the frame it shows at `time` on its own clock.
    """
    if entry.kind == "image":
        return read_image(entry.path)
    if entry.kind == "folder":
        files = list_images(entry.path)
        index = min(len(files) - 1, int(time * fps))
        return _same_shape(entry, index, read_image(files[index]))
    if entry.info.fps and entry.info.fps != fps:
        time = Fraction(int(time * fps)) / entry.info.fps
    step = 1 / entry.info.fps if entry.info.fps else Fraction(1, 25)
    for start in (max(Fraction(0), time - 2 * step), None):
        found = None
        with VideoReader(entry.path, start=start or None, info=entry.info) as reader:
            for frame in reader:
                if (start or 0) + frame.time > time:
                    break
                found = frame
        if found is not None:
            index = round(((start or 0) + found.time) * (entry.info.fps or 25))  # its number on its own clock
            return _same_shape(entry, index, found.rgb)
    raise InputError(f"no frame at or before {float(time):.3f} s", path=entry.path, hint="choose a later time with --at")


def _same_shape(entry: Entry, index: int, rgb: np.ndarray) -> np.ndarray:
    """`rgb`, frame `index` of `entry`, when it has the aspect ratio of the entry's first frame (any scale)."""
    size = (rgb.shape[1], rgb.shape[0])
    if not same_aspect(size, entry.size):
        raise size_change(entry.path, index, size, entry.size)
    return rgb
