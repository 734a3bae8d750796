#!/usr/bin/env python
"""Benchmark how fast the command line answers a bad restyle or a style listing: this tree against a baseline
revision (default: the commit before the lazy imports of issues #13/#16), each command a fresh process, the two trees
taking turns.

Rows: `vidtoon restyle MISSING --to toon`, `--to tooon` (a typo), `--style-opt nokey=1`, `vidtoon styles`,
`vidtoon styles --help`, and `vidtoon --help` (the floor: the interpreter, Typer and Rich); with a checkpoint style
installed (a tiny `.safetensors` style with its card, written by this tree into a temporary `$VIDTOON_STYLES`):
`vidtoon styles` and `--to tooon`; `--like` refusals (a missing picture, a text file, `--like-strength 7`); and
`--model` of a `.safetensors` file whose header is malformed. Each is timed from outside: wall time until the process exits and its CPU time (user + sys, from the children's rusage). On a shared
machine wall time measures the neighbours too; CPU seconds are the robust column.

    .venv/bin/python scripts/bench_refusals.py                    # 3 runs each, baseline fb1a3f5
    .venv/bin/python scripts/bench_refusals.py --repeat 5 --baseline HEAD~3
    .venv/bin/python scripts/bench_refusals.py --only installed --only like   # rows whose name holds a word

The baseline is exported with `git archive` into a temporary folder (nothing in the repository changes). Run from
the repository root. This script is a tool for developers; the vidtoon package never imports it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "fb1a3f5"  # the last commit before `vidtoon.restyle` / `vidtoon.styles` became lazy


def commands(tmp: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Row name -> (vidtoon's arguments, environment to add)."""
    sample = str(REPO / "clips" / "sample.mp4")
    picture = str(REPO / "vidtoon" / "styles" / "bundled" / "toon.png")
    installed = {"VIDTOON_STYLES": str(checkpoint_style(tmp / "styles"))}
    (tmp / "notanimage.txt").write_text("plain text\n")
    bad = tmp / "bad.safetensors"
    bad.write_bytes((10**12).to_bytes(8, "little") + b"{}")  # a header length of a terabyte
    return {
        "restyle MISSING --to toon": (["restyle", str(tmp / "missing.mp4"), "--to", "toon"], {}),
        "restyle SAMPLE --to tooon": (["restyle", sample, "--to", "tooon"], {}),
        "restyle SAMPLE --to toon --style-opt nokey=1": (["restyle", sample, "--to", "toon", "--style-opt", "nokey=1"], {}),
        "styles": (["styles"], {}),
        "styles --help": (["styles", "--help"], {}),
        "--help": (["--help"], {}),
        "styles (a checkpoint style installed)": (["styles"], installed),
        "restyle SAMPLE --to tooon (a checkpoint style installed)": (["restyle", sample, "--to", "tooon"], installed),
        "restyle SAMPLE --like missing.jpg": (["restyle", sample, "--like", str(tmp / "missing.jpg")], {}),
        "restyle SAMPLE --like notanimage.txt": (["restyle", sample, "--like", str(tmp / "notanimage.txt")], {}),
        "restyle SAMPLE --like toon.png --like-strength 7": (["restyle", sample, "--like", picture, "--like-strength", "7"], {}),
        "restyle SAMPLE --model bad.safetensors (malformed header)": (["restyle", sample, "--model", str(bad)], {}),
    }


def checkpoint_style(folder: Path) -> Path:
    """`folder` with a tiny checkpoint style `mine` (safetensors weights with their card, and a style card), written
    by this tree's vidtoon (the format both trees read)."""
    sys.path.insert(0, str(REPO))
    from vidtoon.files import file_sha256
    from vidtoon.models import ModelCard, build_model, get_family, save_checkpoint

    folder.mkdir(parents=True)
    tiny = get_family("cyclegan_resnet").tiny
    card = ModelCard(family="cyclegan_resnet", kwargs=tiny, name="mine", licence="CC0")
    save_checkpoint(build_model("cyclegan_resnet", **tiny), folder / "mine.safetensors", card)
    sha = file_sha256(folder / "mine.safetensors")
    (folder / "mine.yaml").write_text(f"name: mine\ncheckpoint: mine.safetensors\nsha256: {sha}\n")
    return folder


def measure(tree: Path, args: list[str], cwd: Path, extra_env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of `python -m vidtoon ARGS` importing vidtoon from `tree` (run in `cwd`, a folder without a
    vidtoon package: `-m` puts the working folder first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "200", **extra_env}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vidtoon", *args], env=env, cwd=cwd, capture_output=True, text=True)
    if not done.stderr.strip() and not done.stdout.strip():
        sys.exit(f"no output from {args} in {tree}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--only", action="append", default=[], help="run only the rows whose name holds this (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-refusals-") as tmp:
        baseline = Path(tmp) / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline, "vidtoon"], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
        rows = commands(Path(tmp))
        rows = {row: cmd for row, cmd in rows.items() if not args.only or any(word in row for word in args.only)}
        trees = {"baseline": baseline, "this tree": REPO}
        times = {(row, tree): [] for row in rows for tree in trees}
        for _ in range(args.repeat):
            for row, (argv, extra_env) in rows.items():
                for tree, path in trees.items():  # taking turns: both see the same load
                    times[row, tree].append(measure(path, argv, Path(tmp), extra_env))
    print(f"load average {os.getloadavg()[0]:.2f}, {args.repeat} runs each, medians; baseline {args.baseline}\n")
    print("| command | baseline wall s | baseline CPU s | this tree wall s | this tree CPU s | CPU ratio |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        base_wall, base_cpu = (statistics.median(t[i] for t in times[row, "baseline"]) for i in (0, 1))
        wall, cpu = (statistics.median(t[i] for t in times[row, "this tree"]) for i in (0, 1))
        print(f"| `vidtoon {row}` | {base_wall:.2f} | {base_cpu:.2f} | {wall:.2f} | {cpu:.2f} | {cpu / base_cpu:.2f} |")


if __name__ == "__main__":
    main()
