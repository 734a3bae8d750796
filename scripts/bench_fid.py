#!/usr/bin/env python
"""Benchmark `vidtoon eval --fid`: Inception feature throughput, and the Fréchet distance's cost by route.

Reports, in one run on this machine:

* Inception-v3 (FID variant, random weights: the real file cannot be downloaded here; speed does not depend on
  the values) frames per second at 299×299, fp32, batch 8, on the CPU (and the GPU when there is one);
* the time of one FID between two sets of N 2048-d feature vectors by three routes: vidtoon's low-rank route
  (N ≤ 2048: an N×N SVD), vidtoon's d×d route (two symmetric eigen-decompositions), and pytorch-fid's formula
  (scipy.linalg.sqrtm of Σ₁Σ₂, the baseline), with the three values, which must agree.

Run from the repository root:  .venv/bin/python scripts/bench_fid.py [--n 512] [--images 16]
notes: docs/benchmarks.md#bench_fid
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg
import torch

from vidtoon.metrics.fid import GaussianStats, fid_from_stats, frechet_distance
from vidtoon.metrics.inception import FIDInceptionV3, to_network_input


def seconds(call) -> tuple[float, object]:
    began = time.perf_counter()
    value = call()
    return time.perf_counter() - began, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="feature vectors per set for the FID timing")
    parser.add_argument("--images", type=int, default=16, help="images per device for the Inception timing")
    args = parser.parse_args()

    print(f"torch threads {torch.get_num_threads()}")
    print("| device | images | s | images/s |\n|---|---|---|---|")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    frames = np.random.default_rng(0).integers(0, 256, (args.images, 270, 480, 3), dtype=np.uint8)
    for device in devices:
        network = FIDInceptionV3().eval().to(device)
        with torch.inference_mode():
            network(to_network_input(frames[:2], device=device))  # warm-up
            if device == "cuda":
                torch.cuda.synchronize()
            began = time.perf_counter()
            for start in range(0, len(frames), 8):
                network(to_network_input(frames[start : start + 8], device=device)).cpu()
            took = time.perf_counter() - began
        print(f"| {device} | {len(frames)} | {took:.2f} | {len(frames) / took:.1f} |")

    rng = np.random.default_rng(1)
    a, b = GaussianStats(2048), GaussianStats(2048)
    a.update(rng.gamma(2.0, 0.2, (args.n, 2048)))
    b.update(rng.gamma(2.2, 0.2, (args.n, 2048)))
    mu1, s1, mu2, s2 = a.mean, a.cov, b.mean, b.cov

    def pytorch_fid_formula() -> float:
        root, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
        if not np.isfinite(root).all():  # pytorch-fid's fallback
            offset = np.eye(2048) * 1e-6
            root = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
        return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root.real))

    routes = [
        ("pytorch-fid formula (scipy sqrtm, baseline)", pytorch_fid_formula),
        ("vidtoon d×d (eigh)", lambda: frechet_distance(mu1, s1, mu2, s2)),
        ("vidtoon low-rank (SVD, N ≤ d)", lambda: fid_from_stats(a, b)),
    ]
    print(f"\nFID of two sets of {args.n} 2048-d features\n| route | s | FID | × vs baseline |\n|---|---|---|---|")
    baseline = None
    for name, call in routes:
        took, value = seconds(call)
        baseline = baseline or took
        print(f"| {name} | {took:.2f} | {value:.6f} | {baseline / took:.1f} |")


if __name__ == "__main__":
    main()
