"""`stabilize`: blind temporal consistency for any per-frame-processed video or frame folder.

Given the processed frames (colourised, enhanced, stylised by any tool) and the original they
came from, the flow-guided temporal stage removes the flicker the per-frame processing added:
flow is computed on the original, the processed frames are blended along it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from vidtoon.checks import choice, device_name, flow_name, number_in
from vidtoon.device import resolve_device
from vidtoon.files import check_output
from vidtoon.flow import make_flow
from vidtoon.flow.base import frames_to_tensor, to_rgb_u8
from vidtoon.io.aligned import check_size, common_frame_count, first_frame_size, frames_at_size
from vidtoon.io.audio import AudioSource
from vidtoon.io.formats import FORMATS
from vidtoon.io.images import check_output_folder, list_images, write_image_folder
from vidtoon.io.probe import probe
from vidtoon.io.reader import Frame
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.parsing import parse_rate
from vidtoon.progress import NoProgress, Progress
from vidtoon.settings import DEFAULT_STRENGTH, FLOW_PRESETS
from vidtoon.streaming import prefetch, zip_in_step
from vidtoon.temporal import FlowBlend


@dataclass(frozen=True)
class StabilizeOptions:
    """How `stabilize` blends, checked when made (a bad value raises `UsageError` naming the flag).

    Attributes:
        strength: weight of the warped previous output where the flow is trusted, in [0, 1).
        flow: "dis", "farneback" or "raft"; flow_preset: DIS's preset; flow_weights: RAFT's weights file.
        device: "auto", "cpu", "cuda" or "cuda:N".
        fps: frame rate of a video made from a frame folder (an exact Fraction).
    """

    strength: float = DEFAULT_STRENGTH
    flow: str = "dis"
    flow_preset: str = "fast"
    flow_weights: str | None = None
    device: str = "auto"
    fps: Fraction | float | str = 25

    def __post_init__(self) -> None:
        number_in("--strength", self.strength, 0.0, 1.0, high_open=True, hint=f"{DEFAULT_STRENGTH} is the default")
        flow_name("--flow", self.flow)
        choice("flow preset", self.flow_preset, FLOW_PRESETS)
        device_name("--device", self.device)
        object.__setattr__(self, "fps", parse_rate(self.fps, flag="--fps"))


def default_stabilize_output(processed: Path) -> Path:
    """out.mp4 -> out.stable.mp4; frames/ -> frames.stable/."""
    if processed.is_dir():
        return processed.resolve().with_name(processed.resolve().name + ".stable")
    suffix = processed.suffix.lower() if processed.suffix.lower() in (".mp4", ".mkv", ".mov", ".webm") else ".mp4"
    return processed.with_name(f"{processed.stem}.stable{suffix}")


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
    fps: str | float | Fraction = 25,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Remove per-frame flicker from `processed` using the motion of `source` (videos or frame folders).

    The output is a video when its suffix is a video type (.mp4, .mkv, …): from a processed video it
    keeps that video's timestamps, sound and metadata; from a folder it plays at `fps`. Any other
    output is a folder of PNGs (named after the processed images, or 000000.png … from a video),
    appearing whole when done. The source may differ from the processed frames in size but not in
    aspect ratio: it is resized to them for the flow.
    """
    progress = progress or NoProgress()
    settings = StabilizeOptions(
        strength=strength, flow=flow, flow_preset=flow_preset, flow_weights=flow_weights, device=device, fps=fps
    )
    fps = settings.fps
    processed, source = Path(processed), Path(source)
    output = Path(output) if output is not None else default_stabilize_output(processed)
    to_folder = output.suffix.lower() not in FORMATS
    if to_folder:
        check_output_folder(output, inputs=(processed, source), force=force)
    else:
        check_output(output, inputs=(processed, source), force=force)
    paths = {"processed": processed, "source": source}
    total, _ = common_frame_count(paths, truncate=truncate)
    size, source_size = first_frame_size(processed), first_frame_size(source)
    check_size("source", source, source_size, processed, size, base_role="processed video")
    torch_device = resolve_device(device)
    blend = FlowBlend(make_flow(flow, preset=flow_preset, weights=flow_weights, device=torch_device), strength=strength)

    def stabilized() -> Iterator[tuple[Frame, np.ndarray]]:
        """(processed frame, its stabilized H×W×3 uint8 RGB); reading starts once the output is known to be writable."""
        # flow runs on the source at the processed frames' size: the output keeps the processed size
        pairs = zip_in_step(frames_at_size(processed, total, size, size), frames_at_size(source, total, source_size, size))
        for processed_frame, source_frame in prefetch(pairs, depth=8):
            yield processed_frame, _step(blend, processed_frame.rgb, source_frame.rgb)

    progress.start(total, processed.name)
    if to_folder:  # a folder of PNGs, named after the processed files when it is a folder
        names = [f"{path.stem}.png" for path in list_images(processed)] if processed.is_dir() else None
        images = ((names[frame.index] if names else f"{frame.index:06d}.png", rgb) for frame, rgb in stabilized())
        return write_image_folder(output, images, inputs=(processed, source), force=force, progress=progress)
    check_output(output, inputs=(processed, source), force=force)
    info = None if processed.is_dir() else probe(processed)
    with VideoWriter(
        output,
        fps=info.fps if info and info.fps else fps,
        time_base=info.time_base if info else None,
        options=options,
        audio=AudioSource(processed) if info else None,
        metadata=info.metadata if info else None,
        inputs=(processed, source),
        force=force,
    ) as writer:
        for frame, rgb in stabilized():
            writer.write(rgb, frame.time if info else Fraction(frame.index) / fps)
            progress.advance()
    return writer.path


@torch.inference_mode()
def _step(blend: FlowBlend, processed_u8: np.ndarray, source_u8: np.ndarray) -> np.ndarray:
    """One frame: H×W×3 uint8 processed and source (same size) -> the stabilized H×W×3 uint8 frame.

    The stage runs on the CPU whatever the flow backend's device (see `vidtoon.temporal.FlowBlend`).
    """
    return to_rgb_u8(blend(frames_to_tensor([source_u8]), frames_to_tensor([processed_u8])))[0]
