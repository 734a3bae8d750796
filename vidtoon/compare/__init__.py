"""`vidtoon compare`: results side by side for people to judge — sheets, comparison videos, a blind A/B page.

- `inputs`: the line-up (source and results) checked and timed; a frame at a given time.
- `sheet`: a PNG/JPEG sheet, columns = methods, rows = times.
- `video`: a side-by-side or wipe video with the source's timing and sound.
- `page`: the static blind A/B page folder (and its key.json).
- `tally`: the page's votes counted: win rates, Wilson intervals, Bradley–Terry.
- `labels`: text drawn with Pillow's built-in font.

`compare(results, output, source=...)` picks what to write from `output`: .png/.jpg a sheet, a video suffix
(.mp4 .mkv .mov .webm .avi .gif) a video, no suffix a page folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from vidtoon.checks import choice, whole_number
from vidtoon.compare.tally import Tally, bradley_terry, tally, wilson_interval
from vidtoon.errors import UsageError
from vidtoon.io.formats import FORMATS, EncodeOptions, check_encoding, check_picture_flags, check_quality_flags
from vidtoon.parsing import parse_time
from vidtoon.progress import Progress

__all__ = ["CompareOptions", "Tally", "bradley_terry", "compare", "output_kind", "tally", "wilson_interval"]

SHEET_SUFFIXES = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES = tuple(sorted(suffix for suffix in FORMATS if suffix != ".nut"))
KINDS = ("sheet", "video", "page")
MAX_FRAMES = 100


def output_kind(output: str | Path) -> str:
    """ "sheet", "video" or "page" from the output's name (UsageError for any other suffix)."""
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix in SHEET_SUFFIXES:
        return "sheet"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if not suffix or str(output).endswith(("/", "\\")) or path.is_dir():
        return "page"
    raise UsageError(
        f"unknown kind of output {suffix!r} ({path})",
        hint=f"use a sheet ({' '.join(SHEET_SUFFIXES)}), a video ({' '.join(VIDEO_SUFFIXES)}) or a folder name for a page",
    )


@dataclass(frozen=True)
class CompareOptions:
    """What `compare` draws, checked before any input is opened (a bad value raises `UsageError` naming the flag).

    Attributes:
        frames: rows of a sheet (evenly spaced times), 1 to 100.
        at: the sheet's row times instead (seconds as numbers or "HH:MM:SS.fff" strings; kept as Fractions).
        layout: a video's layout: "side" (side by side) or "wipe" (source | one result, a moving split).
        height: row height of a sheet (default 180), panel height of a video (default the source's, at most 720),
            clip height of a page (default 360); 16 to 4320.
        labels: the results' names (default their file stems), one per result.
        truncate: compare the common first frames when frame counts differ (else an error).
        seed: fixes the page's method ids (None: random).
        encode: a video output's encoder settings (a preset not given: `video.PRESET`); given for a sheet or a
            page, `compare` refuses them (they would change nothing).
    """

    frames: int = 4
    at: tuple[Fraction, ...] = ()
    layout: str = "side"
    height: int | None = None
    labels: tuple[str, ...] = ()
    truncate: bool = False
    seed: int | None = None
    encode: EncodeOptions = field(default_factory=EncodeOptions)

    def __post_init__(self) -> None:
        whole_number("--frames", self.frames, maximum=MAX_FRAMES)
        whole_number("--height", self.height, optional=True, minimum=16, maximum=4320)
        choice("--layout", self.layout, ("side", "wipe"))
        if len(self.at) > MAX_FRAMES:
            raise UsageError(f"--at gives {len(self.at)} times; at most {MAX_FRAMES}")
        object.__setattr__(self, "at", tuple(_seconds(time) for time in self.at))


def _seconds(time: Fraction | float | str) -> Fraction:
    """A time of `--at` as exact seconds (Fractions as they are, numbers and "1:02.5" strings parsed); ≥ 0."""
    if isinstance(time, Fraction):
        if time < 0:
            raise UsageError(f"--at time {float(time):g} is negative", hint="times count from the start of the video")
        return time
    return parse_time(time, flag="--at")


def _check_options_fit(kind: str, output: Path, options: CompareOptions) -> None:
    """UsageError for an option the chosen kind of output would not use (it was silently ignored)."""
    unused = {
        "sheet": {"--layout": options.layout != "side", "--seed": options.seed is not None},
        "video": {
            "--frames": options.frames != CompareOptions.frames,
            "--at": bool(options.at),
            "--seed": options.seed is not None,
        },
        "page": {
            "--frames": options.frames != CompareOptions.frames,
            "--at": bool(options.at),
            "--layout": options.layout != "side",
        },
    }[kind]
    given = [flag for flag, on in unused.items() if on]
    if kind == "sheet" and options.at and options.frames != CompareOptions.frames:
        raise UsageError(
            f"--frames {options.frames} and --at both choose the sheet's rows",
            hint="give one: N evenly spaced times, or the times",
        )
    if given:
        what = {"sheet": "a sheet", "video": "a video", "page": "an A/B page"}[kind]
        goes = {"--frames": "a sheet", "--at": "a sheet", "--layout": "a video", "--seed": "an A/B page"}
        raise UsageError(
            f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not used for {what} ({output}): "
            + "; ".join(f"{flag} goes with {goes[flag]}" for flag in given),
            hint=f"leave {'it' if len(given) == 1 else 'them'} out, or name the output for what it goes with (sheet.png, cmp.mp4, page/)",
        )


def compare(
    results: list[str | Path] | str | Path,
    output: str | Path,
    *,
    source: str | Path | None = None,
    options: CompareOptions = CompareOptions(),
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write a comparison of `results` (against `source`) to `output`: a sheet, a video or an A/B page (by its name).

    Args:
        results: the results to show (videos, images or frame folders), in order; one path alone is one result.
        output: `.png`/`.jpg` a sheet, a video suffix a video, no suffix a page folder.
        source: the original, shown first (a wipe's other side).
        options: what is drawn (`CompareOptions`: `--frames`, `--at`, `--layout`, `--height`, `--label`, ...).
        progress: receives one step per frame of a video (`vidtoon.progress.Progress`); None: silent.

    Returns:
        The written sheet, video or page folder.

    Raises:
        UsageError: an unknown kind of output, bad options, an option that kind of output does not use (`at` for a
            video, `layout` for a sheet, ...), a page with fewer than two results, a wipe that is not source + one result.
        InputError: an input is missing or unreadable, aspect ratios or (without `options.truncate`) lengths differ.
        OutputError: the output exists (without `force`) or is an input.
    """
    from vidtoon.compare.inputs import make_lineup

    results = [results] if isinstance(results, (str, os.PathLike)) else list(results)  # not its characters
    kind = output_kind(output)
    output = Path(output)
    _check_options_fit(kind, output, options)
    if kind == "page" and len(results) < 2:
        raise UsageError(f"an A/B page compares at least two results; got {len(results)}", hint="give two or more results")
    if kind == "video" and options.layout == "wipe" and (source is None or len(results) != 1):
        raise UsageError(
            f"--layout wipe shows the source and ONE result; got {len(results)} result(s){'' if source else ' and no --source'}",
            hint="give --source and one result, or use --layout side",
        )
    if kind == "video":
        check_encoding(output, options.encode)  # --pix-fmt for the video's encoder, before any input is opened
        check_quality_flags(output, options.encode)  # a --crf or --preset the encoder has not (GIF, VP9)
    elif kind == "sheet":  # the encoder's flags would change nothing: refused before any input is opened
        check_picture_flags(output, options.encode, what="a sheet (one picture)")
    else:
        check_picture_flags(output, options.encode, what="an A/B page", how="its clips encoded small at fixed settings")
    lineup = make_lineup(
        [Path(p) for p in results],
        source=Path(source) if source is not None else None,
        labels=list(options.labels) or None,
        truncate=options.truncate,
    )
    if kind == "sheet":
        from vidtoon.compare.sheet import pick_times, write_sheet

        times = pick_times(lineup, options.frames, list(options.at) or None)
        return write_sheet(output, lineup, times, row_height=options.height or 180, force=force, progress=progress)
    if kind == "video":
        from vidtoon.compare.video import write_video

        return write_video(
            output, lineup, layout=options.layout, height=options.height, options=options.encode, force=force, progress=progress
        )
    from vidtoon.compare.page import PAGE_HEIGHT, write_page

    return write_page(output, lineup, height=options.height or PAGE_HEIGHT, seed=options.seed, force=force, progress=progress)
