"""`extract_frames`: a video becomes a folder of training images plus a `manifest.csv`."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtoon.checks import choice, frame_size, seconds
from vidtoon.errors import OutputError, UsageError
from vidtoon.files import AtomicFile, StagingDir
from vidtoon.io.images import center_crop_to_aspect, resize, write_image
from vidtoon.io.reader import VideoReader
from vidtoon.io.sampling import sample_at_rate
from vidtoon.locking import sidecar_name
from vidtoon.parsing import parse_rate
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import prefetch

MANIFEST = "manifest.csv"
BASE_COLUMNS = ("file", "source", "timestamp")
CROP_MODES = ("center", "none")
IMAGE_FORMATS = ("png", "jpg")


@dataclass(frozen=True)
class FrameSampling:
    """How frames are sampled from a video, checked when made (a bad value raises `UsageError` naming the flag).

    Attributes:
        fps: frames per second to keep (number, "29.97", "30000/1001"; an exact Fraction); None (or "all") = every frame.
        size: (width, height) of the images, 2 to 16384 each; None = the video's size.
        crop: "center" crops to the size's aspect before resizing; "none" only resizes.
        start, end: seconds of the video to sample (None: its start, its end).
        tags: manifest columns key=value (keys are identifiers, not the manifest's own columns).
        image_format: "png" or "jpg".
    """

    fps: Fraction | float | str | None = 2
    size: tuple[int, int] | None = (256, 256)
    crop: str = "center"
    start: Fraction | None = None
    end: Fraction | None = None
    tags: dict[str, str] = field(default_factory=dict)
    image_format: str = "png"

    def __post_init__(self) -> None:
        if self.fps is not None and self.fps != "all":  # "all", as on the command line: every frame (None)
            object.__setattr__(self, "fps", parse_rate(self.fps, flag="--fps"))
        else:
            object.__setattr__(self, "fps", None)
        object.__setattr__(self, "size", frame_size("--size", self.size))  # a list too: [256, 256]
        choice("--crop", self.crop, CROP_MODES)
        choice("--format", self.image_format, IMAGE_FORMATS)
        object.__setattr__(self, "start", seconds("--start", self.start))
        object.__setattr__(self, "end", seconds("--end", self.end))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise UsageError(f"--end ({float(self.end):g}s) must be after --start ({float(self.start):g}s)")
        object.__setattr__(self, "tags", dict(self.tags or {}))
        clash = set(self.tags) & set(BASE_COLUMNS)
        if clash:
            raise UsageError(f"--tag name {sorted(clash)[0]!r} is a manifest column already", hint="choose another tag name")


@dataclass(frozen=True)
class ExtractedFrames:
    """What `extract_frames` made: the image files and the manifest that lists them."""

    files: list[Path]
    manifest: Path
    concealed: tuple[Fraction, ...] = ()  # input times (s) of frames that failed to decode, shown as the previous good one
    stem: str = ""  # what the image names start with: the video's stem, or stem-<6 hex> beside a same-named video


def shape_frame(rgb: np.ndarray, size: tuple[int, int] | None, crop: str) -> np.ndarray:
    """Centre-crop to the size's aspect and resize ("center"); or resize keeping the aspect
    ("none": a square size N sets the shorter side to N; WxH is taken exactly)."""
    if crop not in CROP_MODES:
        raise UsageError(f"unknown crop mode {crop!r}", hint=f"use one of {', '.join(CROP_MODES)}")
    if size is None:
        return rgb
    width, height = size
    if crop == "center":
        return resize(center_crop_to_aspect(rgb, width, height), width, height)
    if width == height:
        h, w = rgb.shape[:2]
        scale = width / min(h, w)
        return resize(rgb, max(1, round(w * scale)), max(1, round(h * scale)))
    return resize(rgb, width, height)


def frame_file_name(stem: str, time: Fraction, suffix: str) -> str:
    """e.g. vtest_t000012.500.png: the source name and the timestamp in seconds."""
    return f"{stem}_t{float(time):010.3f}{suffix}"


def frame_name_stem(video: Path) -> str:
    """`video`'s stem, cut (with a hash) where its frames' names (stem-1a2b3c_t000012.500.jpeg) would pass NAME_MAX."""
    return sidecar_name("", video.stem, "", reserve=len("-1a2b3c_t000012.500.jpeg"))


def extract_frames(
    video: str | Path,
    output_dir: str | Path,
    *,
    fps: Fraction | float | str | None = 2,
    size: tuple[int, int] | None = (256, 256),
    crop: str = "center",
    start: Fraction | None = None,
    end: Fraction | None = None,
    tags: dict[str, str] | None = None,
    image_format: str = "png",
    force: bool = False,
    progress: Progress | None = None,
    on_corrupt: str = "stop",
) -> ExtractedFrames:
    """Sample `video` at `fps` into images in `output_dir`, listed in `output_dir/manifest.csv`.

    The manifest has the columns file, source, timestamp and one per tag (e.g. studio=blender);
    running again on another video into the same folder appends to it, so one folder can hold a
    labelled dataset from many films. All new images appear at once when the run completes.
    Frames of this video already listed (its `source` is the same file) raise `OutputError` unless
    `force`: then its old images and rows are removed once the new ones are in place, and other
    videos' are kept. Another video with the same file name gets names with a short suffix from
    its path (`clip-1a2b3c_t000000.000.png`), so no image of another video is overwritten.
    `on_corrupt`: "stop" at a frame that fails to decode, or "conceal" it (see `VideoReader`).
    """
    progress = progress or NoProgress()
    sampling = FrameSampling(fps=fps, size=size, crop=crop, start=start, end=end, tags=tags or {}, image_format=image_format)
    rate, tags, start, end = sampling.fps, sampling.tags, sampling.start, sampling.end
    video, output_dir = Path(video), Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError("output is a file, not a folder", path=output_dir, hint="give a folder name with -o")
    with VideoReader(video, start=start, end=end, on_corrupt=on_corrupt) as reader:
        mine, others = _owners(output_dir, video, image_format)
        if mine and not force:
            raise OutputError(
                f"{len(mine)} frames of {video} are already in this folder",
                path=output_dir,
                hint="pass --force to replace them, or choose another folder with -o",
            )
        stem = _frame_stem(video, taken=others)
        staging = StagingDir(output_dir, make=True)
        staged_manifest: AtomicFile | None = None
        try:
            info = reader.info
            span = None
            if info.duration is not None:
                span = min(end, info.duration) if end is not None else info.duration
                span -= start or 0
            expected = max(1, round(span * rate)) if span is not None and rate is not None else info.frame_count
            progress.start(expected, video.name)
            rows = []
            sampled = closing(prefetch(sample_at_rate(iter(reader), rate, info.fps, span), depth=4))
            with sampled as frames:  # on a signal the decode thread stops before the reader closes
                for frame in frames:
                    name = frame_file_name(stem, frame.time + reader.start, f".{image_format}")
                    write_image(staging.path / name, shape_frame(frame.rgb, sampling.size, crop))
                    time = f"{float(frame.time + reader.start):.6f}"
                    rows.append({"file": name, "source": str(video), "timestamp": time, **tags})
                    progress.advance()
            staged_manifest = _stage_manifest(output_dir / MANIFEST, rows, video)
            files = staging.commit()
            manifest = staged_manifest.commit()
            _remove_replaced(output_dir, mine - {path.name for path in files} - others)
        except BaseException as exc:
            if staged_manifest is not None:
                staged_manifest.abort()
            staging.fail(exc)  # and the folder goes, when it was made for this run
            raise
    return ExtractedFrames(files=files, manifest=manifest, concealed=tuple(reader.concealed), stem=stem)


def _read_manifest(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The manifest's columns (the base ones first) and rows; none when it does not exist."""
    columns = list(BASE_COLUMNS)
    if not path.exists():
        return columns, []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns += [c for c in reader.fieldnames or [] if c not in columns]
        return columns, list(reader)


def _same_source(recorded: str, video: Path) -> bool:
    """Whether a manifest's `source` names `video`: the same path, resolved from here, or the same file."""
    if not recorded:
        return False
    path = Path(recorded)
    if path == video or path.resolve() == video.resolve():
        return True
    try:
        return os.path.samefile(path, video)
    except OSError:
        return False


def _owners(folder: Path, video: Path, image_format: str) -> tuple[set[str], set[str]]:
    """Image names in `folder` listed for `video` in its manifest, and the names that belong to
    something else: listed for another source, or images named like `video`'s frames that the
    manifest does not list."""
    _, rows = _read_manifest(folder / MANIFEST)
    mine = {row.get("file") or "" for row in rows if _same_source(row.get("source") or "", video)}
    others = {row.get("file") or "" for row in rows if not _same_source(row.get("source") or "", video)}
    pattern = re.compile(rf"{re.escape(frame_name_stem(video))}_t\d+\.\d{{3}}\.{re.escape(image_format)}")
    if folder.is_dir():
        others |= {p.name for p in folder.iterdir() if pattern.fullmatch(p.name) and p.name not in mine}
    return mine - {""}, others - {""}


def _frame_stem(video: Path, *, taken: set[str]) -> str:
    """The name the frames of `video` start with: its stem, or when a name in `taken` (another
    video's frames) starts the same way, its stem plus six hex digits of its resolved path."""
    stem = frame_name_stem(video)
    pattern = re.compile(rf"{re.escape(stem)}_t\d+\.\d{{3}}\.[a-z]+")
    if not any(pattern.fullmatch(name) for name in taken):
        return stem
    return f"{stem}-{hashlib.sha1(str(video.resolve()).encode()).hexdigest()[:6]}"


def _stage_manifest(path: Path, new_rows: list[dict[str, str]], video: Path) -> AtomicFile:
    """The manifest at `path` with `video`'s rows replaced by `new_rows` (and any row for one of the
    new files), written beside it, ready to `commit()`."""
    columns, rows = _read_manifest(path)
    replaced = {row["file"] for row in new_rows}
    rows = [
        row for row in rows if row.get("file") not in replaced and not _same_source(row.get("source") or "", video)
    ] + new_rows
    for row in new_rows:
        columns += [c for c in row if c not in columns]
    staged = AtomicFile(path)  # committed by the caller, with the frames
    try:
        with staged.path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
    except BaseException:
        staged.abort()
        raise
    return staged


def _remove_replaced(folder: Path, names: set[str]) -> None:
    """Delete the images `names` in `folder` that an earlier run of the same video left (names
    with a folder part are not ours and are left alone)."""
    for name in sorted(names):
        if Path(name).name == name and name not in (MANIFEST, ".", ".."):
            (folder / name).unlink(missing_ok=True)
