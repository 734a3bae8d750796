#!/usr/bin/env python
"""Benchmark the procedural styles `toon`, `sketch`, `paint` against OpenCV's `cv2.stylization` at 1280×720.

Real frames (Big Buck Bunny from $VIDTOON_TEST_MEDIA, default ../shared/clips; clips/sample.mp4 when absent) are
scaled to 1280×720. Each filter runs on every frame, uint8 in and uint8 out (the conversions to and from the
N×3×H×W tensor are counted), under `torch.inference_mode`, on the CPU with torch's default thread count; the best
of the repeats is kept. `cv2.stylization(sigma_s=60, sigma_r=0.45)` and `cv2.edgePreservingFilter` run on the same
frames in the same run. The table gives frames per second, CPU seconds per frame, the ratio of each fps to
cv2.stylization's, and the issue's targets (toon ≥ 10, sketch ≥ 20, paint ≥ 3 fps on 2 cores). The load average
is printed before and after: on a shared machine read the ratios, not the absolute numbers.

    .venv/bin/python scripts/bench_styles.py                  # 6 frames, 3 repeats
    .venv/bin/python scripts/bench_styles.py --quick          # 2 frames, 2 repeats
    .venv/bin/python scripts/bench_styles.py --save /tmp/filters_look   # also write before/after PNGs
    .venv/bin/python scripts/bench_styles.py --against /tmp/old      # before/after CPU ms, alternating child runs
        (/tmp/old: `mkdir /tmp/old && git archive REV vidtoon | tar -x -C /tmp/old`, the old code)
    .venv/bin/python scripts/bench_styles.py --save-look /tmp/look   # with the old code (run from its checkout) ...
    .venv/bin/python scripts/bench_styles.py --compare-look /tmp/look   # ... then the new: max / 99.9th pct levels
    .venv/bin/python scripts/bench_styles.py --twins-only     # only the uint8 twins against the torch CPU path
    .venv/bin/python scripts/bench_styles.py --learned        # only the bundled learned styles at 640x360 (+ faces)

The uint8 twins (`vidtoon.filters.FRAME_TWINS`: `toon_u8`, `sketch_u8`, numpy + OpenCV, no torch) get their own table
after the main one: the same frames at 1280×720, 640×360 and 480×270, one thread and two (torch and OpenCV alike), the torch
row uint8 -> [-1, 1] tensor -> style -> uint8 (`vidtoon.convert`, as the restyle pipeline converts), the twin row
uint8 in, uint8 out (into a reused output array), and the ratio twin / torch of CPU and wall time per frame.

Notes
=====
2026-11-30 14:38 (docs/benchmarks.md#bench_styles): the uint8 twins, load 3-3.5, alternating with the torch CPU path,
CPU per frame twin / torch: toon 0.64 (1 thread) and 0.59 (2) at 720p, 0.75 / 0.72 at 360p, 0.64 / 0.65 at 480×270;
sketch 0.23 / 0.68 at 720p, 0.74 / 0.71 at 360p (toon 43 against 67 ms, sketch 18 against 78 ms, one thread, 720p).

2026-11-30 (docs/benchmarks.md#bench_styles has the tables): OpenCV kernels for CPU blurs and enlargements, toon's
full-size passes fused over bands of rows, Lab without torch.where. One thread, load 13.5: toon 146 -> 107 CPU ms per
frame (uint8 conversions, ~20 ms, counted; 75-85 ms with float frames), sketch 62 -> 53, paint 356 -> 320; toon 7.3×
and sketch 14× as fast as cv2.stylization in the same run. Look: at most 1 grey level from the old outputs.

Earlier:
Runs of 2026-11-29, 21:05-21:10, 6 BBB frames at 1280×720, on the shared 2-core machine at load 7.5-9.5 (four other
agents training and testing: each process gets about half a core, so the absolute fps are 3-5× below an idle box):

  --threads 1 (torch and OpenCV on one thread each)
  method                    ms/frame  fps  CPU ms/frame  fps vs cv2.stylization  target fps
  toon                           302  3.3           146                   4.78x       >= 10
  sketch                         129  7.7            61                  11.19x       >= 20
  paint                          734  1.4           313                   1.97x        >= 3
  cv2.stylization               1446  0.7           758                   1.00x           -
  cv2.edgePreservingFilter       446  2.2           231                   3.24x           -

  default threads (2 each): toon 3970 ms, sketch 645, paint 3171, cv2.stylization 1846, edgePreserving 544.

What it says:
- Per CPU-second, at equal threads, toon is 4.8×, sketch 11×, paint 2× as fast as cv2.stylization (and toon
  1.6×, sketch 3.8× as fast as cv2.edgePreservingFilter, which draws no lines and does no quantization).
- CPU ms per frame on one thread (146 / 61 / 313) put an idle 2-core box at roughly toon 10-13 fps, sketch 25-30,
  paint 5-6 if two threads scale ×1.6-1.9; not verified here: the targets are not met at this load.
- Under oversubscription torch's two OpenMP threads collapse (toon 3970 ms with 2 threads vs 302 with 1): the
  spinning thread waits for a descheduled partner at every small op. OMP_WAIT_POLICY=PASSIVE (set before torch is
  imported) took toon from 1615 to 564 ms at 2 threads in a side run at load 7; one thread was still best (309).
  The pipeline should pick threads (or the wait policy) for a loaded machine. Done since: the CLI sets
  OMP_WAIT_POLICY=PASSIVE before torch loads (vidtoon/cpu_threads.py); end-to-end and E_warp numbers of the styles:
  scripts/bench_restyle_styles.py, docs/benchmarks.md#bench_styles.
- Where the time goes (toon, one thread): upsampling the 7 coefficient planes to 720p ~40 ms, the Lab round trip and
  two guided passes at 270 px ~45 ms, three full-size passes ~25 ms, the antialiased shrink ~9 ms. Colour maps as
  1×1 convolutions instead of unbind/stack took luma at 720p from 10.5 to 1.6 ms (toon -25 %, sketch -55 %);
  shifted-slice blurs are 3-6× faster than depthwise conv2d here; filtering plane by plane (and paint's rows in
  16k-pixel bands) keeps the work in the cache (paint 1.9 s -> 0.7 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI sets it before torch loads (vidtoon/cpu_threads.py)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from benchlib import REPO_ROOT, clips_folder, cpu_seconds, print_table

# --code DIR: import vidtoon from another checkout (the children of --against)
sys.path.insert(0, sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv else str(REPO_ROOT))

from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.filters import FRAME_TWINS, PROCEDURAL
from vidtoon.io.reader import VideoReader
from vidtoon.styles import list_styles, load_translator

SIZE = (1280, 720)
TARGETS = {"toon": 10.0, "sketch": 20.0, "paint": 3.0}


def load_frames(count: int) -> tuple[list[np.ndarray], str]:
    """`count` RGB frames at 1280×720, spread over the clip's first 20 seconds."""
    clip = clips_folder() / "big_buck_bunny_0_30.webm"
    if not clip.exists():
        clip = REPO_ROOT / "clips" / "sample.mp4"
    frames = []
    with VideoReader(clip) as reader:
        for frame in reader:
            if frame.index % 60 == 30:
                frames.append(cv2.resize(frame.rgb, SIZE, interpolation=cv2.INTER_AREA))
            if len(frames) == count:
                break
    return frames, clip.name


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 -> 1×3×H×W in [-1, 1], converted as the restyle pipeline converts decoded frames."""
    return u8_to_unit(rgb[None])


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """1×3×H×W in [-1, 1] -> H×W×3 uint8, as the pipeline hands frames to the encoder."""
    return unit_to_u8_numpy(x)[0]


def against(baseline: Path, count: int, repeats: int, rounds: int, threads: int | None) -> None:
    """Before/after in one run: this script's children alternate between `baseline` (a checkout of the old code, e.g.
    `git archive REV vidtoon | tar -x -C DIR`) and this checkout, `rounds` times; the best of each is kept."""
    best: dict[tuple[str, str], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for label, code in (("before", baseline), ("after", REPO_ROOT)):
                out = Path(tmp) / "result.json"
                extra = ["--threads", str(threads)] if threads else []
                options = ["--code", str(code), "--frames", str(count), "--repeats", str(repeats), "--json", str(out)]
                command = [sys.executable, __file__, *options]
                subprocess.run([*command, *extra], check=True, stdout=subprocess.DEVNULL)
                for name, (seconds, cpu) in json.loads(out.read_text()).items():
                    previous = best.get((label, name), (float("inf"), float("inf")))
                    best[(label, name)] = (min(previous[0], seconds), min(previous[1], cpu))
    print(f"\nbefore ({baseline}) / after (this checkout), best of {rounds} alternating child runs of {count} frames")
    rows = []
    for name in (*TARGETS, "cv2.stylization"):
        (wall0, cpu0), (wall1, cpu1) = best[("before", name)], best[("after", name)]
        rows.append(
            [name, f"{cpu0 * 1000:.0f}", f"{cpu1 * 1000:.0f}", f"{cpu0 / cpu1:.2f}x", f"{1 / wall0:.1f}", f"{1 / wall1:.1f}"]
        )
    print_table(["method", "CPU ms before", "CPU ms after", "CPU speed-up", "fps before", "fps after"], rows)


def methods() -> dict[str, callable]:
    found = {}
    for name in ("toon", "sketch", "paint"):
        entry = PROCEDURAL.get(name)
        found[name] = lambda rgb, entry=entry: to_uint8(entry.apply(to_tensor(rgb)))
    found["cv2.stylization"] = lambda rgb: cv2.stylization(rgb, sigma_s=60, sigma_r=0.45)
    found["cv2.edgePreservingFilter"] = lambda rgb: cv2.edgePreservingFilter(rgb, flags=1, sigma_s=60, sigma_r=0.4)
    return found


def twins(frames: list[np.ndarray], repeats: int) -> None:
    """The uint8 twins beside the torch CPU path on the same frames, in this run: 1280×720, 640×360 and 480×270 (the
    sample's size: no working-size shrink), 1 and 2 threads.
    Torch and twin alternate, one pass over the frames each, `repeats` times; each keeps its best pass (its least CPU,
    and its least wall time), so a load spike on a shared machine hits both alike."""
    rows = []
    for width, height in (SIZE, (640, 360), (480, 270)):
        sized = [cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA) for rgb in frames]
        out = np.empty_like(sized[0])
        for threads in (1, 2):
            torch.set_num_threads(threads)
            cv2.setNumThreads(threads)
            for name in FRAME_TWINS:
                entry, twin = PROCEDURAL.get(name), FRAME_TWINS.get(name)
                params = entry.params()

                def torch_path(rgb, entry=entry, params=params):
                    with torch.inference_mode():
                        return to_uint8(entry.apply(to_tensor(rgb), params))

                def twin_path(rgb, twin=twin, params=params, out=out):
                    return twin.function(rgb, params, out)

                for rgb in sized:  # a whole unmeasured pass of each first: the process's memory grows here, not below
                    torch_path(rgb), twin_path(rgb)
                best = [[float("inf"), float("inf")], [float("inf"), float("inf")]]  # [torch, twin] x [wall, CPU]
                for _ in range(repeats):
                    for side, run in enumerate((torch_path, twin_path)):
                        wall, cpu = measure(run, sized, 1)
                        best[side] = [min(best[side][0], wall), min(best[side][1], cpu)]
                (wall0, cpu0), (wall1, cpu1) = best
                rows.append(
                    [
                        f"{name} {width}x{height}",
                        str(threads),
                        f"{wall0 * 1000:.1f}",
                        f"{cpu0 * 1000:.1f}",
                        f"{wall1 * 1000:.1f}",
                        f"{cpu1 * 1000:.1f}",
                        f"{cpu1 / cpu0:.2f}",
                        f"{wall1 / wall0:.2f}",
                    ]
                )
    print(f"\nuint8 twins against the torch CPU path ({len(frames)} frames, alternating, best of {repeats}; ms per frame)")
    headers = ["style, size", "threads", "torch wall", "torch CPU", "twin wall", "twin CPU", "twin/torch CPU", "twin/torch wall"]
    print_table(headers, rows)


def learned(frames: list[np.ndarray], repeats: int) -> None:
    """The bundled learned styles on 640×360 frames (the issue's bound: 0.5 s a frame on 2 cores), one thread and two,
    uint8 in and out as the pipeline converts, against cv2.stylization on the same frames in the same run. A style
    made for faces (`anime`: its card's `faces: true`) is also timed on 256×256 squares, what restyle gives it per face
    (cut from the frames' middles; cv2.stylization on the same squares)."""
    from torch.utils.flop_counter import FlopCounterMode

    from vidtoon.models import load_checkpoint

    small = [cv2.resize(rgb, (640, 360), interpolation=cv2.INTER_AREA) for rgb in frames]
    squares = [np.ascontiguousarray(rgb[52:308, 192:448]) for rgb in small]
    rows = []
    for card in [card for card in list_styles() if card.bundled and card.kind == "checkpoint"]:
        translator = load_translator(card=card, device="cpu", precision="fp32").translator
        model, _ = load_checkpoint(card.checkpoint)
        inputs = [("640x360", small)] + ([("256x256 face", squares)] if card.defaults.get("faces") else [])
        for size, images in inputs:
            with torch.inference_mode(), FlopCounterMode(display=False) as counter:
                model(torch.zeros(1, 3, *images[0].shape[:2]))
            for threads in (1, 2):
                torch.set_num_threads(threads)
                cv2.setNumThreads(threads)
                with torch.inference_mode():
                    seconds, cpu = measure(lambda rgb, t=translator: to_uint8(t(to_tensor(rgb))), images, repeats)
                    base, _ = measure(lambda rgb: cv2.stylization(rgb, sigma_s=60, sigma_r=0.45), images, repeats)
                rows.append(
                    [
                        card.name,
                        size,
                        str(threads),
                        f"{counter.get_total_flops() / 2e9:.1f}",
                        f"{seconds * 1000:.0f}",
                        f"{cpu * 1000:.0f}",
                        f"{base * 1000:.0f}",
                        f"{base / seconds:.2f}x",
                        "yes" if seconds < 0.5 or threads == 1 else "no",
                    ]
                )
    print(f"\nlearned styles ({len(small)} frames, best of {repeats}; the bound: < 500 ms a 640x360 frame on 2 threads)")
    headers = ["style", "size", "threads", "GMAC", "ms/frame", "CPU ms/frame", "cv2.stylization ms", "speed vs it", "met?"]
    print_table(headers, rows)


def measure(run, frames: list[np.ndarray], repeats: int) -> tuple[float, float]:
    """(best seconds per frame, CPU seconds per frame of that repeat)."""
    run(frames[0])  # warm-up
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), cpu_seconds()
        for rgb in frames:
            run(rgb)
        per_frame = ((time.perf_counter() - wall) / len(frames), (cpu_seconds() - cpu) / len(frames))
        best = min(best, per_frame)
    return best


def look(runs: dict[str, callable], frames: list[np.ndarray], save: Path | None, compare: Path | None) -> None:
    """Save the procedural styles' outputs, or print how far they are (in grey levels of 255) from saved ones: the
    look bound of a speed change (save with the old code, compare with the new, on the same frames)."""
    rows = []
    for name in TARGETS:
        with torch.inference_mode():
            out = np.stack([runs[name](rgb) for rgb in frames])
        if save:
            save.mkdir(parents=True, exist_ok=True)
            np.save(save / f"look_{name}.npy", out)
        if compare and (compare / f"look_{name}.npy").exists():
            diff = np.abs(out.astype(np.int16) - np.load(compare / f"look_{name}.npy").astype(np.int16))
            rows.append(
                [
                    name,
                    str(diff.max()),
                    f"{np.percentile(diff, 99.9):.0f}",
                    f"{np.percentile(diff, 99):.0f}",
                    f"{(diff > 0).mean() * 100:.3f}",
                    f"{(diff > 2).mean() * 100:.4f}",
                ]
            )
    if rows:
        print(f"\nlook: uint8 outputs against {compare} on the same {len(frames)} frames (grey levels of 255)")
        print_table(["style", "max", "99.9th pct", "99th pct", "% pixels changed", "% > 2 levels"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 frames, 2 repeats")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch and OpenCV threads (default: theirs)")
    parser.add_argument("--save", type=Path, help="write before/after PNGs of the first frame here")
    parser.add_argument("--save-look", type=Path, help="write each style's uint8 outputs on the frames here (.npy)")
    parser.add_argument("--compare-look", type=Path, help="compare each style's outputs with those saved here by --save-look")
    parser.add_argument("--against", type=Path, help="also before/after: a checkout of the old code (its folder)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating child runs per side for --against")
    parser.add_argument("--twins-only", action="store_true", help="only the uint8 twins against the torch CPU path")
    parser.add_argument("--learned", action="store_true", help="only the bundled learned styles at 640x360, 1 and 2 threads")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # import vidtoon from here (read at the top)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # a child of --against: styles only, results here
    args = parser.parse_args()
    count, repeats = (2, 2) if args.quick else (args.frames, args.repeats)
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    frames, clip = load_frames(count)
    load_before = os.getloadavg()
    print(
        f"{len(frames)} frames of {clip} at {SIZE[0]}x{SIZE[1]}, best of {repeats}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; cv2 {cv2.__version__}, {cv2.getNumThreads()} threads"
    )
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    if args.learned:
        learned(frames, repeats)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        return
    if args.twins_only:
        twins(frames, repeats)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        return
    results = {}
    runs = methods()
    if args.json:
        runs = {name: runs[name] for name in (*TARGETS, "cv2.stylization")}
    with torch.inference_mode():
        for name, run in runs.items():
            results[name] = measure(run, frames, repeats)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                out = run(frames[0])
                cv2.imwrite(
                    str(args.save / f"bench_{name}.png"), cv2.cvtColor(np.concatenate([frames[0], out]), cv2.COLOR_RGB2BGR)
                )
    if args.json:
        args.json.write_text(json.dumps(results))
        return
    load_after = os.getloadavg()
    if args.save_look or args.compare_look:
        look(methods(), frames, args.save_look, args.compare_look)
    base_fps = 1 / results["cv2.stylization"][0]
    rows = []
    for name, (seconds, cpu) in results.items():
        fps = 1 / seconds
        target = TARGETS.get(name)
        rows.append(
            [
                name,
                f"{seconds * 1000:.0f}",
                f"{fps:.1f}",
                f"{cpu * 1000:.0f}",
                f"{fps / base_fps:.2f}x",
                f">= {target:g}" if target else "-",
                ("yes" if fps >= target else "no") if target else "-",
            ]
        )
    print_table(["method", "ms/frame", "fps", "CPU ms/frame", "fps vs cv2.stylization", "target fps", "met?"], rows)
    if not args.json:
        twins(frames, repeats)
    if args.against:
        against(args.against, count, repeats, args.rounds, args.threads)
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


if __name__ == "__main__":
    main()
