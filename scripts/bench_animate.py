#!/usr/bin/env python
"""Benchmark `vidtoon animate`: does the animated face move like the driver, does it stay itself, how fast.

For each source face (astronaut 512², Mona Lisa 720×1280) driven by each driving clip, at several output
sizes, with the offline landmark method (eye layers on), twice in the same run — '2d' (the driver's 2D landmark
motion carried over: an in-plane similarity plus the driver's own 2D deformation, as before the head turns) and
'2.5d' (the driver's 3D pose turns the source's own 3D landmarks: `vidtoon.animate.turn`) — it reports:

* fps of the landmark animator on decoded frames (landmarks, transfer, warp, eye layers; no codec) and its CPU
  time, and the ratio of the two variants in the same run (the machine is shared: compare within a run); then
  the fps of the whole `vidtoon animate` command (decode, animate, encode with x264 veryfast);
* motion fidelity: landmarks (478, irises included) are re-detected on the output frames; per signal
  (mouth, eyes, gaze_x, gaze_y, yaw, pitch, roll: `vidtoon.animate.quality.SIGNALS`) the output/driver
  range ratio and the correlation over time, and a relative keypoint distance in the spirit of FOMM's AKD
  (`vidtoon.animate.quality.relative_keypoint_distance`; 0 is perfect); and the head's 3D yaw / pitch / roll
  (`quality.head_angles`, landmarks with depth re-detected) as range ratio / correlation;
* identity drift: on the frames where the driver is back near its first frame, how far the output's
  landmarks (aligned by a similarity) are from the source image's, in face sizes;
* (full run) the smoother: jitter and lag with and without the One-Euro filter; the FOMM architecture's
  speed at 256² on this CPU (random vox-256-size weights), fp32.

Targets (issue #19): range ratio ≥ 0.6 and correlation ≥ 0.8 for mouth, eyes and gaze_x, ≥ 0.5 / 0.8 for yaw and
pitch; drift no worse than before (0.025–0.034); ≥ 25 fps at 512 px on 2 CPU cores.

Run from the repository root (clips from $VIDTOON_TEST_MEDIA, default ../shared/clips):

    .venv/bin/python scripts/bench_animate.py           # everything (~10 min on 2 busy cores)
    .venv/bin/python scripts/bench_animate.py --quick   # astronaut on d3 at 512 only
    .venv/bin/python scripts/bench_animate.py --sources monalisa,astronaut --sizes 512 --turns 2d,2.5d,none

notes: docs/benchmarks.md#bench_animate (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from vidtoon.animate.landmarks import detect_landmarks, track_landmarks
from vidtoon.animate.pipeline import LandmarkAnimator, animate, load_source
from vidtoon.animate.quality import (
    SIGNALS,
    correlation,
    head_angles,
    identity_drift,
    motion_signals,
    range_ratio,
    relative_keypoint_distance,
)
from vidtoon.io import EncodeOptions, VideoReader

REPO = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("VIDTOON_TEST_MEDIA", REPO.parent / "shared" / "clips"))
SOURCES = ("face_astronaut.png", "face_monalisa.jpg")
DRIVERS = ("talking_head_d3.mp4",)


def frames_of(path: Path):
    with VideoReader(path) as reader:
        for frame in reader:
            yield frame.rgb


ANGLES = ("yaw", "pitch", "roll")


def fidelity(source: Path, driver_track: np.ndarray, output_track: np.ndarray, size: int) -> dict[str, float]:
    """Tracks (T, 478, 3) with depth: the signals on x, y; the 3D head angles on x, y, z."""
    source_points = detect_landmarks(load_source(source, size))
    d3, o3 = head_angles(driver_track[:, :468]), head_angles(output_track[:, :468])
    driver_track, output_track = driver_track[..., :2], output_track[..., :2]
    d, o = motion_signals(driver_track), motion_signals(output_track)
    row = {name: (range_ratio(d[name], o[name]), correlation(d[name], o[name])) for name in SIGNALS}
    row.update({f"3d {name}": (range_ratio(d3[name], o3[name]), correlation(d3[name], o3[name])) for name in ANGLES})
    row["akd"] = float(np.nanmean(relative_keypoint_distance(driver_track, output_track)))
    row["still"] = float(np.nanmean(relative_keypoint_distance(driver_track, np.repeat(output_track[:1], len(output_track), 0))))
    row["drift"] = identity_drift(source_points, output_track[:, :468], driver_track[:, :468])
    row["lost"] = int(np.isnan(output_track).any(axis=(1, 2)).sum())
    return row


def animator_run(source: Path, frames: list, size: int, *, turn: str) -> tuple[float, float, list]:
    """(fps, CPU ms per frame, output frames) of the landmark animator alone (landmarks, transfer, warp, eye layers)
    on decoded frames; `turn`: its head turns (`vidtoon.animate.options.TURNS`: 2.5d, 2d, none)."""
    rgb = load_source(source, size)
    animator = LandmarkAnimator(rgb, detect_landmarks(rgb, refine=True, depth=True), turn=turn)
    with threadpool_limits(1, "blas"):
        start, cpu = time.perf_counter(), time.process_time()
        outputs = [animator(frame, i / 30) for i, frame in enumerate(frames)]
        fps, cpu_ms = len(frames) / (time.perf_counter() - start), 1000 * (time.process_time() - cpu) / len(frames)
    animator.close()
    return fps, cpu_ms, outputs


def smoother_ablation(source: Path, driver: Path, size: int) -> dict[str, tuple[float, float]]:
    """(jitter, lag in frames) of the driven landmarks with and without the One-Euro filter."""
    rgb = load_source(source, size)
    points = detect_landmarks(rgb)
    results = {}
    raw_mouth = None
    for smooth in (False, True):
        animator = LandmarkAnimator(rgb, points, smooth=smooth)
        driven = []
        with VideoReader(driver) as reader, threadpool_limits(1, "blas"):
            for frame in reader:
                d = animator.driver_points(frame.rgb, float(frame.time))
                driven.append(animator.driven_points(d) if d is not None else np.full_like(points, np.nan))
        animator.close()
        track = np.stack(driven)
        size_px = np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1)))
        jitter = float(np.nanmean(np.linalg.norm(track[2:] - 2 * track[1:-1] + track[:-2], axis=2)) / size_px)
        mouth = motion_signals(track)["mouth"]
        if raw_mouth is None:
            raw_mouth, lag = mouth, 0.0
        else:
            a, b = np.nan_to_num(raw_mouth - np.nanmean(raw_mouth)), np.nan_to_num(mouth - np.nanmean(mouth))
            lags = range(-5, 6)
            scores = [np.dot(a[max(0, -k) : len(a) - max(0, k)], b[max(0, k) : len(b) - max(0, -k)]) for k in lags]
            lag = float(list(lags)[int(np.argmax(scores))])
        results["one-euro" if smooth else "raw"] = (jitter, lag)
    return results


def fomm_speed(repeats: int = 3) -> float:
    """ms per frame of the vox-256 FOMM (keypoints of the driving frame + generator) at 256², fp32."""
    from vidtoon.animate.fomm_model import FommConfig, KeypointDetector, OcclusionAwareGenerator

    kp, generator = KeypointDetector(FommConfig()).eval(), OcclusionAwareGenerator(FommConfig()).eval()
    image = torch.rand(1, 3, 256, 256)
    with torch.inference_mode():
        source = kp(image)
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            generator(image, kp(image), source)
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="astronaut on d3 at 512 only")
    parser.add_argument(
        "--sources",
        help="comma-separated short names (astronaut, monalisa); default both (restricting skips the smoother and FOMM parts)",
    )
    parser.add_argument("--sizes", help="comma-separated output sizes in px; default 256,512")
    parser.add_argument("--turns", default="2d,2.5d", help="comma-separated head turns (2.5d, 2d, none); default 2d,2.5d")
    args = parser.parse_args()
    sources, sizes = (SOURCES[:1], (512,)) if args.quick else (SOURCES, (256, 512))
    if args.sources:
        sources = tuple(f"face_{name}{'.png' if name == 'astronaut' else '.jpg'}" for name in args.sources.split(","))
    if args.sizes:
        sizes = tuple(int(size) for size in args.sizes.split(","))
    turns = tuple(args.turns.split(","))
    print("range ratio / correlation per signal, landmarks (478, with depth) re-detected on the output; '2d' = before the turns")
    columns = (*SIGNALS, *(f"3d {name}" for name in ANGLES))
    header = (
        f"{'source':10s}{'size':>5s}{'turn':>6s}{'fps':>6s}{'cpu ms':>7s}"
        + "".join(f"{s:>11s}" for s in columns)
        + f"{'AKD':>6s}{'drift':>7s}"
    )
    print(header)
    for driver_name in DRIVERS:
        driver = MEDIA / driver_name
        frames = list(frames_of(driver))
        driver_track = track_landmarks(frames, refine=True, depth=True)
        for source_name in sources:
            for size in sizes:
                speeds = {}
                for turn in turns:
                    fps, cpu_ms, outputs = animator_run(MEDIA / source_name, frames, size, turn=turn)
                    speeds[turn] = (fps, cpu_ms)
                    row = fidelity(MEDIA / source_name, driver_track, track_landmarks(outputs, refine=True, depth=True), size)
                    del outputs
                    print(
                        f"{source_name[5:-4]:10s}{size:5d}{turn:>6s}{fps:6.1f}{cpu_ms:7.1f}"
                        + "".join(f"{row[s][0]:6.2f}/{row[s][1]:4.2f}" for s in columns)
                        + f"{row['akd']:6.3f}{row['drift']:7.3f}",
                        flush=True,
                    )
                if "2.5d" in speeds and "2d" in speeds:
                    new, old = speeds["2.5d"], speeds["2d"]
                    print(f"  2.5d / 2d in the same run: fps ×{new[0] / old[0]:.2f}, CPU per frame ×{new[1] / old[1]:.2f}")
        with tempfile.TemporaryDirectory() as tmp:  # the whole command: decode, animate, encode (x264 veryfast)
            out = Path(tmp) / "astronaut.mp4"
            start, cpu = time.perf_counter(), time.process_time()
            animate(MEDIA / SOURCES[0], driver, out, size=512, options=EncodeOptions(preset="veryfast"))
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(
                f"whole `vidtoon animate` command (2.5d), astronaut at 512: {len(frames) / wall:.1f} fps, CPU {cpu:.1f} s / wall {wall:.1f} s"
            )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if not (args.quick or args.sources or args.sizes):
        for name, (jitter, lag) in smoother_ablation(MEDIA / SOURCES[0], MEDIA / DRIVERS[0], 512).items():
            print(f"driven landmarks, {name:9s}: jitter {jitter:.4f} face sizes/frame², mouth lag {lag:+.0f} frames")
        print(f"FOMM vox-256 architecture, 256², fp32: {fomm_speed():.0f} ms/frame")


if __name__ == "__main__":
    main()
