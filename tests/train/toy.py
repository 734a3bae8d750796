"""Toy domains with a known mapping, written as real PNG folders, for the known-answer training tests."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

CHANNEL_SCALES = (0.7, 0.45, 0.2)


def smooth_fields(count: int, size: int, *, seed: int, cells: int = 8) -> torch.Tensor:
    """Random smooth dark colour fields: count×3×size×size; red in [-1, 0.4], green in [-1, -0.1], blue in [-1, -0.6].

    The channels have different ranges so that no channel permutation of an image looks like one of these:
    a mapping learnt between these and their inverses is identifiable.
    """
    generator = torch.Generator().manual_seed(seed)
    low = torch.rand(count, 3, cells, cells, generator=generator)
    x = F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return (x * torch.tensor(CHANNEL_SCALES)[:, None, None]) * 2 - 1


def write_pngs(x: torch.Tensor, folder: Path, prefix: str = "img") -> list[str]:
    """N×3×H×W in [-1, 1] -> PNG files in `folder`; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, image in enumerate(x):
        rgb = image.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        name = f"{prefix}{i:04d}.png"
        cv2.imwrite(str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        names.append(name)
    return names


def write_manifest(folder: Path, rows: list[dict[str, str]]) -> Path:
    path = folder / "manifest.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def random_png_folder(folder: Path, count: int, *, seed: int = 0, size: tuple[int, int] = (40, 48)) -> Path:
    """`count` random-noise PNGs of size (H, W)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"n{i:03d}.png"), rng.integers(0, 255, (*size, 3), np.uint8))
    return folder
