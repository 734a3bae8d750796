"""Commands on media files: `probe`, `stitch`, `frames`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vidtoon.cli.app import (
    CrfOption,
    ForceOption,
    MaxPixelsOption,
    OnCorruptOption,
    PixFmtOption,
    PresetOption,
    app,
    done,
    encode_options,
    table_console,
)
from vidtoon.cli.progress import RichProgress


@app.command()
def probe(
    path: Annotated[Path, typer.Argument(help="A video, GIF or image.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show what a video holds: size, frame rate, frames, duration, audio and subtitle streams."""
    from vidtoon.io.probe import probe as probe_file

    info = probe_file(path)
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    table = Table(show_header=False, box=None)
    rate = f"{float(info.fps):.3f} fps ({info.fps})" if info.fps else "-"
    count = "-" if info.frame_count is None else f"{info.frame_count}{'' if info.frame_count_exact else ' (estimated)'}"
    rows = [
        ("file", str(info.path)),
        ("container", info.container),
        ("video", f"{info.codec} {info.width}x{info.height} {info.pix_fmt}"),
        ("alpha", "yes (transparency)" if info.alpha else "no"),
        ("frame rate", rate + (" variable" if info.variable_fps else "")),
        ("rotation", f"{info.rotation}°"),
        ("duration", f"{float(info.duration):.3f} s" if info.duration is not None else "unknown"),
        ("frames", count),
    ]
    rows += [
        (f"audio #{a.index}", f"{a.codec} {a.channels} ch {a.sample_rate} Hz {a.language or ''}".strip()) for a in info.audio
    ]
    rows += [(f"subtitle #{s.index}", f"{s.codec} {s.language or ''}".strip()) for s in info.subtitles]
    for key, value in rows:
        table.add_row(f"[bold]{key}", escape(value))  # a file named "take [b].mp4" shown as named
    table_console().print(table)


@app.command(
    epilog="Examples:\n\n"
    "vidtoon stitch frames/ --fps 24 -o movie.mp4   (frame1.png … frame96.png: 96 frames, 4 s)\n\n"
    "vidtoon stitch shots/ --pattern 'shot1_*.png' --fps 30000/1001 --audio take1.wav -o shot1.mp4"
)
def stitch(
    frames_dir: Annotated[Path, typer.Argument(help="Folder of images (natural order: frame2 before frame10).")],
    fps: Annotated[str, typer.Option("--fps", help="Frames per second, e.g. 2, 24 or 30000/1001.")] = "2",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Video to write (.mp4 .mkv .mov .webm .avi .gif); default FOLDER.mp4.")
    ] = None,
    pattern: Annotated[str | None, typer.Option("--pattern", help="Glob on file names, e.g. 'shot1_*.png'.")] = None,
    size: Annotated[str | None, typer.Option("--size", help="Video size WxH (default: the first image's size).")] = None,
    fit: Annotated[str, typer.Option("--fit", help="How images of another size fit: pad, crop or stretch.")] = "pad",
    audio: Annotated[Path | None, typer.Option("--audio", help="Soundtrack to lay under the video (cut at its end).")] = None,
    crf: CrfOption = None,
    preset: PresetOption = None,
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
    max_pixels: MaxPixelsOption = 100_000_000,
) -> None:
    """Make a movie from a folder of frames."""
    from vidtoon.parsing import parse_size
    from vidtoon.stitch import stitch as run_stitch

    with RichProgress("fps") as progress:
        out = run_stitch(
            frames_dir,
            output,
            fps=fps,
            pattern=pattern,
            size=parse_size(size) if size else None,
            fit=fit,
            audio=audio,
            options=encode_options(crf, preset, pix_fmt),
            force=force,
            progress=progress,
            max_pixels=max_pixels,
        )
    done(f"wrote {out}")


@app.command()
def frames(
    video: Annotated[Path, typer.Argument(help="Video to sample.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the images and manifest.csv.")],
    fps: Annotated[
        str | None, typer.Option("--fps", help="Frames per second to keep (default 2; 'all' keeps every frame).")
    ] = "2",
    size: Annotated[str | None, typer.Option("--size", help="N (square) or WxH; 'none' keeps the video's size.")] = "256",
    crop: Annotated[str, typer.Option("--crop", help="center: crop to the size's aspect; none: resize only.")] = "center",
    start: Annotated[str | None, typer.Option("--start", help="Start time (seconds or HH:MM:SS).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="End time (seconds or HH:MM:SS).")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Manifest column key=value, e.g. studio=blender (repeatable).")
    ] = None,
    image_format: Annotated[str, typer.Option("--format", help="png or jpg.")] = "png",
    on_corrupt: OnCorruptOption = "stop",
    force: ForceOption = False,
) -> None:
    """Extract a dataset: frames at a given rate, centre-cropped and resized, with a manifest."""
    from vidtoon.frames import extract_frames, frame_name_stem
    from vidtoon.parsing import parse_size, parse_tags, parse_time

    with RichProgress("frames/s") as progress:
        result = extract_frames(
            video,
            output,
            fps=None if fps in (None, "all") else fps,
            size=None if size in (None, "none") else parse_size(size),
            crop=crop,
            start=parse_time(start, flag="--start"),
            end=parse_time(end, flag="--end"),
            tags=parse_tags(tag),
            image_format=image_format,
            force=force,
            progress=progress,
            on_corrupt=on_corrupt,
        )
    count = len(result.files)
    done(f"wrote {count} frame{'' if count == 1 else 's'} to {Path(output)} (listed in {result.manifest.name})")
    if result.stem != frame_name_stem(Path(video)):
        done(f"named {result.stem}_t*: frames of another video named {Path(video).name} are in this folder")
