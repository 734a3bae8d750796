"""Commands to make your own styles: `train cyclegan|cartoon|caae`, `prep smooth`, `export`."""

from __future__ import annotations

import logging
import shlex
import signal
from pathlib import Path
from typing import Annotated

import typer

from vidtoon.cli.app import ForceOption, app, done
from vidtoon.cli.progress import RichProgress
from vidtoon.errors import interrupted_by

train_app = typer.Typer(
    help="Train your own style: cyclegan (photos -> one style, unpaired), cartoon (one-way, small crops, fast on a CPU) or caae (one model, many labelled styles).",
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")
prep_app = typer.Typer(help="Prepare training data.", no_args_is_help=True)
app.add_typer(prep_app, name="prep")

RunOption = Annotated[Path, typer.Option("--output", "-o", help="Run folder: config.yaml, checkpoints, metrics, samples.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML config (defaults < file < flags; unknown keys refused).")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Any config key, e.g. --set lr=0.0001 --set augment.flip=false (the run's config.yaml lists them)."
    ),
]
StepsOption = Annotated[int | None, typer.Option("--steps", help="Optimiser steps in total (default 10000).")]
TimeLimitOption = Annotated[
    str | None,
    typer.Option(
        "--time-limit",
        help="Stop after this much training (seconds or HH:MM:SS, e.g. 1:30:00) with a checkpoint; --resume goes on.",
    ),
]
SizeOption = Annotated[int | None, typer.Option("--size", help="Training crop in pixels, multiple of 16 (default 128).")]
BatchOption = Annotated[int | None, typer.Option("--batch-size", help="Images per step (default 1).")]
FpsOption = Annotated[str | None, typer.Option("--fps", help="Frames per second sampled from videos given as data (default 2).")]
TrainDeviceOption = Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda or cuda:N (default auto).")]
TrainPrecisionOption = Annotated[str | None, typer.Option("--precision", help="auto, fp32, bf16 or fp16 (GPU).")]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Seeds data order, augmentation, weights (default 0).")]
SaveEveryOption = Annotated[int | None, typer.Option("--save-every", help="Steps between checkpoints (default 500).")]
SampleEveryOption = Annotated[int | None, typer.Option("--sample-every", help="Steps between sample grids and loss curves.")]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue the run in -o exactly where it stopped.")]


def _common_flags(steps, time_limit, size, batch_size, device, precision, seed, save_every, sample_every) -> dict:
    """The flags every trainer takes, as config keys (None: not given)."""
    from vidtoon.parsing import parse_time

    limit = parse_time(time_limit, flag="--time-limit")
    return {
        "steps": steps,
        "time_limit": None if limit is None else float(limit),
        "size": size,
        "batch_size": batch_size,
        "device": device,
        "precision": precision,
        "seed": seed,
        "save_every": save_every,
        "sample_every": sample_every,
    }


def _train(
    kind: str, output: Path, config_file: Path | None, sets: list[str] | None, resume: bool, force: bool, flags: dict
) -> None:
    from vidtoon.parsing import parse_assignments
    from vidtoon.train.run import resolve_run_config, train

    logging.getLogger("vidtoon.train").setLevel(logging.INFO)  # a long run reports its data, resume point and samples

    overrides = {
        **parse_assignments(sets, flag="--set", example="lr=0.0001"),
        **{k: v for k, v in flags.items() if v is not None},
    }
    config = resolve_run_config(kind, output, config_file=config_file, overrides=overrides, resume=resume)
    with RichProgress("it/s", show_metrics=True) as progress:
        result = train(kind, config, output, resume=resume, force=force, progress=progress)
    if result.steps_per_second:
        timing = f"{result.steps_per_second:.2f} steps/s (compute {result.step_ms:.0f} ms, waiting for data {result.data_ms:.1f} ms per step)"
    else:  # a session's first step is not timed (start-up): one step alone has no speed to show
        timing = "too few steps in this session to time (its first is not timed)"
    again = f"vidtoon train {kind} -o {shlex.quote(str(output))} --resume"
    if config.time_limit:  # saved in config.yaml: a resumed run stops after as long again unless told otherwise
        again += f" (the run's time limit of {config.time_limit:g} s applies again; --time-limit 0 lifts it)"
    if result.out_of_time:
        done(
            f"time limit reached: stopped at step {result.step} of {config.steps}, saved {result.checkpoint}; {timing}. "
            f"Continue with: {again}"
        )
        return
    if not result.finished:
        done(
            f"{interrupted_by(result.stopped_by or signal.SIGINT)}: stopped at step {result.step} of {config.steps}, "
            f"saved {result.checkpoint}; {timing}. "
            f"Continue with: {again}"
        )
        raise typer.Exit(code=128 + (result.stopped_by or signal.SIGINT))  # 130 after Ctrl-C, 143 SIGTERM, 129 SIGHUP
    done(f"done: {result.step} steps in {output}; {timing}. Make it a style with: vidtoon export {shlex.quote(str(output))}")


@train_app.command("cyclegan")
def train_cyclegan(
    output: RunOption = Path("runs/cyclegan"),
    a: Annotated[str | None, typer.Option("--a", help="Domain A (photos): folder of images and/or videos, or a video.")] = None,
    b: Annotated[str | None, typer.Option("--b", help="Domain B (the style): folder of images and/or videos, or a film.")] = None,
    generator: Annotated[str | None, typer.Option("--generator", help="resnet or unet (default resnet).")] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
    steps: StepsOption = None,
    time_limit: TimeLimitOption = None,
    size: SizeOption = None,
    batch_size: BatchOption = None,
    fps: FpsOption = None,
    device: TrainDeviceOption = None,
    precision: TrainPrecisionOption = None,
    seed: SeedOption = None,
    save_every: SaveEveryOption = None,
    sample_every: SampleEveryOption = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
) -> None:
    """CycleGAN: two generators, two PatchGANs, LSGAN + cycle (λ=10) + identity (0.5λ) losses, 50-image pool."""
    common = _common_flags(steps, time_limit, size, batch_size, device, precision, seed, save_every, sample_every)
    _train("cyclegan", output, config, sets, resume, force, {"a": a, "b": b, "generator": generator, "fps": fps, **common})


@train_app.command("caae")
def train_caae(
    output: RunOption = Path("runs/caae"),
    data: Annotated[
        str | None, typer.Option("--data", help="Frame folder with manifest.csv (from `vidtoon frames --tag`).")
    ] = None,
    label_column: Annotated[str | None, typer.Option("--label-column", help="Manifest column holding the style labels.")] = None,
    warmup_steps: Annotated[
        int | None, typer.Option("--warmup-steps", help="Autoencoder-only steps first (default 1000).")
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
    steps: StepsOption = None,
    time_limit: TimeLimitOption = None,
    size: SizeOption = None,
    batch_size: BatchOption = None,
    device: TrainDeviceOption = None,
    precision: TrainPrecisionOption = None,
    seed: SeedOption = None,
    save_every: SaveEveryOption = None,
    sample_every: SampleEveryOption = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
) -> None:
    """CAAE: encoder, label-conditioned decoder, latent and image discriminators; L1 + TV reconstruction."""
    common = _common_flags(steps, time_limit, size, batch_size, device, precision, seed, save_every, sample_every)
    _train(
        "caae",
        output,
        config,
        sets,
        resume,
        force,
        {"data": data, "label_column": label_column, "warmup_steps": warmup_steps, **common},
    )


@train_app.command("cartoon")
def train_cartoon(
    output: RunOption = Path("runs/cartoon"),
    a: Annotated[str | None, typer.Option("--a", help="Photos: folder of images and/or videos, or a video.")] = None,
    b: Annotated[str | None, typer.Option("--b", help="The style: folder of images and/or videos, or a film.")] = None,
    targets: Annotated[
        str | None,
        typer.Option(
            "--targets",
            help="Each photo's look, made by any tool: a folder of images named as the photos in --a (the generator "
            "learns that look; with --b an adversarial phase follows after init_steps).",
        ),
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
    steps: StepsOption = None,
    time_limit: TimeLimitOption = None,
    size: Annotated[int | None, typer.Option("--size", help="Crop in pixels, multiple of 16 (default 96).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Crops per step (default 8).")] = None,
    fps: FpsOption = None,
    device: TrainDeviceOption = None,
    precision: TrainPrecisionOption = None,
    seed: SeedOption = None,
    save_every: SaveEveryOption = None,
    sample_every: SampleEveryOption = None,
    init_from: Annotated[
        str | None,
        typer.Option(
            "--init-from",
            help="Start from a trained generator: a style's name (e.g. pixar) or a .safetensors from `vidtoon export`.",
        ),
    ] = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
) -> None:
    """One-way cartoon generator on small crops, no VGG: L1 to an edge-preserving anchor, surface + texture discriminators."""
    common = _common_flags(steps, time_limit, size, batch_size, device, precision, seed, save_every, sample_every)
    paired = {"targets": targets, "anchor": "images"} if targets else {}
    _train(
        "cartoon", output, config, sets, resume, force, {"a": a, "b": b, "fps": fps, "init_from": init_from, **paired, **common}
    )


@prep_app.command("smooth")
def prep_smooth(
    source: Annotated[Path, typer.Argument(help="Folder of cartoon/style images.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the edge-smoothed images (same names).")],
    kernel: Annotated[int, typer.Option("--kernel", help="Odd size of the edge dilation and Gaussian blur.")] = 5,
    force: ForceOption = False,
) -> None:
    """Blur the edges of cartoon images (CartoonGAN/AnimeGAN preprocessing): Canny edges, dilated, Gaussian-blurred."""
    from vidtoon.train.smooth import smooth_folder

    with RichProgress("img/s") as progress:
        result = smooth_folder(source, output, kernel=kernel, force=force, progress=progress)
    skipped = f" ({len(result.skipped)} unreadable skipped)" if result.skipped else ""
    done(f"wrote {len(result.files)} smoothed images to {output}{skipped}")


@app.command("export")
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder made by `vidtoon train`.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Style folder to write (NAME.safetensors, NAME.yaml, preview); default: your styles folder, where "
            "`--to NAME` finds it.",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Style name (default: the run folder's name).")] = None,
    direction: Annotated[str, typer.Option("--direction", help="CycleGAN: a2b (photos -> style) or b2a.")] = "a2b",
    onnx: Annotated[bool, typer.Option("--onnx", help="Also write ONNX graphs under onnx/.")] = False,
    licence: Annotated[
        str, typer.Option("--licence", help="Terms of the training data and weights (shown by `vidtoon styles`).")
    ] = "",
    credits: Annotated[str | None, typer.Option("--credits", help="Whom to credit (default: the run folder).")] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="The training data, in words, kept as written (default: the run's data folders by name, no full paths).",
        ),
    ] = None,
    provenance: Annotated[
        str | None, typer.Option("--provenance", help="pixar or anime: the bundled styles' data, licence, credits.")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Turn a training run into a style: fp16 safetensors checkpoint + style card (+ ONNX)."""
    from vidtoon.styles.cards import BUNDLED_DIR, style_dirs, user_styles_dir
    from vidtoon.train.export import export_run

    output = output or user_styles_dir()
    result = export_run(
        run_dir,
        output,
        name=name,
        direction=direction,
        onnx=onnx,
        licence=licence,
        credits=credits,
        data=data,
        provenance=provenance,
        force=force,
    )
    done(f"wrote {result.checkpoint} and {result.card}" + (f" and {len(result.onnx)} ONNX graph(s)" if result.onnx else ""))
    labels = f" --to-label {'|'.join(result.styles)}" if result.styles else ""
    if any(output.resolve() == folder.resolve() for folder, _ in style_dirs()):
        done(f"restyle with: vidtoon restyle FILM --to {result.name}{labels}")
        if (BUNDLED_DIR / f"{result.name}.yaml").is_file():  # as meant when retraining a bundled style: said, not silent
            done(f"note: it hides the built-in {result.name}; remove {shlex.quote(str(result.card))} to get that one back")
    else:
        done(
            f"restyle with: vidtoon restyle FILM --model {shlex.quote(str(result.checkpoint))}{labels}"
            f"  (or VIDTOON_STYLES={shlex.quote(str(output))} vidtoon restyle FILM --to {result.name})"
        )
