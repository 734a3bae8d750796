"""Commands about flicker: `stabilize` (remove it from anyone's per-frame results) and `eval` (measure it)."""

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
    PixFmtOption,
    ResumeOption,
    app,
    done,
    encode_options,
    table_console,
)
from vidtoon.cli.progress import RichProgress
from vidtoon.errors import UsageError
from vidtoon.settings import DEFAULT_STRENGTH, FID_WEIGHTS_HINT, FID_WEIGHTS_URL, INCEPTION_ENV


@app.command(
    epilog="Examples:\n\n"
    "vidtoon stabilize colourised.mp4 --source film.mp4 -o steady.mp4\n\n"
    "vidtoon stabilize processed_frames/ --source film.mp4 -o steady.mp4   (the film's timing and sound)"
)
def stabilize(
    processed: Annotated[Path, typer.Argument(help="A per-frame-processed video or frame folder (any tool's).")],
    source: Annotated[Path, typer.Option("--source", help="The original video or frame folder it was made from.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="A video (.mp4 .mkv .mov .webm …) or, any other name, a folder of PNGs; default NAME.stable.mp4 or FOLDER.stable/.",
        ),
    ] = None,
    strength: Annotated[
        float,
        typer.Option(
            "--strength", help="Blending strength, 0 (none) up to but not 1: each frame keeps at least 1 - this of its own."
        ),
    ] = DEFAULT_STRENGTH,
    flow: Annotated[str, typer.Option("--flow", help="dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[
        Path | None, typer.Option("--flow-weights", help="RAFT weights file (or $VIDTOON_RAFT_WEIGHTS).")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    truncate: Annotated[bool, typer.Option("--truncate", help="Frame counts differ: use the common prefix.")] = False,
    fps: Annotated[
        str | None,
        typer.Option(
            "--fps",
            help="Frame rate of a video made from a frame folder (e.g. 24, 30000/1001); default: the source video's "
            "timing and sound, or 25 when the source is a folder too.",
        ),
    ] = None,
    crf: CrfOption = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="x264 speed preset of a video: ultrafast … veryslow (default medium).")
    ] = None,
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


@app.command(
    "eval",
    epilog="Examples:\n\n"
    "vidtoon eval toon.mp4 --source film.mp4 --reference toon_per_frame.mp4   "
    "(toon_per_frame.mp4: restyle --consistency none)\n\n"
    "vidtoon eval toon.mp4 --source film.mp4 --json > scores.json",
)
def evaluate_command(
    output: Annotated[Path, typer.Argument(help="The processed video or frame folder to score.")],
    source: Annotated[
        Path | None, typer.Option("--source", help="The original video or frame folder (flow and occlusion): flicker.")
    ] = None,
    reference: Annotated[Path | None, typer.Option("--reference", help="The per-frame result, for SSIM/PSNR.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with per-frame values) instead of a table.")] = False,
    flow: Annotated[str, typer.Option("--flow", help="Flow backend: dis, farneback or raft.")] = "dis",
    flow_weights: Annotated[Path | None, typer.Option("--flow-weights", help="RAFT weights file.")] = None,
    truncate: Annotated[bool, typer.Option("--truncate", help="Compare the common first frames if counts differ.")] = False,
    max_side: Annotated[int | None, typer.Option("--max-side", help="Shrink frames to at most N px first (faster).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    fid: Annotated[
        Path | None, typer.Option("--fid", help="A folder of images in the target style: FID of the output's frames vs them.")
    ] = None,
    inception_weights: Annotated[
        Path | None,
        typer.Option(
            "--inception-weights",
            envvar=INCEPTION_ENV,
            help=f"pytorch-fid's FID Inception weights (or ${INCEPTION_ENV}); download once from {FID_WEIGHTS_URL}",
        ),
    ] = None,
    kid: Annotated[bool, typer.Option("--kid", help="With --fid: also KID (unbiased MMD², 100 subsets).")] = False,
    fid_frames: Annotated[
        int | None, typer.Option("--fid-frames", help="With --fid: at most N frames of each side, evenly spaced.")
    ] = None,
    fid_mode: Annotated[
        str,
        typer.Option("--fid-mode", help="With --fid: legacy (pytorch-fid's bilinear resize) or clean (clean-fid's PIL bicubic)."),
    ] = "legacy",
) -> None:
    """Measure temporal consistency (warping error, Lai et al. 2018), fidelity to the per-frame result, and FID/KID."""
    with_source = {
        "--reference": reference is not None,
        "--truncate": truncate,
        "--max-side": max_side is not None,
        "--flow": flow != "dis",
        "--flow-weights": flow_weights is not None,
    }
    if source is None and any(with_source.values()):  # else silently unused, or "nothing to measure" with a reference
        given = ", ".join(flag for flag, on in with_source.items() if on)
        raise UsageError(
            f"{given} {'goes' if given.count(',') == 0 else 'go'} with --source ORIGINAL (the flicker measures)",
            hint="add --source, the original the output was made from",
        )
    if source is None and fid is None:
        raise UsageError("nothing to measure: give --source (flicker) and/or --fid REFERENCE_DIR (likeness to a style)")
    if fid is None and (kid or fid_frames is not None or fid_mode != "legacy"):
        raise UsageError("--kid, --fid-frames and --fid-mode go with --fid REFERENCE_DIR")
    if fid is not None and inception_weights is None:
        raise UsageError(f"--fid needs --inception-weights FILE (or ${INCEPTION_ENV})", hint=FID_WEIGHTS_HINT)
    report = fid_report = None
    if fid is not None:
        from vidtoon.evaluate_fid import check_fid, evaluate_fid

        check_fid(output, fid, inception_weights=inception_weights, max_frames=fid_frames, mode=fid_mode)  # before E_warp runs
    with RichProgress("fps") as progress:
        if source is not None:
            from vidtoon.evaluate import evaluate

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
        if fid is not None:
            fid_report = evaluate_fid(
                output,
                fid,
                inception_weights=inception_weights,
                kid=kid,
                max_frames=fid_frames,
                mode=fid_mode,
                device=device,
                progress=progress,
            )
    if as_json:
        data = report.to_dict() if report is not None else {}
        typer.echo(json.dumps(data | ({"fid": fid_report.to_dict()} if fid_report is not None else {}), indent=2))
        return
    if fid_report is not None:
        _print_fid(fid_report)
    if report is None:
        return
    width, height = report.size
    title = f"{report.frames} frames at {width}x{height}, {report.flow} flow, {report.valid_fraction:.0%} of pixels non-occluded"
    table = Table("metric", "value", "note", title=title)
    table.add_row("E_warp output", _small(report.warping_error), "lower is steadier")
    table.add_row(
        "E_warp source",
        _small(report.warping_error_source),
        "the input's own (noise, flow errors); flatter outputs can go below",
    )
    if report.reference is not None:
        table.add_row("E_warp reference", _small(report.warping_error_reference), "ceiling: the per-frame result")
        table.add_row("SSIM vs reference", f"{report.ssim:.4f}", "1 = the per-frame look, unchanged")
        table.add_row("PSNR vs reference", f"{report.psnr:.2f} dB", "higher = closer to the per-frame result")
    table_console().print(table)


def _small(value: float) -> str:
    """A small measure for the table with 4 significant digits (1.234e-05, 0.0001234): fixed decimals showed
    0.000000 for a steady output; --json keeps the full float."""
    return f"{value:.4g}"


def _print_fid(report) -> None:
    """FID (and KID) with the sample counts, and a note when the counts make FID biased."""
    title = escape(
        f"{report.result_samples} frames of {report.result.name} vs {report.reference_samples} images of {report.reference.name}"
    )
    table = Table("metric", "value", "note", title=title)
    resize = "299 px bilinear, as pytorch-fid" if report.mode == "legacy" else "299 px PIL bicubic, as clean-fid"
    table.add_row("FID", f"{report.fid:.3f}", f"lower = closer to the style ({resize})")
    if report.kid is not None:
        kid = report.kid
        table.add_row(
            "KID", f"{_small(kid.mean)} ± {_small(kid.std)}", f"unbiased MMD², {kid.subsets} subsets of {kid.subset_size}"
        )
    table_console().print(table)
    if report.small_sample:  # FID_SAMPLES: see vidtoon.evaluate_fid
        table_console().print(
            "note: FID from fewer than 2048 samples is biased upwards (singular covariances): "
            "compare only numbers measured with the same sample counts"
        )
