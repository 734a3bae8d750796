"""Job lists: a YAML file, a text file of paths, a folder and a glob, one film, or a list of dicts -> entries to check.

A YAML job list has `defaults:` (settings every job starts from) and `jobs:` (each a `source`, an optional
`output` and its own settings). Settings are `vidtoon restyle`'s flags without their dashes (`to`, `model`,
`like`, `height`, `consistency`, `strength`, `crf`, `preset`, ...; `-` and `_` both work), or the names of
`RestyleOptions` fields. Relative paths (sources, outputs, `model`, `like`, `flow_weights`) count from the job
file's folder. A folder's jobs are its files matching a glob, less vidtoon's own outputs (`folder_sources`). Reading
does no checking beyond the shape of the file: `vidtoon.batch.check` checks the jobs.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vidtoon.errors import InputError, UsageError, VidtoonError
from vidtoon.io.paths import VIDEO_SUFFIXES
from vidtoon.parsing import first_few
from vidtoon.restyle.options import RestyleOptions

# settings that pick the style (passed to `resolve_style`)
STYLE_KEYS = ("to", "model", "like", "like_strength", "style_opt")
# settings that become `EncodeOptions`
ENCODE_KEYS = ("crf", "preset", "pix_fmt")
# settings that become `RestyleOptions` fields (the CLI's `--to-label` is the field `label`): all of them
OPTION_KEYS = tuple(f.name for f in fields(RestyleOptions) if f.name != "encode")
# settings of the run itself (passed to `vidtoon.restyle`)
RUN_KEYS = ("max_pixels",)
SETTING_KEYS = STYLE_KEYS + ENCODE_KEYS + OPTION_KEYS + RUN_KEYS
_ALIASES = {"to_label": "label", "compile_model": "compile"}
_PATH_KEYS = ("model", "like", "flow_weights")

log = logging.getLogger(__name__)


@dataclass
class Entry:
    """One job as written, before checking.

    Attributes:
        number: the job's place in the list, counting from 1 (how error lines name it).
        source: the source as written (for messages); `path` is it resolved against the list's folder.
        output: the output resolved against the list's folder, or None (named by the check).
        settings: the job's settings over the list's defaults over the caller's, keys normalised; paths resolved.
        problems: what is wrong with the entry's shape (unknown keys, no source).
        own: the settings the job's own line (or dict) gives, not the list's `defaults:` nor the caller's.
    """

    number: int
    source: str
    path: Path | None
    output: Path | None
    settings: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    own: frozenset[str] = frozenset()


@dataclass
class JobList:
    """The entries of a job list and where it came from.

    Attributes:
        name: how error lines name the list (the file's name, or "jobs").
        folder: where relative paths count from.
        file: the job file or folder (None for a list of dicts): the report goes next to it.
    """

    name: str
    folder: Path
    file: Path | None
    entries: list[Entry]


def read_job_list(
    jobs: str | Path | list[dict[str, Any]],
    *,
    settings: dict[str, Any] | None = None,
    glob: str | None = None,
    exclude: Iterable[str | Path] = (),
) -> JobList:
    """Read `jobs` (a .yaml/.yml file, a text file of paths, a folder with `glob`, a video: one job, or a list of dicts)
    into entries.

    `settings` (the command line's) apply to every job; a YAML list's `defaults:` and each job's keys override them.
    A folder's files matching `glob` are its jobs, less vidtoon's own outputs (`folder_sources`): those in `exclude`
    (what an earlier run's report lists, the report itself) and restyles of the folder's other files.

    Raises:
        InputError: the file or folder is missing or unreadable, or the YAML is malformed.
        UsageError: the list's shape is wrong (no `jobs:`, a folder without `--glob`, unknown default settings).
    """
    base, problems = _normalise(settings or {}, where="settings")
    if problems:
        raise UsageError(problems[0])
    base = _resolve_paths(base, Path.cwd())  # absolute: a Ray worker runs elsewhere
    if isinstance(jobs, (list, tuple)):
        return JobList("jobs", Path.cwd(), None, [_entry(i, raw, base, Path.cwd()) for i, raw in enumerate(jobs, 1)])
    path = Path(jobs)
    if path.is_dir():
        if not glob:
            raise UsageError(f"{path} is a folder: say which files are jobs with --glob", hint="e.g. --glob '*.mp4'")
        sources = folder_sources(path, glob, style_names(base), exclude=exclude)
        entries = [_entry(i, {"source": str(p.relative_to(path))}, base, path) for i, p in enumerate(sources, 1)]
        return JobList(path.name, path, path, entries)
    if glob:
        raise UsageError("--glob goes with a folder of sources", hint=f"{path} is not a folder")
    if path.suffix.lower() in VIDEO_SUFFIXES:  # one film (`vidtoon batch film.mp4 --workers 8`: its chunks in parallel)
        folder = path.resolve().parent
        return JobList(path.name, folder, path, [_entry(1, {"source": path.name}, base, folder)])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("job list not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the job list ({exc})", path=path) from None
    folder = path.resolve().parent
    if path.suffix.lower() in (".yaml", ".yml"):
        defaults, raw_jobs = _read_yaml(text, path)
        merged, problems = _normalise(defaults, where=f"{path.name}: defaults")
        if problems:
            raise UsageError("; ".join(problems), path=path)
        base = _merge(base, _resolve_paths(merged, folder))
        entries = [_entry(i, raw, base, folder) for i, raw in enumerate(raw_jobs, 1)]
    else:
        lines = [_without_comment(line, folder) for line in text.splitlines()]
        entries = [_entry(i, {"source": line}, base, folder) for i, line in enumerate((s for s in lines if s), 1)]
    if not entries:
        raise UsageError("the job list holds no jobs", path=path)
    return JobList(path.name, folder, path, entries)


def folder_sources(folder: Path, glob: str, styles: Iterable[str], *, exclude: Iterable[str | Path] = ()) -> list[Path]:
    """The files of `folder` matching `glob`, sorted, less vidtoon's own outputs: those in `exclude`, and those named
    as `vidtoon restyle` names a restyle of another matching file in one of `styles` (NAME.STYLE.mp4 beside NAME.mp4),
    so that running a folder batch again does not take its outputs for new films.

    Raises:
        InputError: no file matches, or only vidtoon's outputs do.
    """
    from vidtoon.restyle.check import default_output

    files = sorted(p for p in folder.glob(glob) if p.is_file())
    present = set(files)
    made = {Path(p).resolve() for p in exclude}
    outputs = {out for f in files for style in styles if (out := default_output(f, style)) in present and out != f}
    left_out = [p for p in files if p in outputs or p.resolve() in made]
    sources = [p for p in files if p not in left_out]
    if left_out:
        shown = first_few([p.name for p in left_out])
        log.info("%s: left out %d file(s) vidtoon made (not sources): %s", folder, len(left_out), shown)
    if not sources:
        besides = f" besides {len(left_out)} file(s) vidtoon made" if left_out else ""
        raise InputError(f"no file matches {glob!r}{besides}", path=folder, hint="check the pattern, e.g. --glob '*.mp4'")
    return sources


def style_names(settings: dict[str, Any]) -> set[str]:
    """The names outputs of a folder batch may carry (film.NAME.mp4): the style `settings` pick and every installed one."""
    from vidtoon.styles import list_styles, reference_card

    names = set()
    if isinstance(settings.get("to"), str):
        names.add(settings["to"])
    if isinstance(settings.get("model"), (str, Path)):
        names.add(Path(settings["model"]).stem)  # as `resolve_style` names a --model file
    if isinstance(settings.get("like"), (str, Path)):
        names.add(reference_card(settings["like"]).name)
    try:
        names |= {card.name for card in list_styles()}
    except VidtoonError:  # a broken style card: the check names it
        pass
    return names


def _read_yaml(text: str, path: Path) -> tuple[dict[str, Any], list[Any]]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({' '.join(str(exc).split())})", path=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise UsageError("a YAML job list needs a `jobs:` list", path=path, hint="jobs: [{source: film.mp4, to: sketch}]")
    unknown = sorted(set(data) - {"defaults", "jobs"})
    if unknown:
        raise UsageError(f"unknown top-level key(s) {unknown}", path=path, hint="a job list has `defaults:` and `jobs:`")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise UsageError("`defaults:` must be a mapping of settings", path=path)
    return defaults, data["jobs"]


def _entry(number: int, raw: Any, base: dict[str, Any], folder: Path) -> Entry:
    if isinstance(raw, str):
        raw = {"source": raw}
    if not isinstance(raw, dict):
        return Entry(number, "?", None, None, {}, [f"a job must be a mapping with a `source`, got {raw!r}"])
    raw = dict(raw)
    source = raw.pop("source", None)
    output = raw.pop("output", None)
    own, problems = _normalise(raw, where="")
    entry = Entry(
        number,
        str(source) if source is not None else "?",
        None,
        None,
        _merge(base, _resolve_paths(own, folder)),
        problems,
        own=frozenset(own),
    )
    if not isinstance(source, (str, Path)) or not str(source).strip():
        entry.problems.append("no `source` given")
    else:
        entry.path = _resolve(source, folder)
    if output is not None:
        if not isinstance(output, (str, Path)) or not str(output).strip():
            entry.problems.append(f"`output` must be a file name, got {output!r}")
        else:
            entry.output = _resolve(output, folder)
    return entry


def _without_comment(line: str, folder: Path) -> str:
    """A text list's line less its comment (`#` at its start or after a space), unless the whole line names an existing
    file: `Episode #1.mp4` is a film, not `Episode` and a comment."""
    whole = line.strip()
    if whole and not whole.startswith("#") and _resolve(whole, folder).is_file():
        return whole
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def _merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """`own` over `base`; a style chosen in `own` (`to`, `model` or `like`) replaces the style settings of `base`."""
    if any(own.get(key) is not None for key in ("to", "model", "like")):
        base = {k: v for k, v in base.items() if k not in STYLE_KEYS}
    return {**base, **own}


def _normalise(settings: dict[str, Any], *, where: str) -> tuple[dict[str, Any], list[str]]:
    """Keys with `-` as `_`, aliases resolved; unknown keys become problems."""
    values, problems = {}, []
    for key, value in settings.items():
        name = str(key).strip().replace("-", "_")
        name = _ALIASES.get(name, name)
        if name not in SETTING_KEYS:
            prefix = f"{where}: " if where else ""
            close = difflib.get_close_matches(name, SETTING_KEYS, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{prefix}unknown setting {key!r}{guess}; known: {', '.join(SETTING_KEYS)}")
            continue
        values[name] = value
    return values, problems


def _resolve_paths(settings: dict[str, Any], folder: Path) -> dict[str, Any]:
    return {k: (str(_resolve(v, folder)) if k in _PATH_KEYS and isinstance(v, (str, Path)) else v) for k, v in settings.items()}


def _resolve(path: str | Path, folder: Path) -> Path:
    """`path` as written in a job list in `folder`, made absolute (a Ray worker runs in another folder) without `..`
    steps (so messages name `clips/film.mp4`, not `jobs/../clips/film.mp4`)."""
    path = Path(path).expanduser()
    return Path(os.path.abspath(path if path.is_absolute() else folder / path))
