#!/usr/bin/env python
"""The GPU benchmark in one run (issues #20, #13): procedural filters, the temporal stage, learned generators and
the whole restyle path without PyAV, at 1080p on one CUDA device; every row against a baseline from the same run.

    bash scripts/bench_gpu.sh                                   # on the GPU machine (see its header)
    python scripts/bench_gpu.py --smoke --out /tmp/o            # the same code path, 64×96 frames, on the CPU

Sections (a row that cannot run is recorded as skipped or failed with the reason; the others still run):
  1. `toon` fp32 / bf16 autocast at batch 1, 8, 16 (channels_last), `sketch` and `paint` at batch 8;
  2. the temporal stage: `FlowBlend` (OpenCV on the CPU, frames round-tripped from the device) against
     `TorchFlowBlend` on the device, ms/frame, and how equal their outputs are (max level difference, % identical);
  3. `cyclegan_resnet` generators (the cartoon trainer's ngf 32 / 4 blocks / resize-conv, and the default
     9 blocks / ngf 64) at batch 8, fp32 against bf16 autocast, channels_last; then torch.compile of the cartoon
     generator in a child process killed after --compile-limit seconds (compile time reported apart);
  4. uint8 frames -> `FrameRestyler` (toon + flow temporal stage on the device) -> uint8 frames; encode excluded;
  5. end to end (scripts/bench_gpu_e2e.py): decode -> FrameRestyler (ResNet-6 generator, bf16, + the flow stage) ->
     encode, each stage alone and all together on their threads: overlap = end-to-end fps / min(stage fps), peak GPU
     memory; the restyle stage with the pinned/stream transfers against plain copies, and their frames compared.

Reading the bf16 rows: under CUDA autocast `F.interpolate` and `group_norm` (which `InstanceNorm2d` uses) run and
return fp32, so a generator with instance norm converts back and forth after every norm and gains less from bf16 than
its convolutions alone would; `toon`, `sketch` and `paint` are mostly element-wise work that autocast leaves in fp32,
so their bf16 rows are close to fp32 runs. (CPU autocast keeps those ops in bf16: the --smoke run cannot show this.)

fps counts frames (batch × calls) over wall time with the device synchronised, warm-up calls excluded. Writes
report.json and report.md into --out after every row (a run cut short keeps what it measured), prints the table.
Sections 1-4 never import PyAV (the report records whether any `av` module got loaded); section 5 decodes and encodes
with it where it imports (a carried wheel, see bench_gpu.sh), else with OpenCV.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

if os.environ.get("VIDTOON_BENCH_BLOCK_AV"):  # set by a parent run that had PyAV blocked (the smoke test): the child too
    sys.modules["av"] = None  # type: ignore[assignment]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

FULL = (1080, 1920)
SMOKE = (64, 96)
SAMPLE = REPO / "clips" / "sample.mp4"


# ---------------------------------------------------------------- report


class Report:
    """Rows of measurements, written to report.json and report.md after every row."""

    def __init__(self, out: Path, meta: dict):
        self.out, self.meta, self.rows = out, meta, []
        out.mkdir(parents=True, exist_ok=True)

    def add(
        self,
        section: str,
        what: str,
        *,
        size: tuple[int, int],
        batch: int | None = None,
        precision: str = "",
        status: str = "ok",
        fps: float | None = None,
        baseline: str = "",
        ratio: float | None = None,
        **extra,
    ) -> dict:
        row = {
            "section": section,
            "what": what,
            "size": f"{size[1]}x{size[0]}",
            "batch": batch,
            "precision": precision,
            "status": status,
            "fps": fps,
            "ms_per_frame": (1000 / fps) if fps else None,
            "baseline": baseline,
            "ratio": ratio,
            **extra,
        }
        self.rows.append(row)
        self.write()
        print(self.line(row), flush=True)
        return row

    def write(self) -> None:
        self.meta["elapsed_s"] = round(time.perf_counter() - self.meta["_t0"], 1)
        meta = {k: v for k, v in self.meta.items() if not k.startswith("_")}
        (self.out / "report.json").write_text(
            json.dumps({"meta": meta, "rows": self.rows}, indent=1, default=str) + "\n", encoding="utf-8"
        )
        (self.out / "report.md").write_text(self.markdown(), encoding="utf-8")

    HEADER = ("sec", "what", "size", "batch", "prec", "fps", "ms/frame", "ratio", "vs", "note")

    def line(self, row: dict) -> str:
        cells = [
            row["section"],
            row["what"],
            row["size"],
            str(row["batch"] or ""),
            row["precision"],
            f"{row['fps']:.1f}" if row["fps"] else row["status"],
            f"{row['ms_per_frame']:.2f}" if row["ms_per_frame"] else "",
            f"×{row['ratio']:.2f}" if row["ratio"] else "",
            row["baseline"],
            row.get("note", ""),
        ]
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"

    def markdown(self) -> str:
        meta = {k: v for k, v in self.meta.items() if not k.startswith("_")}
        head = [
            "# bench_gpu",
            "",
            "  ".join(f"{k}: {v}" for k, v in meta.items()),
            "",
            "| " + " | ".join(self.HEADER) + " |",
            "|" + "---|" * len(self.HEADER),
        ]
        return "\n".join(head + [self.line(r) for r in self.rows]) + "\n"


class Budget:
    """Wall-clock budget: a row that needs more than what is left is skipped, not started."""

    def __init__(self, seconds: float):
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return self.end - time.perf_counter()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(
    call: Callable[[], torch.Tensor], device: torch.device, *, warmup: int, iters: int, max_s: float
) -> tuple[float, torch.Tensor]:
    """(seconds per call, the last call's result): `warmup` calls untimed, then up to `iters` calls (fewer once `max_s`
    has passed), the device synchronised before and after."""
    start = time.perf_counter()
    for i in range(warmup):
        call()
        if i >= 1 and time.perf_counter() - start > max_s:  # slow calls: two warm-ups are enough
            break
    sync(device)
    start, done = time.perf_counter(), 0
    while done < iters:
        result = call()
        done += 1
        if time.perf_counter() - start > max_s:
            break
    sync(device)
    return (time.perf_counter() - start) / done, result


def autocast(device: torch.device, precision: str):
    return torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


def levels_apart(a: torch.Tensor, b: torch.Tensor) -> tuple[int, float]:
    """(max |a − b| in uint8 grey levels, % of identical values) of two N×3×H×W tensors in [-1, 1]."""
    from vidtoon.convert import unit_to_u8

    ua, ub = unit_to_u8(a.float().clamp(-1, 1)).int(), unit_to_u8(b.to(a.device).float().clamp(-1, 1)).int()
    diff = (ua - ub).abs()
    return int(diff.max()), round(100.0 * float((diff == 0).float().mean()), 3)


def av_modules() -> list[str]:
    return sorted(m for m, mod in sys.modules.items() if (m == "av" or m.startswith("av.")) and mod is not None)


# ---------------------------------------------------------------- frames


def source_frames(count: int, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """`count` RGB frames N×H×W×3 uint8 at `size`: clips/sample.mp4 through OpenCV (resized) if it reads, else a
    smooth random texture panning 2 px a frame."""
    import cv2

    height, width = size
    capture = cv2.VideoCapture(str(SAMPLE)) if SAMPLE.is_file() else None
    frames = []
    while capture is not None and len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (width, height), interpolation=cv2.INTER_CUBIC))
    if capture is not None:
        capture.release()
    if frames:
        while len(frames) < count:  # a short clip plays forward and back (no jump that would look like a cut)
            frames += frames[::-1][1 : count - len(frames) + 1] or frames[:1]
        return np.stack(frames[:count]), f"clips/sample.mp4 via OpenCV, resized to {width}x{height}"
    rng = np.random.default_rng(0)
    base = cv2.resize(
        rng.random((max(2, height // 12), max(2, width // 12), 3), dtype=np.float32),
        (width + 2 * count, height),
        interpolation=cv2.INTER_CUBIC,
    )
    base = (np.clip(base, 0, 1) * 255).astype(np.uint8)
    return np.stack([base[:, 2 * i : 2 * i + width] for i in range(count)]), "synthetic texture panning 2 px/frame"


def unit_frames(frames_u8: np.ndarray, batch: int, device: torch.device) -> torch.Tensor:
    """The first `batch` frames (repeated if fewer) as batch×3×H×W float32 in [-1, 1] on `device`, channels_last."""
    from vidtoon.convert import u8_to_unit

    picked = frames_u8[np.arange(batch) % len(frames_u8)]
    return u8_to_unit(picked, device).float().contiguous(memory_format=torch.channels_last)


def free(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ---------------------------------------------------------------- 1. procedural filters


def bench_filters(report: Report, budget: Budget, frames_u8: np.ndarray, device: torch.device, cfg: argparse.Namespace) -> None:
    from vidtoon.filters import PROCEDURAL

    size = frames_u8.shape[1:3]
    cases = [("toon", "fp32", b) for b in cfg.batches] + [("toon", "bf16", b) for b in cfg.batches]
    cases += [(name, precision, cfg.batches[1]) for name in ("sketch", "paint") for precision in ("fp32", "bf16")]
    fps_of: dict[tuple, float] = {}
    reference: dict[tuple, torch.Tensor] = {}
    for name, precision, batch in cases:
        if budget.left() < cfg.row_need_s:
            report.add("1", name, size=size, batch=batch, precision=precision, status="skipped", note="time budget spent")
            continue
        try:
            entry = PROCEDURAL.get(name)
            params = entry.params()
            x = unit_frames(frames_u8, batch, device)

            def call(entry=entry, params=params, x=x, precision=precision):
                with torch.inference_mode(), autocast(device, precision):
                    return entry.function(x, params)

            seconds, last = timed(call, device, warmup=cfg.warmup, iters=cfg.iters, max_s=cfg.max_s)
            fps = batch / seconds
            fps_of[(name, precision, batch)] = fps
            extra = {}
            first = last[:1].float()
            if precision == "fp32":
                reference[(name, batch)] = first
            elif (name, batch) in reference:
                extra["bf16_vs_fp32_max_levels"], extra["bf16_vs_fp32_identical_pct"] = levels_apart(
                    first, reference[(name, batch)]
                )
            base_key, base_label = (
                (("toon", "fp32", 1), "toon fp32 b1") if name == "toon" else ((name, "fp32", batch), f"{name} fp32")
            )
            ratio = fps / fps_of[base_key] if base_key in fps_of else None
            note = "channels_last"
            if name == "toon" and device.type == "cuda":
                note += f"; target ≥ 500 fps: {'met' if fps >= 500 else 'NOT met'}"
            if "bf16_vs_fp32_max_levels" in extra:
                note += f"; vs fp32: max {extra['bf16_vs_fp32_max_levels']} levels, {extra['bf16_vs_fp32_identical_pct']:.1f}% identical"
            report.add(
                "1",
                name,
                size=size,
                batch=batch,
                precision=precision,
                fps=fps,
                baseline=base_label,
                ratio=ratio,
                note=note,
                **extra,
            )
            del x, first, last
        except Exception as exc:  # noqa: BLE001 - one row failing must not lose the others
            report.add("1", name, size=size, batch=batch, precision=precision, status="failed", note=_why(exc))
        free(device)


# ---------------------------------------------------------------- 2. temporal stage


def bench_temporal(report: Report, budget: Budget, frames_u8: np.ndarray, device: torch.device, cfg: argparse.Namespace) -> None:
    from vidtoon.flow import make_flow
    from vidtoon.temporal import FlowBlend
    from vidtoon.temporal.flow_blend_torch import TorchFlowBlend

    size = frames_u8.shape[1:3]
    batch = 4
    source = unit_frames(frames_u8, len(frames_u8), device)
    flicker = torch.tensor([0.1, -0.1] * len(source), device=device)[: len(source)].view(-1, 1, 1, 1)
    translated = (source * 0.8 + flicker).clamp(-1, 1).contiguous(memory_format=torch.channels_last)
    outputs, fps_of = {}, {}
    cases = [
        ("FlowBlend (OpenCV, CPU; device frames round-trip)", FlowBlend),
        (f"TorchFlowBlend on {device.type}", TorchFlowBlend),
    ]
    for label, stage_class in cases:
        if budget.left() < cfg.row_need_s:
            report.add("2", label, size=size, batch=batch, precision="fp32", status="skipped", note="time budget spent")
            continue
        try:
            stage = stage_class(make_flow("dis"))
            with torch.inference_mode():
                stage(source[:batch], translated[:batch])  # warm-up: tables, kernels, DIS buffers
                stage.reset()
                sync(device)
                start = time.perf_counter()
                out = torch.cat([stage(source[i : i + batch], translated[i : i + batch]) for i in range(0, len(source), batch)])
                sync(device)
            fps = len(source) / (time.perf_counter() - start)
            outputs[stage_class.__name__], fps_of[stage_class.__name__] = out, fps
            base = fps_of.get("FlowBlend")
            report.add(
                "2",
                label,
                size=size,
                batch=batch,
                precision="fp32",
                fps=fps,
                baseline="FlowBlend",
                ratio=fps / base if base else None,
                note=f"DIS fast, flow ≤ 640 px; {len(source)} frames; cuts {stage.cuts}",
            )
        except Exception as exc:  # noqa: BLE001
            report.add("2", label, size=size, batch=batch, precision="fp32", status="failed", note=_why(exc))
    if len(outputs) == 2:
        worst, same = levels_apart(outputs["TorchFlowBlend"], outputs["FlowBlend"])
        report.add(
            "2",
            f"equality TorchFlowBlend ({device.type}) vs FlowBlend",
            size=size,
            batch=batch,
            precision="fp32",
            status="ok" if worst <= 1 else "differs",
            max_levels=worst,
            identical_pct=same,
            note=f"max {worst} levels apart, {same:.2f}% identical (goal: ≤ 1 level)",
        )
    else:
        report.add("2", "equality TorchFlowBlend vs FlowBlend", size=size, status="skipped", note="a stage did not run")
    del source, translated, outputs
    free(device)


# ---------------------------------------------------------------- 3. learned generators

GENERATORS = {
    "cartoon G (ngf 32, 4 blocks, resize-conv)": {"ngf": 32, "n_blocks": 4, "upsample": "resize"},
    "cyclegan_resnet default (ngf 64, 9 blocks)": {},
}


def build_generator(kwargs: dict, device: torch.device) -> torch.nn.Module:
    from vidtoon.models.catalog import build_model

    torch.manual_seed(0)
    return build_model("cyclegan_resnet", **kwargs).to(device).eval().to(memory_format=torch.channels_last)


def bench_generators(
    report: Report, budget: Budget, frames_u8: np.ndarray, device: torch.device, cfg: argparse.Namespace
) -> dict:
    size = frames_u8.shape[1:3]
    batch = cfg.batches[1]
    fps_of = {}
    for label, kwargs in GENERATORS.items():
        model, reference = None, None
        for precision in ("fp32", "bf16"):
            if budget.left() < cfg.row_need_s * 2:
                report.add("3", label, size=size, batch=batch, precision=precision, status="skipped", note="time budget spent")
                continue
            try:
                model = build_generator(kwargs, device) if model is None else model
                x = unit_frames(frames_u8, batch, device)

                def call(model=model, x=x, precision=precision):
                    with torch.inference_mode(), autocast(device, precision):
                        return model(x)

                seconds, last = timed(call, device, warmup=cfg.warmup, iters=cfg.iters, max_s=cfg.max_s)
                fps_of[(label, precision)] = fps = batch / seconds
                first = last[:1].float()
                note = f"random weights, channels_last, {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M params"
                extra = {}
                if reference is None:
                    reference = first
                else:
                    extra["bf16_vs_fp32_max_levels"], extra["bf16_vs_fp32_identical_pct"] = levels_apart(first, reference)
                    note += f"; vs fp32: max {extra['bf16_vs_fp32_max_levels']} levels"
                if device.type == "cuda":
                    extra["peak_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
                    torch.cuda.reset_peak_memory_stats(device)
                base = fps_of.get((label, "fp32"))
                report.add(
                    "3",
                    label,
                    size=size,
                    batch=batch,
                    precision=precision,
                    fps=fps,
                    baseline="same G fp32",
                    ratio=fps / base if base else None,
                    note=note,
                    **extra,
                )
                del x, first, last
            except Exception as exc:  # noqa: BLE001
                report.add("3", label, size=size, batch=batch, precision=precision, status="failed", note=_why(exc))
            free(device)
        del model, reference
        free(device)
    return fps_of


def bench_compile(
    report: Report, budget: Budget, size: tuple[int, int], device: torch.device, cfg: argparse.Namespace, eager: dict
) -> None:
    """torch.compile of the cartoon generator (bf16, batch 8) in a child process, killed after --compile-limit s."""
    label = next(iter(GENERATORS))
    batch = cfg.batches[1]
    limit = min(cfg.compile_limit + 30, budget.left() - 5)  # + the child's start-up (imports, CUDA init)
    if cfg.no_compile or budget.left() < 35:
        report.add(
            "3",
            f"{label} torch.compile",
            size=size,
            batch=batch,
            precision="bf16",
            status="skipped",
            note="--no-compile" if cfg.no_compile else "time budget spent",
        )
        return
    with tempfile.TemporaryDirectory() as scratch:
        result_file = Path(scratch) / "compile.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--compile-child",
            str(result_file),
            "--device",
            str(device),
            "--size",
            f"{size[0]}x{size[1]}",
            "--batch",
            str(batch),
            "--compile-backend",
            cfg.compile_backend,
            "--iters",
            str(cfg.iters),
            "--max-s",
            str(cfg.max_s),
        ] + (["--smoke"] if cfg.smoke else [])
        env = dict(os.environ, VIDTOON_BENCH_BLOCK_AV="1") if "av" in sys.modules and sys.modules["av"] is None else None
        log_file = Path(scratch) / "child.log"
        with log_file.open("w") as log:  # a file, not a pipe: Inductor's worker processes may outlive a killed child
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            try:
                returncode = child.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                returncode = None
            finally:
                _kill_group(child)  # the child and its compile workers: they are one process group
        if returncode is None:
            report.add(
                "3",
                f"{label} torch.compile",
                size=size,
                batch=batch,
                precision="bf16",
                status="skipped",
                note=f"compile + timing did not finish within {limit:.0f} s (killed)",
            )
            return
        if returncode != 0 or not result_file.is_file():
            tail = " ".join(log_file.read_text(errors="replace").strip().splitlines()[-3:])[-300:]
            report.add(
                "3",
                f"{label} torch.compile",
                size=size,
                batch=batch,
                precision="bf16",
                status="failed",
                note=f"child exit {returncode}: {tail}",
            )
            return
        result = json.loads(result_file.read_text())
    base = eager.get((label, "bf16"))
    status = "ok" if result["compile_s"] <= cfg.compile_limit else "too slow to compile"
    report.add(
        "3",
        f"{label} torch.compile ({cfg.compile_backend})",
        size=size,
        batch=batch,
        precision="bf16",
        status=status,
        fps=result["fps"],
        baseline="same G bf16 eager",
        ratio=result["fps"] / base if base else None,
        compile_s=result["compile_s"],
        child_av_modules=result["av_modules"],
        note=f"compile (first call) {result['compile_s']:.1f} s, limit {cfg.compile_limit:.0f} s",
    )


def _kill_group(child: subprocess.Popen) -> None:
    """SIGKILL the process group `child` leads (it was started with start_new_session), then reap the child."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def compile_child(args: argparse.Namespace) -> int:
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.smoke:
        torch.set_num_threads(1)
    height, width = (int(v) for v in args.size.split("x"))
    model = build_generator(next(iter(GENERATORS.values())), device)
    compiled = torch.compile(model, backend=args.compile_backend)
    x = (torch.rand(args.batch, 3, height, width, device=device) * 2 - 1).contiguous(memory_format=torch.channels_last)

    def call():
        with torch.inference_mode(), autocast(device, "bf16"):
            return compiled(x)

    start = time.perf_counter()
    call()
    sync(device)
    compile_s = time.perf_counter() - start
    seconds, _ = timed(call, device, warmup=1, iters=args.iters, max_s=args.max_s)
    Path(args.compile_child).write_text(
        json.dumps({"compile_s": compile_s, "fps": args.batch / seconds, "av_modules": av_modules()})
    )
    return 0


# ---------------------------------------------------------------- 4. the restyle path


def frame_restyler_class() -> tuple[type, str]:
    """`FrameRestyler`, imported without PyAV: `vidtoon.restyle`'s package __init__ imports PyAV (io.probe), so where
    `av` cannot be imported, restyle/frames.py is loaded under a bare package module instead."""
    try:
        from vidtoon.restyle.frames import FrameRestyler

        return FrameRestyler, "imported vidtoon.restyle"
    except ImportError as exc:
        if getattr(exc, "name", None) != "av" and "av" not in str(exc):
            raise
    package = types.ModuleType("vidtoon.restyle")
    package.__path__ = [str(REPO / "vidtoon" / "restyle")]
    sys.modules["vidtoon.restyle"] = package
    from vidtoon.restyle.frames import FrameRestyler

    return FrameRestyler, "vidtoon.restyle/__init__ needs PyAV: loaded restyle/frames.py alone"


def bench_restyle(report: Report, budget: Budget, frames_u8: np.ndarray, device: torch.device, cfg: argparse.Namespace) -> None:
    from vidtoon.styles import load_translator
    from vidtoon.temporal import make_temporal_stage

    size = frames_u8.shape[1:3]
    batch = cfg.batches[1]
    try:
        restyler_class, how = frame_restyler_class()
    except Exception as exc:  # noqa: BLE001
        report.add("4", "restyle path", size=size, batch=batch, precision="fp32", status="failed", note=_why(exc))
        return
    frames = list(frames_u8)
    base = None
    for mode in ("none", "flow"):
        label = f"u8 -> FrameRestyler(toon, {mode}) -> u8"
        if budget.left() < cfg.row_need_s:
            report.add("4", label, size=size, batch=batch, precision="fp32", status="skipped", note="time budget spent")
            continue
        try:
            translator = load_translator(style="toon", device=str(device), precision="fp32").translator
            temporal = make_temporal_stage(mode, device=device)
            restyler = restyler_class(translator, temporal)
            out = restyler(frames[:batch])  # warm-up
            restyler.reset()
            sync(device)
            start = time.perf_counter()
            count = 0
            for i in range(0, len(frames) - batch + 1, batch):
                out = restyler(frames[i : i + batch])
                count += len(out)
            sync(device)
            fps = count / (time.perf_counter() - start)
            assert out[0].dtype == np.uint8 and out[0].shape == frames[0].shape, (out[0].dtype, out[0].shape)
            base = fps if mode == "none" else base
            report.add(
                "4",
                label,
                size=size,
                batch=batch,
                precision="fp32",
                fps=fps,
                baseline="same path, no temporal stage",
                ratio=fps / base if base else None,
                temporal=type(temporal).__name__,
                frames=count,
                av_modules=av_modules(),
                note=f"{type(temporal).__name__}; upload + download included, encode excluded; {count} frames; {how}",
            )
        except Exception as exc:  # noqa: BLE001
            report.add("4", label, size=size, batch=batch, precision="fp32", status="failed", note=_why(exc))
        free(device)


# ---------------------------------------------------------------- 5. end to end (scripts/bench_gpu_e2e.py)


def bench_e2e(report: Report, budget: Budget, frames_u8: np.ndarray, device: torch.device, cfg: argparse.Namespace) -> None:
    if str(Path(__file__).resolve().parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_gpu_e2e import bench_end_to_end

    restyler_class, how = frame_restyler_class()
    bench_end_to_end(report, budget, frames_u8, device, cfg, restyler_class, how)


# ---------------------------------------------------------------- main


def _why(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}{at}"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or "out/bench_gpu"))
    parser.add_argument("--smoke", action="store_true", help="CPU, 64×96 frames, 2 iterations: the same code path and files")
    parser.add_argument(
        "--budget", type=float, default=300, help="seconds for the whole run; rows that no longer fit are skipped"
    )
    parser.add_argument("--device", default=None, help="default: cuda (cpu with --smoke)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile row")
    parser.add_argument("--compile-limit", type=float, default=60, help="seconds torch.compile may take")
    parser.add_argument("--compile-backend", default=None, help="default: inductor (eager with --smoke)")
    parser.add_argument("--iters", type=int, default=None)
    parser.add_argument("--max-s", type=float, default=None, help="stop timing a row after this many seconds")
    # the torch.compile child process (internal)
    parser.add_argument("--compile-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--size", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=8, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.device = args.device or ("cpu" if args.smoke else "cuda")
    args.compile_backend = args.compile_backend or ("eager" if args.smoke else "inductor")
    args.iters = args.iters or (2 if args.smoke else 30)
    args.max_s = args.max_s or (5.0 if args.smoke else 2.0)
    args.warmup = 1 if args.smoke else 3
    args.batches = (1, 2, 4) if args.smoke else (1, 8, 16)  # smoke: the same rows, batches a CPU gets through
    args.row_need_s = 3 if args.smoke else 10  # seconds a row must have left to start
    args.e2e_frames = 16 if args.smoke else 240  # section 5: frames through decode -> restyle -> encode
    args.max_stage_s = 30 if args.smoke else 8  # section 5: fewer frames per row when the restyle stage is slower
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.compile_child:
        return compile_child(args)
    started = time.perf_counter()
    budget = Budget(args.budget)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("bench_gpu: no CUDA device (use --smoke for the CPU check)", file=sys.stderr)
        return 2
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.smoke:
        torch.set_num_threads(1)  # 2 shared cores: one thread is several times faster than two fighting
    size = SMOKE if args.smoke else FULL
    meta = {
        "_t0": started,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "smoke": args.smoke,
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "budget_s": args.budget,
        "cudnn_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
    }
    report = Report(args.out, meta)
    print("| " + " | ".join(Report.HEADER) + " |", flush=True)
    frames_u8, origin = source_frames(16 if args.smoke else 48, size)
    meta["frames"] = origin
    sections = [
        ("1", lambda: bench_filters(report, budget, frames_u8[:16], device, args)),
        ("2", lambda: bench_temporal(report, budget, frames_u8[: 16 if args.smoke else 24], device, args)),
        ("4", lambda: bench_restyle(report, budget, frames_u8, device, args)),
        ("5", lambda: bench_e2e(report, budget, frames_u8, device, args)),
    ]
    eager: dict = {}
    for name, run in sections:
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - a section's set-up failing must not lose the other sections
            report.add(name, "section", size=size, status="failed", note=_why(exc))
    try:
        # smoke: generators at half the size (32×48): 9 ResNet blocks in emulated-speed bf16 are slow on 2 cores
        eager = bench_generators(report, budget, frames_u8[:8, ::2, ::2] if args.smoke else frames_u8[:8], device, args)
    except Exception as exc:  # noqa: BLE001
        report.add("3", "section", size=size, status="failed", note=_why(exc))
    try:
        bench_compile(report, budget, (size[0] // 2, size[1] // 2) if args.smoke else size, device, args, eager)
    except Exception as exc:  # noqa: BLE001
        report.add("3", "torch.compile", size=size, status="failed", note=_why(exc))
    report.rows.sort(key=lambda r: r["section"])  # run order 1, 2, 4, 3 (compile last: the one open-ended step)
    meta["av_modules"] = av_modules()
    report.write()
    print()
    print(report.markdown())
    failed = [r for r in report.rows if r["status"] == "failed"]
    print(
        f"bench_gpu: {len(report.rows)} rows, {len(failed)} failed, {time.perf_counter() - started:.0f} s; report in {args.out}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
