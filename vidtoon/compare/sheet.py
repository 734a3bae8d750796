"""A comparison sheet (PNG or JPEG): columns are the source and the results, rows are times, every cell labelled.

Layout (pixels; `SheetLayout` computes it): a header band with each column's name on top, a column on the left
with each row's time, and `GAP` pixels around every cell. Every cell is `row_height` high and as wide as the
source's aspect ratio makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtoon.compare.inputs import Lineup, frame_at
from vidtoon.compare.labels import BAND_COLOUR, band_height, draw_labels, font_px, text_width
from vidtoon.errors import UsageError
from vidtoon.files import check_output, write_atomic
from vidtoon.io.images import resize, write_image
from vidtoon.progress import NoProgress, Progress

GAP = 4
BACKGROUND = (0, 0, 0)


def even_times(span: Fraction, count: int) -> list[Fraction]:
    """`count` evenly spaced times in [0, span): the middles of `count` equal parts."""
    return [span * (2 * k + 1) / (2 * count) for k in range(count)]


def time_label(time: Fraction, lineup: Lineup) -> str:
    """A row's label: "1.50 s" when a video gives the timing, "frame 12" for frame folders, "" for stills."""
    if lineup.still:
        return ""
    if any(entry.kind == "video" for entry in lineup.entries):
        return f"{float(time):.2f} s"
    return f"frame {int(time * lineup.fps)}"


@dataclass(frozen=True)
class SheetLayout:
    """Where everything goes on a sheet of `rows` × `cols` cells of `cell_width` × `row_height`.

    Attributes:
        label_width: width of the left column of row labels (0 when no row has one).
        header: height of the top band of column labels.
    """

    rows: int
    cols: int
    cell_width: int
    row_height: int
    label_width: int
    header: int

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the sheet."""
        width = self.label_width + self.cols * self.cell_width + (self.cols + 1) * GAP
        height = self.header + self.rows * self.row_height + (self.rows + 1) * GAP
        return width, height

    def cell(self, row: int, col: int) -> tuple[int, int]:
        """(x, y) of the top-left pixel of cell (row, col)."""
        return (
            self.label_width + GAP + col * (self.cell_width + GAP),
            self.header + GAP + row * (self.row_height + GAP),
        )


def plan_layout(lineup: Lineup, times: list[Fraction], row_height: int) -> SheetLayout:
    """The `SheetLayout` for `lineup` at `times` (one row each)."""
    aspect = lineup.entries[0].aspect
    cell_width = max(1, round(row_height * aspect))
    size = font_px(row_height)
    labels = [time_label(t, lineup) for t in times]
    label_width = max((text_width(text, size) for text in labels), default=0)
    return SheetLayout(
        rows=len(times),
        cols=len(lineup.entries),
        cell_width=cell_width,
        row_height=row_height,
        label_width=label_width + 2 * GAP if label_width else 0,
        header=band_height(row_height),
    )


def pick_times(lineup: Lineup, frames: int, at: list[Fraction] | None) -> list[Fraction]:
    """The sheet's row times: `at` (each checked to lie within the compared span) or `frames` evenly spaced ones."""
    if lineup.still:
        return [Fraction(0)]
    if at:
        for time in at:
            if time >= lineup.span:
                raise UsageError(
                    f"--at {float(time):g} is past the end of the compared frames ({float(lineup.span):.3f} s)",
                    hint=f"give times below {float(lineup.span):.3f}",
                )
        return list(at)
    return even_times(lineup.span, frames)


def render_sheet(lineup: Lineup, times: list[Fraction], row_height: int, progress: Progress | None = None) -> np.ndarray:
    """The sheet as H×W×3 uint8 (see the module doc); each cell holds the frame shown at its row's time."""
    progress = progress or NoProgress()
    layout = plan_layout(lineup, times, row_height)
    width, height = layout.size
    sheet = np.full((height, width, 3), BACKGROUND, np.uint8)
    sheet[: layout.header] = BAND_COLOUR
    labels = []
    progress.start(len(times) * len(lineup.entries), "sheet")
    for col, entry in enumerate(lineup.entries):
        x, _ = layout.cell(0, col)
        labels.append((entry.label, x, 0, x + layout.cell_width, layout.header, "centre"))
        for row, time in enumerate(times):
            x, y = layout.cell(row, col)
            rgb = frame_at(entry, time, lineup.fps)
            sheet[y : y + row_height, x : x + layout.cell_width] = resize(rgb, layout.cell_width, row_height)
            progress.advance()
    for row, time in enumerate(times):
        _, y = layout.cell(row, 0)
        if layout.label_width:
            labels.append((time_label(time, lineup), 0, y, layout.label_width, y + row_height, "right"))
    draw_labels(sheet, labels, font_px(row_height))
    return sheet


def write_sheet(
    output: Path,
    lineup: Lineup,
    times: list[Fraction],
    *,
    row_height: int,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Render the sheet and write it to `output` (.png, .jpg); nothing appears under that name on failure."""
    check_output(output, inputs=[entry.path for entry in lineup.entries], force=force)
    sheet = render_sheet(lineup, times, row_height, progress)
    return write_atomic(Path(output), lambda staged: write_image(staged, sheet))  # a full disk names `output`
