#!/usr/bin/env python
"""Where the CPU temporal stage's time goes: cProfile with a process-time clock (CPU of all threads) over the
benchmark's panning frames, today's stage (scripts/temporal_round2.py) and the new one.

    PYTHONPATH=$PWD .venv/bin/python scripts/profile_temporal.py --size 1280x720 --batch 4 --cv-threads 1

notes: docs/benchmarks.md#bench_temporal
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import cv2
import torch
from bench_temporal import STAGES, moving_frames


def profile(name: str, size: tuple[int, int], batch: int, frames: int, top: int) -> None:
    width, height = size
    source, translated = moving_frames(height, width, frames + 2)
    stage = STAGES[name]()
    stage(source[:2], translated[:2])
    profiler = cProfile.Profile(time.process_time)
    cpu = time.process_time()
    profiler.enable()
    for i in range(2, frames + 2, batch):
        stage(source[i : i + batch], translated[i : i + batch])
    profiler.disable()
    total = (time.process_time() - cpu) * 1000 / frames
    print(f"\n== {name}: {width}×{height}, batch {batch}: {total:.1f} ms CPU per frame (profiled) ==")
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # by own time
    for (file, line, function), (_, calls, own, _cum, _) in rows:
        print(f"{own * 1000 / frames:8.2f} ms  {calls / frames:6.1f}×  {function} ({file.rsplit('/', 1)[-1]}:{line})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--top", type=int, default=22)
    parser.add_argument("--cv-threads", type=int, default=1)
    parser.add_argument("--stages", default="today,new")
    args = parser.parse_args()
    cv2.setNumThreads(args.cv_threads)
    torch.set_num_threads(1)
    size = tuple(int(v) for v in args.size.split("x"))
    with torch.inference_mode():
        for name in args.stages.split(","):
            profile(name, size, args.batch, args.frames, args.top)


if __name__ == "__main__":
    main()
