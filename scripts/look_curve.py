#!/usr/bin/env python
"""The look measures of a `vidtoon train cartoon` run over its steps and compute hours (for the issue's notes).

    .venv/bin/python scripts/look_curve.py /work/runs/pixar-cpu

One row per held-out sheet: step, compute hours so far (sum of step_ms + data_ms over metrics.csv rows, each row
standing for `log_every` steps), mean colour cast (Lab units; bound 6), mean checkerboard score (bound 5), mean blotch
fraction (bound 0.005), mean distance to the target (grey levels; what an anchor-only run drives down), NaN for sheets
from before a measure, and the sheet's file. Reads the checkpoint with weights_only (no code runs).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

from vidtoon.train.quality import BLOTCH_BOUND, CAST_BOUND, CHECKER_BOUND
from vidtoon.train.state import read_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    quality = read_checkpoint(args.run / "checkpoints" / "latest.pt")["trainer"]["extra"]["quality"].tolist()
    log_every = int(yaml.safe_load((args.run / "config.yaml").read_text()).get("log_every", 10))
    hours_at: list[tuple[int, float]] = []
    total = 0.0
    with (args.run / "metrics.csv").open(newline="") as handle:
        previous = 0
        for row in csv.DictReader(handle):
            step = int(row["step"])
            total += (float(row["step_ms"]) + float(row["data_ms"])) * min(log_every, step - previous) / 3.6e6
            previous = step
            hours_at.append((step, total))
    print(
        f"{'step':>8s} {'hours':>7s} {'cast':>6s} {'grid':>6s} {'blotch':>7s} {'target':>7s}  sheet   "
        f"(bounds: cast < {CAST_BOUND}, grid < {CHECKER_BOUND}, blotch < {BLOTCH_BOUND})"
    )
    for step, cast, checker, *rest in quality:
        blotch, distance = (rest + [float("nan")] * 2)[:2]
        hours = max((h for s, h in hours_at if s <= step), default=0.0)
        sheet = args.run / "samples" / f"step_{int(step):06d}.png"
        print(
            f"{int(step):8d} {hours:7.2f} {cast:6.2f} {checker:6.2f} {blotch:7.4f} {distance:7.2f}  {sheet if sheet.exists() else '-'}"
        )


if __name__ == "__main__":
    main()
