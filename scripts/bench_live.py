#!/usr/bin/env python
"""Benchmark `vidtoon live`: latency and throughput of the threaded live loop against a serial loop, same run.

The input: chaplin.mp4 (640x360, 25 fps) from $VIDTOON_TEST_MEDIA, played in real time (`--realtime`: each frame is
handed over when it is due, as a camera would deliver it), restyled with `toon` on the CPU, recorded to MPEG-TS.

    live     `vidtoon.live(...)`: input thread -> restyle -> writer thread, newest-frame hand-over (drops counted).
             Latency = a frame's due time -> its restyled frame encoded and muxed (glass to glass minus the network).
    serial   the same frames, the same restyler and writer in one loop (decode, restyle, encode, one after the other),
             as fast as it goes: its fps is what a loop without threads reaches; fed in real time it would fall
             behind by (1/its fps - 1/25) s per frame, without bound.

Goal (#18): at 360p with toon on 2 CPU cores, median latency <= 150 ms and p99 <= 400 ms, at the full 25 fps or
with the dropped share reported. Compare within one run and look at the load average printed with the table.

    .venv/bin/python scripts/bench_live.py                   # 8 s of input
    .venv/bin/python scripts/bench_live.py --seconds 20 --style sketch --height 270

This script is a tool for developers; the vidtoon package never imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import load_average, print_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--style", default="toon")
    parser.add_argument("--height", type=int, default=None, help="processing height (default: the style's)")
    parser.add_argument("--consistency", default="flow")
    args = parser.parse_args()
    media = Path(os.environ.get("VIDTOON_TEST_MEDIA", Path(__file__).resolve().parent.parent.parent / "shared" / "clips"))
    source = media / "chaplin.mp4"
    if not source.exists():
        sys.exit(f"missing {source} (set VIDTOON_TEST_MEDIA)")

    from vidtoon.cpu_threads import configure_cpu_threads

    configure_cpu_threads()
    from vidtoon.io import read_frames
    from vidtoon.live import LiveOptions, live
    from vidtoon.live.output import LiveWriter
    from vidtoon.restyle import RestyleOptions, make_restyler
    from vidtoon.styles import load_translator

    frames_wanted = round(args.seconds * 25)
    settings = {"height": args.height, "consistency": args.consistency}
    loaded = load_translator(style=args.style)
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        report = live(
            str(source),
            str(Path(tmp) / "live.ts"),
            style=args.style,
            settings=settings,
            live_options=LiveOptions(realtime=True, max_frames=frames_wanted),
        )
        frames = [f for _, f in zip(range(frames_wanted), read_frames(source))]
        restyler = make_restyler(loaded.translator, RestyleOptions.from_style(loaded.defaults, **settings))
        restyler.reset()
        writer = LiveWriter(str(Path(tmp) / "serial.ts"), fps=Fraction(25), options=LiveOptions())
        started = time.perf_counter()
        for frame in frames:
            writer.write(restyler([frame.rgb], [frame.time])[0], frame.time)
        writer.close()
        serial_seconds = time.perf_counter() - started
    serial_fps = len(frames) / serial_seconds
    behind = max(0.0, len(frames) / serial_fps - args.seconds)
    print(
        f"# live: {source.name} 640x360 25 fps, {args.seconds:g} s in real time, style {args.style}, consistency "
        f"{args.consistency}; load average {load_average()}"
    )
    print_table(
        ["loop", "restyled fps", "dropped", "latency median", "latency p99"],
        [
            [
                "live (threads, newest frame)",
                f"{report.fps:.1f}",
                f"{report.dropped} of {report.frames_in} ({100 * report.dropped / max(1, report.frames_in):.0f} %)",
                f"{report.latency_median_ms:.0f} ms",
                f"{report.latency_p99_ms:.0f} ms",
            ],
            [
                "serial (one loop, as fast as it goes)",
                f"{serial_fps:.1f}",
                "0 (falls behind)",
                "-",
                f"{behind * 1000:.0f} ms behind at the end",
            ],
        ],
    )
    print(
        f"ratio live restyled fps / serial fps: {report.fps / serial_fps:.2f} (the live loop overlaps decode and encode "
        f"with the model; it restyles at most the input's 25 fps)"
    )


if __name__ == "__main__":
    main()
