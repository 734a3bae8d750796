"""Commands that restyle: `restyle` and `styles`."""

from __future__ import annotations

import shlex
import textwrap
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from vidtoon.cli.app import (
    AutoCrfOption,
    ForceOption,
    MaxPixelsOption,
    OnCorruptOption,
    PixFmtOption,
    ResumeOption,
    app,
    done,
    encode_options,
)
from vidtoon.cli.progress import RichProgress
from vidtoon.settings import DEFAULT_STRENGTH


@app.command()
def restyle(
    source: Annotated[Path, typer.Argument(help="A video, an image, or a folder of images.")],
    to: Annotated[str | None, typer.Option("--to", help="Installed style name (see `vidtoon styles`).")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Any checkpoint (.safetensors, CycleGAN/AnimeGANv2 .pth/.pt) or ONNX file.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file or folder (default: NAME.STYLE.ext beside the input).")
    ] = None,
    like: Annotated[
        Path | None, typer.Option("--like", help="Any picture: restyle in its look (needs the 'like' extra).")
    ] = None,
    like_strength: Annotated[
        float | None, typer.Option("--like-strength", help="With --like: 0..1, how much of the picture's look (default 1).")
    ] = None,
    style_opt: Annotated[
        list[str] | None,
        typer.Option("--style-opt", help="A procedural style's parameter, e.g. --style-opt levels=6 (repeatable)."),
    ] = None,
    to_label: Annotated[str | None, typer.Option("--to-label", help="Style label of a multi-style (CAAE) model.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, bf16 or fp16.")] = "auto",
    height: Annotated[int | None, typer.Option("--height", help="Processing height (output keeps the source size).")] = None,
    max_side: Annotated[
        int | None, typer.Option("--max-side", help="Translate in tiles when the longer side exceeds this.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Frames per model call (default 1 on CPU, 8 on GPU).")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Start time (seconds or HH:MM:SS).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="End time (seconds or HH:MM:SS).")] = None,
    consistency: Annotated[
        str | None, typer.Option("--consistency", help="Temporal consistency: flow (default) or none.")
    ] = None,
    strength: Annotated[
        float | None, typer.Option("--strength", help=f"Temporal blending strength 0..1 (default {DEFAULT_STRENGTH}).")
    ] = None,
    flow: Annotated[str, typer.Option("--flow", help="Optical flow for consistency: dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[
        Path | None, typer.Option("--flow-weights", help="RAFT weights file (or $VIDTOON_RAFT_WEIGHTS).")
    ] = None,
    flow_size: Annotated[
        int | None,
        typer.Option("--flow-size", help="Longest side (px) the flow is estimated at (default 640; smaller is faster)."),
    ] = None,
    compile_model: Annotated[bool, typer.Option("--compile", help="torch.compile the model (pays off on long films).")] = False,
    faces: Annotated[
        bool | None,
        typer.Option(
            "--faces/--no-faces", help="Restyle only the faces (feathered), keep everything else as it is (default: the style's)."
        ),
    ] = None,
    face_size: Annotated[
        int | None, typer.Option("--face-size", help="Side (px) of the face crop the model sees (default 256).")
    ] = None,
    face_margin: Annotated[
        float | None, typer.Option("--face-margin", help="Context around each face, × its size, on every side (default 0.4).")
    ] = None,
    resume: ResumeOption = False,
    segment_seconds: Annotated[int, typer.Option("--segment-seconds", help="Length of the resumable segments.")] = 30,
    crf: AutoCrfOption = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset", help="x264 speed preset: ultrafast … veryslow (default: faster at CRF 17 if no --crf, else medium)."
        ),
    ] = None,
    pix_fmt: PixFmtOption = None,
    on_corrupt: OnCorruptOption = "stop",
    force: ForceOption = False,
    max_pixels: MaxPixelsOption = 100_000_000,
) -> None:
    """Restyle a film, an image or a folder of images: same length, timing and sound."""
    from vidtoon.parsing import parse_assignments, parse_time
    from vidtoon.restyle import RestyleOptions, check_restyle, check_source, resolve_style

    # cheapest first: none of these imports torch (or PyAV, but for the probe), so a typo answers at once
    check_source(source)
    card = resolve_style(
        style=to,
        model=model,
        like=like,
        like_strength=like_strength,
        style_opts=parse_assignments(style_opt, flag="--style-opt", example="levels=6"),
    )
    options = RestyleOptions.from_style(
        card.defaults,
        device=device,
        precision=precision,
        height=height,
        max_side=max_side,
        batch_size=batch_size,
        start=parse_time(start, flag="--start"),
        end=parse_time(end, flag="--end"),
        consistency=consistency,
        strength=strength,
        flow=flow,
        flow_weights=str(flow_weights) if flow_weights else None,
        flow_size=flow_size,
        label=to_label,
        compile=compile_model,
        segment_seconds=segment_seconds,
        faces=faces,
        face_size=face_size,
        face_margin=face_margin,
        on_corrupt=on_corrupt,
        encode=encode_options(crf, preset, pix_fmt),
    )
    # the source probed, the output checked: still before the model
    job = check_restyle(source, output, style_name=card.name, options=options, force=force, max_pixels=max_pixels)
    from vidtoon.restyle import load_translator  # torch from here on (not for a procedural style's twin on the CPU)
    from vidtoon.restyle import restyle as run_restyle

    loaded = load_translator(
        card=card, device=device, precision=precision, label=to_label, compile=compile_model, twin=not options.faces
    )
    with RichProgress("fps") as progress:
        out = run_restyle(
            job.source,
            job.output,
            translator=loaded.translator,
            style_name=loaded.name,
            options=options,
            resume=resume,
            force=force,
            progress=progress,
            job_key=loaded.key,
            max_pixels=max_pixels,
        )
    done(f"wrote {out}")


WIDE_LISTING = 150  # terminal columns from which `vidtoon styles` is a table (narrower: one block per style)

styles_app = typer.Typer(
    help="Installed styles: list them (the default), or add one made from a picture.", invoke_without_command=True
)
app.add_typer(styles_app, name="styles")


@styles_app.callback()
def styles(ctx: typer.Context) -> None:
    """List installed styles: name, kind, what makes them, description, licence and credits, preview image."""
    from vidtoon.styles import STYLE_KINDS, TRAIN_HINT, list_styles

    if ctx.invoked_subcommand is not None:
        return
    cards = list_styles()
    if not cards:
        done(f"no styles installed yet: {TRAIN_HINT}; or restyle with --model FILE")
        return
    rows = [
        (
            card.name,
            card.kind,
            STYLE_KINDS.get(card.kind)().describe(card),
            card.description or "-",
            card.licence,
            card.credits,
            str(card.preview) if card.preview else "-",
        )
        for card in cards
    ]
    console = Console()
    if console.width >= WIDE_LISTING:
        table = Table("style", "kind", "made of", "description", "licence / credits")
        table.add_column("preview", no_wrap=True, min_width=max(len(row[-1]) for row in rows))  # a path to open: never cut
        for *named, licence, credits, preview in rows:
            terms = " / ".join(part for part in (licence, credits) if part) or "-"
            table.add_row(*map(escape, (*named, terms, preview)))
        console.print(table)
        return
    for name, kind, made_of, description, licence, credits, preview in rows:  # a narrow terminal: a block per style
        made_of = made_of if made_of.startswith(kind) else f"{kind} · {made_of}"
        console.print(Text.assemble((name, "bold"), "  ", made_of))
        for label, value in (("", description), ("licence: ", licence), ("credits: ", credits), ("preview: ", preview)):
            if not value:
                continue
            lines = textwrap.wrap(label + value, console.width - 2, break_long_words=False, break_on_hyphens=False)
            console.print("\n".join(f"  {line}" for line in lines), markup=False, highlight=False, soft_wrap=True)
        console.print()


@styles_app.command("add")
def styles_add(
    name: Annotated[str, typer.Argument(help="The new style's name (letters, digits, - and _).")],
    like: Annotated[Path, typer.Option("--like", help="The picture whose look the style takes.")],
    strength: Annotated[float, typer.Option("--strength", help="0..1, how much of the picture's look (default 1).")] = 1.0,
    description: Annotated[str, typer.Option("--description", help="One line for `vidtoon styles`.")] = "",
    folder: Annotated[
        Path | None, typer.Option("--dir", help="Styles folder (default: your own, ~/.local/share/vidtoon/styles).")
    ] = None,
    force: ForceOption = False,
) -> None:
    """Make a named style from a picture (a reference style): then `vidtoon restyle FILM --to NAME`."""
    from vidtoon.styles import add_reference_style, style_dirs, user_styles_dir

    folder = folder or user_styles_dir()
    card = add_reference_style(name, like, folder=folder, strength=strength, description=description, force=force)
    if any(folder.resolve() == known.resolve() for known, _ in style_dirs()):
        done(f"wrote {card}; restyle with: vidtoon restyle FILM --to {name}")
    else:  # --dir elsewhere: `--to NAME` finds it only through $VIDTOON_STYLES
        done(f"wrote {card}; restyle with: VIDTOON_STYLES={shlex.quote(str(folder))} vidtoon restyle FILM --to {name}")
