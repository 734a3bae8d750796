"""The generator a fresh cartoon run starts from (`CartoonConfig.init_from`): an installed style, or a `.safetensors`
file written by `vidtoon export`.

Fine-tuning a trained look (a bundled style on your own photos, or a GPU run continuing what a CPU run learned)
takes a fraction of the steps of a start from random weights. The file is checked from its header (its model card:
the architecture must be the run's) before any data loads, and read with its digest verified when the trainer is
built. A resumed run continues from its own checkpoint and never reads it again.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from vidtoon.errors import UsageError
from vidtoon.models.card import read_card
from vidtoon.parsing import setting_word


def init_checkpoint(init_from: str, family: str, kwargs: dict[str, Any]) -> Path:
    """The checkpoint `init_from` names (a style name or a `.safetensors` path), checked to hold a `family` generator
    built with `kwargs`.

    Raises:
        UsageError: an unknown style, a style without weights, or another architecture (the hint gives the `--set`
            flags that match the file); InputError: a missing, damaged or foreign file.
    """
    path = _named_file(init_from)
    card = read_card(path)  # the header alone: a damaged or foreign file is refused here
    theirs = _with_defaults(card.family, card.kwargs)
    ours = _with_defaults(family, kwargs)
    if card.family != family or theirs != ours:
        same_family = card.family == family  # another family: its arguments say nothing more
        different = sorted(key for key in set(theirs) | set(ours) if theirs.get(key) != ours.get(key)) if same_family else []
        flags = " ".join(f"--set {key}={setting_word(theirs[key])}" for key in different if key in theirs)
        raise UsageError(
            f"--init-from {init_from}: its generator is {_describe(card.family, theirs, different)}, this run's is "
            f"{_describe(family, ours, different)}",
            hint=f"train the same generator ({flags})" if same_family and flags else "start from random weights",
        )
    return path


def _named_file(init_from: str) -> Path:
    """The file of a style name or a path (a path: an existing file, a `.safetensors` name or anything with a folder in
    it; style names may hold dots)."""
    given = Path(init_from).expanduser()
    if given.is_file() or given.suffix.lower() == ".safetensors" or len(given.parts) > 1:
        return given  # read_card says what is wrong with it
    from vidtoon.styles.cards import find_style  # a style name: the installed styles' cards

    try:
        style = find_style(init_from)  # an unknown name lists the installed ones
    except UsageError as exc:  # its hint is restyle's (--model FILE), a flag `train` does not have
        raise UsageError(
            f"--init-from {init_from}: {exc.what}",
            hint="give a learned style's name (`vidtoon styles` lists them) or a .safetensors file from `vidtoon export`",
        ) from None
    if style.kind != "checkpoint" or style.checkpoint is None or style.checkpoint.suffix.lower() != ".safetensors":
        raise UsageError(
            f"--init-from {init_from}: the {init_from!r} style is {style.kind}, not a generator vidtoon trained",
            hint="start from a learned style (`vidtoon styles` lists them) or a .safetensors file from `vidtoon export`",
        )
    return style.checkpoint


def _with_defaults(family: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A family's constructor arguments with its defaults filled in (a card may leave out what was the default)."""
    from vidtoon.models.catalog import get_family  # imports torch: only once the name and header are known good

    build = get_family(family).build
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(build).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    return defaults | dict(kwargs)


def _describe(family: str, kwargs: dict[str, Any], keys: list[str]) -> str:
    return f"{family} ({', '.join(f'{key} {kwargs.get(key)}' for key in keys)})" if keys else family
