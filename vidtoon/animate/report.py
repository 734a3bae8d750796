"""`--report report.json`: how closely an animation followed its driver, measured on the written video.

Landmarks (478, irises included) are re-detected on the driver and on the output; per signal of
`quality.motion_signals` the report gives the output/driver range ratio and their correlation over time, the
same for the head's 3D yaw, pitch and roll (`quality.head_angles`, from the landmarks' depth), then the identity
drift, the frame rate of the run and the frames where no face was found.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from vidtoon.animate.landmarks import NUM_LANDMARKS, detect_landmarks, track_landmarks
from vidtoon.animate.quality import SIGNALS, correlation, head_angles, identity_drift, motion_signals, range_ratio
from vidtoon.errors import UsageError
from vidtoon.io import VideoReader


def check_report_path(path: str | Path | None) -> Path | None:
    """The report's path (a .json file in an existing folder), checked before any work; None stays None.

    Raises:
        UsageError: not a .json name, or its folder does not exist.
    """
    if path is None:
        return None
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise UsageError(f"--report must name a .json file, got {path}", hint="e.g. --report report.json")
    if not path.parent.is_dir():
        raise UsageError(f"--report's folder {path.parent} does not exist", hint="create it first, or pick another path")
    return path


def _frames(path: Path):
    with VideoReader(path) as reader:
        for frame in reader:
            yield frame.rgb


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


ANGLES = ("yaw", "pitch", "roll")
"""The report's 3D head angles (radians since the first frame, `quality.head_angles`)."""


def _pair(driver: np.ndarray, output: np.ndarray) -> dict:
    return {"range_ratio": _number(range_ratio(driver, output)), "correlation": _number(correlation(driver, output))}


def fidelity(source_rgb: np.ndarray, driver_track: np.ndarray, output_track: np.ndarray) -> dict:
    """The report's numbers for two (T, 478 or 468, 2) tracks (NaN rows where no face) and the source still; with
    (T, N, 3) tracks (depth) also the head's 3D angles ("head_3d").

    Frames before the first one where both show a face are left out (every measure starts from that frame).
    """
    both = ~(np.isnan(driver_track).any(axis=(1, 2)) | np.isnan(output_track).any(axis=(1, 2)))
    report: dict = {
        "frames": len(driver_track),
        "driver_faces_lost": int(np.isnan(driver_track).any(axis=(1, 2)).sum()),
        "output_faces_lost": int(np.isnan(output_track).any(axis=(1, 2)).sum()),
    }
    if both.sum() < 3:
        empty = {"range_ratio": None, "correlation": None}
        head = {"head_3d": {name: empty for name in ANGLES}} if driver_track.shape[-1] == 3 else {}
        return {**report, "signals": {name: empty for name in SIGNALS}, **head, "identity_drift": None}
    start = int(np.argmax(both))
    driver, output = driver_track[start:], output_track[start:]
    if driver.shape[-1] == 3:
        d3, o3 = head_angles(driver[:, :NUM_LANDMARKS]), head_angles(output[:, :NUM_LANDMARKS])
        driver, output = driver[..., :2], output[..., :2]
    d, o = motion_signals(driver), motion_signals(output)
    report["signals"] = {name: _pair(d[name], o[name]) for name in SIGNALS}
    if driver_track.shape[-1] == 3:
        report["head_3d"] = {name: _pair(d3[name], o3[name]) for name in ANGLES}
    source = detect_landmarks(source_rgb)
    n = NUM_LANDMARKS
    report["identity_drift"] = _number(identity_drift(source, output[:, :n], driver[:, :n])) if source is not None else None
    return report


def write_report(path: Path, source_rgb: np.ndarray, driver: Path, output: Path, *, fps: float) -> dict:
    """Measure `output` against `driver` (see `fidelity`), add the run's `fps`, write it to `path` as JSON."""
    driver_track = track_landmarks(_frames(driver), refine=True, depth=True)
    report = fidelity(source_rgb, driver_track, track_landmarks(_frames(output), refine=True, depth=True))
    report = {"driver": str(driver), "output": str(output), "fps": _number(fps), **report}
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report
