"""`animate`: a still face driven by a video."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidtoon.cli.app import CrfOption, ForceOption, PixFmtOption, PresetOption, app, done, encode_options
from vidtoon.cli.progress import RichProgress


@app.command("animate")
def animate_command(
    source: Annotated[Path, typer.Argument(help="A still image with one face (.jpg, .png, ...).")],
    driver: Annotated[Path, typer.Argument(help="A video of a moving face whose motion, timing and sound the output takes.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Video to write (default SOURCE.DRIVER.mp4 beside the source).")
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="landmarks (offline, MediaPipe) or fomm (needs --checkpoint).")
    ] = "landmarks",
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="FOMM checkpoint, e.g. vox-cpk.pth.tar (read without running code).")
    ] = None,
    relative: Annotated[
        bool,
        typer.Option(
            "--relative/--absolute",
            help="Motion relative to the driver's first frame (keeps the source's face shape), or the driver's absolute pose.",
        ),
    ] = True,
    crop: Annotated[
        bool, typer.Option("--crop/--no-crop", help="Work on a box around the face and paste it back, or on the whole image.")
    ] = True,
    size: Annotated[
        int | None, typer.Option("--size", help="Longer side of the output in px (default: the source's size).")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Restyle the face first with this style (any kind, see `vidtoon styles`), then animate it."),
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Restyle the face first with this model file.")] = None,
    like: Annotated[
        Path | None, typer.Option("--like", help="Restyle the face first like this image (its palette and brushwork).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write a fidelity report (JSON): per signal the output/driver range ratio and correlation, drift, fps.",
        ),
    ] = None,
    turn: Annotated[
        str,
        typer.Option(
            "--turn",
            help="Head turns (landmarks): 2.5d turns the face's own 3D shape, 2d carries the driver's 2D motion, none keeps yaw and pitch still.",
        ),
    ] = "2.5d",
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N (fomm).")] = "auto",
    crf: CrfOption = None,
    preset: PresetOption = None,
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
) -> None:
    """Bring a still face to life: the driver's head motion and expressions, its frame timing and its sound."""
    from vidtoon.animate.pipeline import animate as run_animate

    with RichProgress("fps") as progress:
        out = run_animate(
            source,
            driver,
            output,
            method=method,
            checkpoint=checkpoint,
            relative=relative,
            crop=crop,
            size=size,
            device=device,
            options=encode_options(crf, preset, pix_fmt),
            force=force,
            progress=progress,
            to=to,
            model=model,
            like=like,
            report=report,
            turn=turn,
        )
    done(f"wrote {out}")
