#!/usr/bin/env python
"""Train the bundled learned styles `pixar` (then `anime`) for a fixed wall-clock budget on one GPU; write the
fp16 checkpoints, the style cards, the held-out preview sheets and a report into one folder.

    bash scripts/train_styles_gpu.sh                 # on the GPU machine (see its header for the carry paths)
    python scripts/train_styles_gpu.py --smoke --out /tmp/o --data DIR   # the same code path, tiny, on a CPU

Per style: a short calibration run (a few adversarial steps in a scratch folder) measures steps/s on this
machine; the real run then gets as many steps as fit its share of the budget, so the learning-rate schedule
(constant, then linear decay over the second half) ends when the time does. Needs no PyAV (image folders only).

Writes into --out (at most 7 files): NAME.safetensors, NAME.yaml, NAME.preview.png per style, report.txt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vidtoon.train.cartoon_config import CartoonConfig  # noqa: E402  (after the sys.path line: runs from a bare checkout)
from vidtoon.train.config import AugmentConfig  # noqa: E402
from vidtoon.train.export import export_run  # noqa: E402
from vidtoon.train.run import train  # noqa: E402
from vidtoon.train.state import read_checkpoint  # noqa: E402

# share of the training budget per style, in the order they are trained
SHARES = {"pixar": 0.62, "anime": 0.38}
# the code-made look each style's anchor phase distils (vidtoon.train.look_targets)
ANCHORS = {"pixar": "film", "anime": "anime"}
# the styles whose targets take their domain B's palette (vidtoon.train.palette; docs/training-notes.md, 2026-12-01)
PALETTE_STYLES = ("pixar",)
# the L1 of the fine detail alone, weighted (`lambda_fine`): without it the small generator keeps a third of the texture
# its target removes (docs/training-notes.md, 2026-12-01 morning: pixar's fine texture 0.82 -> 0.79 of the photo's)
FINE_DETAIL = {"pixar": 6.0}
CALIBRATION_STEPS = 30


def gpu_config(name: str, a: Path, b: Path, *, smoke: bool, compile_: bool) -> CartoonConfig:
    """The recipe of style `name`: 256 px crops of 256 px-short-side frames, batch 32, bf16 autocast, channels_last;
    the anchor phase towards the style's code-made look (`ANCHORS`), then the adversarial phase."""
    common = {
        "a": str(a),
        "b": str(b),
        "precision": "bf16",
        "channels_last": True,
        "log_every": 20,
        "save_every": 10**9,
        "sample_every": 10**9,
        "compile": compile_,
        # white-balance jitter on a photo and its target alike: the style keeps a shot's tint (no cast on footage lit
        # unlike the photos; docs/training-notes.md, 2026-11-30 night)
        "augment": AugmentConfig(tint=0.15),
        # the mean hue as a goal of its own in the anchor phase (the same notes: the cast fell from 2.4-2.7 to 0.7-0.8)
        "lambda_anchor_cast": 0.03,
        "palette": name in PALETTE_STYLES,
        "lambda_fine": FINE_DETAIL.get(name, 0.0),
    }
    if smoke:
        return CartoonConfig(
            **common,
            size=32,
            load_size=48,
            zoom=(1.0, 1.25),
            batch_size=2,
            ngf=8,
            n_blocks=1,
            ndf=8,
            d_layers=2,
            holdout=2,
            anchor=ANCHORS.get(name, "film"),
            init_steps=2,
            device="cpu",
            workers=1,
            steps=6,
        )
    return CartoonConfig(
        **common,
        size=256,
        load_size=256,
        zoom=(1.0, 1.25),
        batch_size=32,
        # the code-made look (pixar: the film-look target, docs/training-notes.md, 2026-11-30 evening; anime: the
        # cel-anime target, 2026-11-30 night): the anchor phase distils it, the adversarial phase adds what code
        # cannot, at weight 1 (5× had added a colour cast on the CPU)
        anchor=ANCHORS.get(name, "film"),
        init_steps=1500,
        lambda_detail=5.0,
        # no pull towards the films' colour spreads: they are nearly the photos' own, so it undid the target's chroma
        # gain in 500 CPU steps (docs/training-notes.md, 2026-11-30 22:35); the cast term still holds the mean hue
        lambda_colour=0.0,
        lambda_hue=2.0,
        hue_margin=2.0,
        device="cuda",
        workers=8,
        lr=2e-4,
        steps=10**6,
    )


def steps_for(budget_s: float, config: CartoonConfig, scratch: Path, smoke: bool) -> tuple[int, float]:
    """(steps that fit `budget_s`, measured adversarial steps/s) from a calibration run in `scratch`."""
    if smoke:
        probe = replace(config, steps=3, init_steps=0)
        result = train("cartoon", probe, scratch, force=True)
        return config.steps, result.steps_per_second
    probe = replace(config, steps=CALIBRATION_STEPS, init_steps=0)
    result = train("cartoon", probe, scratch, force=True)
    rate = result.steps_per_second
    return max(config.init_steps + 100, int(budget_s * rate * 0.97)), rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "out/gpu_styles")))
    parser.add_argument("--data", type=Path, default=REPO / "out" / "gpu_data", help="holds pixar/{a,b} and anime/{a,b}")
    parser.add_argument("--styles", default="pixar,anime")
    parser.add_argument("--budget", type=float, default=420, help="seconds of training for all styles together")
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the networks (pays only if compiling < ~10 %% of the budget)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and a few steps on the CPU: the same code path and outputs"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report = [f"train_styles_gpu: budget {args.budget:.0f} s, smoke={args.smoke}, compile={args.compile}"]
    work = Path(tempfile.mkdtemp(prefix="vidtoon-gpu-runs-"))
    failed = False
    started = time.perf_counter()
    for name in [s for s in args.styles.split(",") if s]:
        folder = args.data / name
        if not (folder / "a").is_dir() or not (folder / "b").is_dir():
            report.append(f"{name}: no data in {folder}/{{a,b}} (prepare it with scripts/prepare_style_data.py): skipped")
            failed = True
            continue
        try:
            config = gpu_config(name, folder / "a", folder / "b", smoke=args.smoke, compile_=args.compile)
            budget = args.budget * SHARES.get(name, 0.5)
            t0 = time.perf_counter()
            steps, rate = steps_for(budget, config, work / f"{name}-calibrate", args.smoke)
            run = work / name
            result = train("cartoon", replace(config, steps=steps), run)
            took = time.perf_counter() - t0
            exported = export_run(run, args.out, name=name, provenance=name, force=True)
            look = read_checkpoint(run / "checkpoints" / "latest.pt")["trainer"]["extra"]["quality"][-1].tolist()
            images = result.step * config.batch_size
            report.append(
                f"{name}: {result.step} steps ({config.init_steps} anchor-only) at {config.size} px, batch {config.batch_size}: "
                f"{images} crops seen; calibrated {rate:.2f} adversarial steps/s, run {result.steps_per_second:.2f} steps/s "
                f"(compute {result.step_ms:.0f} ms, data wait {result.data_ms:.1f} ms); {took:.0f} s with calibration; "
                f"held-out colour cast {look[1]:.2f} Lab, checkerboard {look[2]:.2f}, blotches {look[3]:.4f}; "
                f"{exported.checkpoint.name} {exported.checkpoint.stat().st_size / 1e6:.2f} MB sha256 {exported.sha256[:12]}"
            )
            report.append("  last losses: " + ", ".join(f"{k} {v:.3g}" for k, v in result.losses.items()))
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
