"""What a run writes for people to look at: metrics (CSV, TensorBoard when installed), sample grids, a loss curve.

The loss curve is drawn with OpenCV, so no plotting library is needed.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path

import cv2
import numpy as np
import torch

from vidtoon.convert import unit_to_u8_numpy
from vidtoon.files import write_atomic
from vidtoon.io.images import write_image

log = logging.getLogger(__name__)

COLOURS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]  # RGB


def image_grid(rows: list[torch.Tensor], gap: int = 2) -> np.ndarray:
    """Rows of N×3×H×W images in [-1, 1] -> one (ΣH)×(N·W)×3 uint8 picture, white gaps between cells.

    Rows may differ in height (e.g. a row of caption strips); N and W are those of the first row.
    """
    n, _, _, w = rows[0].shape
    heights = [row.shape[2] for row in rows]
    grid = np.full((sum(heights) + gap * (len(rows) - 1), n * (w + gap) - gap, 3), 255, np.uint8)
    top = 0
    for row, h in zip(rows, heights):
        cells = unit_to_u8_numpy(row)
        for c, cell in enumerate(cells):
            grid[top : top + h, c * (w + gap) : c * (w + gap) + w] = cell
        top += h + gap
    return grid


def write_png(path: Path, rgb: np.ndarray) -> Path:
    """Write H×W×3 uint8 RGB as a PNG, atomically."""
    return write_atomic(path, lambda staged: write_image(staged, rgb), resumable=True)  # training output: --resume goes on


def plot_curves(
    series: dict[str, list[tuple[int, float]]], *, width: int = 960, height: int = 540, smooth: int = 10
) -> np.ndarray:
    """A line chart of each named series of (step, value): height×width×3 uint8 RGB.

    Each series is drawn raw (faint) and as a moving average of `smooth` points; the y axis spans the
    2nd to 98th percentile of all values so one spike does not flatten the rest.
    """
    canvas = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, 170, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [(s, v) for values in series.values() for s, v in values if math.isfinite(v)]
    cv2.rectangle(canvas, (left, top), (left + plot_w, top + plot_h), (0, 0, 0), 1)
    if not points:
        return canvas
    steps = np.array([p[0] for p in points], float)
    values = np.array([p[1] for p in points], float)
    x0, x1 = steps.min(), max(steps.max(), steps.min() + 1)
    y0, y1 = np.percentile(values, 2), np.percentile(values, 98)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.5, y1 + 0.5
    y0, y1 = y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0)

    def to_pixels(s: np.ndarray, v: np.ndarray) -> np.ndarray:
        px = left + (s - x0) / (x1 - x0) * plot_w
        py = top + (1 - (np.clip(v, y0, y1) - y0) / (y1 - y0)) * plot_h
        return np.stack([px, py], 1).round().astype(np.int32)

    font = cv2.FONT_HERSHEY_SIMPLEX
    for k in range(5):
        frac = k / 4
        y = int(top + (1 - frac) * plot_h)
        cv2.line(canvas, (left, y), (left + plot_w, y), (225, 225, 225), 1)
        cv2.putText(canvas, f"{y0 + frac * (y1 - y0):.3g}", (5, y + 4), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        x = int(left + frac * plot_w)
        cv2.putText(canvas, f"{int(x0 + frac * (x1 - x0))}", (x - 15, top + plot_h + 18), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "step", (left + plot_w // 2 - 15, height - 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        faint = tuple(int(255 - 0.35 * (255 - c)) for c in colour)
        data = np.array([(s, v) for s, v in values if math.isfinite(v)], float).reshape(-1, 2)
        if len(data):
            cv2.polylines(canvas, [to_pixels(data[:, 0], data[:, 1])], False, faint, 1, cv2.LINE_AA)
            k = max(1, min(smooth, len(data) // 3))  # few points: little or no smoothing, so the bold line is drawn
            averaged = np.convolve(data[:, 1], np.ones(k) / k, mode="valid")
            cv2.polylines(canvas, [to_pixels(data[k - 1 :, 0], averaged)], False, colour, 2, cv2.LINE_AA)
        y = top + 15 + 20 * i
        cv2.line(canvas, (left + plot_w + 10, y - 4), (left + plot_w + 30, y - 4), colour, 2)
        cv2.putText(canvas, name, (left + plot_w + 35, y), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


class MetricsLog:
    """Metric rows to `metrics.csv` (and TensorBoard event files under `tensorboard/` when `tensorboard` is installed).

    A resumed run keeps the rows up to its checkpoint's step and drops later ones, so the CSV reads
    as one uninterrupted run. `history` holds every logged (step, value) per column for the loss curve.
    """

    def __init__(self, run_dir: Path, *, resume_step: int = 0, tensorboard: bool = True):
        self.path = run_dir / "metrics.csv"
        self.columns: list[str] | None = None
        self.history: dict[str, list[tuple[int, float]]] = {}
        rows = []
        if resume_step and self.path.exists():
            with self.path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                self.columns = list(reader.fieldnames or []) or None
                rows = [row for row in reader if int(row["step"]) <= resume_step]
            for row in rows:
                self._remember(int(row["step"]), {k: float(v) for k, v in row.items() if k != "step" and v != ""})
        with self.path.open("w", newline="") as handle:
            if self.columns:
                writer = csv.DictWriter(handle, fieldnames=self.columns)
                writer.writeheader()
                writer.writerows(rows)
        self._writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=resume_step + 1 if resume_step else None)
            except ImportError:
                log.debug("tensorboard is not installed: metrics go to %s only", self.path)
            except Exception as error:  # noqa: BLE001 - a broken tensorboard install must not stop a training run
                log.warning("tensorboard could not start (%s: %s): metrics go to %s only", type(error).__name__, error, self.path)

    @property
    def tensorboard(self) -> bool:
        return self._writer is not None

    def _remember(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.history.setdefault(name, []).append((step, value))

    def write(self, step: int, values: dict[str, float]) -> None:
        """Append one row (`step` then `values`; the first row fixes the columns)."""
        if self.columns is None:
            self.columns = ["step", *values]
            with self.path.open("w", newline="") as handle:
                csv.DictWriter(handle, fieldnames=self.columns).writeheader()
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore").writerow(
                {"step": step, **{k: f"{v:.6g}" for k, v in values.items()}}
            )
        self._remember(step, values)
        if self._writer is not None:
            for name, value in values.items():
                self._writer.add_scalar(name, value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
