"""Training data: image folders, videos sampled at a frame rate, manifest labels, and the batches of each step.

Images are read once through `vidtoon.io`, resized so their shorter side is the load size, and held
as uint8 tensors (a 144×256 frame is 110 kB: 3,000 frames are 330 MB). Damaged images are skipped
with one warning that names them and counts them; a folder with nothing readable is an error.

Batches are a pure function of (seed, stream, step): the data order is a fresh permutation per
epoch, and every random draw of the augmentation (`vidtoon.train.augment`) comes from a `torch.Generator` seeded by the step.
So batches can be prepared ahead in background threads, and a resumed run sees exactly the batches
an uninterrupted one would, without saving any data-loader state.
"""

from __future__ import annotations

import csv
import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from vidtoon.errors import InputError, UsageError
from vidtoon.io.images import IMAGE_SUFFIXES, natural_key, read_image, resize
from vidtoon.io.paths import VIDEO_SUFFIXES
from vidtoon.parsing import first_few, parse_rate
from vidtoon.train.augment import augment_batch, center_crop
from vidtoon.train.config import AugmentConfig

log = logging.getLogger(__name__)

MANIFEST = "manifest.csv"  # as `vidtoon.frames.MANIFEST` (that module imports PyAV)
FRAMES_HINT = "make a labelled frame folder with `vidtoon frames FILM -o DIR --tag studio=NAME`"


@dataclass(frozen=True)
class ImageBank:
    """Training images held in memory.

    Attributes:
        images: 3×h×w uint8 tensors (sizes may differ; the shorter side is the load size).
        names: where each came from (a file name, or `video.mp4@12.500s`).
        labels: N int64 label indices (labelled data), or None.
        label_names: the label values, in index order.
    """

    images: list[torch.Tensor]
    names: list[str]
    labels: torch.Tensor | None = None
    label_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.images)

    def to(self, device: torch.device | None) -> ImageBank:
        """The same bank with its images (and labels) on `device` (None: where they are), for batches cut there."""
        if device is None:
            return self
        labels = self.labels.to(device) if self.labels is not None else None
        return ImageBank([image.to(device) for image in self.images], self.names, labels, self.label_names)


def _to_tensor(rgb: np.ndarray, load_size: int) -> torch.Tensor:
    """H×W×3 uint8 -> 3×h×w uint8 with the shorter side `load_size`."""
    h, w = rgb.shape[:2]
    scale = load_size / min(h, w)
    rgb = resize(rgb, max(load_size, round(w * scale)), max(load_size, round(h * scale)))
    # a writable C-contiguous array (a copy only when it is not one): torch warns on read-only memory
    return torch.from_numpy(np.require(rgb, requirements=("C", "W"))).permute(2, 0, 1).contiguous()


def _read_images(paths: list[Path], load_size: int) -> tuple[list[torch.Tensor], list[Path]]:
    """Readable images as tensors; damaged ones are skipped with one warning naming them."""
    images, names, skipped = [], [], []
    for path in paths:
        try:
            images.append(_to_tensor(read_image(path), load_size))
            names.append(path)
        except InputError:
            skipped.append(path)
    if skipped:
        shown = first_few([p.name for p in skipped])
        log.warning("skipped %d of %d images that cannot be read: %s", len(skipped), len(paths), shown)
    return images, names


@dataclass(frozen=True, slots=True)
class _Decoded:
    """A decoded frame not yet converted to RGB (what `sample_at_rate` needs: its time)."""

    index: int
    time: Fraction
    frame: object


def _read_video(path: Path, load_size: int, fps: Fraction, max_frames: int) -> tuple[list[torch.Tensor], list[str]]:
    """Frames of `path` sampled at `fps` (fewer, evenly spread, when that would exceed `max_frames`).

    PyAV is imported here, not with the module: training from image folders works without it.
    """
    from vidtoon.io.reader import VideoReader
    from vidtoon.io.sampling import sample_at_rate

    images, names = [], []
    with VideoReader(path) as reader:
        info = reader.info
        rate = fps
        if info.duration and info.duration * rate > max_frames:
            rate = Fraction(max_frames) / info.duration
            log.info(
                "%s: sampling %.3g frames/s instead of %s to keep at most %d frames", path.name, float(rate), fps, max_frames
            )
        decoded = (_Decoded(index, time, frame) for index, time, frame in reader.decoded())
        for item in sample_at_rate(decoded, rate, info.fps, info.duration):  # only the sampled frames become RGB
            images.append(_to_tensor(reader.rgb(item.frame), load_size))
            names.append(f"{path.name}@{float(item.time):.3f}s")
            if len(images) >= max_frames:
                break
    if not images:
        raise InputError("video gave no frames", path=path, hint="check that it plays")
    return images, names


def load_domain(path: str | Path, *, load_size: int, fps: str | Fraction = "2", max_frames: int = 3000) -> ImageBank:
    """One unpaired domain: a folder of images and/or videos (not its subfolders), or one video file.

    Videos are decoded through `vidtoon.io` and sampled at `fps` frames per second.

    Raises:
        InputError: missing path, empty folder, nothing readable; DecodeError: a video frame fails to decode.
    """
    path = Path(path)
    rate = parse_rate(fps)
    if not path.exists():
        raise InputError("not found", path=path, hint="give a folder of images or videos, or a video file")
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise InputError("is a single image: a domain needs many", path=path, hint="give the folder that holds the images")
        images, names = _read_video(path, load_size, rate, max_frames)
        return ImageBank(images, names)
    entries = sorted((p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")), key=lambda p: natural_key(p.name))
    image_files = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES]
    video_files = [p for p in entries if p.suffix.lower() in VIDEO_SUFFIXES]
    if not image_files and not video_files:
        what = f"{len(entries)} files, none an image or a video" if entries else "the folder is empty"
        raise InputError(
            f"no training images or videos here ({what})",
            path=path,
            hint=f"images: {', '.join(sorted(IMAGE_SUFFIXES))}; videos: {', '.join(sorted(VIDEO_SUFFIXES))}",
        )
    images, paths = _read_images(image_files, load_size)
    names = [p.name for p in paths]
    for video in video_files:
        frames, frame_names = _read_video(video, load_size, rate, max_frames)
        images += frames
        names += frame_names
    if not images:
        raise InputError(
            f"none of the {len(image_files)} images can be read (all damaged or not images)", path=path, hint="check the files"
        )
    return ImageBank(images, names)


def load_labelled(folder: str | Path, label_column: str, *, load_size: int) -> ImageBank:
    """Images listed in `folder/manifest.csv`, labelled by the values of `label_column` (sorted by name).

    Rows with an empty label are left out (with a warning); damaged images are skipped with a warning.

    Raises:
        InputError: no manifest, no readable image; UsageError: the column is missing or holds fewer than two values.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not found" if not folder.exists() else "is a file, not a frame folder", path=folder, hint=FRAMES_HINT)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise InputError(f"has no {MANIFEST} with labels", path=folder, hint=FRAMES_HINT)
    if not label_column:
        raise UsageError("give the manifest column that holds the labels with --label-column", hint="e.g. --label-column studio")
    with manifest.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    if label_column not in columns or "file" not in columns:
        missing = label_column if "file" in columns else "file"
        raise UsageError(f"{manifest} has no column {missing!r} (columns: {', '.join(columns) or 'none'})", hint=FRAMES_HINT)
    unlabelled = [row for row in rows if not (row[label_column] or "").strip()]
    if unlabelled:
        log.warning("left out %d rows of %s with no %s", len(unlabelled), manifest, label_column)
    rows = [row for row in rows if (row[label_column] or "").strip()]
    label_names = tuple(sorted({row[label_column].strip() for row in rows}))
    if len(label_names) < 2:
        raise UsageError(
            f"column {label_column!r} of {manifest} has {len(label_names)} distinct value(s): a CAAE learns at least two styles",
            hint=FRAMES_HINT,
        )
    listed = [folder / row["file"] for row in rows]
    missing_files = [p for p in listed if not p.is_file()]
    if missing_files:
        log.warning(
            "skipped %d manifest rows whose file is missing: %s",
            len(missing_files),
            ", ".join(p.name for p in missing_files[:10]),
        )
    label_of = {folder / row["file"]: label_names.index(row[label_column].strip()) for row in rows}
    images, paths = _read_images([p for p in listed if p.is_file()], load_size)
    if not images:
        raise InputError("no image listed in the manifest can be read", path=manifest, hint=FRAMES_HINT)
    labels = torch.tensor([label_of[p] for p in paths], dtype=torch.long)
    present = set(labels.tolist())
    if len(present) < 2:
        raise UsageError(f"only the label {label_names[labels[0]]!r} has readable images", hint=FRAMES_HINT)
    return ImageBank(images, [p.name for p in paths], labels, label_names)


# --- the order of the data and batches as a function of the step ---


def step_generator(seed: int, stream: int, step: int) -> torch.Generator:
    """A generator seeded by (seed, stream, step), well mixed (SeedSequence): the randomness of one batch."""
    state = np.random.SeedSequence([seed, stream, step]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


class EpochOrder:
    """Indices into a dataset of `n` items: a fresh permutation each epoch, seeded by (seed, stream, epoch)."""

    def __init__(self, n: int, seed: int, stream: int):
        self.n, self.seed, self.stream = n, seed, stream
        self._perms: dict[int, torch.Tensor] = {}

    def _perm(self, epoch: int) -> torch.Tensor:
        if epoch not in self._perms:
            if len(self._perms) > 2:
                self._perms.pop(min(self._perms))
            self._perms[epoch] = torch.randperm(self.n, generator=step_generator(self.seed, self.stream + 1000, epoch))
        return self._perms[epoch]

    def indices(self, step: int, batch_size: int) -> list[int]:
        """The `batch_size` indices of step `step` (0-based)."""
        return [int(self._perm(p // self.n)[p % self.n]) for p in range(step * batch_size, (step + 1) * batch_size)]


def sample_batch(
    bank: ImageBank, order: EpochOrder, step: int, *, size: int, batch_size: int, augment: AugmentConfig, seed: int, stream: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(x N×3×size×size in [-1, 1], labels N int64 or None) of step `step` of one data stream."""
    indices = order.indices(step, batch_size)
    x = augment_batch([bank.images[i] for i in indices], size, augment, step_generator(seed, stream, step))
    labels = bank.labels[indices] if bank.labels is not None else None
    return x, labels


def batches(
    make: Callable[[int], dict[str, torch.Tensor]], start: int, end: int, workers: int
) -> Iterator[dict[str, torch.Tensor]]:
    """make(start), make(start + 1), … make(end - 1), in order; with `workers` threads preparing up to 2×workers ahead."""
    if workers == 0:
        for step in range(start, end):
            yield make(step)
        return
    steps = iter(range(start, end))
    executor = ThreadPoolExecutor(workers, thread_name_prefix="vidtoon-batches")
    try:
        pending = deque(executor.submit(make, step) for step in islice(steps, 2 * workers))
        while pending:
            batch = pending.popleft().result()
            step = next(steps, None)
            if step is not None:
                pending.append(executor.submit(make, step))
            yield batch
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class TrainData:
    """A trainer's data: `make(step)` gives the batch of a step; `sample` is a fixed batch for sample grids;
    `labels` names the style labels of labelled data."""

    make: Callable[[int], dict[str, torch.Tensor]]
    sample: dict[str, torch.Tensor]
    summary: str
    labels: tuple[str, ...] = ()


def fixed_samples(bank: ImageBank, size: int, count: int = 4) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`count` images spread evenly over the bank, centre-cropped: (N×3×size×size, labels or None)."""
    indices = sorted({round(i * (len(bank) - 1) / max(1, count - 1)) for i in range(min(count, len(bank)))})
    x = torch.stack([center_crop(bank.images[i], size) for i in indices])
    return x, (bank.labels[indices] if bank.labels is not None else None)
