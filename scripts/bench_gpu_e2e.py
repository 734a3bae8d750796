"""bench_gpu section 5: the whole restyle path end to end (issue #20 item 1), imported by scripts/bench_gpu.py.

    decode (a thread) -> batches -> FrameRestyler (ResNet-6 generator + the flow stage; its model a batch ahead on
    a thread) -> uint8 frames -> encode (a thread)

the video loop's own shape (`vidtoon.restyle.video.encode_frames`: `prefetch`, `restyled_batches`, `BackgroundSink`).
Each stage is first timed alone over the same frames (decode to RGB; restyle from frames in memory; encode from frames
in memory), then all three together: overlap = end-to-end fps / min(stage fps) (goal ≥ 0.9: the stages overlap).
Decode and encode use PyAV (`vidtoon.io.VideoReader` / `VideoWriter`: x264 as `restyle` writes it, frame threads)
where `av` imports, else OpenCV (`cv2.VideoCapture`; `cv2.VideoWriter` MPEG-4 part 2, not x264: noted in the row).
Two more rows: the restyle stage with the plain synchronous copies (`FrameRestyler(overlap_transfers=False)`: the
path before the pinned/stream one) as the baseline of the new path, and whether both give the same frames.
Wall time and the process's CPU time (user + sys) are reported for each row. The run stays within its budget: 240
frames at 1080p, fewer for the rows after the first restyle row when that stage would take more than
`cfg.max_stage_s` (8 s) over them.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from fractions import Fraction
from itertools import islice
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

FPS = Fraction(24)
GENERATOR = {"ngf": 32, "n_blocks": 6, "upsample": "resize"}  # ResNet-6, 32 base channels (~2.0M params)


def pyav_available() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def clip_frames(frames_u8: np.ndarray, count: int) -> list[np.ndarray]:
    """`count` frames: `frames_u8` played forward, backward, forward... (no jump that would look like a cut)."""
    cycle = list(frames_u8) + list(frames_u8[-2:0:-1]) if len(frames_u8) > 2 else list(frames_u8)
    return [cycle[i % len(cycle)] for i in range(count)]


# ---------------------------------------------------------------- decode and encode: PyAV, else OpenCV


class Encoder:
    """Writes H×W×3 uint8 RGB frames to `path`: PyAV's x264 through `vidtoon.io.VideoWriter`, else cv2's MPEG-4."""

    def __init__(self, path: Path, size: tuple[int, int], use_av: bool):
        self.use_av, self.count = use_av, 0
        if use_av:
            from vidtoon.io import VideoWriter

            self.path = path.with_suffix(".mp4")
            self.writer = VideoWriter(self.path, fps=FPS, force=True)
            self.how = self.describe(use_av)
        else:
            import cv2

            self.path = path.with_suffix(".avi")
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), float(FPS), (size[1], size[0]))
            if not self.writer.isOpened():
                raise RuntimeError("cv2.VideoWriter (mp4v) did not open")
            self.how = self.describe(use_av)

    @staticmethod
    def describe(use_av: bool) -> str:
        if use_av:
            return "x264 via PyAV (vidtoon.io.VideoWriter defaults: faster, CRF 17, frame threads)"
        return "MPEG-4 part 2 via cv2.VideoWriter (no PyAV: not x264)"

    def write(self, rgb: np.ndarray) -> None:
        if self.use_av:
            self.writer.write(rgb, self.count / FPS)
        else:
            import cv2

            self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.count += 1

    def close(self) -> None:
        if self.use_av:
            self.writer.close()
        else:
            self.writer.release()


def decoded(path: Path, use_av: bool) -> Iterator[SimpleNamespace]:
    """Frames of `path` with `.time` (s) and `.rgb` (H×W×3 uint8): `vidtoon.io.VideoReader`, else cv2.VideoCapture."""
    if use_av:
        from vidtoon.io import VideoReader

        with VideoReader(path) as reader:
            yield from reader
        return
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                return
            yield SimpleNamespace(time=index / FPS, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1
    finally:
        capture.release()


# ---------------------------------------------------------------- timing


def clocked(call: Callable[[], int], device: torch.device) -> tuple[int, float, float]:
    """(frames `call` returned, wall s, CPU s of this process: user + sys), the device synchronised around it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0, c0 = time.perf_counter(), _cpu()
    frames = call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return frames, time.perf_counter() - t0, _cpu() - c0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------- the section


def make_restyler(restyler_class: type, device: torch.device, precision: str, *, mode: str, overlap: bool):
    """A FrameRestyler with the ResNet-6 generator (random weights, seed 0) through `TorchTranslator` (channels_last,
    autocast at `precision`) and the temporal stage `mode` for `device` (flow: TorchFlowBlend on CUDA)."""
    from vidtoon.models.card import ModelCard
    from vidtoon.models.registry import build_model
    from vidtoon.models.translator import TorchTranslator
    from vidtoon.temporal import make_temporal_stage

    torch.manual_seed(0)
    model = build_model("cyclegan_resnet", **GENERATOR)
    translator = TorchTranslator(model, ModelCard("cyclegan_resnet", kwargs=GENERATOR), device=device, precision=precision)
    return restyler_class(translator, make_temporal_stage(mode, device=device), overlap_transfers=overlap)


def bench_end_to_end(report, budget, frames_u8: np.ndarray, device: torch.device, cfg, restyler_class: type, how: str) -> None:
    """Section 5 rows: decode, restyle, encode alone; end to end with the overlap ratio and peak GPU memory; the restyle
    stage with plain copies; equality of the two restyle paths."""
    import vidtoon.streaming as streaming
    from vidtoon.restyle.batches import batches, restyled_batches

    size = frames_u8.shape[1:3]
    batch = cfg.batches[1]
    count = cfg.e2e_frames
    precision = "bf16" if device.type == "cuda" else "fp32"
    use_av = pyav_available()
    frames = clip_frames(frames_u8, count)
    limit = {"frames": count}  # lowered after the first restyle row if the stage is slow (each row ≤ ~cfg.max_stage_s)
    fps_of: dict[str, float] = {}

    def add(what: str, seconds: float, cpu_s: float, done: int, note: str, **extra) -> None:
        fps = done / seconds
        fps_of[what] = fps
        report.add(
            "5",
            what,
            size=size,
            batch=batch,
            precision=precision,
            fps=fps,
            wall_s=round(seconds, 3),
            cpu_s=round(cpu_s, 3),
            frames=done,
            note=f"{note}; wall {seconds:.2f} s, CPU {cpu_s:.2f} s",
            **extra,
        )

    def skip(what: str, why: str) -> None:
        report.add("5", what, size=size, batch=batch, precision=precision, status="skipped", note=why)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        # the source clip the decode reads (written by the same encoder; not timed)
        try:
            encoder = Encoder(scratch / "source", size, use_av)
            for rgb in frames:
                encoder.write(rgb)
            encoder.close()
            source = encoder.path
        except Exception as exc:  # noqa: BLE001 - without a clip nothing below can run
            report.add("5", "end to end", size=size, status="failed", note=f"source clip: {type(exc).__name__}: {exc}")
            return

        def decode_alone() -> int:
            return sum(1 for _ in islice(decoded(source, use_av), limit["frames"]))

        done, wall, cpu = clocked(decode_alone, device)
        add("decode alone", wall, cpu, done, "PyAV (vidtoon.io.VideoReader)" if use_av else "OpenCV VideoCapture (no PyAV)")

        def restyle_alone(restyler) -> Callable[[], int]:
            def run() -> int:
                restyler.reset()
                batched = ((list(range(i, i + batch)), frames[i : i + batch], None) for i in range(0, limit["frames"], batch))
                return sum(len(out) for _, out in restyled_batches(restyler, batched))

            return run

        outputs = {}
        for overlap in (False, True):  # the plain copies first: the new path's baseline
            what = "restyle alone" if overlap else "restyle alone, plain copies"
            if budget.left() < cfg.row_need_s:
                skip(what, "time budget spent")
                continue
            try:
                restyler = make_restyler(restyler_class, device, precision, mode="flow", overlap=overlap)
                restyler(frames[:batch])  # warm-up: kernels, cudnn's choice, DIS buffers, pinned blocks
                done, wall, cpu = clocked(restyle_alone(restyler), device)
                fits = int(done / wall * cfg.max_stage_s) // batch * batch  # frames a row may take from now on
                limit["frames"] = min(limit["frames"], max(2 * batch, fits))
                plain = fps_of.get("restyle alone, plain copies")
                add(
                    what,
                    wall,
                    cpu,
                    done,
                    f"ResNet-6 ngf 32 + {type(restyler.temporal).__name__}, upload + download included; {how}",
                    baseline="restyle alone, plain copies" if overlap else "",
                    ratio=done / wall / plain if overlap and plain else None,
                    overlap_transfers=overlap,
                )
                restyler.reset()
                outputs[overlap] = [out for i in range(0, 2 * batch, batch) for out in restyler(frames[i : i + batch])]
            except Exception as exc:  # noqa: BLE001
                report.add("5", what, size=size, batch=batch, precision=precision, status="failed", note=_why(exc))
            _free(device)
        if len(outputs) == 2:
            pairs = list(zip(outputs[True], outputs[False], strict=True))
            worst = max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in pairs)
            same = all(np.array_equal(a, b) for a, b in pairs)
            report.add(
                "5",
                "equality: pinned/stream path vs plain copies",
                size=size,
                batch=batch,
                precision=precision,
                status="ok" if worst <= 1 else "differs",
                max_levels=worst,
                identical=same,
                note=f"{len(pairs)} frames through the flow stage: max {worst} levels apart (goal 0; DIS on several "
                "threads may move a level)",
            )

        encoded = [np.ascontiguousarray(rgb) for rgb in frames]

        def encode_alone() -> int:
            encoder = Encoder(scratch / "encode", size, use_av)
            for rgb in encoded[: limit["frames"]]:
                encoder.write(rgb)
            encoder.close()
            return encoder.count

        try:
            done, wall, cpu = clocked(encode_alone, device)
            add("encode alone", wall, cpu, done, Encoder.describe(use_av))
        except Exception as exc:  # noqa: BLE001
            report.add("5", "encode alone", size=size, batch=batch, status="failed", note=_why(exc))

        if budget.left() < cfg.row_need_s or "restyle alone" not in fps_of:
            skip("end to end", "time budget spent" if budget.left() < cfg.row_need_s else "the restyle stage did not run")
            return
        try:
            restyler = make_restyler(restyler_class, device, precision, mode="flow", overlap=True)
            restyler(frames[:batch])
            restyler.reset()
            encoder = Encoder(scratch / "output", size, use_av)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)

            def end_to_end() -> int:
                written = 0
                with (
                    streaming.BackgroundSink(encoder.write, depth=2 * batch + 4) as sink,
                    closing(
                        streaming.prefetch(islice(decoded(source, use_av), limit["frames"]), depth=2 * batch + 2)
                    ) as frames_in,
                ):
                    for _, restyled in restyled_batches(restyler, batches(frames_in, batch)):
                        for rgb in restyled:
                            sink.put(rgb)
                            written += 1
                encoder.close()
                return written

            done, wall, cpu = clocked(end_to_end, device)
            stages = {k: fps_of[k] for k in ("decode alone", "restyle alone", "encode alone") if k in fps_of}
            slowest = min(stages, key=stages.get)
            fps = done / wall
            ratio = fps / stages[slowest]
            extra = {"overlap_ratio": round(ratio, 3), "slowest_stage": slowest}
            note = f"overlap {ratio:.2f} (goal ≥ 0.9) vs {slowest} {stages[slowest]:.1f} fps"
            if device.type == "cuda":
                extra["peak_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
                note += f"; peak GPU {extra['peak_gib']} GiB; goal ≥ 120 fps: {'met' if fps >= 120 else 'NOT met'}"
            add("end to end", wall, cpu, done, note + f"; {encoder.how}", baseline=slowest, ratio=ratio, **extra)
        except Exception as exc:  # noqa: BLE001
            report.add("5", "end to end", size=size, batch=batch, precision=precision, status="failed", note=_why(exc))
        _free(device)


def _free(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
