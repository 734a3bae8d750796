"""The `vidtoon` command line: a thin Typer layer over the Python API."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

import vidtoon
from vidtoon.errors import VidtoonError
from vidtoon.settings import DEFAULT_STRENGTH

app = typer.Typer(
    name="vidtoon",
    help="Turn real footage into animation: restyle films without flicker, animate a still face, train your own styles, stitch and extract frames.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)
_state = {"verbose": False}


class _RateColumn(TextColumn):
    """Items per second, e.g. "41.3 fps"."""

    def __init__(self, unit: str):
        super().__init__("")
        self.unit = unit

    def render(self, task):  # noqa: D102
        speed = task.finished_speed or task.speed
        return f"{speed:6.1f} {self.unit}" if speed else f"   ... {self.unit}"


class RichProgress:
    """The CLI's progress bar (count, rate, elapsed, ETA; optionally the latest metrics) behind the library's `Progress` protocol."""

    def __init__(self, unit: str = "fps", console: Console | None = None, *, show_metrics: bool = False):
        console = console or err_console
        columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(unit),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        if show_metrics:
            columns.append(TextColumn("{task.fields[metrics]}"))
        self._bar = Progress(*columns, console=console, transient=False, disable=not console.is_terminal)
        self._task = None

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def start(self, total: int | None, description: str, completed: int = 0) -> None:
        """A job of `total` steps begins, `completed` of them done already (a resumed run: not counted in the rate)."""
        self._task = self._bar.add_task(description, total=total, completed=completed, metrics="")

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, steps)

    def metrics(self, values: dict[str, float]) -> None:
        """Show the latest values (e.g. losses) beside the bar."""
        if self._task is not None:
            self._bar.update(self._task, metrics=" ".join(f"{k} {v:.3g}" for k, v in values.items()))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vidtoon {vidtoon.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs and full tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """vidtoon: film restyling that keeps length, timing and sound."""
    _state["verbose"] = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(message)s",
        handlers=[RichHandler(console=err_console, show_time=False, show_path=verbose, markup=False)], force=True,
    )
    for noisy in ("libav", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _fail(exc: VidtoonError) -> None:
    if _state["verbose"]:
        err_console.print_exception()
    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


# Options shared by every command that writes a video.
CrfOption = Annotated[Optional[int], typer.Option("--crf", help="Quality, lower is better (default 18 for H.264, 31 for VP9).")]
PresetOption = Annotated[str, typer.Option("--preset", help="x264 speed preset: ultrafast … veryslow.")]
PixFmtOption = Annotated[Optional[str], typer.Option("--pix-fmt", help="Output pixel format (default yuv420p; yuv444p keeps odd sizes).")]
ForceOption = Annotated[bool, typer.Option("--force", "-f", help="Replace the output if it exists.")]


@app.command()
def probe(
    path: Annotated[Path, typer.Argument(help="A video, GIF or image.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show what a video holds: size, frame rate, frames, duration, audio and subtitle streams."""
    try:
        info = vidtoon.probe(path)
    except VidtoonError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    table = Table(show_header=False, box=None)
    rate = f"{float(info.fps):.3f} fps ({info.fps})" if info.fps else "-"
    count = "-" if info.frame_count is None else f"{info.frame_count}{'' if info.frame_count_exact else ' (estimated)'}"
    rows = [
        ("file", str(info.path)), ("container", info.container), ("video", f"{info.codec} {info.width}x{info.height} {info.pix_fmt}"),
        ("frame rate", rate + (" variable" if info.variable_fps else "")), ("rotation", f"{info.rotation}°"),
        ("duration", f"{float(info.duration):.3f} s" if info.duration is not None else "unknown"), ("frames", count),
    ]
    rows += [(f"audio #{a.index}", f"{a.codec} {a.channels} ch {a.sample_rate} Hz {a.language or ''}".strip()) for a in info.audio]
    rows += [(f"subtitle #{s.index}", f"{s.codec} {s.language or ''}".strip()) for s in info.subtitles]
    for key, value in rows:
        table.add_row(f"[bold]{key}", value)
    Console().print(table)


@app.command()
def stitch(
    frames_dir: Annotated[Path, typer.Argument(help="Folder of images (natural order: frame2 before frame10).")],
    fps: Annotated[str, typer.Option("--fps", help="Frames per second, e.g. 2, 24 or 30000/1001.")] = "2",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Video to write (.mp4 .mkv .mov .webm .avi .gif); default FOLDER.mp4.")] = None,
    pattern: Annotated[Optional[str], typer.Option("--pattern", help="Glob on file names, e.g. 'shot1_*.png'.")] = None,
    size: Annotated[Optional[str], typer.Option("--size", help="Video size WxH (default: the first image's size).")] = None,
    fit: Annotated[str, typer.Option("--fit", help="How images of another size fit: pad, crop or stretch.")] = "pad",
    audio: Annotated[Optional[Path], typer.Option("--audio", help="Soundtrack to lay under the video (cut at its end).")] = None,
    crf: CrfOption = None,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
) -> None:
    """Make a movie from a folder of frames."""
    from vidtoon.parsing import parse_size

    try:
        with RichProgress("fps") as progress:
            out = vidtoon.stitch(
                frames_dir, output, fps=fps, pattern=pattern, size=parse_size(size) if size else None, fit_mode=fit,
                audio=audio, options=vidtoon.EncodeOptions(crf=crf, preset=preset, pix_fmt=pix_fmt), force=force, progress=progress,
            )
    except VidtoonError as exc:
        _fail(exc)
    err_console.print(f"wrote {out}")


@app.command()
def frames(
    video: Annotated[Path, typer.Argument(help="Video to sample.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the images and manifest.csv.")],
    fps: Annotated[Optional[str], typer.Option("--fps", help="Frames per second to keep (default 2; 'all' keeps every frame).")] = "2",
    size: Annotated[Optional[str], typer.Option("--size", help="N (square) or WxH; 'none' keeps the video's size.")] = "256",
    crop: Annotated[str, typer.Option("--crop", help="center: crop to the size's aspect; none: resize only.")] = "center",
    start: Annotated[Optional[str], typer.Option("--start", help="Start time (seconds or HH:MM:SS).")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="End time (seconds or HH:MM:SS).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="Manifest column key=value, e.g. studio=blender (repeatable).")] = None,
    image_format: Annotated[str, typer.Option("--format", help="png or jpg.")] = "png",
    force: ForceOption = False,
) -> None:
    """Extract a dataset: frames at a given rate, centre-cropped and resized, with a manifest."""
    from vidtoon.parsing import parse_size, parse_tags, parse_time

    try:
        with RichProgress("frames/s") as progress:
            result = vidtoon.extract_frames(
                video, output,
                fps=None if fps in (None, "all") else fps,
                size=None if size in (None, "none") else parse_size(size),
                crop=crop, start=parse_time(start), end=parse_time(end), tags=parse_tags(tag),
                image_format=image_format, force=force, progress=progress,
            )
    except VidtoonError as exc:
        _fail(exc)
    err_console.print(f"wrote {len(result.files)} frames to {Path(output)} (listed in {result.manifest.name})")


@app.command()
def restyle(
    source: Annotated[Path, typer.Argument(help="A video, an image, or a folder of images.")],
    to: Annotated[Optional[str], typer.Option("--to", help="Installed style name (see `vidtoon styles`).")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Any checkpoint (.safetensors, CycleGAN/AnimeGANv2 .pth/.pt) or ONNX file.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file or folder (default: NAME.STYLE.ext beside the input).")] = None,
    to_label: Annotated[Optional[str], typer.Option("--to-label", help="Style label of a multi-style (CAAE) model.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, bf16 or fp16.")] = "auto",
    height: Annotated[Optional[int], typer.Option("--height", help="Processing height (output keeps the source size).")] = None,
    max_side: Annotated[Optional[int], typer.Option("--max-side", help="Translate in tiles when the longer side exceeds this.")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Frames per model call (default 1 on CPU, 8 on GPU).")] = None,
    start: Annotated[Optional[str], typer.Option("--start", help="Start time (seconds or HH:MM:SS).")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="End time (seconds or HH:MM:SS).")] = None,
    consistency: Annotated[Optional[str], typer.Option("--consistency", help="Temporal consistency: flow (default) or none.")] = None,
    strength: Annotated[Optional[float], typer.Option("--strength", help=f"Temporal blending strength 0..1 (default {DEFAULT_STRENGTH}).")] = None,
    flow: Annotated[str, typer.Option("--flow", help="Optical flow for consistency: dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[Optional[Path], typer.Option("--flow-weights", help="RAFT weights file (or $VIDTOON_RAFT_WEIGHTS).")] = None,
    compile_model: Annotated[bool, typer.Option("--compile", help="torch.compile the model (pays off on long films).")] = False,
    faces: Annotated[Optional[bool], typer.Option("--faces/--no-faces", help="Restyle only the faces (feathered), keep everything else as it is (default: the style's).")] = None,
    face_size: Annotated[Optional[int], typer.Option("--face-size", help="Side (px) of the face crop the model sees (default 256).")] = None,
    face_margin: Annotated[Optional[float], typer.Option("--face-margin", help="Context around each face, × its size, on every side (default 0.4).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run of the same output.")] = False,
    segment_seconds: Annotated[int, typer.Option("--segment-seconds", help="Length of the resumable segments.")] = 30,
    crf: CrfOption = None,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
) -> None:
    """Restyle a film, an image or a folder of images: same length, timing and sound."""
    from vidtoon.parsing import parse_time
    from vidtoon.pipeline import RestyleOptions, load_translator

    try:
        translator, name, defaults, key = load_translator(
            style=to, model=model, device=device, precision=precision, label=to_label, compile=compile_model,
        )
        options = RestyleOptions(
            device=device, precision=precision,
            height=height if height is not None else defaults.get("height"),
            max_side=max_side if max_side is not None else defaults.get("max_side"),
            batch_size=batch_size, start=parse_time(start), end=parse_time(end),
            consistency=consistency or defaults.get("consistency") or "flow",
            flow=flow, flow_weights=str(flow_weights) if flow_weights else None,
            strength=strength if strength is not None else defaults.get("strength", DEFAULT_STRENGTH),
            label=to_label, compile=compile_model, segment_seconds=segment_seconds,
            faces=bool(faces if faces is not None else defaults.get("faces", False)),
            face_size=face_size if face_size is not None else defaults.get("face_size", 256),
            face_margin=face_margin if face_margin is not None else defaults.get("face_margin", 0.4),
            encode=vidtoon.EncodeOptions(crf=crf, preset=preset, pix_fmt=pix_fmt),
        )
        with RichProgress("fps") as progress:
            out = vidtoon.restyle(source, output, translator=translator, style_name=name, options=options,
                                  resume=resume, force=force, progress=progress, job_key=key)
    except VidtoonError as exc:
        _fail(exc)
    err_console.print(f"wrote {out}")


@app.command()
def styles() -> None:
    """List installed styles with family, size, data licence and preview image."""
    from vidtoon.models import read_card
    from vidtoon.styles import TRAIN_HINT, list_styles

    try:
        cards = list_styles()
    except VidtoonError as exc:
        _fail(exc)
    if not cards:
        err_console.print(f"no styles installed yet: {TRAIN_HINT}; or restyle with --model FILE")
        return
    table = Table("style", "family", "size", "trained", "data licence", "preview", "card")
    for card in cards:
        try:
            family = read_card(card.checkpoint).family if card.checkpoint.suffix == ".safetensors" else card.checkpoint.suffix[1:]
            size = f"{card.checkpoint.stat().st_size / 1e6:.1f} MB"
        except (VidtoonError, OSError):
            family, size = "missing checkpoint", "-"
        t = card.training
        trained = f"{t.get('steps')} steps, {t.get('resolution')} px, {t.get('date')}" if t else "-"
        table.add_row(card.name, family, size, trained, card.licence or "-", str(card.preview) if card.preview else "-", str(card.path))
    Console().print(table)


@app.command()
def stabilize(
    processed: Annotated[Path, typer.Argument(help="A per-frame-processed video or frame folder (any tool's).")],
    source: Annotated[Path, typer.Option("--source", help="The original video or frame folder it was made from.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output (default NAME.stable.mp4 or FOLDER.stable/).")] = None,
    strength: Annotated[float, typer.Option("--strength", help="Blending strength 0..1.")] = DEFAULT_STRENGTH,
    flow: Annotated[str, typer.Option("--flow", help="dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[Optional[Path], typer.Option("--flow-weights", help="RAFT weights file (or $VIDTOON_RAFT_WEIGHTS).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    truncate: Annotated[bool, typer.Option("--truncate", help="Frame counts differ: use the common prefix.")] = False,
    fps: Annotated[str, typer.Option("--fps", help="Frame rate of a video made from a frame folder (e.g. 24, 30000/1001).")] = "25",
    crf: CrfOption = None,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
) -> None:
    """Remove the flicker of any per-frame processing, guided by the original's motion."""
    from vidtoon.stabilize import stabilize as run_stabilize

    try:
        with RichProgress("fps") as progress:
            out = run_stabilize(processed, source, output, strength=strength, flow=flow,
                                flow_weights=str(flow_weights) if flow_weights else None, device=device, truncate=truncate,
                                fps=fps, options=vidtoon.EncodeOptions(crf=crf, preset=preset, pix_fmt=pix_fmt),
                                force=force, progress=progress)
    except VidtoonError as exc:
        _fail(exc)
    err_console.print(f"wrote {out}")


@app.command("animate")
def animate_command(
    source: Annotated[Path, typer.Argument(help="A still image with one face (.jpg, .png, ...).")],
    driver: Annotated[Path, typer.Argument(help="A video of a moving face whose motion, timing and sound the output takes.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Video to write (default SOURCE.DRIVER.mp4 beside the source).")] = None,
    method: Annotated[str, typer.Option("--method", help="landmarks (offline, MediaPipe) or fomm (needs --checkpoint).")] = "landmarks",
    checkpoint: Annotated[Optional[Path], typer.Option("--checkpoint", help="FOMM checkpoint, e.g. vox-cpk.pth.tar (read without running code).")] = None,
    relative: Annotated[bool, typer.Option("--relative/--absolute", help="Motion relative to the driver's first frame (keeps the source's face shape), or the driver's absolute pose.")] = True,
    crop: Annotated[bool, typer.Option("--crop/--no-crop", help="Work on a box around the face and paste it back, or on the whole image.")] = True,
    size: Annotated[Optional[int], typer.Option("--size", help="Longer side of the output in px (default: the source's size).")] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Restyle the source first (not available yet).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N (fomm).")] = "auto",
    crf: CrfOption = None,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
) -> None:
    """Bring a still face to life: the driver's head motion and expressions, its frame timing and its sound."""
    from vidtoon.animate.pipeline import animate as run_animate

    try:
        if to is not None:
            raise vidtoon.UsageError("--to (restyling the source while animating) is not available yet",
                                     hint=f"restyle the image first (`vidtoon restyle {source} --to {to}`), then animate the result")
        with RichProgress("fps") as progress:
            out = run_animate(source, driver, output, method=method, checkpoint=checkpoint, relative=relative, crop=crop,
                              size=size, device=device, options=vidtoon.EncodeOptions(crf=crf, preset=preset, pix_fmt=pix_fmt),
                              force=force, progress=progress)
    except VidtoonError as exc:
        _fail(exc)
    err_console.print(f"wrote {out}")


@app.command("eval")
def evaluate_command(
    output: Annotated[Path, typer.Argument(help="The processed video or frame folder to score.")],
    source: Annotated[Path, typer.Option("--source", help="The original video or frame folder (flow and occlusion).")],
    reference: Annotated[Optional[Path], typer.Option("--reference", help="The per-frame result, for SSIM/PSNR.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with per-frame values) instead of a table.")] = False,
    flow: Annotated[str, typer.Option("--flow", help="Flow backend: dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[Optional[Path], typer.Option("--flow-weights", help="RAFT weights file.")] = None,
    truncate: Annotated[bool, typer.Option("--truncate", help="Compare the common first frames if counts differ.")] = False,
    max_side: Annotated[Optional[int], typer.Option("--max-side", help="Shrink frames to at most N px first (faster).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
) -> None:
    """Measure temporal consistency (warping error, Lai et al. 2018) and fidelity to the per-frame result."""
    from vidtoon.evaluate import evaluate

    try:
        with RichProgress("fps") as progress:
            report = evaluate(
                output, source, reference, flow=flow, flow_weights=flow_weights, device=device, truncate=truncate,
                max_side=max_side, progress=progress,
            )
    except VidtoonError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    width, height = report.size
    title = f"{report.frames} frames at {width}x{height}, {report.flow} flow, {report.valid_fraction:.0%} of pixels non-occluded"
    table = Table("metric", "value", "note", title=title)
    table.add_row("E_warp output", f"{report.warping_error:.6f}", "lower is steadier")
    table.add_row("E_warp source", f"{report.warping_error_source:.6f}", "floor: the input video's own E_warp")
    if report.reference is not None:
        table.add_row("E_warp reference", f"{report.warping_error_reference:.6f}", "ceiling: the per-frame result")
        table.add_row("SSIM vs reference", f"{report.ssim:.4f}", "1 = the per-frame look, unchanged")
        table.add_row("PSNR vs reference", f"{report.psnr:.2f} dB", "higher = closer to the per-frame result")
    Console().print(table)


# --- training your own styles -----------------------------------------------------------------------------------

train_app = typer.Typer(
    help="Train your own style: cyclegan (photos -> one style, unpaired), cartoon (one-way, small crops, fast on a CPU) or caae (one model, many labelled styles).",
    no_args_is_help=True,
)
app.add_typer(train_app, name="train")
prep_app = typer.Typer(help="Prepare training data.", no_args_is_help=True)
app.add_typer(prep_app, name="prep")

RunOption = Annotated[Path, typer.Option("--output", "-o", help="Run folder: config.yaml, checkpoints, metrics, samples.")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="YAML config (defaults < file < flags; unknown keys refused).")]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", help="Any config key, e.g. --set lambda_cycle=5 --set augment.flip=false.")]
StepsOption = Annotated[Optional[int], typer.Option("--steps", help="Optimiser steps in total (default 10000).")]
SizeOption = Annotated[Optional[int], typer.Option("--size", help="Training crop in pixels, multiple of 16 (default 128).")]
BatchOption = Annotated[Optional[int], typer.Option("--batch-size", help="Images per step (default 1).")]
FpsOption = Annotated[Optional[str], typer.Option("--fps", help="Frames per second sampled from videos given as data (default 2).")]
TrainDeviceOption = Annotated[Optional[str], typer.Option("--device", help="auto, cpu, cuda or cuda:N (default auto).")]
TrainPrecisionOption = Annotated[Optional[str], typer.Option("--precision", help="auto, fp32, bf16 or fp16 (GPU).")]
SeedOption = Annotated[Optional[int], typer.Option("--seed", help="Seeds data order, augmentation, weights (default 0).")]
SaveEveryOption = Annotated[Optional[int], typer.Option("--save-every", help="Steps between checkpoints (default 500).")]
SampleEveryOption = Annotated[Optional[int], typer.Option("--sample-every", help="Steps between sample grids and loss curves.")]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue the run in -o exactly where it stopped.")]


def _parse_sets(items: list[str] | None) -> dict[str, str]:
    from vidtoon.errors import UsageError

    values = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r} is not key=value", hint="e.g. --set lambda_cycle=5")
        values[key.strip()] = value.strip()
    return values


def _common_flags(steps, size, batch_size, device, precision, seed, save_every, sample_every) -> dict:
    """The flags both trainers take, as config keys (None: not given)."""
    return {"steps": steps, "size": size, "batch_size": batch_size, "device": device, "precision": precision, "seed": seed,
            "save_every": save_every, "sample_every": sample_every}


def _train(kind: str, output: Path, config_file: Optional[Path], sets: list[str] | None, resume: bool, force: bool, flags: dict) -> None:
    from vidtoon.train.run import resolve_run_config, train

    try:
        overrides = {**_parse_sets(sets), **{k: v for k, v in flags.items() if v is not None}}
        config = resolve_run_config(kind, output, config_file=config_file, overrides=overrides, resume=resume)
        with RichProgress("it/s", show_metrics=True) as progress:
            result = train(kind, config, output, resume=resume, force=force, progress=progress)
    except VidtoonError as exc:
        _fail(exc)
    timing = f"{result.steps_per_second:.2f} steps/s (compute {result.step_ms:.0f} ms, waiting for data {result.data_ms:.1f} ms per step)"
    if not result.finished:
        err_console.print(f"stopped at step {result.step} of {config.steps}, saved {result.checkpoint}; {timing}. "
                          f"Continue with: vidtoon train {kind} -o {output} --resume")
        raise typer.Exit(code=130)
    err_console.print(f"done: {result.step} steps in {output}; {timing}. Make it a style with: vidtoon export {output}")


@train_app.command("cyclegan")
def train_cyclegan(
    output: RunOption = Path("runs/cyclegan"),
    a: Annotated[Optional[str], typer.Option("--a", help="Domain A (photos): folder of images and/or videos, or a video.")] = None,
    b: Annotated[Optional[str], typer.Option("--b", help="Domain B (the style): folder of images and/or videos, or a film.")] = None,
    generator: Annotated[Optional[str], typer.Option("--generator", help="resnet or unet (default resnet).")] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
    steps: StepsOption = None,
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
    common = _common_flags(steps, size, batch_size, device, precision, seed, save_every, sample_every)
    _train("cyclegan", output, config, sets, resume, force, {"a": a, "b": b, "generator": generator, "fps": fps, **common})


@train_app.command("caae")
def train_caae(
    output: RunOption = Path("runs/caae"),
    data: Annotated[Optional[str], typer.Option("--data", help="Frame folder with manifest.csv (from `vidtoon frames --tag`).")] = None,
    label_column: Annotated[Optional[str], typer.Option("--label-column", help="Manifest column holding the style labels.")] = None,
    warmup_steps: Annotated[Optional[int], typer.Option("--warmup-steps", help="Autoencoder-only steps first (default 1000).")] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
    steps: StepsOption = None,
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
    common = _common_flags(steps, size, batch_size, device, precision, seed, save_every, sample_every)
    _train("caae", output, config, sets, resume, force, {"data": data, "label_column": label_column, "warmup_steps": warmup_steps, **common})


@train_app.command("cartoon")
def train_cartoon(
    output: RunOption = Path("runs/cartoon"),
    a: Annotated[Optional[str], typer.Option("--a", help="Photos: folder of images and/or videos, or a video.")] = None,
    b: Annotated[Optional[str], typer.Option("--b", help="The style: folder of images and/or videos, or a film.")] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
    steps: StepsOption = None,
    size: Annotated[Optional[int], typer.Option("--size", help="Crop in pixels, multiple of 16 (default 96).")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Crops per step (default 8).")] = None,
    fps: FpsOption = None,
    device: TrainDeviceOption = None,
    precision: TrainPrecisionOption = None,
    seed: SeedOption = None,
    save_every: SaveEveryOption = None,
    sample_every: SampleEveryOption = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
) -> None:
    """One-way cartoon generator on small crops, no VGG: L1 to an edge-preserving anchor, surface + texture discriminators."""
    common = _common_flags(steps, size, batch_size, device, precision, seed, save_every, sample_every)
    _train("cartoon", output, config, sets, resume, force, {"a": a, "b": b, "fps": fps, **common})


@prep_app.command("smooth")
def prep_smooth(
    source: Annotated[Path, typer.Argument(help="Folder of cartoon/style images.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the edge-smoothed images (same names).")],
    kernel: Annotated[int, typer.Option("--kernel", help="Odd size of the edge dilation and Gaussian blur.")] = 5,
    force: ForceOption = False,
) -> None:
    """Blur the edges of cartoon images (CartoonGAN/AnimeGAN preprocessing): Canny edges, dilated, Gaussian-blurred."""
    from vidtoon.train.smooth import smooth_folder

    try:
        with RichProgress("img/s") as progress:
            result = smooth_folder(source, output, kernel=kernel, force=force, progress=progress)
    except VidtoonError as exc:
        _fail(exc)
    skipped = f" ({len(result.skipped)} unreadable skipped)" if result.skipped else ""
    err_console.print(f"wrote {len(result.files)} smoothed images to {output}{skipped}")


@app.command("export")
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder made by `vidtoon train`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Style folder to write (NAME.safetensors, NAME.yaml, preview).")] = Path("styles"),
    name: Annotated[Optional[str], typer.Option("--name", help="Style name (default: the run folder's name).")] = None,
    direction: Annotated[str, typer.Option("--direction", help="CycleGAN: a2b (photos -> style) or b2a.")] = "a2b",
    onnx: Annotated[bool, typer.Option("--onnx", help="Also write ONNX graphs under onnx/.")] = False,
    licence: Annotated[str, typer.Option("--licence", help="Terms of the training data and weights (shown by `vidtoon styles`).")] = "",
    credits: Annotated[Optional[str], typer.Option("--credits", help="Whom to credit (default: the run folder).")] = None,
    data: Annotated[Optional[str], typer.Option("--data", help="The training data, in words (default: the run's data paths).")] = None,
    provenance: Annotated[Optional[str], typer.Option("--provenance", help="pixar or anime: the bundled styles' data, licence, credits.")] = None,
    force: ForceOption = False,
) -> None:
    """Turn a training run into a style: fp16 safetensors checkpoint + style card (+ ONNX)."""
    from vidtoon.train.export import export_run

    try:
        result = export_run(run_dir, output, name=name, direction=direction, onnx=onnx, licence=licence, credits=credits,
                            data=data, provenance=provenance, force=force)
    except VidtoonError as exc:
        _fail(exc)
    err_console.print(f"wrote {result.checkpoint} and {result.card}" + (f" and {len(result.onnx)} ONNX graph(s)" if result.onnx else ""))
    err_console.print(f"restyle with: vidtoon restyle FILM --model {result.checkpoint}" + (f" --to-label {'|'.join(result.styles)}" if result.styles else "")
                      + f"  (or VIDTOON_STYLES={output} vidtoon restyle FILM --to {result.name})")


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]: nothing was written under the output name")
        sys.exit(130)
