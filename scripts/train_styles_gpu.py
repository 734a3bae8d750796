#!/usr/bin/env python
"""Train the bundled learned styles `pixar` (then `anime`) for a fixed wall-clock budget on one GPU; write the
fp16 checkpoints, the style cards, held-out sheets against the shipped styles and a report into one folder.

    bash scripts/train_styles_gpu.sh                 # on the GPU machine (see its header for the carry paths)
    python scripts/train_styles_gpu.py --smoke --out /tmp/o --data DIR   # the same code path, tiny, on a CPU

The recipe is the one that made the shipped styles on the CPU (docs/training-notes.md), given a GPU's throughput:
each style's generator starts from the shipped one (`init_from`; `--from-scratch`: random weights) and distils its
code-made look (the anchor phase only: on the CPU the adversarial phase only ever pulled the look back towards the
photo; `--adversarial` runs it after 1,500 anchor steps), on 256 px crops of frames at the CPU recipe's scale, batch 32,
bf16. Per style a short calibration run measures steps/s on this machine; the real run then gets as many steps as fit
its share of the budget, so the learning-rate schedule (constant, then linear decay over the second half) ends when
the time does. Afterwards the shipped and the new generator restyle the run's held-out photos: their distance to the
look target and their colour cast go into the report, and NAME.heldout.png shows photo, target, shipped, new. Needs
no PyAV (image folders only).

Writes into --out (7 files): NAME.safetensors, NAME.yaml, NAME.heldout.png per style, report.txt.

The GPU machine's OpenCV (opencv-python-headless) has no `ximgproc`, whose fast global smoother both looks need: the
targets are made here beforehand (`--prepare`: each photo's target, the palette applied, into DATA/NAME/targets as
JPEG q90, which travels instead of the film frames) and the GPU run reads them (`anchor: images`). A style without a
targets folder has its look computed where it runs (needs opencv-contrib).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402  (after the sys.path line: runs from a bare checkout)
import torch  # noqa: E402

from vidtoon.io.images import write_image  # noqa: E402
from vidtoon.models.card import read_card  # noqa: E402
from vidtoon.models.checkpoint import load_checkpoint  # noqa: E402
from vidtoon.styles.cards import find_style  # noqa: E402
from vidtoon.train.cartoon import cartoon_data, photo_targets  # noqa: E402
from vidtoon.train.cartoon_config import CartoonConfig  # noqa: E402
from vidtoon.train.config import AugmentConfig  # noqa: E402
from vidtoon.train.data import load_domain  # noqa: E402
from vidtoon.train.export import export_run  # noqa: E402
from vidtoon.train.look_targets import hwc  # noqa: E402
from vidtoon.train.quality import colour_cast, target_distance  # noqa: E402
from vidtoon.train.report import image_grid, write_png  # noqa: E402
from vidtoon.train.run import train  # noqa: E402
from vidtoon.train.state import read_checkpoint  # noqa: E402

# share of the training budget per style, in the order they are trained
SHARES = {"pixar": 0.62, "anime": 0.38}
# the code-made look each style's anchor phase distils (vidtoon.train.look_targets)
ANCHORS = {"pixar": "film", "anime": "anime"}
# the styles whose targets take their domain B's palette (vidtoon.train.palette; docs/training-notes.md, 2026-12-01)
PALETTE_STYLES = ("pixar",)
# the L1 of the fine detail alone, weighted (`lambda_fine`): without it the small generator keeps a third of the texture
# its target removes (docs/training-notes.md, 2026-12-01 morning: pixar's fine texture 0.82 -> 0.79 of the photo's);
# both shipped styles were fine-tuned with it
FINE_DETAIL = {"pixar": 6.0, "anime": 6.0}
# the shorter side the frames are loaded at: the CPU recipe's, so the targets have the scale the shipped generators
# learned (the look's filters work in pixels) and a 360p film frame meets the scale it was trained on
LOAD_SIZES = {"pixar": 288, "anime": 256}
# the generator's architecture, taken from the shipped style's card when it starts from it
ARCHITECTURE = ("ngf", "n_blocks", "norm", "skip", "long_skips")
# the calibration's steps; its rate is measured on the metric rows after CALIBRATION_SKIP steps: the first ones pay
# for cuDNN's autotuning (and compiling), and the batch queue (2 × workers batches) was filled meanwhile, so they do
# not wait for data (30 steps timed from step 2 read 1.66× the true rate of a data-bound run on the CPU)
CALIBRATION_STEPS = 120
CALIBRATION_SKIP = 40
ADVERSARIAL_AFTER = 1500  # --adversarial: anchor-only steps first
TARGETS = "targets"  # DATA/NAME/TARGETS: each photo's target, made by --prepare
TARGET_QUALITY = 90  # JPEG quality of the targets, as the photos': 1.7 grey levels from the exact targets on average (q95:
# 1.3, but 1.4x the bytes; q85: 1.9), within the 64 MiB that travel with pixar and anime (scripts/train_styles_gpu.sh)


def gpu_config(
    name: str, folder: Path, *, smoke: bool, compile_: bool, scratch: bool, adversarial: bool, read_targets: bool = True
) -> CartoonConfig:
    """The recipe of style `name` on the data in `folder` (a/, b/, targets/): the shipped generator (unless `scratch`)
    distilling the style's look on 256 px crops, batch 32, bf16 autocast, channels_last; after `ADVERSARIAL_AFTER`
    steps the adversarial phase too when `adversarial`. The look: the targets `--prepare` made, when `read_targets`
    and they are there, else the code-made look (`ANCHORS`, computed when the data loads). `smoke`: the same path,
    tiny, on the CPU."""
    start = {} if scratch else {"init_from": name, **architecture_of(name)}
    targets = folder / TARGETS
    if read_targets and targets.is_dir():  # the palette is in them already; the film frames only for an adversarial phase
        look = {"anchor": "images", "targets": str(targets), "palette": False, "b": str(folder / "b") if adversarial else ""}
    else:
        look = {"anchor": ANCHORS.get(name, "film"), "palette": name in PALETTE_STYLES, "b": str(folder / "b")}
    common = {
        "a": str(folder / "a"),
        **look,
        "precision": "bf16",
        "channels_last": True,
        "log_every": 20,
        "save_every": 10**9,
        "sample_every": 10**9,
        "compile": compile_,
        # the uint8 frames (and targets) go to the GPU once and every batch is cut there: cut on the CPU, a batch of
        # 32 pixar crops took 0.19-0.31 s of a core, which could have capped the run near 30 steps/s on 8 threads
        "data_on_device": True,
        # white-balance jitter on a photo and its target alike: the style keeps a shot's tint (no cast on footage lit
        # unlike the photos; docs/training-notes.md, 2026-11-30 night)
        "augment": AugmentConfig(tint=0.15),
        # the mean hue as a goal of its own in the anchor phase (the same notes: the cast fell from 2.4-2.7 to 0.7-0.8)
        "lambda_anchor_cast": 0.03,
        "lambda_fine": FINE_DETAIL.get(name, 0.0),
        **start,
    }
    if smoke:
        tiny = {"ngf": 8, "n_blocks": 1} if scratch else {}
        return CartoonConfig(
            **{"ngf": 16, **common, **tiny},
            size=32,
            load_size=48,
            zoom=(1.0, 1.25),
            batch_size=2,
            ndf=8,
            d_layers=2,
            holdout=2,
            init_steps=2 if adversarial else 10**9,
            device="cpu",
            workers=1,
            steps=6,
        )
    return CartoonConfig(
        **common,
        size=256,
        load_size=LOAD_SIZES.get(name, 256),
        zoom=(1.0, 1.125),
        batch_size=32,
        init_steps=ADVERSARIAL_AFTER if adversarial else 10**9,
        lambda_detail=5.0,
        # no pull towards the films' colour spreads: they are nearly the photos' own, so it undid the target's chroma
        # gain in 500 CPU steps (docs/training-notes.md, 2026-11-30 22:35); the cast term still holds the mean hue
        lambda_colour=0.0,
        lambda_hue=2.0,
        hue_margin=2.0,
        device="cuda",
        # two threads queue the next batches' crop kernels while the main thread queues the step's (about 200 small
        # kernels a batch: ~1-2 ms of Python each)
        workers=2,
        # a shipped generator is fine-tuned (the CPU runs' 1e-4 after their first 20,000 steps); a fresh one learns
        lr=2e-4 if scratch else 1e-4,
        steps=10**6,
    )


def architecture_of(name: str) -> dict:
    """The generator settings of the shipped style `name` (from its card), for a run that starts from it."""
    card = read_card(find_style(name).checkpoint)  # the header alone
    return {key: card.kwargs[key] for key in ARCHITECTURE if key in card.kwargs}


def steps_for(budget_s: float, config: CartoonConfig, scratch: Path, smoke: bool) -> tuple[int, float]:
    """(steps that fit `budget_s`, measured steps/s) from a calibration run in `scratch`: anchor steps for an
    anchor-only run, else adversarial ones (about twice as dear: the budget holds). The real run also stops at
    `budget_s` (`time_limit`) should the rate have been misjudged."""
    anchor_only = config.adversarial_start >= config.steps
    probe = replace(
        config,
        steps=3 if smoke else CALIBRATION_STEPS,
        init_steps=config.init_steps if anchor_only else 0,
        time_limit=0.0 if smoke else budget_s / 3,
    )
    result = train("cartoon", probe, scratch, force=True)
    rate = steady_rate(scratch / "metrics.csv") or result.steps_per_second
    if smoke:
        return config.steps, rate
    least = 100 if anchor_only else config.init_steps + 100
    return max(least, int(budget_s * rate * 0.95)), rate


def steady_rate(metrics: Path) -> float | None:
    """Steps per second over the metric rows after `CALIBRATION_SKIP` steps (None: no such rows)."""
    with metrics.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if int(row["step"]) > CALIBRATION_SKIP]
    if not rows:
        return None
    return 1000.0 / (sum(float(r["step_ms"]) + float(r["data_ms"]) for r in rows) / len(rows))


def held_out_comparison(name: str, config: CartoonConfig, new_checkpoint: Path, sheet: Path) -> str:
    """The shipped and the new generator on the run's held-out photos: their mean distance to the look target (grey
    levels) and colour cast (Lab), as a report line; `sheet`: rows of photo, target, shipped, new."""
    sample = cartoon_data(config).sample  # the held-out photos and their targets, as the run made them
    held, target = sample["held"], sample["held_target"]
    rows, parts = [held, target], []
    for label, path in (("shipped", find_style(name).checkpoint), ("new", new_checkpoint)):
        model, _ = load_checkpoint(path)
        with torch.inference_mode():
            out = model(held).clamp(-1, 1)
        rows.append(out)
        distance, cast = target_distance(out, target), float(colour_cast(held, out).mean())
        parts.append(f"{label} {distance:.2f} levels from the target, cast {cast:.2f}")
    write_png(sheet, image_grid(rows))
    return f"  held-out ({len(held)} photos): " + "; ".join(parts)


def prepare_targets(name: str, folder: Path, *, smoke: bool) -> str:
    """Each photo of `folder`/a's target (the style's code-made look, with its palette), as the run would make it,
    into `folder`/targets (JPEG q90, named as the photos); returns a report line. Needs opencv-contrib (here)."""
    config = gpu_config(name, folder, smoke=smoke, compile_=False, scratch=False, adversarial=False, read_targets=False)
    load = {"load_size": config.resolved_load_size, "fps": config.fps, "max_frames": config.max_frames}
    photos = load_domain(config.a, **load)
    style = load_domain(config.b, **load) if config.palette else None
    targets, note = photo_targets(config, photos, style)
    staging = folder / f".{TARGETS}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for photo_name, target in zip(photos.names, targets):
        write_image(staging / f"{Path(photo_name).stem}.jpg", hwc(target), jpeg_quality=TARGET_QUALITY)
    shutil.rmtree(folder / TARGETS, ignore_errors=True)
    staging.rename(folder / TARGETS)
    size = sum(p.stat().st_size for p in (folder / TARGETS).iterdir())
    return f"{name}: {len(targets)} targets ({config.anchor} look{note}) in {folder / TARGETS}, {size / 2**20:.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "out/gpu_styles")))
    parser.add_argument(
        "--data", type=Path, default=REPO / "out" / "gpu_data", help="holds pixar/{a,b,targets} and anime/{a,b,targets}"
    )
    parser.add_argument("--styles", default="pixar,anime")
    parser.add_argument("--budget", type=float, default=420, help="seconds of training for all styles together")
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the networks (pays only if compiling < ~10 %% of the budget)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and a few steps on the CPU: the same code path and outputs"
    )
    parser.add_argument(
        "--from-scratch", action="store_true", help="random weights, not the shipped styles' generators, to start from"
    )
    parser.add_argument(
        "--adversarial", action="store_true", help=f"the adversarial phase after {ADVERSARIAL_AFTER} anchor-only steps"
    )
    parser.add_argument(
        "--prepare", action="store_true", help="make each style's targets into DATA/NAME/targets (here: needs opencv-contrib)"
    )
    args = parser.parse_args()
    styles = [s for s in args.styles.split(",") if s]
    if args.prepare:
        lines = [prepare_targets(name, args.data / name, smoke=args.smoke) for name in styles]
        print("\n".join(lines))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    report = [
        f"train_styles_gpu: budget {args.budget:.0f} s, smoke={args.smoke}, compile={args.compile}, "
        f"from_scratch={args.from_scratch}, adversarial={args.adversarial}"
    ]
    work = Path(tempfile.mkdtemp(prefix="vidtoon-gpu-runs-"))
    failed = False
    started = time.perf_counter()
    for name in styles:
        folder = args.data / name
        if not (folder / "a").is_dir() or not ((folder / TARGETS).is_dir() or (folder / "b").is_dir()):
            report.append(f"{name}: no data in {folder}/{{a,{TARGETS}}} (scripts/prepare_style_data.py, then --prepare): skipped")
            failed = True
            continue
        try:
            if not (folder / TARGETS).is_dir() and not hasattr(cv2, "ximgproc"):
                raise RuntimeError(f"this OpenCV has no ximgproc for the {name} look: make {folder / TARGETS} with --prepare")
            config = gpu_config(
                name,
                folder,
                smoke=args.smoke,
                compile_=args.compile,
                scratch=args.from_scratch,
                adversarial=args.adversarial,
            )
            budget = args.budget * SHARES.get(name, 0.5)
            t0 = time.perf_counter()
            steps, rate = steps_for(budget, config, work / f"{name}-calibrate", args.smoke)
            run = work / name
            result = train("cartoon", replace(config, steps=steps, time_limit=0.0 if args.smoke else budget), run)
            took = time.perf_counter() - t0
            exported = export_run(run, args.out, name=name, provenance=name, force=True)
            (args.out / f"{name}.preview.png").unlink(missing_ok=True)  # the held-out sheet below shows more
            look = read_checkpoint(run / "checkpoints" / "latest.pt")["trainer"]["extra"]["quality"][-1].tolist()
            images = result.step * config.batch_size
            anchor_steps = min(config.adversarial_start, result.step)
            start = f"from the shipped {name}" if config.init_from else "from random weights"
            report.append(
                f"{name}: {result.step} steps ({anchor_steps} anchor-only) {start} at {config.size} px, batch {config.batch_size}: "
                f"{images} crops seen{' (stopped at the time limit)' if result.out_of_time else ''}; "
                f"calibrated {rate:.2f} steps/s, run {result.steps_per_second:.2f} steps/s "
                f"(compute {result.step_ms:.0f} ms, data wait {result.data_ms:.1f} ms); {took:.0f} s with calibration; "
                f"held-out colour cast {look[1]:.2f} Lab, checkerboard {look[2]:.2f}, blotches {look[3]:.4f}, "
                f"{look[4]:.2f} levels from the target; "
                f"{exported.checkpoint.name} {exported.checkpoint.stat().st_size / 1e6:.2f} MB sha256 {exported.sha256[:12]}"
            )
            report.append("  last losses: " + ", ".join(f"{k} {v:.3g}" for k, v in result.losses.items()))
            t0 = time.perf_counter()
            report.append(held_out_comparison(name, config, exported.checkpoint, args.out / f"{name}.heldout.png"))
            report[-1] += f" ({time.perf_counter() - t0:.0f} s)"
        except Exception as exc:  # noqa: BLE001 - one style failing must not lose the other's results
            report.append(f"{name}: FAILED {type(exc).__name__}: {exc}")
            failed = True
        (args.out / "report.txt").write_text("\n".join(report) + "\n")
    report.append(f"total {time.perf_counter() - started:.0f} s")
    (args.out / "report.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
