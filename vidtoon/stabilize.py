"""`stabilize`: blind temporal consistency for any per-frame-processed video or frame folder.

Given the processed frames (colourised, enhanced, stylised by any tool) and the original they
came from, the flow-guided temporal stage removes the flicker the per-frame processing added:
flow is computed on the original, the processed frames are blended along it.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vidtoon.device import resolve_device
from vidtoon.errors import InputError, UsageError
from vidtoon.io.audio import AudioSource
from vidtoon.io.images import write_image
from vidtoon.io.output import StagingDir, check_output, ensure_writable_dir
from vidtoon.io.probe import probe
from vidtoon.io.sequence import count_frames, read_sequence
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import prefetch
from vidtoon.settings import DEFAULT_STRENGTH
from vidtoon.temporal import FlowBlend
from vidtoon.flow import make_flow

log = logging.getLogger(__name__)


def default_stabilize_output(processed: Path) -> Path:
    """out.mp4 -> out.stable.mp4; frames/ -> frames.stable/."""
    if processed.is_dir():
        return processed.resolve().with_name(processed.resolve().name + ".stable")
    suffix = processed.suffix.lower() if processed.suffix.lower() in (".mp4", ".mkv", ".mov", ".webm") else ".mp4"
    return processed.with_name(f"{processed.stem}.stable{suffix}")


def check_frame_counts(processed: Path, source: Path, *, truncate: bool) -> int:
    """The number of frames to use; differing counts are an error unless `truncate` (common prefix)."""
    count_processed, count_source = count_frames(processed), count_frames(source)
    if count_processed != count_source:
        if not truncate:
            raise InputError(
                f"has {count_processed} frames but the source {source} has {count_source}", path=processed,
                hint="pass --truncate to use the first frames common to both",
            )
        log.warning("frame counts differ (%s: %d, %s: %d): using the first %d", processed, count_processed, source,
                    count_source, min(count_processed, count_source))
    return min(count_processed, count_source)


def stabilize(
    processed: str | Path,
    source: str | Path,
    output: str | Path | None = None,
    *,
    strength: float = DEFAULT_STRENGTH,
    flow: str = "dis",
    flow_preset: str = "fast",
    flow_weights: str | None = None,
    device: str = "auto",
    truncate: bool = False,
    options: EncodeOptions = EncodeOptions(),
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Remove per-frame flicker from `processed` using the motion of `source` (videos or frame folders).

    A video comes out with the processed video's timing and sound; a folder as a folder of PNGs.
    Sizes may differ only by scale (the source is resized to the processed frames for flow).
    """
    progress = progress or NoProgress()
    processed, source = Path(processed), Path(source)
    output = Path(output) if output is not None else default_stabilize_output(processed)
    total = check_frame_counts(processed, source, truncate=truncate)
    torch_device = resolve_device(device)
    blend = FlowBlend(make_flow(flow, preset=flow_preset, weights=flow_weights, device=torch_device), strength=strength)
    pairs = prefetch(_pairs(processed, source, total), depth=8)
    progress.start(total, processed.name)
    if processed.is_dir():
        if output.exists() and not force:
            raise UsageError(f"output folder {output} exists", hint="choose another with -o, or pass --force")
        ensure_writable_dir(output)
        staging = StagingDir(output)
        try:
            for index, (processed_frame, source_frame) in enumerate(pairs):
                write_image(staging.path / f"{index:06d}.png", _step(blend, processed_frame, source_frame, torch_device))
                progress.advance()
            staging.commit()
        except BaseException:
            staging.abort()
            raise
        return output
    check_output(output, inputs=(processed, source), force=force)
    info = probe(processed)
    with VideoWriter(output, fps=info.fps or Fraction(25), time_base=info.time_base, options=options,
                     audio=AudioSource(processed), metadata=info.metadata, inputs=(processed, source), force=force) as writer:
        for processed_frame, source_frame in pairs:
            writer.write(_step(blend, processed_frame, source_frame, torch_device), processed_frame.time)
            progress.advance()
    return writer.path


def _pairs(processed: Path, source: Path, total: int):
    checked = False
    for (p, s), _ in zip(zip(read_sequence(processed), read_sequence(source)), range(total)):
        if not checked:
            _check_sizes(p.rgb.shape, s.rgb.shape, processed, source)
            checked = True
        yield p, s


def _check_sizes(processed_shape, source_shape, processed: Path, source: Path) -> None:
    (ph, pw), (sh, sw) = processed_shape[:2], source_shape[:2]
    if (ph, pw) != (sh, sw) and abs(pw / ph - sw / sh) > 0.01:
        raise InputError(f"frames are {pw}x{ph} but the source {source} has {sw}x{sh} (another aspect ratio)",
                         path=processed, hint="give the original the processed frames were made from")


def _to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(rgb).to(device).permute(2, 0, 1)[None].float().div_(127.5).sub_(1.0)


@torch.inference_mode()
def _step(blend: FlowBlend, processed_frame, source_frame, device: torch.device) -> np.ndarray:
    processed = _to_tensor(processed_frame.rgb, device)
    source = _to_tensor(source_frame.rgb, device)
    if source.shape[-2:] != processed.shape[-2:]:
        source = F.interpolate(source, size=processed.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
    out = blend(source, processed)
    return out[0].add(1).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
