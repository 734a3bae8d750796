"""Score how much a result looks like its target style: FID (and KID) of its frames against style images.

`evaluate_fid(result, reference_dir, inception_weights=...)` reads the frames of the result (a video or
a frame folder), the images of a reference folder (frames of the target style: the cartoon the look
should match), and compares their Inception-v3 pool3 features (`vidtoon.metrics.inception`, pytorch-fid's
network and input handling, so the numbers are comparable with pytorch-fid's on the same images) by
FID and, on request, KID (`vidtoon.metrics.fid`). Lower is closer to the style.

Everything that can be checked without the network is checked first (the folders and files exist,
enough frames and images, the weights file is a non-empty file, the option values), then the weights
are loaded (keys and shapes checked) and the frames stream through in batches: memory stays flat in
the number of frames for FID; KID keeps 2048 float32 features (8 KiB) per frame.

FID is biased upwards when estimated from few samples, and with fewer samples than its 2048
dimensions the covariances are singular: compare only numbers measured with the same sample counts
(`EvalFidReport.small_sample` says when this applies).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from vidtoon.checks import choice, device_name, whole_number
from vidtoon.device import resolve_device
from vidtoon.errors import InputError
from vidtoon.io.images import IMAGE_SUFFIXES, list_images, read_image
from vidtoon.io.sequence import count_frames, read_sequence
from vidtoon.metrics.fid import KID, GaussianStats, fid_from_stats, kernel_inception_distance
from vidtoon.metrics.inception import FEATURES, INPUT_SIZE, MIN_INPUT_SIZE, WEIGHTS_HINT, load_inception, to_network_input
from vidtoon.progress import NoProgress, Progress
from vidtoon.settings import FID_MODES

FID_SAMPLES = 2048  # fewer samples than feature dimensions: a singular covariance and a clearly biased FID
MIN_SAMPLES = 2


@dataclass(frozen=True)
class EvalFidReport:
    """What `evaluate_fid` measured.

    Attributes:
        result, reference, weights: the inputs.
        result_samples: frames of the result that were scored (all, or `max_frames` evenly spaced ones).
        reference_samples: images of the reference folder that were scored.
        result_frames, reference_images: how many there were in all.
        fid: the Fréchet Inception Distance (≥ 0, lower is closer to the style).
        kid: KID (mean, std over subsets, subset count and size), or None when not asked for.
        mode: the resize in front of the network: "legacy" (pytorch-fid's) or "clean" (clean-fid's).
    """

    result: Path
    reference: Path
    weights: Path
    result_samples: int
    reference_samples: int
    result_frames: int
    reference_images: int
    fid: float
    kid: KID | None
    mode: str = "legacy"

    @property
    def small_sample(self) -> bool:
        """Whether either set has fewer than 2048 samples (FID then biased upwards; compare like with like)."""
        return min(self.result_samples, self.reference_samples) < FID_SAMPLES

    def to_dict(self) -> dict:
        """JSON-ready: paths as strings, a non-finite number as None."""
        data = asdict(self) | {"small_sample": self.small_sample}
        return {
            key: str(value)
            if isinstance(value, Path)
            else None
            if isinstance(value, float) and not math.isfinite(value)
            else value
            for key, value in data.items()
        }


def evaluate_fid(
    result: str | Path,
    reference_dir: str | Path,
    *,
    inception_weights: str | Path,
    kid: bool = False,
    max_frames: int | None = None,
    mode: str = "legacy",
    device: str | torch.device = "auto",
    batch_size: int | None = None,
    input_size: int = INPUT_SIZE,
    progress: Progress | None = None,
) -> EvalFidReport:
    """FID (and KID) between the frames of `result` and the images in `reference_dir`.

    Args:
        result: a video or a frame folder (what was made).
        reference_dir: a folder of images in the target style.
        inception_weights: pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (see `vidtoon.metrics.inception`).
        kid: also compute KID (100 subsets of min(1000, counts) samples).
        max_frames: score at most this many frames of each side, evenly spaced (None: all).
        mode: "legacy" (pytorch-fid's bilinear resize; the default, comparable with most published FIDs) or "clean"
            (clean-fid's antialiased PIL-bicubic resize; see `vidtoon.metrics.inception`).
        device: "auto", "cpu", "cuda[:N]" or a torch.device.
        batch_size: images per network call (default 32 on a GPU, 8 on the CPU).
        input_size: the side frames are resized to for the network: 299 (pytorch-fid's) for numbers comparable with
            anyone's; smaller (at least 75) only for tests and quick relative looks.
        progress: receives one step per image.
    Raises:
        InputError: a missing or unreadable input, fewer than 2 frames or images, a weights file that is missing or
            not the FID Inception network's.
        UsageError: a bad option value.
    """
    whole_number("--batch-size", batch_size, optional=True, maximum=1024)
    whole_number("input_size", input_size, minimum=MIN_INPUT_SIZE, maximum=4096)
    if isinstance(device, str):
        device_name("--device", device)
    result_count, references = check_fid(
        result, reference_dir, inception_weights=inception_weights, max_frames=max_frames, mode=mode
    )
    result, reference_dir, weights = Path(result), Path(reference_dir), Path(inception_weights)

    device = resolve_device(device) if isinstance(device, str) else torch.device(device)
    network = load_inception(weights, device=device)
    batch_size = batch_size or (32 if device.type == "cuda" else 8)
    result_picks = _evenly_spaced(result_count, max_frames)
    reference_picks = _evenly_spaced(len(references), max_frames)
    progress = progress or NoProgress()
    progress.start(len(result_picks) + len(reference_picks), f"Inception features of {result.name} and {reference_dir.name}")

    def features(frames: Iterator[np.ndarray]) -> tuple[GaussianStats, np.ndarray | None]:
        stats, kept = GaussianStats(FEATURES), []
        for batch in _batches(frames, batch_size, input_size, mode, device):
            with torch.inference_mode():
                out = network(batch).double().cpu().numpy()
            stats.update(out)
            if kid:
                kept.append(out.astype(np.float32))
            progress.advance(len(out))
        return stats, np.concatenate(kept) if kid else None

    result_stats, result_features = features(_result_frames(result, result_picks))
    reference_stats, reference_features = features(read_image(references[i]) for i in reference_picks)
    return EvalFidReport(
        result=result,
        reference=reference_dir,
        weights=weights,
        result_samples=result_stats.count,
        reference_samples=reference_stats.count,
        result_frames=result_count,
        reference_images=len(references),
        fid=fid_from_stats(result_stats, reference_stats),
        kid=kernel_inception_distance(result_features, reference_features) if kid else None,
        mode=mode,
    )


def check_fid(
    result: str | Path,
    reference_dir: str | Path,
    *,
    inception_weights: str | Path,
    max_frames: int | None = None,
    mode: str = "legacy",
) -> tuple[int, list[Path]]:
    """Everything cheap about an `evaluate_fid` call, before any network loads: (frames in the result, reference images).

    Raises:
        InputError, UsageError: as `evaluate_fid`, except a weights file of the wrong architecture (found on loading).
    """
    whole_number("--fid-frames", max_frames, optional=True, minimum=MIN_SAMPLES)
    choice("--fid-mode", mode, FID_MODES)
    result_count = _count_result(Path(result))
    references = list_images(reference_dir)
    if len(references) < MIN_SAMPLES:
        raise InputError(f"holds {len(references)} image, FID needs at least {MIN_SAMPLES}", path=reference_dir)
    _check_weights_file(Path(inception_weights))
    return result_count, references


def _count_result(result: Path) -> int:
    """Frames in the result (video or folder), refusing a single image or fewer than 2 frames."""
    if not result.exists():
        raise InputError("file not found", path=result, hint="check the path and the spelling")
    if result.is_file() and result.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(
            "is one image: FID compares distributions and needs at least 2 frames",
            path=result,
            hint="give the video or the folder of frames",
        )
    count = count_frames(result)
    if count < MIN_SAMPLES:
        raise InputError(f"has {count} frame(s), FID needs at least {MIN_SAMPLES}", path=result)
    return count


def _check_weights_file(weights: Path) -> None:
    if not weights.exists():
        raise InputError("Inception weights file not found", path=weights, hint=WEIGHTS_HINT)
    if not weights.is_file() or weights.stat().st_size == 0:
        raise InputError("is not a weights file (a folder, or empty)", path=weights, hint=WEIGHTS_HINT)


def _evenly_spaced(count: int, limit: int | None) -> list[int]:
    """Indices 0..count−1, or `limit` of them evenly spaced (first and last included)."""
    if limit is None or limit >= count:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _result_frames(result: Path, picks: list[int]) -> Iterator[np.ndarray]:
    """The frames of `result` at the indices `picks` (sorted), as H×W×3 uint8, decoding the sequence once."""
    wanted, frames = set(picks), read_sequence(result)
    try:
        for index, frame in enumerate(frames):
            if index in wanted:
                yield frame.rgb
            if index >= picks[-1]:
                break
    finally:
        frames.close()


def _batches(frames: Iterator[np.ndarray], size: int, side: int, mode: str, device: torch.device) -> Iterator[torch.Tensor]:
    """Network inputs (B×3×side×side in [-1, 1]) of up to `size` frames each; frames may differ in size."""
    batch: list[torch.Tensor] = []
    for rgb in frames:
        batch.append(to_network_input(rgb[None], size=side, mode=mode, device=device))
        if len(batch) == size:
            yield torch.cat(batch)
            batch = []
    if batch:
        yield torch.cat(batch)
