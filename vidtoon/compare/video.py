"""Comparison videos: the inputs side by side, or a wipe (a moving split between the source and one result).

The timing base (the source, else the first result) gives every frame's time and the sound: the output has its
timestamps and its audio packets. Frames are read in step, one at a time from each input, so memory stays flat
however long the film. A label band on top names each panel.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtoon.compare.inputs import Lineup
from vidtoon.compare.labels import BAND_COLOUR, band_height, draw_labels, font_px
from vidtoon.errors import UsageError
from vidtoon.files import check_output
from vidtoon.io.aligned import frames_at_size
from vidtoon.io.audio import AudioSource
from vidtoon.io.formats import EncodeOptions, check_encoding
from vidtoon.io.writer import VideoWriter
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import zip_in_step

LAYOUTS = ("side", "wipe")
WIPE_PERIOD = Fraction(4)  # seconds for the split to sweep right, left and back to the middle
WIPE_REACH = 0.4  # the split moves between 10 % and 90 % of the width
SPLIT_COLOUR = (255, 255, 255)
PRESET = "veryfast"  # x264's preset when none is given (with CRF 18 unless --crf): quick to write, for watching


def wipe_split(time: Fraction, width: int) -> int:
    """Column where the wipe's result starts at `time`: a triangle wave from the middle, 10 %–90 % of `width`."""
    phase = float(time / WIPE_PERIOD) % 1.0
    triangle = 4 * phase if phase < 0.25 else 2 - 4 * phase if phase < 0.75 else 4 * phase - 4
    return round(width * (0.5 + WIPE_REACH * triangle))


def panel_size(lineup: Lineup, height: int | None) -> tuple[int, int]:
    """(width, height) of one panel: `height` (default: the timing base's, at most 720), even, at the source's aspect."""
    base = lineup.entries[0]
    height = height or min(base.size[1], 720)
    height = max(2, height - height % 2)
    width = max(2, round(height * base.aspect / 2) * 2)
    return width, height


def side_by_side(panels: list[np.ndarray], labels: list[str], band: int) -> np.ndarray:
    """Panels (each h×w×3 uint8, one size) next to each other under a band of labels: (band + h)×(n·w)×3 uint8."""
    height, width = panels[0].shape[:2]
    canvas = np.empty((band + height, width * len(panels), 3), np.uint8)
    canvas[:band] = BAND_COLOUR
    for i, panel in enumerate(panels):
        canvas[band:, i * width : (i + 1) * width] = panel
    boxes = [(label, i * width, 0, (i + 1) * width, band, "centre") for i, label in enumerate(labels)]
    draw_labels(canvas, boxes, font_px(height))
    return canvas


def wipe(source: np.ndarray, result: np.ndarray, split: int, labels: tuple[str, str], band: int) -> np.ndarray:
    """`source` left of column `split`, `result` from it on (a 2-pixel line on the split), under a band of labels."""
    height, width = source.shape[:2]
    canvas = np.empty((band + height, width, 3), np.uint8)
    canvas[:band] = BAND_COLOUR
    canvas[band:, :split] = source[:, :split]
    canvas[band:, split:] = result[:, split:]
    if 0 < split < width:
        canvas[band:, max(0, split - 1) : split + 1] = SPLIT_COLOUR
    draw_labels(
        canvas,
        [(f"< {labels[0]}", 0, 0, width // 2, band, "left"), (f"{labels[1]} >", width // 2, 0, width, band, "right")],
        font_px(height),
    )
    return canvas


def write_video(
    output: Path,
    lineup: Lineup,
    *,
    layout: str = "side",
    height: int | None = None,
    options: EncodeOptions = EncodeOptions(),
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write the comparison video (see the module doc) to `output` (.mp4 .mkv .mov .webm .avi .gif), encoded with
    `options` (x264 at `PRESET` when they give no preset).

    Raises:
        UsageError: stills (a video needs sequences); a wipe without exactly a source and one result.
    """
    if lineup.still:
        raise UsageError("still images make a sheet, not a video", hint="write a .png with -o")
    if layout == "wipe" and (not lineup.has_source or len(lineup.results) != 1):
        raise UsageError(
            f"--layout wipe shows the source and ONE result; got {'a source and ' if lineup.has_source else 'no source and '}"
            f"{len(lineup.results)} result(s)",
            hint="give --source and one result, or use --layout side",
        )
    inputs = [entry.path for entry in lineup.entries]
    check_output(output, inputs=inputs, force=force)
    check_encoding(output, options)
    options = options.or_preset(PRESET)
    width, panel_height = panel_size(lineup, height)
    band = band_height(panel_height)
    base = lineup.entries[0]
    info = base.info if base.kind == "video" else None
    audio = AudioSource(base.path, end=lineup.span if lineup.truncated else None) if info is not None and info.audio else None
    streams = [
        frames_at_size(entry.path, lineup.frames, entry.size, (width, panel_height), fps=lineup.fps) for entry in lineup.entries
    ]
    labels = [entry.label for entry in lineup.entries]
    progress = progress or NoProgress()
    progress.start(lineup.frames, f"comparing into {Path(output).name}")
    try:
        with VideoWriter(
            output,
            fps=lineup.fps,
            time_base=info.time_base if info is not None else 1 / lineup.fps,
            options=options,
            audio=audio,
            inputs=inputs,
            force=force,
        ) as writer:
            for frames in zip_in_step(*streams):
                panels = [frame.rgb for frame in frames]
                time = frames[0].time
                if layout == "wipe":
                    canvas = wipe(panels[0], panels[1], wipe_split(time, width), (labels[0], labels[1]), band)
                else:
                    canvas = side_by_side(panels, labels, band)
                writer.write(canvas, time)
                progress.advance()
    finally:
        for stream in streams:
            stream.close()
    return writer.path
