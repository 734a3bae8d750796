"""`vidtoon live`: restyle a camera or a live stream in real time (`vidtoon.live`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vidtoon.cli.app import ForceOption, app, done, err_console


@app.command()
def live(
    source: Annotated[
        str, typer.Argument(help="A camera (/dev/video0, avfoundation:0, dshow:video=NAME), a stream URL, or a file.")
    ],
    output: Annotated[
        str | None,
        typer.Argument(
            help="A stream URL (udp:// srt:// tcp:// rtp://: MPEG-TS; rtmp://: FLV), a file (.ts .mkv .mp4 .flv), or virtualcam[:DEVICE]."
        ),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Installed style name (see `vidtoon styles`).")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="A checkpoint or ONNX file.")] = None,
    like: Annotated[
        Path | None, typer.Option("--like", help="Any picture: restyle in its look (needs the 'like' extra).")
    ] = None,
    style_opt: Annotated[
        list[str] | None, typer.Option("--style-opt", help="A procedural style's parameter, e.g. --style-opt levels=6.")
    ] = None,
    animate: Annotated[
        Path | None, typer.Option("--animate", help="A still image of a face for the input's face to drive (an avatar).")
    ] = None,
    turn: Annotated[
        str, typer.Option("--turn", help="With --animate, head turns: 2.5d (default), 2d or none (as `vidtoon animate --turn`).")
    ] = "2.5d",
    preview: Annotated[
        bool, typer.Option("--preview", help="Serve a page showing the input and the restyled picture live.")
    ] = False,
    host: Annotated[
        str, typer.Option("--host", help="Address the preview listens on (default: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The preview's port (0: any free one).")] = 8765,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Play a file input at its own frame rate, as a camera would.")
    ] = False,
    mix: Annotated[float, typer.Option("--mix", help="Share of the restyled picture, 0..1 (the preview's slider).")] = 1.0,
    height: Annotated[int | None, typer.Option("--height", help="Processing height (output keeps the input size).")] = None,
    consistency: Annotated[
        str | None, typer.Option("--consistency", help="Temporal consistency: flow (default) or none.")
    ] = None,
    strength: Annotated[float | None, typer.Option("--strength", help="Temporal blending strength 0..1.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, bf16 or fp16.")] = "auto",
    crf: Annotated[int, typer.Option("--crf", help="H.264 quality, 0-51, lower is better.")] = 23,
    preset: Annotated[
        str, typer.Option("--preset", help="x264 speed preset (veryfast keeps up on small machines).")
    ] = "veryfast",
    open_timeout: Annotated[float, typer.Option("--open-timeout", help="Seconds to wait for the input to start.")] = 10.0,
    read_timeout: Annotated[float, typer.Option("--read-timeout", help="Seconds of silence that end the input.")] = 5.0,
    max_frames: Annotated[int | None, typer.Option("--max-frames", help="Stop after this many input frames.")] = None,
    flow_size: Annotated[
        int | None, typer.Option("--flow-size", help="Longest side (px) the temporal stage's flow is estimated at (default 320).")
    ] = None,
    encoder_threads: Annotated[
        int | None,
        typer.Option("--encoder-threads", help="x264 threads (0: x264's own choice; default 1, the lowest latency)."),
    ] = None,
    model_threads: Annotated[
        int | None, typer.Option("--model-threads", help="torch threads for the model (default: torch's own).")
    ] = None,
    stale_after: Annotated[
        float | None,
        typer.Option("--stale-after", help="When free, skip a frame older than this share of the frame interval (default 0.5)."),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the run's numbers (JSON) here.")] = None,
    force: ForceOption = False,
) -> None:
    """Restyle a camera or a live stream in real time (or let it drive a face, --animate): to a stream, a file and/or a preview page. Ctrl-C stops it cleanly."""
    from vidtoon.animate.report import check_report_path
    from vidtoon.live import LiveOptions
    from vidtoon.live import live as run_live
    from vidtoon.parsing import parse_assignments

    report = check_report_path(report)  # before the run: a bad name must not cost the session's numbers at its end

    options = LiveOptions(
        realtime=realtime,
        open_timeout=open_timeout,
        read_timeout=read_timeout,
        preview=preview,
        host=host,
        port=port,
        mix=mix,
        crf=crf,
        preset=preset,
        max_frames=max_frames,
        **{  # tuning flags: LiveOptions' own defaults unless given
            name: value
            for name, value in (
                ("flow_max_side", flow_size),
                ("encoder_threads", encoder_threads),
                ("model_threads", model_threads),
                ("stale_after", stale_after),
            )
            if value is not None
        },
    )
    if output is None and not preview:
        err_console.print("no OUTPUT and no --preview: the restyled picture goes nowhere (useful only to measure speed)")

    def ready(url: str | None) -> None:
        if url is not None:
            err_console.print(f"preview: {url}", highlight=False)
        doing = f"animating {animate.name}" if animate is not None else "restyling"
        err_console.print(f"live: {doing}; Ctrl-C stops", highlight=False)

    result = run_live(
        source,
        output,
        to=to,
        model=model,
        like=like,
        style_opts=parse_assignments(style_opt, flag="--style-opt", example="levels=6"),
        settings={"height": height, "consistency": consistency, "strength": strength},
        animate=animate,
        turn=turn,
        live_options=options,
        device=device,
        precision=precision,
        force=force,
        on_ready=ready,
    )
    if report is not None:
        report.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    latency = f"latency median {result.latency_median_ms} ms, p99 {result.latency_p99_ms} ms" if result.latency_median_ms else ""
    where = f"wrote {result.output}: " if result.output else ""
    done(
        f"{where}{result.restyled} frames restyled ({result.fps} fps), {result.dropped} dropped of {result.frames_in}, "
        f"{result.repeated} repeated; {latency}; stopped by {result.stopped_by}"
    )
    if not realtime and Path(source).is_file() and result.dropped > result.restyled:
        done(
            "note: a file is read as fast as it decodes, so most of its frames were dropped: --realtime plays it at its "
            "own rate; `vidtoon restyle` restyles every frame"
        )
