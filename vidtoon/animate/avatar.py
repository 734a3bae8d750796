"""The avatar: the still face restyled once (`--to STYLE`, `--model FILE` or `--like IMAGE`) before it is animated."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def restyle_still(
    rgb: np.ndarray,
    *,
    style: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    device: str = "auto",
) -> np.ndarray:
    """The still (H×W×3 uint8 RGB) in the chosen style, same size: any style kind (learned, procedural, `--like`).

    Returns `rgb` itself when no style is chosen.

    Raises:
        UsageError: an unknown style, more than one of style/model/like, a bad model file.
    """
    if style is None and model is None and like is None:
        return rgb
    from vidtoon.restyle import make_restyler
    from vidtoon.restyle.options import RestyleOptions
    from vidtoon.styles import load_translator, resolve_style

    card = resolve_style(style=style, model=model, like=like)
    loaded = load_translator(card=card, device=device)
    options = RestyleOptions.from_style(card.defaults, device=device, consistency="none")
    still = make_restyler(loaded.translator, options)
    return np.ascontiguousarray(still([rgb])[0])
