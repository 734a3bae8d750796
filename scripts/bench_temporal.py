#!/usr/bin/env python
"""Benchmark the temporal stage: flicker removed (E_warp) vs style kept (SSIM), against a naive baseline.

For each sequence — the DVP pairs (an input video and a flickering per-frame processed version),
and real clips restyled frame by frame with the White-box peer model — it reports:

* E_warp (Lai et al. 2018, `vidtoon.metrics`) of the input (the floor), of the per-frame result (the
  ceiling), of vidtoon's flow-guided temporal stage, and of a naive exponential moving average of
  the per-frame frames whose strength is chosen to give the *same SSIM* as vidtoon's output;
* SSIM of each against the per-frame result (1 = the per-frame look kept).

Goals (from the issue): vidtoon's E_warp ≤ 0.5 × the per-frame result's, with SSIM ≥ 0.90, and
lower E_warp than the moving average at equal SSIM. "new" is the stage as restyle's CPU path runs it since
2026-11-30 (`FlowBlend.blend_u8`: uint8 frames in and out). Also the cost of the temporal stage per frame at
640×360 (batches of 1, as `restyle` runs it) and 1280×720 (batches of 4; goal ≤ 15 ms wall at rest), on one thread
and on OpenCV's default threads, wall and CPU (process time: all threads), against earlier stages in the same run:
"today" (scripts/temporal_round2.py, the stage before its third round; default), "float" (`FlowBlend` on [-1, 1]
tensors, as before its uint8 entry; default), "round1"
(scripts/temporal_round1.py) and "old" (scripts/temporal_baseline.py), whose E_warp values are printed beside the
current one's (issue #20: within 5 %).

Run from the repository root (data from $VIDTOON_TEST_DATA, clips from $VIDTOON_TEST_MEDIA, the peer
from $VIDTOON_PEERS; defaults ../shared/...):

    .venv/bin/python scripts/bench_temporal.py            # all sequences, frames at most 512 px wide
    .venv/bin/python scripts/bench_temporal.py --quick    # the two DVP pairs at 272 px
    .venv/bin/python scripts/bench_temporal.py --dvp-only # the two DVP pairs at 512 px (issue #20's 5 % check)
    .venv/bin/python scripts/bench_temporal.py --cost-only   # only the cost table (new against today), 1 and default threads
    .venv/bin/python scripts/bench_temporal.py --cost-only --stages old,round1,today,new   # every kept stage

notes: docs/benchmarks.md#bench_temporal (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from temporal_baseline import BaselineFlowBlend  # scripts/ (this script's folder, first on sys.path)
from temporal_round1 import Round1FlowBlend
from temporal_round2 import Round2FlowBlend

from vidtoon.flow import make_flow
from vidtoon.io.sequence import read_sequence
from vidtoon.metrics.image import ssim
from vidtoon.metrics.temporal import warping_errors
from vidtoon.temporal import FlowBlend

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def load(path: Path, frames: int, width: int) -> torch.Tensor:
    """The first `frames` frames of a video or folder, resized to `width` (aspect kept): N×3×H×W in [-1, 1]."""
    batch = []
    for frame, _ in zip(read_sequence(path), range(frames)):
        x = torch.from_numpy(frame.rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
        height = round(x.shape[-2] * width / x.shape[-1] / 2) * 2
        batch.append(F.interpolate(x, size=(height, width), mode="area"))
    return torch.cat(batch)


def to_u8(x: torch.Tensor) -> list[np.ndarray]:
    return list(((x + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy())


def e_warp(source: torch.Tensor, *outputs: torch.Tensor) -> list[float]:
    """E_warp of the source and of each output, flow and occlusion from the source (DIS)."""
    results = warping_errors(zip(to_u8(source), *(to_u8(o) for o in outputs)), flow=make_flow("dis"))
    return [r.mean for r in results]


def mean_ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    return ssim((a + 1) / 2, (b + 1) / 2).mean().item()


def baseline_stage() -> BaselineFlowBlend:
    """The temporal stage as it was before the speed-up (a copy kept beside this script)."""
    return BaselineFlowBlend(make_flow("dis"))


def round1_stage() -> Round1FlowBlend:
    """The temporal stage after its first speed-up, before the second (a copy kept beside this script)."""
    return Round1FlowBlend(make_flow("dis"))


def round2_stage() -> Round2FlowBlend:
    """The temporal stage after its second speed-up, before the third (a copy kept beside this script)."""
    return Round2FlowBlend(make_flow("dis"))


class Uint8Stage:
    """`FlowBlend.blend_u8`, the stage as restyle's CPU path runs it: uint8 frames in and out (the frames are made
    uint8 before the clock starts, as they arrive from the decoder and the model)."""

    def __init__(self):
        self.stage = FlowBlend(make_flow("dis"))

    @staticmethod
    def inputs(source: torch.Tensor, translated: torch.Tensor) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return [np.ascontiguousarray(f) for f in to_u8(source)], [np.ascontiguousarray(f) for f in to_u8(translated)]

    def __call__(self, sources_u8: list[np.ndarray], translated_u8: list[np.ndarray]) -> list[np.ndarray]:
        return self.stage.blend_u8(sources_u8, translated_u8)


STAGES = {
    "old": baseline_stage,
    "round1": round1_stage,
    "today": round2_stage,
    "float": lambda: FlowBlend(make_flow("dis")),
    "new": Uint8Stage,
}  # --stages picks which run (default: float, new); "float" = FlowBlend on [-1, 1] tensors, "new" = on uint8 frames


def vidtoon_temporal(source: torch.Tensor, per_frame: torch.Tensor, batch: int = 4, stage=None) -> tuple[torch.Tensor, float]:
    """The temporal stage (default: vidtoon's) in batches of `batch`; returns the output and ms per frame."""
    stage = Uint8Stage() if stage is None else stage
    inputs = getattr(stage, "inputs", None)
    frames = inputs(source, per_frame) if inputs else (source, per_frame)
    start = time.perf_counter()
    out = [stage(frames[0][i : i + batch], frames[1][i : i + batch]) for i in range(0, len(source), batch)]
    elapsed = (time.perf_counter() - start) * 1000 / len(source)
    if inputs:  # uint8 frames back to N×3×H×W in [-1, 1]
        return torch.from_numpy(np.stack([f for part in out for f in part])).permute(0, 3, 1, 2).float() / 127.5 - 1, elapsed
    return torch.cat(out), elapsed


def moving_average(per_frame: torch.Tensor, weight: float) -> torch.Tensor:
    """out_t = weight · out_{t−1} + (1 − weight) · frame_t, with no motion compensation."""
    out, previous = [], None
    for frame in per_frame:
        previous = frame if previous is None else weight * previous + (1 - weight) * frame
        out.append(previous)
    return torch.stack(out)


def baseline_at_equal_ssim(per_frame: torch.Tensor, target_ssim: float) -> tuple[float, torch.Tensor]:
    """The moving-average weight whose SSIM against the per-frame result is closest to `target_ssim`."""
    low, high = 0.0, 0.95
    for _ in range(12):  # SSIM falls as the weight grows: bisect
        mid = (low + high) / 2
        if mean_ssim(moving_average(per_frame, mid), per_frame) > target_ssim:
            low = mid
        else:
            high = mid
    weight = (low + high) / 2
    return weight, moving_average(per_frame, weight)


def whitebox(frames: torch.Tensor, peer: Path) -> torch.Tensor:
    """Per-frame White-box cartoonization (fixed 512×512 graph; frames tiled/padded by the translator)."""
    from vidtoon.models.onnx_model import OnnxTranslator
    from vidtoon.tiling import translate_tiled

    translator = OnnxTranslator(peer, device=torch.device("cpu"))
    return torch.cat([translate_tiled(f[None], translator, tile=translator.fixed_size, overlap=32) for f in frames])


def sequences(args) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    data, clips, peers = Path(args.data), Path(args.media), Path(args.peers)
    found = []
    for name in ("dvp_davis_bike-packing", "dvp_bedroom"):
        source = load(data / "video_seq" / f"{name}_input", args.frames, args.width)
        processed = load(data / "video_seq" / f"{name}_processed", args.frames, args.width)
        count = min(len(source), len(processed))
        found.append((f"{name} (DVP processed)", source[:count], processed[:count]))
    if args.quick or args.dvp_only:
        return found
    peer = peers / "whitebox_int8.onnx"
    for label, path in (
        ("davis tennis", data / "video_seq" / "propainter_davis_tennis"),
        ("davis bmx-trees", data / "video_seq" / "propainter_davis_bmx-trees"),
        ("chaplin.mp4", clips / "chaplin.mp4"),
        ("vtest.avi", clips / "vtest.avi"),
    ):
        source = load(path, args.whitebox_frames, args.width)
        found.append((f"{label} (White-box per frame)", source, whitebox(source, peer)))
    return found


def moving_frames(height: int, width: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth random picture panning 2 px a frame: (source, translated) N×3×H×W in [-1, 1]. The source is
    channels-last (restyle's decoded frames), the translation contiguous N×3×H×W (what `toon` returns)."""
    rng = torch.Generator().manual_seed(0)
    base = F.interpolate(torch.rand(1, 3, 90, 160, generator=rng) * 2 - 1, size=(height, width), mode="bicubic").clamp(-1, 1)
    frames_ = torch.cat([torch.roll(base, shifts=2 * i, dims=3) for i in range(frames)])
    return frames_.contiguous(memory_format=torch.channels_last), (frames_ * 0.9).contiguous()


def stage_cost(make_stage, source: torch.Tensor, translated: torch.Tensor, batch: int) -> tuple[float, float]:
    """(wall, CPU) ms per frame of a fresh stage over the frames in batches of `batch`, after a 2-frame warm-up."""
    stage = make_stage()
    inputs = getattr(stage, "inputs", None)
    source, translated = inputs(source, translated) if inputs else (source, translated)
    stage(source[:2], translated[:2])
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(source), batch):
        stage(source[i : i + batch], translated[i : i + batch])
    return (time.perf_counter() - wall) * 1000 / len(source), (time.process_time() - cpu) * 1000 / len(source)


def cost_table(stages: list[str], threads: list[int | None], frames: int = 16, repeats: int = 3) -> list[tuple]:
    """Per size and thread count (None: OpenCV's default): each stage's (wall, CPU) ms per frame, each the best of
    `repeats` interleaved runs. One thread = `cv2.setNumThreads(1)` (the stage and DIS follow it) and one torch thread."""
    rows = []
    torch_default = torch.get_num_threads()
    for (height, width), batch in (((360, 640), 1), ((720, 1280), 4)):
        source, translated = moving_frames(height, width, frames)
        for count in threads:
            cv2.setNumThreads(-1 if count is None else count)  # negative: OpenCV's default
            torch.set_num_threads(torch_default if count is None else count)
            runs = {name: [] for name in stages}
            for _ in range(repeats):  # interleaved: a load change on the shared machine hits every stage
                for name in stages:
                    runs[name].append(stage_cost(STAGES[name], source, translated, batch))
            best = [(min(r[0] for r in runs[name]), min(r[1] for r in runs[name])) for name in stages]
            label = "default" if count is None else str(count)
            rows.append((f"{width}×{height}", batch, f"{label} ({cv2.getNumThreads()})", *(ms for pair in best for ms in pair)))
    cv2.setNumThreads(-1)
    torch.set_num_threads(torch_default)
    return rows


def print_cost(rows: list[tuple], stages: list[str]) -> None:
    columns = " ".join(f"{f'{name} {kind}':>11}" for name in stages for kind in ("wall", "CPU"))
    ratios = " ".join(f"{f'{name}/new {kind}':>14}" for name in stages[:-1] for kind in ("wall", "CPU"))
    header = f"{'size':>9} {'batch':>5} {'threads':>11} {columns} {ratios}"
    print(header)
    print("-" * len(header))
    for size, batch, threads, *times in rows:
        wall_new, cpu_new = times[-2], times[-1]
        shares = " ".join(f"{times[2 * k] / wall_new:14.2f} {times[2 * k + 1] / cpu_new:14.2f}" for k in range(len(stages) - 1))
        print(f"{size:>9} {batch:5d} {threads:>11} {' '.join(f'{ms:11.1f}' for ms in times)} {shares}")
    print(
        "\nms per frame of the temporal stage (DIS fast, flow at ≤ 640 px), best of --repeats interleaved runs; threads: OpenCV's "
        "(in brackets: what it reports) and torch's; CPU = process time of all threads; old = scripts/temporal_baseline.py, "
        "round1 = scripts/temporal_round1.py, today = scripts/temporal_round2.py (before the third round); name/new = that "
        "stage's ms / the new one's (goal: ≤ 15 ms wall at 1280×720 at rest)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("VIDTOON_TEST_DATA", SHARED / "data"))
    parser.add_argument("--media", default=os.environ.get("VIDTOON_TEST_MEDIA", SHARED / "clips"))
    parser.add_argument("--peers", default=os.environ.get("VIDTOON_PEERS", SHARED / "peers"))
    parser.add_argument("--width", type=int, default=512, help="frames are resized to this width")
    parser.add_argument("--frames", type=int, default=60, help="frames per DVP sequence")
    parser.add_argument("--whitebox-frames", type=int, default=24, help="frames per White-box sequence")
    parser.add_argument("--quick", action="store_true", help="the DVP pairs only, at 272 px")
    parser.add_argument("--cost-only", action="store_true", help="only the cost table, no E_warp")
    parser.add_argument("--dvp-only", action="store_true", help="the DVP pairs only, at --width (no White-box sequences)")
    parser.add_argument("--cv-threads", type=int, default=None, help="OpenCV threads (default: OpenCV's own choice)")
    parser.add_argument("--torch-threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument(
        "--stages", default="today,float,new", help=f"stages to compare, the new one last (of {', '.join(STAGES)})"
    )
    parser.add_argument("--threads", default="1,default", help="thread counts of the cost table (OpenCV's and torch's)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per cost row (the best is kept)")
    args = parser.parse_args()
    if args.quick:
        args.width = 272
    stages = args.stages.split(",")
    if stages[-1] != "new" or any(name not in STAGES for name in stages):
        parser.error(f"--stages: names of {', '.join(STAGES)}, the new one last")
    threads = [None if t == "default" else int(t) for t in args.threads.split(",")]
    torch.set_num_threads(args.torch_threads or max(1, os.cpu_count() or 1))
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    with torch.inference_mode():
        for name, source, per_frame in [] if args.cost_only else sequences(args):
            ours, _ = vidtoon_temporal(source, per_frame)
            others = [vidtoon_temporal(source, per_frame, stage=STAGES[stage]())[0] for stage in stages[:-1]]
            ssim_ours = mean_ssim(ours, per_frame)
            weight, baseline = baseline_at_equal_ssim(per_frame, ssim_ours)
            floor, ceiling, e_ours, e_base, *e_others = e_warp(source, per_frame, ours, baseline, *others)
            ssim_base = mean_ssim(baseline, per_frame)
            rows.append((name, len(source), floor, ceiling, e_ours, ssim_ours, e_base, ssim_base, weight, e_others))
        cost = cost_table(stages, threads, repeats=args.repeats)
    if rows:
        print_quality(rows, stages)
    print_cost(cost, stages)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def print_quality(rows: list[tuple], stages: list[str]) -> None:
    others = " ".join(f"{f'E_{name}':>9} {f'new/{name}':>10}" for name in stages[:-1])
    header = (
        f"{'sequence':42} {'frames':>6} {'E_in':>8} {'E_perfr':>8} {'E_ours':>8} {'ratio':>6} {'left':>6} {'SSIM':>6} "
        f"{'E_avg':>8} {'SSIM':>6} {'w_avg':>5} {'goal':>5} {others}"
    )
    print(header)
    print("-" * len(header))
    for name, count, floor, ceiling, e_ours, s_ours, e_base, s_base, weight, e_others in rows:
        met = e_ours <= 0.5 * ceiling and s_ours >= 0.90 and e_ours < e_base
        left = (e_ours - floor) / (ceiling - floor)
        compared = " ".join(f"{e:9.6f} {e_ours / e:10.3f}" for e in e_others)
        print(
            f"{name:42} {count:6d} {floor:8.5f} {ceiling:8.5f} {e_ours:8.5f} {e_ours / ceiling:6.2f} {left:6.2f} {s_ours:6.3f} "
            f"{e_base:8.5f} {s_base:6.3f} {weight:5.2f} {'yes' if met else 'no':>5} {compared}"
        )
    print(
        "\nE_in: the input's own E_warp (floor); E_perfr: per-frame result (ceiling); ratio = E_ours / E_perfr "
        "(goal ≤ 0.5, SSIM ≥ 0.90); left = (E_ours − E_in) / (E_perfr − E_in), the share of the added flicker "
        "left (≤ 0: all of it removed); E_avg: moving average at the same SSIM (goal: E_ours lower); E_<stage>: the "
        "earlier stages of --stages (today = scripts/temporal_round2.py, before the third round); goal: new/today ≤ 1.05.\n"
    )


if __name__ == "__main__":
    main()
