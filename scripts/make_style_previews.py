#!/usr/bin/env python
"""Make the bundled styles' preview sheets and the README's before/after picture from the project's own sample.

    .venv/bin/python scripts/make_style_previews.py

Writes `vidtoon/styles/bundled/NAME.png` for every bundled procedural and learned style (the input beside the output, three
scenes: one frame from each shot of clips/sample.mp4, which is made from public-domain photographs, see
clips/SOURCES.md) and `docs/images/styles.png` (a row per scene: the input, then every bundled style). Each
output is the style's translator on the full 480×270 frame (shown at half size), as `vidtoon restyle --to NAME` runs it per frame.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.io import read_frames
from vidtoon.io.images import write_image
from vidtoon.styles import list_styles, load_translator
from vidtoon.tiling import crop_to, pad_to_multiple

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "clips" / "sample.mp4"
SCENES = (12, 44, 80)  # one frame of each shot: the astronaut, the rocket, the coffee cup


def label(image: np.ndarray, text: str) -> np.ndarray:
    """A copy of H×W×3 uint8 `image` with `text` in its top-left corner (dark outline, white letters)."""
    out = image.copy()
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(out, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour, thickness, cv2.LINE_AA)
    return out


def small(image: np.ndarray, scale: float = 0.5) -> np.ndarray:
    """`image` shrunk by `scale` (area filter): previews ship inside the package, so they stay small."""
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def translate(translator, rgb: np.ndarray) -> np.ndarray:
    """One H×W×3 uint8 frame through a translator, padded to its size multiple as the pipeline pads (learned styles)."""
    x, size = pad_to_multiple(u8_to_unit(rgb[None]), getattr(translator, "size_multiple", 1))
    return unit_to_u8_numpy(crop_to(translator(x), size))[0]


@torch.inference_mode()
def main() -> None:
    frames = [frame.rgb for frame in read_frames(SAMPLE)]
    scenes = [frames[i] for i in SCENES]
    styles = [card for card in list_styles() if card.bundled and card.kind in ("procedural", "checkpoint")]
    columns = {"input": scenes}
    for card in styles:
        translator = load_translator(card=card, device="cpu", precision="fp32").translator
        columns[card.name] = [translate(translator, scene) for scene in scenes]
        sheet = np.vstack(
            [np.hstack([label(small(a), "input"), label(small(b), card.name)]) for a, b in zip(scenes, columns[card.name])]
        )
        write_image(card.path.with_suffix(".png"), sheet)
        print("wrote", card.path.with_suffix(".png"))
    grid = np.vstack(
        [np.hstack([label(small(column[row], 0.6), name) for name, column in columns.items()]) for row in range(len(scenes))]
    )
    target = REPO / "docs" / "images" / "styles.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_image(target, grid)
    print("wrote", target)


if __name__ == "__main__":
    main()
