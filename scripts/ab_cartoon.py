#!/usr/bin/env python
"""A short A/B run of the `vidtoon train cartoon` recipe: train one variant for a few hundred steps, then print a row
of the experiment table of docs/training-notes.md (recipe, steps, CPU minutes, held-out cast, grid, blotch).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/ab_cartoon.py /tmp/ab/none --data /work/runs/data/pixar \\
        --steps 400 --set norm=none --set init_steps=150

The held-out sheet (8 photos at 256 px, whole frames: the scale a film is restyled at, not the crops') is the run's
samples/step_NNNNNN.png; the row's measures are the means over its photos (`vidtoon.train.quality`).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import yaml

from vidtoon.train.cartoon_config import CartoonConfig
from vidtoon.train.config import load_config
from vidtoon.train.run import train
from vidtoon.train.state import read_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, default=Path("/work/runs/data/pixar"))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a CartoonConfig setting (YAML value)")
    args = parser.parse_args()
    overrides = {"size": 64, "batch_size": 6, "init_steps": 150, "device": "cpu", "precision": "fp32", "workers": 1}
    overrides.update({k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)})
    overrides.update(a=str(args.data / "a"), b=str(args.data / "b"), steps=args.steps, sample_every=args.steps)
    overrides.update(save_every=args.steps, log_every=50)
    config = load_config(CartoonConfig, None, overrides)
    wall, cpu = time.time(), resource.getrusage(resource.RUSAGE_SELF)
    train("cartoon", config, args.run, force=True)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_min = (used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime) / 60
    step, cast, grid, blotch = read_checkpoint(args.run / "checkpoints" / "latest.pt")["trainer"]["extra"]["quality"][-1].tolist()
    recipe = " ".join(args.set) or "defaults"
    print(
        f"| {recipe} | {int(step)} | {cpu_min:.1f} ({(time.time() - wall) / 60:.1f} wall) | {cast:.1f} | {grid:.1f} | {blotch:.4f} |"
    )


if __name__ == "__main__":
    main()
