"""Score a restyled video: temporal consistency (E_warp) against its source, fidelity to the per-frame result.

`evaluate(output, source, reference)` streams the three sequences in step (videos or frame folders,
in any mix), estimates flow and occlusion on the SOURCE once per frame pair, and reports:

- E_warp of the output (Lai et al. 2018, see `vidtoon.metrics.temporal`): lower is steadier;
- E_warp of the source itself: a baseline, the flicker the original footage already has under this
  flow (noise, compression, flow errors); an output flatter than the source (a cartoon) can go below it;
- with a reference (the per-frame result, no temporal stage): its E_warp (the ceiling a temporal
  stage should go below), and SSIM and PSNR of the output against it (how much of the per-frame
  look the temporal stage kept).

Sizes: the output and the reference must have the source's size, except that one with the source's
aspect ratio (to within one pixel of rounding) is resized to the source's size (area filter when
shrinking, cubic when enlarging), with a warning; any other size difference is an error naming
both sizes and both files. Every frame of an input must have the size of its first frame.

Frame counts must match unless `truncate=True`, which compares the common prefix and logs a
warning. `max_side` shrinks every frame (area filter) before anything is measured, for speed;
the numbers then hold at that size only (E_warp grows as frames shrink: texture gets finer).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidtoon.checks import device_name, flow_name, whole_number
from vidtoon.device import resolve_device
from vidtoon.errors import UsageError
from vidtoon.flow import FlowBackend, make_flow
from vidtoon.io.aligned import check_size, common_frame_count, first_frame_size, frames_at_size
from vidtoon.metrics.image import psnr, ssim
from vidtoon.metrics.temporal import warping_errors
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import zip_in_step

MIN_SIDE = 16  # smallest --max-side: below it neither flow nor an 11-pixel SSIM window mean much


@dataclass(frozen=True)
class EvalReport:
    """What `evaluate` measured. E_warp values are mean squared RGB differences in [0, 1] units.

    Attributes:
        output, source, reference: the inputs (reference None when not given).
        flow: the flow backend's name.
        frames: frames compared (the common prefix when truncated); per-frame E_warp has frames − 1 values.
        frame_counts: frames in each input before truncation, by role ("output", "source", "reference").
        size: (width, height) at which everything was measured (the source's, or smaller with max_side).
        warping_error: E_warp of the output.
        warping_error_source: E_warp of the source itself (a baseline, not a floor: flatter outputs go below it).
        warping_error_reference: E_warp of the reference (the ceiling), or None.
        ssim, psnr: SSIM (mean over frames) and PSNR (dB, of the mean squared error over frames, so one
            identical frame does not make it infinite) of output vs reference, or None; psnr is inf
            only when every frame is identical.
        valid_fraction: mean fraction of pixels the occlusion mask kept.
        per_frame: per-frame values by metric name ("warping_error", "warping_error_source", and with a
            reference "warping_error_reference", "ssim", "psnr").
    """

    output: Path
    source: Path
    reference: Path | None
    flow: str
    frames: int
    frame_counts: dict[str, int]
    size: tuple[int, int]
    warping_error: float
    warping_error_source: float
    warping_error_reference: float | None
    ssim: float | None
    psnr: float | None
    valid_fraction: float
    per_frame: dict[str, tuple[float, ...]] = field(repr=False)

    @property
    def truncated(self) -> bool:
        """Whether some input had frames beyond the ones compared."""
        return any(count != self.frames for count in self.frame_counts.values())

    def to_dict(self) -> dict:
        """JSON-ready: paths as strings, size as [width, height], infinite or NaN numbers (PSNR of identical frames) as None."""

        def clean(value):
            if isinstance(value, float):
                return value if math.isfinite(value) else None
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, (tuple, list)):
                return [clean(v) for v in value]
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            return value

        return clean({**asdict(self), "truncated": self.truncated})


@dataclass(frozen=True)
class EvalOptions:
    """What `evaluate` is asked for, checked before any input is read (a bad value raises `UsageError` naming the flag).

    Attributes:
        flow: a flow backend name (None: a `FlowBackend` object was given).
        device: "auto", "cpu", "cuda", "cuda:N" or a torch.device.
        max_side: shrink frames so the longer side is at most this (at least `MIN_SIDE`); None = full size.
        batch_size: frame pairs per flow call, 1 to 1024; None = 8 on a GPU, 1 on the CPU.
    """

    flow: str | None = "dis"
    device: str | torch.device = "auto"
    max_side: int | None = None
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.flow is not None:
            flow_name("--flow", self.flow)
        if isinstance(self.device, str):
            device_name("--device", self.device)
        if isinstance(self.max_side, int) and not isinstance(self.max_side, bool) and 0 < self.max_side < MIN_SIDE:
            raise UsageError(f"--max-side {self.max_side} is too small to measure anything", hint=f"use at least {MIN_SIDE}")
        whole_number("--max-side", self.max_side, optional=True, minimum=MIN_SIDE, maximum=16384)
        whole_number("--batch-size", self.batch_size, optional=True, maximum=1024)


def evaluate(
    output: str | Path,
    source: str | Path,
    reference: str | Path | None = None,
    *,
    flow: str | FlowBackend = "dis",
    flow_weights: str | Path | None = None,
    device: str | torch.device = "auto",
    truncate: bool = False,
    max_side: int | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Measure the temporal consistency of `output` against `source`, and its fidelity to `reference`.

    Args:
        output: the processed video or frame folder to score.
        source: the original it was made from: flow and occlusion come from it.
        reference: the per-frame result (same processing without a temporal stage), optional.
        flow: a backend name ("dis", "farneback", "raft") or a `FlowBackend`.
        flow_weights: RAFT's weights file (see `vidtoon.flow.make_flow`).
        device: "auto", "cpu", "cuda[:N]" or a torch.device: where flow and metrics run.
        truncate: compare the first min(counts) frames when the frame counts differ (else an error).
        max_side: shrink frames so that the longer side is at most this (area filter) before measuring.
        batch_size: frame pairs per flow call (default 8 on a GPU, 1 on the CPU).
        progress: receives one step per frame.
    Raises:
        InputError: an input is missing or unreadable; sizes or frame counts differ (see the module doc);
            fewer than 2 frames.
        UsageError: a bad option (unknown flow backend, max_side too small, no GPU for cuda).
    """
    EvalOptions(flow=flow if isinstance(flow, str) else None, device=device, max_side=max_side, batch_size=batch_size)
    device = resolve_device(device) if isinstance(device, str) else torch.device(device)
    if isinstance(flow, str):
        flow = make_flow(flow, weights=None if flow_weights is None else str(flow_weights), device=device)
    paths = {"source": Path(source), "output": Path(output)} | ({"reference": Path(reference)} if reference is not None else {})

    frames, counts = common_frame_count(paths, truncate=truncate)
    native = {role: first_frame_size(path) for role, path in paths.items()}
    for role in [role for role in paths if role != "source"]:
        check_size(role, paths[role], native[role], paths["source"], native["source"])
    size = _work_size(native["source"], max_side)
    if reference is not None and min(size) < 11:
        raise UsageError(f"frames of {size[0]}x{size[1]} are too small for SSIM's 11-pixel window", hint="raise --max-side")

    streams = [frames_at_size(path, frames, native[role], size) for role, path in paths.items()]
    scores: dict[str, list[float]] = {"ssim": [], "psnr": []}
    progress = progress or NoProgress()
    progress.start(frames, f"evaluating {paths['output'].name}")

    def in_step() -> Iterator[tuple[np.ndarray, ...]]:
        """(source, output[, reference]) frames, scoring output vs reference on the way."""
        for frames_in_step in zip_in_step(*streams):
            item = tuple(frame.rgb for frame in frames_in_step)
            if reference is not None:
                pair = torch.from_numpy(np.stack(item[1:])).to(device).permute(0, 3, 1, 2).float().div_(255)
                scores["ssim"].append(ssim(pair[:1], pair[1:]).item())
                scores["psnr"].append(psnr(pair[:1], pair[1:]).item())
            progress.advance()
            yield item

    batch_size = batch_size or (8 if device.type == "cuda" else 1)
    try:
        with torch.inference_mode():
            results = warping_errors(in_step(), flow=flow, batch_size=batch_size, device=device)
    finally:
        for stream in streams:
            stream.close()
    by_role = dict(zip(paths, results))
    per_frame = {"warping_error": by_role["output"].per_frame, "warping_error_source": by_role["source"].per_frame}
    if reference is not None:
        per_frame["warping_error_reference"] = by_role["reference"].per_frame
        per_frame |= {name: tuple(values) for name, values in scores.items()}
    return EvalReport(
        output=paths["output"],
        source=paths["source"],
        reference=paths.get("reference"),
        flow=getattr(flow, "name", type(flow).__name__),
        frames=frames,
        frame_counts=counts,
        size=size,
        warping_error=by_role["output"].mean,
        warping_error_source=by_role["source"].mean,
        warping_error_reference=by_role["reference"].mean if reference is not None else None,
        ssim=float(np.mean(scores["ssim"])) if reference is not None else None,
        psnr=_psnr_of_mean_error(scores["psnr"]) if reference is not None else None,
        valid_fraction=by_role["source"].valid_fraction,
        per_frame=per_frame,
    )


def _psnr_of_mean_error(psnr_per_frame: list[float]) -> float:
    """PSNR (dB) of the mean squared error behind per-frame PSNRs (signal peak 1)."""
    mean_error = float(np.mean([10 ** (-value / 10) for value in psnr_per_frame]))
    return float("inf") if mean_error == 0 else 10 * np.log10(1 / mean_error)


def _work_size(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """`size` shrunk so that its longer side is at most `max_side` (unchanged when it already is)."""
    width, height = size
    if max_side is None or max(width, height) <= max_side:
        return size
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))
