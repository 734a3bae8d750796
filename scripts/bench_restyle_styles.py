#!/usr/bin/env python
"""Benchmark a procedural style through the whole pipeline: restyle speed of the bundled sample, and `toon`'s E_warp.

1. End to end: `vidtoon restyle clips/sample.mp4 --to toon` (480×270, 96 frames, 4 s) in a fresh child process, as a
   user types it (consistency on, x264 preset medium), and variants in the same run: `--consistency none`,
   `--preset veryfast`, and a 1-frame run (`--end 0.04`: start-up, style load and first frame, what every run pays).
   Wall and CPU seconds, seconds per second of film (< 1: faster than real time on 2 cores, start-up included), and
   per frame over the 1-frame run: the pipeline's own rate once started, against the film's frame rate (× film rate
   ≥ 1: the pipeline keeps up with real time). The same for a 360p film (chaplin.mp4's first 4 s, from
   $VIDTOON_TEST_MEDIA when set), and each with `OMP_NUM_THREADS=1` (torch on one thread beside the pipeline's own). `--with-spin` adds the run with `OMP_WAIT_POLICY=ACTIVE` (the behaviour before the CLI
   set PASSIVE; minutes under load).
2. Temporal: E_warp (Lai et al. 2018, `vidtoon.metrics`, DIS flow of the source) of the source footage, of `toon` (with
   the parameters of its shipped card, vidtoon/styles/bundled/toon.yaml) per frame (`--consistency none`) and of `toon` with the default temporal stage (`make_temporal_stage("flow")`, one
   frame per batch as restyle runs it on a CPU), on the DVP and DAVIS sequences in $VIDTOON_TEST_DATA/video_seq.
   Goal (issue #13): toon + temporal ≤ the source's own E_warp. `--flow-sizes default,480,320` adds the same with the
   flow estimated at those sizes (`restyle --flow-size`), with the stage's CPU ms per frame: what a smaller flow saves.

    .venv/bin/python scripts/bench_restyle_styles.py                    # both parts
    .venv/bin/python scripts/bench_restyle_styles.py --quick            # 24 frames per sequence, no variants
    .venv/bin/python scripts/bench_restyle_styles.py --notes "comment"  # also append to docs/benchmarks.md#bench_styles
    .venv/bin/python scripts/bench_restyle_styles.py --against /tmp/main   # today's code (git archive) against this tree

3. `--against DIR`: only the end-to-end restyle of the sample and of chaplin.mp4's first `--chaplin-seconds` (640×360),
   by the code in DIR and by this tree, interleaved `--rounds` times: wall, CPU, pipeline fps, × real time.

4. `--stages`: CPU ms per frame of each stage (decode, conversions, toon, the temporal stage, encode) of chaplin.mp4's
   first `--chaplin-seconds`, each run alone in this process (run it from two trees to compare).

Sequences are read and scored with scripts/bench_temporal.py's helpers (`load`, `e_warp`).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import torch
from bench_temporal import e_warp, load
from benchlib import REPO_ROOT, append_notes, command_line, cpu_seconds, load_average, log_progress, print_table, tee_stdout

sys.path.insert(0, str(REPO_ROOT))

from vidtoon.filters import PROCEDURAL
from vidtoon.styles.cards import find_style
from vidtoon.temporal import make_temporal_stage

SAMPLE = REPO_ROOT / "clips" / "sample.mp4"
SAMPLE_SECONDS = 4.0
SEQUENCES = ("dvp_davis_bike-packing_input", "dvp_bedroom_input", "propainter_davis_tennis", "propainter_davis_bmx-trees")


def run_child(args: list[str], env: dict[str, str] | None = None, tree: Path = REPO_ROOT) -> tuple[float, float]:
    """Wall and CPU seconds of `python args...` run from `tree` (a checkout of vidtoon; default this one)."""
    child_env = {**os.environ, "PYTHONPATH": str(tree), **(env or {})}
    cpu, wall = cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(
        [sys.executable, *args], check=True, cwd=tree, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return time.perf_counter() - wall, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def against(out_dir: Path, base: Path, rounds: int, chaplin_seconds: int) -> None:
    """`restyle --to toon` (defaults: consistency on) of the sample and of chaplin.mp4's first seconds, by the code in
    `base` (e.g. main's HEAD: `git archive HEAD | tar -x -C DIR`) and by this tree, runs interleaved (base, this, base,
    this, ...), each with a 1-frame run (`--end 0.04`) as its start-up baseline. Pipeline fps = (frames - 1) / (wall -
    the 1-frame run's wall): the rate once started; × real time = that over the film's rate (≥ 1: keeps up)."""
    films = [(SAMPLE, "480x270", 96, Fraction(24), [])]
    media = Path(os.environ.get("VIDTOON_TEST_MEDIA", "/nonexistent")) / "chaplin.mp4"
    if media.exists():
        films.append((media, "640x360", 25 * chaplin_seconds, Fraction(25), ["--end", str(chaplin_seconds)]))
    trees = [("base", base.resolve()), ("this", REPO_ROOT)]
    rows = []
    for film, size, frames, fps, limit in films:
        restyle = ["-m", "vidtoon", "restyle", str(film), "--to", "toon", "--force"]
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for round_ in range(rounds):
            for what, args in (("one", ["--end", "0.04"]), ("all", limit)):
                for name, tree in trees:
                    log_progress(f"{film.name} round {round_ + 1}: {name} {what}")
                    out = out_dir / f"{name}_{what}.mp4"
                    runs.setdefault((name, what), []).append(run_child([*restyle, *args, "-o", str(out)], tree=tree))
        for name, _ in trees:
            one = min(w for w, _ in runs[(name, "one")])
            for (wall, cpu), (one_wall, one_cpu) in zip(runs[(name, "all")], runs[(name, "one")], strict=True):
                pipeline_fps = (frames - 1) / max(wall - one, 1e-9)
                rows.append(
                    [
                        f"{film.name} {size}, {frames} frames",
                        name,
                        f"{one_wall:.1f} / {one_cpu:.1f}",
                        f"{wall:.1f}",
                        f"{cpu:.1f}",
                        f"{(cpu - one_cpu) / (frames - 1) * 1000:.0f}",
                        f"{pipeline_fps:.1f}",
                        f"{pipeline_fps / float(fps):.2f}",
                        f"{frames / float(fps) / wall:.2f}",
                    ]
                )
    print(
        f"restyle --to toon, today's code ({base}) against this tree ({REPO_ROOT}), interleaved, fresh processes, "
        f"{os.cpu_count()} CPUs; pipeline fps over the fastest 1-frame run of the same code"
    )
    print_table(
        [
            "film",
            "code",
            "1-frame run wall / CPU s",
            "wall s",
            "CPU s",
            "CPU ms/frame over start-up",
            "pipeline fps",
            "× real time (pipeline)",
            "× real time (end to end)",
        ],
        rows,
    )


def end_to_end(out_dir: Path, variants: bool, with_spin: bool) -> None:
    """The sample (and a 360p film's first 4 s when $VIDTOON_TEST_MEDIA has chaplin.mp4) restyled in fresh processes."""
    films = [(SAMPLE, "480x270", 96, Fraction(24), [])]
    media = Path(os.environ.get("VIDTOON_TEST_MEDIA", "/nonexistent")) / "chaplin.mp4"
    if media.exists():
        films.append((media, "640x360", 100, Fraction(25), ["--end", "4"]))
    for film, size, frames, fps, limit in films:
        _end_to_end_film(out_dir, film, size, frames, fps, limit, variants and film == SAMPLE, with_spin)


def _end_to_end_film(
    out_dir: Path, film: Path, size: str, frames: int, fps: Fraction, limit: list[str], variants: bool, with_spin: bool
) -> None:
    seconds = frames / fps
    restyle = ["-m", "vidtoon", "restyle", str(film), "--to", "toon", "--force"]
    cases = [
        ("restyle --to toon --end 0.04 (start-up, 1 frame)", [*restyle, "--end", "0.04", "-o", str(out_dir / "one.mp4")], None),
        ("restyle --to toon (default: flow, preset medium)", [*restyle, *limit, "-o", str(out_dir / "toon.mp4")], None),
        ("  OMP_NUM_THREADS=1", [*restyle, *limit, "-o", str(out_dir / "toon1.mp4")], {"OMP_NUM_THREADS": "1"}),
    ]
    if variants:
        cases += [
            ("  --consistency none", [*restyle, "--consistency", "none", "-o", str(out_dir / "none.mp4")], None),
            ("  --preset veryfast", [*restyle, "--preset", "veryfast", "-o", str(out_dir / "fast.mp4")], None),
        ]
    if with_spin:
        cases.append(
            ("  OMP_WAIT_POLICY=ACTIVE (before)", [*restyle, "-o", str(out_dir / "spin.mp4")], {"OMP_WAIT_POLICY": "ACTIVE"})
        )
    rows, base = [], None
    for label, args, env in cases:
        log_progress(f"{film.name}: {label}")
        wall, cpu = run_child(args, env)
        if base is None:
            base = (wall, cpu)
            rows.append([label, f"{wall:.1f}", f"{cpu:.1f}", "-", "-", "-", "-", "-", "-"])
            continue
        pipeline_fps = (frames - 1) / max(wall - base[0], 1e-9)
        rows.append(
            [
                label,
                f"{wall:.1f}",
                f"{cpu:.1f}",
                f"{wall / seconds:.2f}",
                f"{(wall - base[0]) / (frames - 1) * 1000:.0f}",
                f"{(cpu - base[1]) / (frames - 1) * 1000:.0f}",
                f"{pipeline_fps:.1f}",
                f"{pipeline_fps / float(fps):.2f}",
                "yes" if wall < seconds else "no",
            ]
        )
    print(
        f"End to end: {film.name} ({size}, {frames} frames, {float(seconds):g} s at {float(fps):g} fps), fresh process each, "
        f"{os.cpu_count()} CPUs; per frame and pipeline fps: over the 1-frame run (start-up, style load, first frame)"
    )
    print_table(
        [
            "run",
            "wall s",
            "CPU s",
            "wall / film s",
            "wall ms/frame",
            "CPU ms/frame",
            "pipeline fps",
            "× film rate",
            "faster than real time (with start-up)?",
        ],
        rows,
    )


def stages(film: Path, seconds: int) -> None:
    """CPU ms per frame of each stage of `restyle --to toon` on `film`'s first `seconds`, each stage run alone in this
    process (process CPU: the stage's own threads, PyAV's and OpenCV's included), torch on one thread."""
    import numpy as np

    from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
    from vidtoon.io.formats import EncodeOptions
    from vidtoon.io.reader import VideoReader
    from vidtoon.io.writer import VideoWriter
    from vidtoon.styles import load_translator

    spent: dict[str, float] = {}

    def timed(name: str, function, *args):
        started = cpu_seconds()
        result = function(*args)
        spent[name] = spent.get(name, 0.0) + cpu_seconds() - started
        return result

    with VideoReader(film, end=Fraction(seconds)) as reader:
        frames = timed("decode (PyAV, to RGB)", list, reader)
    translator = load_translator(style="toon", device="cpu").translator
    stage = make_temporal_stage("flow", device=torch.device("cpu"))
    restyled = []
    with torch.inference_mode():
        for frame in frames:
            x = timed("uint8 -> float", u8_to_unit, np.stack([frame.rgb]))
            y = timed("toon", translator, x)
            z = timed("temporal stage", stage, x, y)
            restyled.append((frame.time, timed("float -> uint8", unit_to_u8_numpy, z)[0]))

    def encode() -> None:
        with VideoWriter(Path("/tmp/vidtoon_bench_stages.mp4"), fps=Fraction(25), options=EncodeOptions(), force=True) as writer:
            for time_, rgb in restyled:
                writer.write(rgb, time_)

    timed("encode (RGB -> YUV, x264 default settings)", encode)
    print(f"\nStages of restyle --to toon, {film.name} ({frames[0].rgb.shape[1]}x{frames[0].rgb.shape[0]}, {len(frames)} frames)")
    rows = [[name, f"{1000 * value / len(frames):.1f}"] for name, value in spent.items()]
    print_table(["stage", "CPU ms/frame"], [*rows, ["sum", f"{1000 * sum(spent.values()) / len(frames):.1f}"]])


def temporal(data: Path, frames: int, width: int, flow_sizes: list[int | None]) -> None:
    toon = PROCEDURAL.get("toon")
    card = find_style("toon")  # the shipped card's parameters (e.g. line_softness 0.03), as `restyle --to toon` runs it
    params = toon.params(card.params)
    print(f"\ntoon parameters of the style card {card.path or card.name}: {dict(card.params)}")
    rows = []
    for name in SEQUENCES:
        folder = data / "video_seq" / name
        if not folder.exists():
            continue
        log_progress(f"E_warp: {name}")
        source = load(folder, frames, width)
        with torch.inference_mode():
            per_frame = torch.cat([toon.function(f[None], params) for f in source])
            for flow_size in flow_sizes:  # None: the stage's default (what `restyle` runs without --flow-size)
                stage = make_temporal_stage("flow", flow_size=flow_size, device=torch.device("cpu"))
                started = cpu_seconds()
                blended = torch.cat([stage(s[None], t[None]) for s, t in zip(source, per_frame)])
                stage_ms = 1000 * (cpu_seconds() - started) / len(source)
                e_source, e_frame, e_blend = e_warp(source, per_frame, blended)
                rows.append(
                    [
                        name,
                        str(len(source)),
                        "default" if flow_size is None else str(flow_size),
                        f"{stage_ms:.1f}",
                        f"{e_source:.5f}",
                        f"{e_frame:.5f}",
                        f"{e_blend:.5f}",
                        f"{e_frame / e_source:.2f}",
                        f"{e_blend / e_source:.2f}",
                        f"{e_blend / e_frame:.2f}",
                        "yes" if e_blend <= e_source else "no",
                    ]
                )
    print(
        f"\nE_warp of toon at {width} px wide (lower = steadier): the source's own, toon per frame, toon + the temporal "
        "stage (its flow estimated at --flow-size px at most; CPU ms per frame of the stage, one frame per call)"
    )
    print_table(
        [
            "sequence",
            "frames",
            "flow size",
            "stage CPU ms",
            "E source",
            "E toon/frame",
            "E toon+flow",
            "frame/source",
            "flow/source",
            "flow/frame",
            "flow <= source?",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("VIDTOON_TEST_DATA", REPO_ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--frames", type=int, default=48, help="frames per sequence")
    parser.add_argument("--width", type=int, default=480, help="sequences resized to this width")
    parser.add_argument("--quick", action="store_true", help="24 frames per sequence, no end-to-end variants")
    parser.add_argument("--with-spin", action="store_true", help="also the run with OMP_WAIT_POLICY=ACTIVE (slow under load)")
    parser.add_argument(
        "--flow-sizes",
        default="default",
        help="comma-separated --flow-size values for the temporal part ('default': the stage's own), e.g. default,480,320",
    )
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--against", type=Path, help="a tree of today's code: compare it with this one (and nothing else)")
    parser.add_argument("--rounds", type=int, default=2, help="--against: interleaved rounds")
    parser.add_argument("--chaplin-seconds", type=int, default=8, help="--against, --stages: seconds of chaplin.mp4")
    parser.add_argument("--stages", action="store_true", help="only the per-stage CPU of chaplin.mp4 (this tree)")
    parser.add_argument("--skip-temporal", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/vidtoon_bench_restyle_styles"))
    parser.add_argument("--notes", nargs="?", const="", help="append the report to docs/benchmarks.md#bench_styles")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # this process runs beside its children: one thread, no OpenMP spinning
    with tee_stdout() as report:
        print(f"load average before: {load_average()}")
        if args.stages:
            stages(Path(os.environ.get("VIDTOON_TEST_MEDIA", "/nonexistent")) / "chaplin.mp4", args.chaplin_seconds)
            args.skip_e2e = args.skip_temporal = True
        if args.against is not None:
            against(args.out, args.against, args.rounds, args.chaplin_seconds)
            args.skip_e2e = args.skip_temporal = True
        if not args.skip_e2e:
            end_to_end(args.out, variants=not args.quick, with_spin=args.with_spin)
        if not args.skip_temporal:
            flow_sizes = [None if size == "default" else int(size) for size in args.flow_sizes.split(",")]
            temporal(args.data, 24 if args.quick else args.frames, args.width, flow_sizes)
        print(f"load average after: {load_average()}")
    if args.notes is not None:
        append_notes(
            "bench_styles",
            report.getvalue(),
            command=command_line("scripts/bench_restyle_styles.py", sys.argv[1:]),
            comment=args.notes,
        )


if __name__ == "__main__":
    main()
