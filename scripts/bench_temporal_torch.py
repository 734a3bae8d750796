#!/usr/bin/env python
"""Benchmark the temporal stage's two implementations: ms per 1280×720 frame, same frames, same run.

* `FlowBlend` (OpenCV, per frame on the CPU) with frames on the CPU: the baseline;
* `TorchFlowBlend` with frames on the CPU (for reference: the CPU path stays OpenCV);
* with CUDA: `FlowBlend` fed GPU frames (today's device -> host -> device round trip) and `TorchFlowBlend`
  on the GPU (only the 640×360 uint8 frames for DIS go to the host).

Both use DIS fast with flow at ≤ 640 px; frames are a textured 720p picture panning 2 px a frame,
channels-last as restyle hands them over, in batches of 4 after a warm-up batch. Also printed: the
largest difference between the two outputs (grey levels), a check that the run compared like with like.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python scripts/bench_temporal_torch.py [--frames 24] [--repeats 3]

notes: docs/benchmarks.md#bench_temporal_torch (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from benchlib import print_table

from vidtoon.convert import unit_to_u8_numpy
from vidtoon.flow import make_flow
from vidtoon.temporal import FlowBlend
from vidtoon.temporal.flow_blend_torch import TorchFlowBlend


def panning_frames(count: int) -> torch.Tensor:
    """`count` 1280×720 frames of one smooth random texture moving 2 px right per frame: N×3×H×W in [-1, 1], channels-last."""
    rng = torch.Generator().manual_seed(0)
    base = F.interpolate(torch.rand(1, 3, 90, 160, generator=rng) * 2 - 1, size=(720, 1280), mode="bicubic").clamp(-1, 1)
    frames = torch.cat([torch.roll(base, shifts=2 * i, dims=3) for i in range(count)])
    return frames.contiguous(memory_format=torch.channels_last)


def run(make_stage, source: torch.Tensor, translated: torch.Tensor, repeats: int) -> tuple[float, torch.Tensor]:
    """Median ms per frame over `repeats` passes (fresh stage each, a warm-up batch first) and the last pass's output."""
    times, out = [], None
    for _ in range(repeats):
        stage = make_stage()
        stage(source[:4], translated[:4])  # warm-up: allocations, tables, CUDA kernels
        stage.reset()
        _sync(source)
        start = time.perf_counter()
        out = torch.cat([stage(source[i : i + 4], translated[i : i + 4]) for i in range(0, len(source), 4)])
        _sync(source)
        times.append((time.perf_counter() - start) * 1000 / len(source))
    return statistics.median(times), out


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    source = panning_frames(args.frames)
    flicker = torch.tensor([0.1, -0.1] * args.frames)[: args.frames].view(-1, 1, 1, 1)
    translated = (source * 0.8 + flicker).clamp(-1, 1).contiguous(memory_format=torch.channels_last)
    cases = [("FlowBlend (OpenCV), CPU frames", FlowBlend, "cpu"), ("TorchFlowBlend, CPU frames", TorchFlowBlend, "cpu")]
    if torch.cuda.is_available():
        cases += [("FlowBlend (OpenCV), GPU frames", FlowBlend, "cuda"), ("TorchFlowBlend, GPU frames", TorchFlowBlend, "cuda")]
    rows, baseline, reference = [], None, None
    for label, stage_class, device in cases:
        s, t = source.to(device), translated.to(device)
        ms, out = run(lambda stage_class=stage_class: stage_class(make_flow("dis")), s, t, args.repeats)
        out_u8 = unit_to_u8_numpy(out).astype(np.int16)
        reference = out_u8 if reference is None else reference
        baseline = ms if baseline is None else baseline
        rows.append([label, f"{ms:.1f}", f"{baseline / ms:.2f}×", str(int(np.abs(out_u8 - reference).max()))])
    print(
        f"temporal stage at 1280×720, DIS fast, flow at 640 px, {args.frames} frames in batches of 4, median of {args.repeats}; "
        f"torch threads {torch.get_num_threads()}"
    )
    print_table(["implementation", "ms/frame", "speed vs OpenCV CPU", "max |Δ| levels"], rows)


if __name__ == "__main__":
    main()
