#!/usr/bin/env python
"""Benchmark `vidtoon.restyle`: pipeline overhead, generator speed, and peak memory against film length.

Every generator is built here with random weights (seeded), saved with `save_checkpoint` to a
temporary folder and loaded back with `load_translator(model=path, ...)`, exactly as
`vidtoon restyle --model FILE` does. Speed does not depend on what the weights are.

What it measures:

1. Pipeline overhead, one clip (chaplin.mp4, 640x360, the first 4 s = 100 frames, x264 veryfast
   crf 18, CycleGAN ResNet-6 with 32 base channels, batch 1). The full `vidtoon.restyle(...)` is
   timed against its parts, each timed alone in the same run, taking turns with it:
   (a) decode + encode only: `vidtoon.io.transcode` with the same encoder options and `end`;
   (b) model only: the `FrameRestyler` (the same class restyle builds) on the same frames,
       preloaded in memory, same batch size; the translator's forward alone is shown inside it;
   (c) temporal stage only: the stage restyle builds for `--consistency` (default: restyle's own
       default, "flow" since the temporal work landed; "none" is a pass-through, ~0), fed the
       source frames, which stand in for their translations.
   overhead = restyle / (a + b + c) - 1; goal from the issue: <= 10 % on CPU. The stages run in
   parallel threads, so restyle / max(a, b) is shown as well (1.00 = perfect overlap).
2. Speed of the model alone: frames/s of the `FrameRestyler` on preloaded frames, batch 1, at
   360p (chaplin.mp4), 720p (big_buck_bunny_0_30.webm) and 1080p (smpte-2997.mp4), for each
   generator family at a realistic size, fp32 and bf16 autocast, channels_last on (the
   translator's default). A few frames per cell (warm-up, then timed); a cell whose estimated
   time is above ~20 s a frame is skipped with a note. Runs in a child process, once as is and,
   when `--malloc-lib` (default: Debian's libtcmalloc_minimal) exists, once more with it in
   LD_PRELOAD (360p and 720p only).
3. Peak memory against clip length: the full restyle (tiny ResNet-1 with 8 base channels,
   `height=180`) of vtest.avi (79.5 s, 768x576) whole and cut to its first 10 s, each in a fresh
   child process (this script in `--child` mode) reporting its peak RSS (VmHWM). Goal: whole / cut
   ~ 1.0 (flat). A child that only imports vidtoon and loads the model is the baseline.

Wall times are best of `--repeat` runs (median shown too); CPU seconds count every thread of the
process. On a small shared machine wall times swing a lot: compare within one run, and look at
the load average printed with each section.

Run (from the repository root; clips from $VIDTOON_TEST_MEDIA, default ../shared/clips relative to
the repository root; every output goes to a temporary folder that is removed at the end):

    .venv/bin/python scripts/bench_restyle.py                    # everything (~12-30 min on 2 cores)
    .venv/bin/python scripts/bench_restyle.py --quick            # smoke run, a minute or two
    .venv/bin/python scripts/bench_restyle.py --json out.json    # also save the results
    .venv/bin/python scripts/bench_restyle.py --only overhead,memory --repeat 3
    PYTHONPATH=/tmp/patched .venv/bin/python scripts/bench_restyle.py   # measure another vidtoon copy
    .venv/bin/python scripts/bench_restyle.py --notes "what changed"   # also append the report, dated, to the notes

This script is a tool for developers; the vidtoon package never imports it.

notes: docs/benchmarks.md#bench_restyle (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchlib import (
    MemoryRun,
    Timings,
    append_notes,
    clips_folder,
    command_line,
    count_video_frames,
    load_average,
    log_progress,
    memory_table,
    print_memory_report,
    print_table,
    read_rgb_frames,
    run_json_child,
    run_memory_child,
    tee_stdout,
    time_job,
    warm_page_cache,
)

DEFAULT_MALLOC_LIB = Path("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4")
OVERHEAD_GOAL = 0.10  # restyle / (decode+encode + model + temporal) - 1, at most (from the issue)
CRF = 18
SEED = 0


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator to build with random weights: registry family, constructor arguments, style labels."""

    label: str
    family: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    styles: tuple[str, ...] = ()  # a conditional (CAAE) model's labels; the last one is used

    @property
    def file_name(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.label) + ".safetensors"

    @property
    def style_label(self) -> str | None:
        return self.styles[-1] if self.styles else None


@dataclass(frozen=True)
class Resolution:
    """A speed-grid column: frames decoded from the start of a clip of that size."""

    label: str
    clip: str


OVERHEAD_GENERATOR = GeneratorSpec("ResNet-6 ngf32", "cyclegan_resnet", {"n_blocks": 6, "ngf": 32})
MEMORY_GENERATOR = GeneratorSpec("ResNet-1 ngf8", "cyclegan_resnet", {"n_blocks": 1, "ngf": 8})
SPEED_GENERATORS = (
    GeneratorSpec("ResNet-9 ngf64", "cyclegan_resnet", {"n_blocks": 9, "ngf": 64}),
    OVERHEAD_GENERATOR,
    GeneratorSpec("AnimeGANv2", "animegan", {"width": 1.0}),
    GeneratorSpec("U-Net-256 ngf64", "cyclegan_unet", {"num_downs": 8, "ngf": 64}),
    GeneratorSpec("CAAE 2 styles", "caae", {"n_styles": 2}, styles=("style_a", "style_b")),
)
RESOLUTIONS = (
    Resolution("360p", "chaplin.mp4"),
    Resolution("720p", "big_buck_bunny_0_30.webm"),
    Resolution("1080p", "smpte-2997.mp4"),
)
PRECISIONS = ("fp32", "bf16")
OVERHEAD_CLIP = "chaplin.mp4"
MEMORY_FILM = "vtest.avi"
MEMORY_HEIGHT = 180


@dataclass(frozen=True)
class Plan:
    """How much to run: the full benchmark or the `--quick` smoke run."""

    overhead_seconds: int  # of OVERHEAD_CLIP
    speed_generators: tuple[GeneratorSpec, ...]
    speed_resolutions: tuple[Resolution, ...]
    skip_seconds: float  # speed cells estimated slower than this per frame are skipped
    memory_cut_seconds: int
    memory_whole_seconds: int | None  # None: the whole film
    repeat: int  # default repetitions of the overhead timings


FULL_PLAN = Plan(4, SPEED_GENERATORS, RESOLUTIONS, 20.0, memory_cut_seconds=10, memory_whole_seconds=None, repeat=2)
QUICK_PLAN = Plan(1, (OVERHEAD_GENERATOR,), RESOLUTIONS[:1], 5.0, memory_cut_seconds=3, memory_whole_seconds=10, repeat=1)


# -- generators: random weights -> checkpoint file -> load_translator, as the CLI does -----------


def save_random_generator(spec: GeneratorSpec, folder: Path) -> Path:
    """Build `spec` with seeded random weights and write it as a vidtoon checkpoint; returns the file."""
    import torch

    from vidtoon.models import ModelCard, build_model, get_family, save_checkpoint

    torch.manual_seed(SEED)
    model = build_model(spec.family, **spec.kwargs)
    size_multiple = getattr(model, "size_multiple", get_family(spec.family).size_multiple)
    card = ModelCard(
        family=spec.family,
        kwargs=dict(spec.kwargs),
        size_multiple=size_multiple,
        styles=spec.styles,
        name=spec.label,
        notes={"weights": f"random, torch.manual_seed({SEED}); for benchmarks only"},
    )
    path = folder / spec.file_name
    save_checkpoint(model, path, card)
    return path


def load_generator(spec: GeneratorSpec, path: Path, *, device: str, precision: str):
    """`load_translator(model=path, ...)` as `vidtoon restyle --model` calls it; returns the translator."""
    from vidtoon.restyle import load_translator

    translator, _name, _defaults, _key = load_translator(model=path, device=device, precision=precision, label=spec.style_label)
    return translator


def parameter_count(translator) -> int:
    return sum(p.numel() for p in translator.model.parameters())


def make_restyler(translator, height: int | None = None):
    """A `FrameRestyler` as `restyle` builds it, with a pass-through temporal stage: the model part alone."""
    from vidtoon.restyle import FrameRestyler
    from vidtoon.temporal import make_temporal_stage

    return FrameRestyler(translator, make_temporal_stage("none"), process_height=height)


def make_temporal(options, device):
    """The temporal stage `restyle` builds for `options`."""
    from vidtoon.restyle.options import temporal_stage

    return temporal_stage(options, device)


class TimedTranslator:
    """Wraps a translator and adds up the seconds spent in its forward calls (everything else passes through)."""

    def __init__(self, translator):
        self._translator = translator
        self.seconds = 0.0

    def __getattr__(self, name: str):
        return getattr(self._translator, name)

    def __call__(self, x):
        started = time.perf_counter()
        y = self._translator(x)
        if y.device.type == "cuda":
            import torch

            torch.cuda.synchronize(y.device)
        self.seconds += time.perf_counter() - started
        return y


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- 1. pipeline overhead ----------------------------------------------------------------------


@dataclass
class OverheadResult:
    clip: str
    seconds: int
    generator: str
    params: int
    precision: str
    batch_size: int
    preset: str
    consistency: str
    load_before: str
    load_after: str
    parts: dict[str, Timings]

    @property
    def parts_sum(self) -> float:
        return sum(self.parts[name].best for name in ("transcode", "model", "temporal"))

    @property
    def overhead(self) -> float:
        return self.parts["restyle"].best / self.parts_sum - 1

    @property
    def cpu_overhead(self) -> float:
        """The same ratio for CPU seconds (all threads): extra work, as opposed to waiting."""
        parts_cpu = sum(self.parts[name].best_cpu for name in ("transcode", "model", "temporal"))
        return self.parts["restyle"].best_cpu / parts_cpu - 1

    @property
    def over_slowest(self) -> float:
        return self.parts["restyle"].best / max(self.parts["transcode"].best, self.parts["model"].best)


def bench_overhead(folder: Path, checkpoints: Path, scratch: Path, args: argparse.Namespace, plan: Plan) -> OverheadResult:
    """Full restyle against transcode + model + temporal on the same frames, taking turns `repeat` times."""
    import numpy as np
    import torch

    import vidtoon
    from vidtoon.io import EncodeOptions
    from vidtoon.restyle import RestyleOptions

    source = folder / OVERHEAD_CLIP
    warm_page_cache(source)
    end = Fraction(plan.overhead_seconds)
    encode = EncodeOptions(crf=CRF, preset=args.preset)
    spec = OVERHEAD_GENERATOR
    translator = load_generator(spec, save_random_generator(spec, checkpoints), device=args.device, precision=args.precision)
    batch_size = args.batch_size or (8 if translator.device.type == "cuda" else 1)
    options = RestyleOptions(
        device=args.device,
        precision=translator.precision,
        batch_size=batch_size,
        end=end,
        consistency=args.consistency,
        encode=encode,
    )
    temporal = make_temporal(options, translator.device)
    frames = read_rgb_frames(source, end=end)
    timed_translator = TimedTranslator(translator)
    restyler = make_restyler(timed_translator)
    restyler(frames[:batch_size])  # warm-up: oneDNN builds its kernels for this size on the first call
    # the temporal stage's inputs (source frames, standing in for their translations too), converted ahead of its timing
    to_model = [
        torch.from_numpy(np.stack(batch)).to(translator.device).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        for batch in batches(frames, batch_size)
    ]
    parts = {name: Timings() for name in ("restyle", "transcode", "model", "temporal")}

    def full_restyle() -> int:
        output = vidtoon.restyle(
            source, scratch / "restyled.mp4", translator=translator, style_name=spec.label, options=options, force=True
        )
        return count_video_frames(output)

    def decode_encode() -> int:
        return count_video_frames(vidtoon.transcode(source, scratch / "transcoded.mp4", end=end, options=encode, force=True))

    def model_only() -> int:
        timed_translator.seconds = 0.0
        restyler.temporal.reset()
        for batch in batches(frames, batch_size):
            restyler(batch)
        parts["model"].inner.append(timed_translator.seconds)
        return len(frames)

    def temporal_only() -> int:
        temporal.reset()
        for x in to_model:
            temporal(x, x)
        return len(frames)

    jobs = [("restyle", full_restyle), ("transcode", decode_encode), ("model", model_only), ("temporal", temporal_only)]
    load_before = load_average()
    for repetition in range(args.repeat):
        turn = jobs[repetition % len(jobs) :] + jobs[: repetition % len(jobs)]  # rotate, so noise hits every part
        for name, job in turn:
            time_job(job, parts[name])
            log_progress(f"overhead: {name} {parts[name].wall[-1]:.2f} s")
    return OverheadResult(
        OVERHEAD_CLIP,
        plan.overhead_seconds,
        spec.label,
        parameter_count(translator),
        translator.precision,
        batch_size,
        args.preset,
        options.consistency,
        load_before,
        load_average(),
        parts,
    )


# -- 2. model speed (in a child process, so that an allocator can be preloaded) -----------------


@dataclass
class SpeedCell:
    generator: str
    family: str
    params: int
    precision: str
    resolution: str
    frame_size: str  # W×H of the frames fed in
    model_size: str  # W×H the generator sees (padded to its size multiple)
    allocator: str
    seconds: list[float] = field(default_factory=list)  # per timed frame
    skipped: str = ""  # why, when skipped
    note: str = ""  # a caveat on the timing (e.g. a single call)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def fps(self) -> float:
        return 1 / self.best


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple


def time_call(restyler, frame) -> float:
    started = time.perf_counter()
    restyler([frame])
    return time.perf_counter() - started


def time_cell(restyler, frames: list, cell: SpeedCell, skip_seconds: float, quick: bool) -> None:
    """Fill `cell.seconds`: a timed first call (warm-up), then a few timed calls, fewer the slower the first was.

    A first call slower than `skip_seconds` is kept as the only sample (an overestimate: it includes the warm-up).
    """
    first = time_call(restyler, frames[0])
    if first > skip_seconds:
        cell.seconds = [first]
        cell.note = f"1 call only, warm-up included ({first:.0f} s > {skip_seconds:.0f} s)"
        return
    if quick or first > skip_seconds / 4:
        warmup, timed = 0, 1
    else:
        warmup, timed = (0, 2) if first > 1.0 else (1, 3)
    for index in range(warmup):
        restyler([frames[(1 + index) % len(frames)]])
    cell.seconds = [time_call(restyler, frames[(1 + warmup + index) % len(frames)]) for index in range(timed)]


def child_speed(checkpoints: Path, args: argparse.Namespace) -> None:
    """The speed grid (child process): prints the cells as JSON on its last stdout line."""
    logging.getLogger("vidtoon").setLevel(logging.ERROR)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    skip_seconds = args.max_seconds_per_frame or plan.skip_seconds
    resolutions = [r for r in plan.speed_resolutions if args.max_height is None or int(r.label[:-1]) <= args.max_height]
    folder = clips_folder()
    frames = {r.label: read_rgb_frames(folder / r.clip, limit=5) for r in resolutions}
    allocator = Path(os.environ["LD_PRELOAD"]).name if os.environ.get("LD_PRELOAD") else "glibc malloc"
    cells = []
    for spec in plan.speed_generators:
        for precision in args.speed_precisions:
            translator = load_generator(spec, checkpoints / spec.file_name, device=args.device, precision=precision)
            restyler = make_restyler(translator)
            previous: tuple[float, int] | None = None  # (seconds per frame, model pixels) of the last size timed
            for resolution in resolutions:
                height, width = frames[resolution.label][0].shape[:2]
                model_h, model_w = padded_size(height, width, translator.size_multiple)
                cell = SpeedCell(
                    spec.label,
                    spec.family,
                    parameter_count(translator),
                    precision,
                    resolution.label,
                    f"{width}x{height}",
                    f"{model_w}x{model_h}",
                    allocator,
                )
                estimate = previous[0] * model_h * model_w / previous[1] if previous else 0.0  # time grows with the pixels
                if estimate > skip_seconds:
                    cell.skipped = f"estimated {estimate:.0f} s/frame from the smaller size (> {skip_seconds:.0f} s)"
                else:
                    time_cell(restyler, frames[resolution.label], cell, skip_seconds, args.quick)
                    previous = (cell.best, model_h * model_w)
                cells.append(cell)
                shown = cell.skipped or f"{cell.best * 1000:.0f} ms/frame"
                log_progress(f"speed [{allocator}]: {spec.label} {precision} {resolution.label}: {shown}")
            del restyler, translator
    print(json.dumps([asdict(cell) for cell in cells]))


def run_speed_child(
    checkpoints: Path, args: argparse.Namespace, *, preload: Path | None = None, max_height: int | None = None
) -> list[SpeedCell]:
    """Run the speed grid in a child process (with `preload` in LD_PRELOAD); returns its cells."""
    command = ["--child", "speed", "--checkpoints", str(checkpoints), "--device", args.device]
    command += ["--quick"] if args.quick else []
    command += ["--speed-precisions", ",".join(args.speed_precisions)]
    command += ["--max-height", str(max_height)] if max_height else []
    command += ["--max-seconds-per-frame", str(args.max_seconds_per_frame)] if args.max_seconds_per_frame else []
    env = dict(os.environ)
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    cells, _seconds = run_json_child(Path(__file__), command, env=env)
    return [SpeedCell(**cell) for cell in cells]


# -- 3. peak memory against film length (fresh child processes) ---------------------------------


def child_memory(model: Path, source: str, end: float | None, args: argparse.Namespace) -> None:
    """The memory child: restyle `source` (or, with source "-", only load the model); prints frames and VmHWM as JSON."""
    logging.getLogger("vidtoon").setLevel(logging.ERROR)
    import vidtoon
    from vidtoon.io import EncodeOptions
    from vidtoon.restyle import RestyleOptions

    translator = load_generator(MEMORY_GENERATOR, model, device=args.device, precision=args.precision)
    frames = None
    if source != "-":
        cut = Fraction(end) if end is not None else None
        options = RestyleOptions(
            device=args.device,
            precision=translator.precision,
            height=MEMORY_HEIGHT,
            end=cut,
            consistency=args.consistency,
            encode=EncodeOptions(crf=CRF, preset=args.preset),
        )
        with tempfile.TemporaryDirectory(prefix="vidtoon-bench-child-") as scratch:
            output = vidtoon.restyle(source, Path(scratch) / "restyled.mp4", translator=translator, options=options, force=True)
            frames = count_video_frames(output)
    print_memory_report(frames)


def memory_case(case: str, model: Path, source: str, end: int | None, args: argparse.Namespace) -> MemoryRun:
    """One memory child (this script in `--child memory` mode): its peak RSS."""
    command = [
        "--child",
        "memory",
        "--checkpoints",
        str(model),
        "--source",
        source,
        "--device",
        args.device,
        "--precision",
        args.precision,
        "--preset",
        args.preset,
        "--consistency",
        args.consistency,
    ]
    command += ["--end", str(end)] if end is not None else []
    run = run_memory_child(case, Path(__file__), command)
    log_progress(f"memory: {case}: {run.peak_mib:.0f} MiB")
    return run


def bench_memory(folder: Path, checkpoints: Path, args: argparse.Namespace, plan: Plan) -> list[MemoryRun]:
    """Peak RSS of fresh children: model loaded only, the film's first seconds, the whole film."""
    film = folder / MEMORY_FILM
    warm_page_cache(film)
    model = save_random_generator(MEMORY_GENERATOR, checkpoints)
    cut, whole = plan.memory_cut_seconds, plan.memory_whole_seconds
    return [
        memory_case("import vidtoon + load model (baseline)", model, "-", None, args),
        memory_case(f"restyle {film.name} first {cut} s", model, str(film), cut, args),
        memory_case(f"restyle {film.name} {f'first {whole} s' if whole else 'whole'}", model, str(film), whole, args),
    ]


# -- report ------------------------------------------------------------------------------------


def overhead_table(result: OverheadResult) -> None:
    parts = result.parts
    print(
        f"1. pipeline overhead: {result.clip} first {result.seconds} s, {result.generator} "
        f"({result.params / 1e6:.1f}M params), "
        f"{result.precision}, batch {result.batch_size}, consistency {result.consistency}, x264 {result.preset} crf {CRF}; "
        f"load {result.load_before} -> {result.load_after}"
    )
    model_inner = min(parts["model"].inner)
    labels = {
        "transcode": "(a) decode + encode (vidtoon.io.transcode)",
        "model": "(b) model (FrameRestyler, preloaded frames)",
        "temporal": f"(c) temporal stage ({result.consistency})",
        "restyle": "restyle (full pipeline)",
    }
    rows = []
    for name in ("transcode", "model", "temporal", "restyle"):
        timings = parts[name]
        frames = "/".join(str(n) for n in sorted(timings.frames))
        fps = max(timings.frames) / timings.best if timings.best > 0 else float("inf")
        cpu = f"{timings.best_cpu:.2f}"
        shown_fps = f"{fps:.1f}" if fps < 10_000 else "> 10000"
        rows.append([labels[name], frames, f"{timings.best:.3f} / {timings.median:.3f}", cpu, shown_fps])
        if name == "model":
            rows.append(["    of which translator forward", "", f"{model_inner:.3f}", "", ""])
    rows.append(["sum (a) + (b) + (c)", "", f"{result.parts_sum:.3f}", "", ""])
    print_table(["part", "frames", "wall s best / median", "cpu s", "fps"], rows)
    met = "yes" if result.overhead <= OVERHEAD_GOAL else "NO"
    print(
        f"overhead = restyle / sum - 1 = {result.overhead:+.1%} (goal <= {OVERHEAD_GOAL:.0%}: {met}); "
        f"restyle / max(a, b) = {result.over_slowest:.2f} (1.00 = perfect overlap of the threads); "
        f"in CPU seconds: {result.cpu_overhead:+.1%}"
    )


def speed_table(cells: list[SpeedCell]) -> None:
    resolutions = list(dict.fromkeys(cell.resolution for cell in cells))
    sizes = {cell.resolution: cell.frame_size for cell in cells}
    by_key = {(cell.generator, cell.precision, cell.resolution): cell for cell in cells}
    rows, notes = [], []
    for generator, precision in dict.fromkeys((cell.generator, cell.precision) for cell in cells):
        first = by_key[(generator, precision, resolutions[0])]
        row = [generator, f"{first.params / 1e6:.1f}M", precision]
        for resolution in resolutions:
            cell = by_key.get((generator, precision, resolution))
            if cell is None:
                row.append("-")
            elif cell.skipped:
                row.append("skipped*")
                notes.append(f"* {generator} {precision} {resolution} ({cell.model_size}): {cell.skipped}")
            else:
                padded = "" if cell.model_size == cell.frame_size else f" @{cell.model_size}"
                marker = "*" if cell.note else ""
                row.append(f"{cell.fps:.2f} ({cell.best * 1000:.0f} ms{padded}){marker}")
                if cell.note:
                    notes.append(f"* {generator} {precision} {resolution}: {cell.note}")
        row.append(speedups_over_fp32(by_key, generator, precision, resolutions) if precision != "fp32" else "")
        rows.append(row)
    headers = ["generator", "params", "precision", *(f"{r} {sizes[r]} fps (ms/frame)" for r in resolutions), "vs fp32"]
    print_table(headers, rows)
    for note in notes:
        print(note)


def speedups_over_fp32(by_key: dict, generator: str, precision: str, resolutions: list[str]) -> str:
    """ "x0.62 / x0.70 / -": fp32 time / this precision's time, per resolution."""
    ratios = []
    for resolution in resolutions:
        base, cell = by_key.get((generator, "fp32", resolution)), by_key.get((generator, precision, resolution))
        ok = base and cell and base.seconds and cell.seconds
        ratios.append(f"x{base.best / cell.best:.2f}" if ok else "-")
    return " / ".join(ratios)


def machine_header(args: argparse.Namespace, folder: Path) -> dict[str, str]:
    import av
    import torch

    import vidtoon

    try:
        native_bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native_bf16 = False
    return {
        "date": date.today().isoformat(),
        "cpus": str(os.cpu_count()),
        "cpu": platform.processor() or platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "native_bf16": str(native_bf16),
        "torch": torch.__version__,
        "torch_threads": str(torch.get_num_threads()),
        "python": platform.python_version(),
        "pyav": av.__version__,
        "vidtoon": str(Path(vidtoon.__file__).parent),
        "clips": str(folder),
        "device": args.device,
        "load_average": load_average(),
    }


def tcmalloc_note(path: Path) -> str:
    if path.is_file():
        return f"allocator comparison: {path} preloaded (LD_PRELOAD) for the 360p/720p cells"
    return f"allocator comparison skipped: {path} is not installed (Debian package libtcmalloc-minimal4 / google-perftools)"


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run (1-2 min): 1 s of the clip, one generator at 360p")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results to this JSON file")
    parser.add_argument("--only", default="overhead,speed,memory", help="comma-separated sections (default: all three)")
    parser.add_argument("--repeat", type=int, help="repetitions of each overhead timing (default 2; 1 with --quick)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu: the goals are about CPU)")
    parser.add_argument("--precision", default="auto", help="precision of overhead and memory runs (default auto, as the CLI)")
    parser.add_argument("--speed-precisions", default=",".join(PRECISIONS), help="speed grid precisions (default fp32,bf16)")
    parser.add_argument("--consistency", help="temporal stage of the restyles (default: restyle's own default)")
    parser.add_argument("--batch-size", type=int, help="batch size of the overhead run (default: restyle's, 1 on CPU)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")
    parser.add_argument(
        "--max-seconds-per-frame", type=float, help="skip speed cells estimated slower than this (default 20; 5 with --quick)"
    )
    parser.add_argument(
        "--notes",
        nargs="?",
        const="",
        metavar="COMMENT",
        help="also append the report, dated, to docs/benchmarks.md#bench_restyle (with COMMENT)",
    )
    parser.add_argument("--malloc-lib", type=Path, default=DEFAULT_MALLOC_LIB, help="allocator to compare via LD_PRELOAD")
    parser.add_argument("--child", choices=("speed", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--checkpoints", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--end", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--max-height", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    args.speed_precisions = [p.strip() for p in args.speed_precisions.split(",") if p.strip()]
    unknown = set(args.sections) - {"overhead", "speed", "memory"}
    if unknown:
        parser.error(f"unknown sections in --only: {', '.join(sorted(unknown))}")
    bad = set(args.speed_precisions) - {"fp32", "bf16", "fp16"}
    if bad or not args.speed_precisions:
        parser.error(f"--speed-precisions takes fp32, bf16, fp16 (comma-separated), got {args.speed_precisions!r}")
    if args.consistency is None:
        from vidtoon.restyle import RestyleOptions

        args.consistency = RestyleOptions().consistency
    if args.repeat is None:
        args.repeat = (QUICK_PLAN if args.quick else FULL_PLAN).repeat
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def run_benchmarks(args: argparse.Namespace, folder: Path, plan: Plan) -> dict[str, Any]:
    """Run the chosen sections in a temporary folder (removed at the end); returns the results."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vidtoon-bench-restyle-") as scratch_name:
        scratch = Path(scratch_name)
        checkpoints = scratch / "checkpoints"
        checkpoints.mkdir()
        if "overhead" in args.sections:
            results["overhead"] = bench_overhead(folder, checkpoints, scratch, args, plan)
        if "speed" in args.sections:
            for spec in plan.speed_generators:
                save_random_generator(spec, checkpoints)
            load_before = load_average()
            results["speed"] = run_speed_child(checkpoints, args)
            if args.malloc_lib.is_file():
                results["speed"] += run_speed_child(checkpoints, args, preload=args.malloc_lib, max_height=720)
            results["speed_load"] = f"{load_before} -> {load_average()}"
        if "memory" in args.sections:
            load_before = load_average()
            results["memory"] = bench_memory(folder, checkpoints, args, plan)
            results["memory_load"] = f"{load_before} -> {load_average()}"
    return results


def print_report(header: dict[str, str], results: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(
        f"vidtoon restyle benchmark -- {header['date']}, {header['cpus']} CPUs ({header['cpu_capability']}, native bf16: "
        f"{header['native_bf16']}), torch {header['torch']} ({header['torch_threads']} threads), PyAV {header['pyav']}, "
        f"device {header['device']}; vidtoon from {header['vidtoon']}; load at start {header['load_average']}"
    )
    if "overhead" in results:
        print()
        overhead_table(results["overhead"])
    if "speed" in results:
        print()
        print(
            f"2. model alone (FrameRestyler, preloaded frames, batch 1, channels_last): fps (ms/frame, best); "
            f"load {results['speed_load']}"
        )
        for allocator in dict.fromkeys(cell.allocator for cell in results["speed"]):
            print(f"allocator: {allocator}")
            speed_table([cell for cell in results["speed"] if cell.allocator == allocator])
        print(tcmalloc_note(args.malloc_lib))
    if "memory" in results:
        print()
        print(
            f"3. peak memory against film length ({MEMORY_GENERATOR.label}, height {MEMORY_HEIGHT}, "
            f"consistency {args.consistency}); "
            f"load {results['memory_load']}"
        )
        memory_table(results["memory"])


def save_json(path: Path, header: dict[str, str], results: dict[str, Any]) -> None:
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(item) for item in value]
        return asdict(value) if hasattr(value, "__dataclass_fields__") else value

    document: dict[str, Any] = {"machine": header, **{key: plain(value) for key, value in results.items()}}
    if "overhead" in results:
        result = results["overhead"]
        document["overhead"]["summary"] = {
            "sum_of_parts_s": result.parts_sum,
            "restyle_s": result.parts["restyle"].best,
            "overhead": result.overhead,
            "restyle_over_slowest": result.over_slowest,
            "cpu_overhead": result.cpu_overhead,
            "goal": OVERHEAD_GOAL,
        }
    path.write_text(json.dumps(document, indent=2, default=sorted) + "\n")  # default: the sets of frame counts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "speed":
        child_speed(args.checkpoints, args)
        return 0
    if args.child == "memory":
        child_memory(args.checkpoints, args.source, args.end, args)
        return 0

    logging.getLogger("vidtoon").setLevel(logging.ERROR)
    folder = clips_folder()
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    needed = {OVERHEAD_CLIP, MEMORY_FILM, *(r.clip for r in plan.speed_resolutions)}
    missing = sorted(name for name in needed if not (folder / name).is_file())
    if missing:
        print(f"missing clips in {folder}: {', '.join(missing)} (set VIDTOON_TEST_MEDIA)", file=sys.stderr)
        return 1
    header = machine_header(args, folder)
    results = run_benchmarks(args, folder, plan)
    with tee_stdout() as report:
        print_report(header, results, args)
    if args.notes is not None:
        append_notes(
            "bench_restyle",
            report.getvalue(),
            command=command_line("bench_restyle.py", sys.argv[1:] if argv is None else argv),
            comment=args.notes,
        )
    if args.json:
        save_json(args.json, header, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
