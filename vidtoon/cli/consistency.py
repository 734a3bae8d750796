"""Commands about flicker: `stabilize` (remove it from anyone's per-frame results) and `eval` (measure it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from vidtoon.cli.app import CrfOption, ForceOption, PixFmtOption, PresetOption, ResumeOption, app, done, encode_options
from vidtoon.cli.progress import RichProgress
from vidtoon.settings import DEFAULT_STRENGTH


@app.command()
def stabilize(
    processed: Annotated[Path, typer.Argument(help="A per-frame-processed video or frame folder (any tool's).")],
    source: Annotated[Path, typer.Option("--source", help="The original video or frame folder it was made from.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output (default NAME.stable.mp4 or FOLDER.stable/).")
    ] = None,
    strength: Annotated[float, typer.Option("--strength", help="Blending strength 0..1.")] = DEFAULT_STRENGTH,
    flow: Annotated[str, typer.Option("--flow", help="dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[
        Path | None, typer.Option("--flow-weights", help="RAFT weights file (or $VIDTOON_RAFT_WEIGHTS).")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    truncate: Annotated[bool, typer.Option("--truncate", help="Frame counts differ: use the common prefix.")] = False,
    fps: Annotated[
        str, typer.Option("--fps", help="Frame rate of a video made from a frame folder (e.g. 24, 30000/1001).")
    ] = "25",
    crf: CrfOption = None,
    preset: PresetOption = "medium",
    pix_fmt: PixFmtOption = None,
    resume: ResumeOption = False,
    force: ForceOption = False,
) -> None:
    """Remove the flicker of any per-frame processing, guided by the original's motion."""
    from vidtoon.stabilize import stabilize as run_stabilize

    with RichProgress("fps") as progress:
        out = run_stabilize(
            processed,
            source,
            output,
            strength=strength,
            flow=flow,
            flow_weights=str(flow_weights) if flow_weights else None,
            device=device,
            truncate=truncate,
            fps=fps,
            options=encode_options(crf, preset, pix_fmt),
            resume=resume,
            force=force,
            progress=progress,
        )
    done(f"wrote {out}")


@app.command("eval")
def evaluate_command(
    output: Annotated[Path, typer.Argument(help="The processed video or frame folder to score.")],
    source: Annotated[Path, typer.Option("--source", help="The original video or frame folder (flow and occlusion).")],
    reference: Annotated[Path | None, typer.Option("--reference", help="The per-frame result, for SSIM/PSNR.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with per-frame values) instead of a table.")] = False,
    flow: Annotated[str, typer.Option("--flow", help="Flow backend: dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[Path | None, typer.Option("--flow-weights", help="RAFT weights file.")] = None,
    truncate: Annotated[bool, typer.Option("--truncate", help="Compare the common first frames if counts differ.")] = False,
    max_side: Annotated[int | None, typer.Option("--max-side", help="Shrink frames to at most N px first (faster).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
) -> None:
    """Measure temporal consistency (warping error, Lai et al. 2018) and fidelity to the per-frame result."""
    from vidtoon.evaluate import evaluate

    with RichProgress("fps") as progress:
        report = evaluate(
            output,
            source,
            reference,
            flow=flow,
            flow_weights=flow_weights,
            device=device,
            truncate=truncate,
            max_side=max_side,
            progress=progress,
        )
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
