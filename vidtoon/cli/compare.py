"""`vidtoon compare`: sheets, side-by-side and wipe videos, the blind A/B page, and the tally of its votes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vidtoon.cli.app import CrfOption, ForceOption, PixFmtOption, app, done, encode_options, table_console
from vidtoon.cli.progress import RichProgress


@app.command(
    epilog="Examples:\n\n"
    "vidtoon compare toon.mp4 sketch.mp4 --source film.mp4 -o sheet.png   (columns: source, toon, sketch; 4 rows)\n\n"
    "vidtoon compare toon.mp4 sketch.mp4 --source film.mp4 -o side.mp4\n\n"
    "vidtoon compare toon.mp4 sketch.mp4 paint.mp4 --source film.mp4 -o study/   (then: --tally votes/*.json)"
)
def compare(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="Results to compare (videos, images or frame folders); with --tally, the vote files."),
    ] = None,
    source: Annotated[Path | None, typer.Option("--source", help="The original the results were made from.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="sheet.png (or .jpg), cmp.mp4 (any video suffix) or page/ (a folder: the A/B page)."),
    ] = None,
    frames: Annotated[int, typer.Option("--frames", help="Rows of a sheet: this many evenly spaced times.")] = 4,
    at: Annotated[str | None, typer.Option("--at", help="Rows of a sheet at these times instead, e.g. 1.5,3,7.2.")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="A result's name (repeat, one per result, in order).")
    ] = None,
    layout: Annotated[
        str, typer.Option("--layout", help="Video layout: side (side by side) or wipe (source | one result).")
    ] = "side",
    height: Annotated[
        int | None,
        typer.Option("--height", help="Row height of a sheet (180), panel height of a video, clip height of a page (360)."),
    ] = None,
    truncate: Annotated[bool, typer.Option("--truncate", help="Frame counts differ: compare the common first frames.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Fix the page's hidden method ids (default: random).")] = None,
    tally: Annotated[bool, typer.Option("--tally", help="Count the votes in the JSON files given (from the A/B page).")] = False,
    key: Annotated[Path | None, typer.Option("--key", help="With --tally: the page's key.json, to name the methods.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --tally: print JSON instead of a table.")] = False,
    crf: CrfOption = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="x264 speed preset of a video: ultrafast … veryslow (default veryfast).")
    ] = None,
    pix_fmt: PixFmtOption = None,
    force: ForceOption = False,
) -> None:
    """Put results side by side for people to judge: a sheet, a side-by-side or wipe video, or a blind A/B page."""
    from vidtoon.errors import UsageError

    if tally:
        if output is not None or source is not None:
            raise UsageError("--tally counts votes and writes nothing: -o and --source go with results to compare")
        _print_tally(list(inputs or []), key, as_json)
        return
    if key is not None or as_json:
        raise UsageError("--key and --json go with --tally VOTES.json", hint="add --tally to count an A/B page's votes")
    if output is None:
        raise UsageError("no output given", hint="give -o sheet.png, -o cmp.mp4 or -o page/ (or --tally votes.json)")
    from vidtoon.compare import CompareOptions
    from vidtoon.compare import compare as run_compare
    from vidtoon.parsing import parse_time

    times = tuple(parse_time(part, flag="--at") for part in at.split(",")) if at else ()
    options = CompareOptions(
        frames=frames,
        at=times,
        layout=layout,
        height=height,
        labels=tuple(label or ()),
        truncate=truncate,
        seed=seed,
        encode=encode_options(crf, preset, pix_fmt),
    )
    with RichProgress("frames/s") as progress:
        out = run_compare(list(inputs or []), output, source=source, options=options, force=force, progress=progress)
    done(f"wrote {out}")


def _print_tally(files: list[Path], key: Path | None, as_json: bool) -> None:
    from vidtoon.compare import tally

    result = tally(files, key=key)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    title = f"study {result.study}: {result.votes} votes from {result.raters} rater(s) in {result.files} file(s)"
    table = Table("question", "rank", "method", "wins", "win rate", "95 % CI (Wilson)", "BT strength", title=title)
    question = None
    for score in result.scores:
        name = score.question + (" *" if score.question in result.regularised else "")
        table.add_row(
            name if score.question != question else "",
            str(score.rank),
            score.method,
            f"{score.wins}/{score.trials}",
            f"{score.rate:.0%}",
            f"{score.low:.0%} – {score.high:.0%}",
            f"{score.strength:.3f}",
            end_section=False,
        )
        question = score.question
    table_console().print(table)
    if result.regularised:
        table_console().print("* a method never lost or never won there: Bradley–Terry with 0.5 pseudo-wins each way per pair")
