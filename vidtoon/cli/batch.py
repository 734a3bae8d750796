"""`vidtoon batch`: many restyle jobs from a job list, run by worker processes or Ray actors (`vidtoon.batch`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from vidtoon.cli.app import AutoCrfOption, PixFmtOption, app, done, err_console, table_console


@app.command()
def batch(
    jobs: Annotated[Path, typer.Argument(help="A YAML job list, a text file of paths, a folder (with --glob), or a video.")],
    glob: Annotated[str | None, typer.Option("--glob", help="With a folder: which files are jobs, e.g. '*.mp4'.")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: one per GPU; CPU: 1 up to 4 cores, else cores/4).")
    ] = None,
    gpus: Annotated[str | None, typer.Option("--gpus", help="GPUs to use, e.g. 0,1 (default: every visible one).")] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Run on Ray actors: local (a cluster on this machine), auto (this machine's cluster) or HOST:PORT; "
            "outputs must be on storage every node sees. Needs vidtoon\\[ray].",
        ),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Folder for outputs a job does not name.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Where to write the JSON report (default: batch-report.json beside the list).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip jobs whose output exists; continue interrupted ones from their segments.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", "-f", help="Replace existing outputs, start interrupted runs over.")] = False,
    to: Annotated[str | None, typer.Option("--to", help="Installed style name, for every job.")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="A checkpoint or ONNX file, for every job.")] = None,
    like: Annotated[Path | None, typer.Option("--like", help="A picture whose look every job takes.")] = None,
    like_strength: Annotated[float | None, typer.Option("--like-strength", help="With --like: 0..1.")] = None,
    style_opt: Annotated[list[str] | None, typer.Option("--style-opt", help="A procedural style's parameter, k=v.")] = None,
    to_label: Annotated[str | None, typer.Option("--to-label", help="Style label of a multi-style model.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto (each worker's GPU, or the CPU), cpu, cuda:N.")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="auto, fp32, bf16 or fp16.")] = None,
    height: Annotated[int | None, typer.Option("--height", help="Processing height.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Frames per model call.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="Start time of every job.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="End time of every job.")] = None,
    consistency: Annotated[str | None, typer.Option("--consistency", help="flow or none.")] = None,
    strength: Annotated[float | None, typer.Option("--strength", help="Temporal blending strength 0..1.")] = None,
    flow: Annotated[str | None, typer.Option("--flow", help="dis, farneback or raft.")] = None,
    faces: Annotated[bool | None, typer.Option("--faces/--no-faces", help="Restyle only the faces.")] = None,
    segment_seconds: Annotated[int | None, typer.Option("--segment-seconds", help="Length of resumable segments.")] = None,
    chunk_seconds: Annotated[
        float,
        typer.Option("--chunk-seconds", help="With more workers than films: cut films at keyframes every N s, in parallel."),
    ] = 60.0,
    crf: AutoCrfOption = None,
    preset: Annotated[str | None, typer.Option("--preset", help="x264 speed preset: ultrafast … veryslow.")] = None,
    pix_fmt: PixFmtOption = None,
) -> None:
    """Restyle many films from a job list with worker processes: checked whole first, longest first, a JSON report."""
    from vidtoon.batch.server import start_server

    if ray is None:  # first: the workers' server imports the pipeline (torch) while this process checks the list
        start_server(extra=("vidtoon.cli",))  # each worker imports the command line again as its __main__
    from vidtoon.batch import JobListError
    from vidtoon.batch import batch as run_batch
    from vidtoon.parsing import parse_assignments

    settings = {
        "to": to,
        "model": str(model) if model else None,
        "like": str(like) if like else None,
        "like_strength": like_strength,
        "style_opt": parse_assignments(style_opt, flag="--style-opt", example="levels=6") or None,
        "label": to_label,
        "device": device,
        "precision": precision,
        "height": height,
        "batch_size": batch_size,
        "start": start,
        "end": end,
        "consistency": consistency,
        "strength": strength,
        "flow": flow,
        "faces": faces,
        "segment_seconds": segment_seconds,
        "crf": crf,
        "preset": preset,
        "pix_fmt": pix_fmt,
    }
    try:
        with RichBatchProgress() as progress:
            outcome = run_batch(
                jobs,
                workers=workers,
                gpus=_gpu_list(gpus),
                settings={k: v for k, v in settings.items() if v is not None},
                glob=glob,
                out_dir=out_dir,
                force=force,
                resume=resume,
                report=report,
                progress=progress,
                ray_address=ray,
                chunk_seconds=chunk_seconds,
            )
    except JobListError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.what)}", highlight=False, soft_wrap=True)
        for line in exc.problems:
            err_console.print(escape(line), highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    ran = len(outcome.jobs) - outcome.count("skipped")
    if ran:
        table = Table("job", "source", "output", "status", "frames", "seconds", "fps")  # errors: the lines above, the report
        for job in outcome.jobs:
            fps = f"{job.fps:.1f}" if job.fps else "-"
            row = (Path(job.source).name, _shown(job.output), job.status, str(job.frames or "-"), f"{job.seconds:.1f}", fps)
            table.add_row(str(job.number), *map(escape, row))
        table_console().print(table)
        done(
            f"{outcome.count('done')} done, {outcome.count('failed')} failed, {outcome.count('skipped')} skipped in {outcome.seconds:.1f} s"
        )
    else:
        done(f"nothing to do: all {len(outcome.jobs)} job(s) are done already")
    if not outcome.ok:
        raise typer.Exit(code=1)


def _shown(path: str) -> str:
    """A path relative to the current folder when it lies below it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _gpu_list(text: str | None) -> list[int] | None:
    from vidtoon.errors import UsageError

    if text is None:
        return None
    try:
        gpus = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--gpus {text!r} is not a list of GPU numbers", hint="e.g. --gpus 0,1") from None
    if not gpus or min(gpus) < 0:
        raise UsageError(f"--gpus {text!r} is not a list of GPU numbers", hint="e.g. --gpus 0,1")
    return gpus


class _RateColumn(TextColumn):
    def __init__(self):
        super().__init__("")

    def render(self, task):
        speed = task.finished_speed or task.speed
        return f"{speed:6.1f} fps" if speed else "   ... fps"


class RichBatchProgress:
    """A bar per running job and one for the whole batch (frames, fps, ETA); a line as each job ends."""

    def __init__(self, console: Console | None = None):
        self.console = console or err_console
        columns = [
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        ]
        self._bar = Progress(*columns, console=self.console, transient=False, disable=not self.console.is_terminal)
        self._total = None
        self._jobs: dict[int, int] = {}

    def __enter__(self) -> RichBatchProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def batch_started(self, jobs: int, frames: int | None) -> None:
        if jobs:
            self._total = self._bar.add_task(f"all {jobs} job(s)", total=frames)

    def job_started(self, number: int, frames: int | None, name: str) -> None:
        self._jobs[number] = self._bar.add_task(f"job {number} {name}", total=frames)

    def job_advanced(self, number: int, frames: int) -> None:
        if number in self._jobs:
            self._bar.advance(self._jobs[number], frames)
        if self._total is not None:
            self._bar.advance(self._total, frames)

    def job_finished(self, result) -> None:
        task = self._jobs.pop(result.number, None)
        if task is not None:
            self._bar.remove_task(task)
        if result.status == "done":
            line = (
                f"job {result.number} ({result.source}): done → {result.output} ({result.frames} frames, {result.seconds:.1f} s)"
            )
        elif result.status == "skipped":
            line = f"job {result.number} ({result.source}): skipped, {result.error}: {result.output}"
        else:
            line = f"[red]job {result.number} ({escape(result.source)}): failed[/]: {escape(result.error or '')}"
            self._bar.console.print(line, highlight=False, soft_wrap=True)
            return
        self._bar.console.print(escape(line), highlight=False, soft_wrap=True)
