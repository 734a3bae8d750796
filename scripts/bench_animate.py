#!/usr/bin/env python
"""Benchmark `vidtoon animate`: does the animated face move like the driver, does it stay itself, how fast.

For each source face (astronaut 512², Mona Lisa 720×1280) driven by each driving clip, at several output
sizes, with the offline landmark method (the default), it reports:

* fps of the whole command (decode, landmarks, transfer, warp, encode; x264 preset veryfast);
* motion fidelity: landmarks are re-detected on the output frames and their motion compared with the
  driver's: the correlation over time of four signals (mouth opening, eye opening, head roll, head yaw)
  and a relative keypoint distance in the spirit of FOMM's AKD — the mean landmark distance between the
  driver's motion and the output's, each measured from its own first frame in its own face sizes, the
  driver's rotated into the source's frame (`vidtoon.animate.quality.relative_keypoint_distance`).
  A still output scores the driver's own motion ("still"); 0 is perfect;
* identity drift: on the frames where the driver is back near its first frame, how far the output's
  landmarks (aligned by a similarity) are from the source image's, in face sizes;
* the smoother: jitter (mean |second difference| of the driven landmarks, per face size per frame) and lag
  (frames of delay of the mouth signal, by cross-correlation) with and without the One-Euro filter;
* the FOMM architecture's speed at 256² on this CPU (random vox-256-size weights: no published
  checkpoint can be downloaded here), fp32.

Goals (from the issue): output frame count/fps/audio equal the driver's (asserted by the tests);
interactive speed (≥ 15 fps) at 256–512 px on CPU; mouth and head-yaw correlation ≥ 0.9; relative
keypoint distance well under the still baseline; identity drift < 0.05 face sizes.

Run from the repository root (clips from $VIDTOON_TEST_MEDIA, default ../shared/clips):

    .venv/bin/python scripts/bench_animate.py           # everything (~3 min on 2 cores)
    .venv/bin/python scripts/bench_animate.py --quick   # astronaut on d3 at 512 only

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
from vidtoon.animate.quality import correlation, identity_drift, motion_signals, relative_keypoint_distance
from vidtoon.io import EncodeOptions, VideoReader, probe

REPO = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("VIDTOON_TEST_MEDIA", REPO.parent / "shared" / "clips"))
SOURCES = ("face_astronaut.png", "face_monalisa.jpg")
DRIVERS = ("talking_head_d3.mp4",)
SIGNALS = ("mouth", "eyes", "roll", "yaw")


def frames_of(path: Path):
    with VideoReader(path) as reader:
        for frame in reader:
            yield frame.rgb


def fidelity(source: Path, driver_track: np.ndarray, output: Path, size: int) -> dict[str, float]:
    output_track = track_landmarks(frames_of(output))
    source_points = detect_landmarks(load_source(source, size))
    d, o = motion_signals(driver_track), motion_signals(output_track)
    row = {name: correlation(d[name], o[name]) for name in SIGNALS}
    row["akd"] = float(np.nanmean(relative_keypoint_distance(driver_track, output_track)))
    row["still"] = float(np.nanmean(relative_keypoint_distance(driver_track, np.repeat(output_track[:1], len(output_track), 0))))
    row["drift"] = identity_drift(source_points, output_track, driver_track)
    row["lost"] = int(np.isnan(output_track).any(axis=(1, 2)).sum())
    return row


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
    args = parser.parse_args()
    sources, sizes = (SOURCES[:1], (512,)) if args.quick else (SOURCES, (256, 512))
    header = (
        f"{'source':11s}{'driver':19s}{'size':>5s}{'fps':>7s}"
        + "".join(f"{s:>7s}" for s in SIGNALS)
        + f"{'AKD':>7s}{'still':>7s}{'drift':>7s}{'lost':>6s}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for driver_name in DRIVERS:
            driver = MEDIA / driver_name
            frames = probe(driver).frame_count
            driver_track = track_landmarks(frames_of(driver))
            for source_name in sources:
                for size in sizes:
                    out = Path(tmp) / f"{source_name}.{size}.mp4"
                    start = time.perf_counter()
                    animate(MEDIA / source_name, driver, out, size=size, options=EncodeOptions(preset="veryfast"))
                    fps = frames / (time.perf_counter() - start)
                    row = fidelity(MEDIA / source_name, driver_track, out, size)
                    print(
                        f"{source_name[5:-4]:11s}{driver_name[:-4]:19s}{size:5d}{fps:7.1f}"
                        + "".join(f"{row[s]:7.3f}" for s in SIGNALS)
                        + f"{row['akd']:7.3f}{row['still']:7.3f}{row['drift']:7.3f}{row['lost']:6d}",
                        flush=True,
                    )
        if not args.quick:  # the trade-off of --absolute: the driver's face shape, so more identity drift
            driver = MEDIA / DRIVERS[0]
            out = Path(tmp) / "absolute.mp4"
            animate(MEDIA / SOURCES[0], driver, out, size=512, relative=False, options=EncodeOptions(preset="veryfast"))
            row = fidelity(MEDIA / SOURCES[0], track_landmarks(frames_of(driver)), out, 512)
            print(
                f"--absolute, astronaut at 512: AKD {row['akd']:.3f}, identity drift {row['drift']:.3f}, mouth {row['mouth']:.3f}"
            )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if not args.quick:
        for name, (jitter, lag) in smoother_ablation(MEDIA / SOURCES[0], MEDIA / DRIVERS[0], 512).items():
            print(f"driven landmarks, {name:9s}: jitter {jitter:.4f} face sizes/frame², mouth lag {lag:+.0f} frames")
        print(f"FOMM vox-256 architecture, 256², fp32: {fomm_speed():.0f} ms/frame")


if __name__ == "__main__":
    main()
