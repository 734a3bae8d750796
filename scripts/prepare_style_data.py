#!/usr/bin/env python
"""Prepare the two training domains of a bundled style, ready to carry to a GPU machine.

    .venv/bin/python scripts/prepare_style_data.py pixar -o /tmp/prep/pixar     # photos <-> Blender 3D films
    .venv/bin/python scripts/prepare_style_data.py anime -o /tmp/prep/anime     # selfies <-> anime faces

Reads `$VIDTOON_TEST_DATA` and `$VIDTOON_TEST_MEDIA` (default ../shared/data and ../shared/clips) and
writes OUT/a/*.jpg and OUT/b/*.jpg (shorter side `--short-side`; JPEG, `--jpeg-quality` 95 by default,
so that both domains fit the device tool's 64 MiB carry limit: pixar 51 MiB at q95, anime 50 MiB at q90)
and OUT/report.txt. Then, on the GPU:

    vidtoon train cyclegan --a OUT/a --b OUT/b --size 256 --device cuda -o runs/pixar

What it does to each domain (the issue's data rules):
- frames of videos sampled at a per-source rate (images taken as they are);
- drops near-black or near-uniform frames (title cards, fades, credits on black) and near-duplicates
  (a 32×18 grey thumbnail within `--duplicate-level` grey levels of any frame kept so far, from any source);
- pixar B side only: caps "green" frames (more than 40 % of pixels yellow-green to green, hue 50–170°,
  saturation and value over 16 %) at the share the A side has (or `--max-green-share`), seeded, so the
  generator does not learn "make everything green" (measured: B 51 % such frames, A 39 %);
- reports counts per source, what was dropped and why, the green share before and after, and each
  domain's mean colour (a large gap between the domains is what identity loss has to fight).

Nothing here is imported by the package; the data never enters the repository.

Notes (2026-11-23, this machine, ~15 s per style):
  pixar  A: 633 frames (bsds500 497, kodak 24, DVP/DAVIS inputs 74, vtest 38), 32 % green, mean RGB [113, 112, 92]
         B: 702 kept of 978 (10 blank, 266 near-duplicates), 46 % green -> 145 green frames left out: 557 frames,
            32 % green, mean RGB [120, 124, 107]; 50.7 MiB in all at q95
  anime  A: 1498 selfies (2 blank), B: 1500 anime faces; 49.9 MiB at q90 (73 MiB at q95: over the carry limit)

For the GPU recipe (scripts/train_styles_gpu.sh: both styles and the tree must travel in 64 MiB):
    scripts/prepare_style_data.py pixar -o out/gpu_data/pixar --short-side 256 --jpeg-quality 90
    scripts/prepare_style_data.py anime -o out/gpu_data/anime --short-side 256 --jpeg-quality 90 --limit 700
"""

from __future__ import annotations

import argparse
import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from vidtoon.io.images import IMAGE_SUFFIXES, natural_key, read_image, write_image
from vidtoon.io.probe import probe
from vidtoon.io.reader import VideoReader
from vidtoon.io.sampling import sample_at_rate

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Source:
    """Frames from one place: a folder of images (every `step`-th), or a video sampled at `fps`."""

    path: str  # relative to the data folder, or "clips:NAME" for a clip
    fps: Fraction | None = None
    step: int = 1


STYLES: dict[str, dict[str, list[Source]]] = {
    "pixar": {
        "a": [
            Source("photos/bsds500"),
            Source("photos/kodak24_mcmaster"),
            Source("video_seq/dvp_bedroom_input", step=6),
            Source("video_seq/dvp_davis_bike-packing_input", step=4),
            Source("video_seq/propainter_davis_tennis", step=4),
            Source("video_seq/propainter_davis_bmx-trees", step=4),
            Source("clips:vtest.avi", fps=Fraction(1, 2)),
        ],
        "b": [
            Source("anim3d/bbb_film_360p/bbb_bitrate.webm", fps=Fraction(2)),
            Source("anim3d/bbb_frames", step=3),
            Source("anim3d/mpi_sintel_frames"),
            Source("anim3d/moviepy_sintel_frames"),
            Source("anim3d/raft_sintel_demo"),
            Source("anim3d/tfoptflow_sintel_ambush1"),
            Source("clips:big_buck_bunny_0_30.webm", fps=Fraction(2)),
        ],
    },
    "anime": {
        "a": [Source("photos/selfie2anime_trainA")],
        "b": [Source("anime_faces/selfie2anime_trainB")],
    },
}


def frames_of(source: Source, data: Path, clips: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, H×W×3 uint8 RGB) of every frame `source` contributes."""
    path = clips / source.path.split(":", 1)[1] if source.path.startswith("clips:") else data / source.path
    stem = path.stem if path.is_file() else path.name
    if path.is_dir():
        images = sorted((p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: natural_key(str(p)))
        for index, image in enumerate(images[:: source.step]):
            yield f"{stem}_{index:05d}", read_image(image)
        return
    info = probe(path)
    with VideoReader(path) as reader:
        for frame in sample_at_rate(iter(reader), source.fps, info.fps, info.duration):
            yield f"{stem}_{frame.index:06d}", frame.rgb


def resize_short_side(rgb: np.ndarray, short_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    if scale >= 1:
        return rgb
    return cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def is_blank(rgb: np.ndarray) -> bool:
    """Title cards, fades and credits on black: most pixels near black, or hardly any contrast."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return bool((grey < 24).mean() > 0.6 or grey.std() < 8)


def green_share(rgb: np.ndarray) -> float:
    """Share of pixels that are yellow-green to green (OpenCV hue 25–85, i.e. 50–170°; saturation and value > 16 %)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    return float(((hsv[..., 0] >= 25) & (hsv[..., 0] <= 85) & (hsv[..., 1] > 40) & (hsv[..., 2] > 40)).mean())


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)


def prepare_domain(sources: list[Source], folder: Path, args, *, max_green: float | None = None) -> tuple[list[str], float]:
    """Write one domain's frames into `folder`, at most `max_green` of them green frames (None: no cap);
    return the report's lines and the share of green frames written."""
    folder.mkdir(parents=True, exist_ok=True)
    kept: list[tuple[str, np.ndarray, float]] = []
    dropped: Counter[str] = Counter()
    per_source: Counter[str] = Counter()
    thumbs = np.empty((0, 18 * 32), np.float32)  # of every kept frame: duplicates across sources (one film, two cuts) too
    for source in sources:
        for name, rgb in frames_of(source, Path(args.data), Path(args.media)):
            rgb = resize_short_side(rgb, args.short_side)
            if is_blank(rgb):
                dropped["blank (title, fade, credits)"] += 1
                continue
            thumb = thumbnail(rgb).reshape(1, -1)
            if len(thumbs) and np.abs(thumbs - thumb).mean(1).min() < args.duplicate_level:
                dropped["near-duplicate"] += 1
                continue
            thumbs = np.concatenate((thumbs, thumb))
            kept.append((name, rgb, green_share(rgb)))
            per_source[source.path] += 1
    green = [k for k, (_, _, share) in enumerate(kept) if share > 0.4]
    green_count = len(green)
    lines = [
        f"{folder.name}: {len(kept)} frames kept; dropped: {dict(dropped) or 'none'}",
        *(f"  {path}: {count}" for path, count in per_source.items()),
        f"  green frames (> 40 % green pixels): {len(green)} of {len(kept)} ({len(green) / max(1, len(kept)):.0%})",
    ]
    if max_green is not None and len(green) > max_green * len(kept):
        # keep m green frames so that m / (others + m) = max_green
        others = len(kept) - len(green)
        keep = round(max_green * others / (1 - max_green))
        drop = set(random.Random(args.seed).sample(green, len(green) - keep))
        kept = [item for k, item in enumerate(kept) if k not in drop]
        green_count = keep
        lines.append(f"  balanced: {len(drop)} green frames left out, {keep} kept ({keep / len(kept):.0%} of {len(kept)})")
    if args.limit and len(kept) > args.limit:
        chosen = sorted(random.Random(args.seed + 1).sample(range(len(kept)), args.limit))
        lines.append(f"  subsampled: {args.limit} of {len(kept)} kept (--limit, seeded, to fit the carry limit)")
        kept = [kept[k] for k in chosen]
    total = 0
    colour = np.zeros(3)
    for name, rgb, _ in kept:
        path = folder / f"{name}.jpg"
        write_image(path, rgb, jpeg_quality=args.jpeg_quality)
        total += path.stat().st_size
        colour += rgb.reshape(-1, 3).mean(0)
    lines.append(
        f"  mean RGB {np.round(colour / max(1, len(kept))).astype(int).tolist()}; {total / 2**20:.1f} MiB as JPEG q{args.jpeg_quality}"
    )
    return lines, green_count / max(1, len(kept))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("style", choices=sorted(STYLES))
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write a/, b/ and report.txt into")
    parser.add_argument("--data", default=os.environ.get("VIDTOON_TEST_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--media", default=os.environ.get("VIDTOON_TEST_MEDIA", REPO.parent / "shared" / "clips"))
    parser.add_argument(
        "--short-side", type=int, default=288, help="frames are shrunk to this shorter side (random crops of 256 fit)"
    )
    parser.add_argument(
        "--duplicate-level", type=float, default=3.0, help="mean grey-level difference under which a frame is a duplicate"
    )
    parser.add_argument(
        "--max-green-share", type=float, help="pixar B side: most green frames allowed (default: the A side's share)"
    )
    parser.add_argument("--jpeg-quality", type=int, default=95, help="lower it if both domains exceed 64 MiB (the carry limit)")
    parser.add_argument(
        "--limit", type=int, default=0, help="keep at most this many frames per domain (seeded), e.g. anime for a GPU carry"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.output.exists() and any(args.output.iterdir()):
        parser.error(f"{args.output} is not empty: choose another folder")
    report = [f"{args.style}: data from {args.data} and {args.media}; shorter side {args.short_side} px"]
    lines, green_a = prepare_domain(STYLES[args.style]["a"], args.output / "a", args)
    report += lines
    cap = (args.max_green_share if args.max_green_share is not None else green_a) if args.style == "pixar" else None
    report += prepare_domain(STYLES[args.style]["b"], args.output / "b", args, max_green=cap)[0]
    size = sum(p.stat().st_size for p in args.output.rglob("*.jpg")) / 2**20
    report.append(
        f"total {size:.1f} MiB"
        + ("" if size <= 60 else " (over the device tool's 64 MiB carry limit with the code: lower --jpeg-quality)")
    )
    (args.output / "report.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
