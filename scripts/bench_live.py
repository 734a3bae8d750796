#!/usr/bin/env python
"""Benchmark `vidtoon live`: glass-to-glass latency, stage by stage, of the live loop's settings, same run.

The input: chaplin.mp4 (640x360, 25 fps) from $VIDTOON_TEST_MEDIA, played in real time (`--realtime`: each frame is
due at its time, as a camera would deliver it), restyled with `toon` on the CPU, recorded to MPEG-TS.

Each setting is a `LiveOptions`; the runs alternate (before, after, before, after, ...) so a change in the machine's
load hits both alike. Latency = a frame's due time -> its restyled frame encoded and handed to the muxer.

    before   the live loop's settings until 2026-11-30: torch's own thread count (2) for the model, the temporal
             stage's flow at its own 640 px, x264's own threads, the newest frame whatever its age.
    after    today's defaults (`LiveOptions()`): the temporal stage's flow at 320 px, one x264 thread, a frame older
             than half an interval when the model is free skipped for the next one.
    --variants adds the single changes (flow320, x264t1, stale), one torch thread for the model (threads1), and
             `after` with toon's smoothing at 180 rows (after+work180: a coarser look, `--style-opt work_height=180`).
Both run today's code: repeats re-encode the last converted frame and are written right after the frame before (off
the next frame's path), and the last conversion to uint8 is one OpenCV pass (bench_live's earlier rows had neither).
    --serial   adds the serial loop (decode, restyle, encode one after the other, as fast as it goes).

Goal (#18): at 360p with toon on 2 CPU cores, median latency <= 150 ms and p99 <= 400 ms, at the full 25 fps or
with the dropped share reported. Compare within one run and look at the load average printed with the table.

    .venv/bin/python scripts/bench_live.py                   # 8 s of input, 2 rounds
    .venv/bin/python scripts/bench_live.py --seconds 20 --rounds 3 --variants

This script is a tool for developers; the vidtoon package never imports it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import load_average, print_table  # noqa: E402

BEFORE = {"model_threads": None, "flow_max_side": None, "encoder_threads": 0, "stale_after": None}
SETTINGS = {
    "before": BEFORE,
    "threads1": BEFORE | {"model_threads": 1},
    "flow320": BEFORE | {"flow_max_side": 320},
    "x264t1": BEFORE | {"encoder_threads": 1},
    "stale": BEFORE | {"stale_after": 0.5},
    "after": {},
    "after+work180": {},  # and toon's smoothing at 180 rows instead of 270 (a coarser look: --style-opt work_height=180)
}
STYLE_OPTS = {"after+work180": {"work_height": "180"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--style", default="toon")
    parser.add_argument("--height", type=int, default=None, help="processing height (default: the style's)")
    parser.add_argument("--consistency", default="flow")
    parser.add_argument("--variants", action="store_true", help="also each single change on its own")
    parser.add_argument("--serial", action="store_true", help="also the serial loop (slow on a busy machine)")
    parser.add_argument("--only", nargs="+", choices=list(SETTINGS), help="just these settings (before and after included)")
    args = parser.parse_args()
    media = Path(os.environ.get("VIDTOON_TEST_MEDIA", Path(__file__).resolve().parent.parent.parent / "shared" / "clips"))
    source = media / "chaplin.mp4"
    if not source.exists():
        sys.exit(f"missing {source} (set VIDTOON_TEST_MEDIA)")

    from vidtoon.cpu_threads import configure_cpu_threads

    configure_cpu_threads()
    from vidtoon.live import LiveOptions, live

    names = ["before", "after"]
    if args.variants:
        names[1:1] = ["threads1", "flow320", "x264t1", "stale"]
        names += ["after+work180"] if args.style == "toon" else []
    if args.only:
        names = [name for name in SETTINGS if name in {"before", "after", *args.only}]
    frames_wanted = round(args.seconds * 25)
    settings = {"height": args.height, "consistency": args.consistency}
    load_before = load_average()
    runs: dict[str, list] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        for round_ in range(args.rounds):
            for name in names:
                options = LiveOptions(realtime=True, max_frames=frames_wanted, **SETTINGS[name])
                report = live(
                    str(source),
                    str(Path(tmp) / f"{name}{round_}.ts"),
                    style=args.style,
                    settings=settings,
                    style_opts=STYLE_OPTS.get(name),
                    live_options=options,
                )
                runs[name].append(report)
                print(f"  {name} round {round_ + 1}: median {report.latency_median_ms} ms, {report.fps} fps", file=sys.stderr)
        serial = _serial(source, frames_wanted, args, settings, Path(tmp)) if args.serial else None

    print(
        f"# live: {source.name} 640x360 25 fps, {args.seconds:g} s in real time x {args.rounds} rounds, style {args.style}, "
        f"consistency {args.consistency}; load average before {load_before}, after {load_average()}"
    )
    rows = []
    for name in names:
        for i, r in enumerate(runs[name]):
            rows.append(
                [
                    name,
                    str(i + 1),
                    f"{r.fps:.1f}",
                    f"{r.dropped} of {r.frames_in} ({100 * r.dropped / max(1, r.frames_in):.0f} %)",
                    f"{r.latency_median_ms:.0f} ms",
                    f"{r.latency_p99_ms:.0f} ms",
                    f"{r.cpu_seconds:.1f} s ({r.cpu_seconds / r.seconds:.2f} cores)",
                    f"{1000 * r.cpu_seconds / max(1, r.restyled):.0f} ms",
                ]
            )
    print_table(
        [
            "settings",
            "round",
            "restyled fps",
            "dropped",
            "latency median",
            "latency p99",
            "CPU (user+sys)",
            "CPU / restyled frame",
        ],
        rows,
    )
    if serial is not None:
        print(
            f"serial loop: {serial[0]:.1f} fps, CPU {serial[1]:.1f} s; fed in real time it would end "
            f"{max(0.0, frames_wanted / serial[0] - args.seconds):.1f} s behind"
        )

    def mid(name: str, key: str) -> float:
        return statistics.median(getattr(r, key) for r in runs[name])

    print("\nstage breakdown, ms: median / p99 per frame (median over the rounds; means add up to the mean latency)")
    stages = list(runs[names[0]][0].stages)
    print_table(["stage"] + names, [[stage] + [_stage_cell(runs[name], stage) for name in names] for stage in stages])
    ratio = mid("after", "latency_median_ms") / mid("before", "latency_median_ms")
    p99 = mid("after", "latency_p99_ms") / mid("before", "latency_p99_ms")
    print(
        f"\nratio after / before (same run, median over the rounds): latency median {ratio:.2f}, p99 {p99:.2f}, "
        f"restyled fps {mid('after', 'fps') / mid('before', 'fps'):.2f}, CPU {mid('after', 'cpu_seconds') / mid('before', 'cpu_seconds'):.2f}"
    )


def _stage_cell(reports: list, stage: str) -> str:
    medians = [r.stages[stage]["median_ms"] for r in reports if stage in r.stages]
    p99s = [r.stages[stage]["p99_ms"] for r in reports if stage in r.stages]
    return f"{statistics.median(medians):.0f} / {statistics.median(p99s):.0f}" if medians else "-"


def _serial(source: Path, frames_wanted: int, args, settings: dict, tmp: Path) -> tuple[float, float]:
    """(fps, CPU s) of the serial loop over the same frames: decode, restyle, encode, one after the other."""
    from vidtoon.io import read_frames
    from vidtoon.live import LiveOptions
    from vidtoon.live.output import LiveWriter
    from vidtoon.restyle import RestyleOptions, make_restyler
    from vidtoon.styles import load_translator

    loaded = load_translator(style=args.style)
    frames = [f for _, f in zip(range(frames_wanted), read_frames(source))]
    restyler = make_restyler(loaded.translator, RestyleOptions.from_style(loaded.defaults, **settings))
    restyler.reset()
    writer = LiveWriter(str(tmp / "serial.ts"), fps=Fraction(25), options=LiveOptions())
    started, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        writer.write(restyler([frame.rgb], [frame.time])[0], frame.time)
    writer.close()
    return len(frames) / (time.perf_counter() - started), time.process_time() - cpu


if __name__ == "__main__":
    main()
