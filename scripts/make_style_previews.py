#!/usr/bin/env python
"""Make the bundled styles' preview sheets and the README's before/after picture from the project's own sample.

    .venv/bin/python scripts/make_style_previews.py              # every bundled style's preview, and the grid
    .venv/bin/python scripts/make_style_previews.py --only anime # one style's preview (and the grid)

Writes `vidtoon/styles/bundled/NAME.png` for every bundled procedural and learned style (the input beside the output, three
scenes: one frame from each shot of clips/sample.mp4, which is made from public-domain photographs, see
clips/SOURCES.md) and `docs/images/styles.png` (a row per scene: the input, then every bundled style). Each
output is the style's translator on the full 480×270 frame (shown at half size), as `vidtoon restyle --to NAME` runs it per frame.
A style made for faces (its card's `faces: true`, e.g. `anime`) is run as `restyle` runs it, on the faces only
(`FaceRestyler`); its preview shows three frames of the push-in on the astronaut's face as face squares, the input
beside the output, and its column of the grid the whole frames (shots without a face come out unchanged).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.faces import crop_inside, cut, detect_faces, face_detector, face_square
from vidtoon.io import read_frames
from vidtoon.io.images import write_image
from vidtoon.restyle.faces import FaceRestyler
from vidtoon.styles import list_styles, load_translator
from vidtoon.temporal import make_temporal_stage
from vidtoon.tiling import crop_to, pad_to_multiple

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "clips" / "sample.mp4"
SCENES = (12, 44, 80)  # one frame of each shot: the astronaut, the rocket, the coffee cup
FACE_FRAMES = (8, 20, 31)  # frames of the push-in on the astronaut's face (shot 1), for a style made for faces
FACE_PREVIEW_SIDE = 176  # px of each face square on a faces style's preview


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


def face_margin(card) -> float:
    """The margin around a face box the style's restyle cuts with (its card's `face_margin`, else restyle's 0.4)."""
    return float(card.defaults.get("face_margin", 0.4))


def face_restyle(card, translator, rgb: np.ndarray) -> np.ndarray:
    """One frame with only its faces restyled, as `vidtoon restyle --faces` does a photo (no temporal stage)."""
    faces = FaceRestyler(
        translator,
        lambda: make_temporal_stage("none"),
        face_size=int(card.defaults.get("face_size", 256)),
        margin=face_margin(card),
    )
    return faces([rgb])[0]


def face_square_of(image: np.ndarray, source: np.ndarray, detector, margin: float) -> np.ndarray:
    """The square of `image` where `source`'s first face is (cut as `FaceRestyler` cuts it), at `FACE_PREVIEW_SIDE`."""
    face = detect_faces(source, detector)[0]
    crop = crop_inside(face_square(face, margin=margin), (source.shape[1], source.shape[0]))
    return cut(image, crop, FACE_PREVIEW_SIDE)


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="write this style's preview only (the grid is always rewritten)")
    only = parser.parse_args().only
    frames = [frame.rgb for frame in read_frames(SAMPLE)]
    scenes = [frames[i] for i in SCENES]
    styles = [card for card in list_styles() if card.bundled and card.kind in ("procedural", "checkpoint")]
    columns = {"input": scenes}
    detector = face_detector()
    for card in styles:
        translator = load_translator(card=card, device="cpu", precision="fp32").translator
        if card.defaults.get("faces"):
            columns[card.name] = [face_restyle(card, translator, scene) for scene in scenes]
            pairs = [(frames[i], face_restyle(card, translator, frames[i])) for i in FACE_FRAMES]
            # the face squares of the input, and the same squares of the output (cut where the input's face is)
            margin = face_margin(card)
            rows = [(face_square_of(a, a, detector, margin), face_square_of(b, a, detector, margin)) for a, b in pairs]
        else:
            columns[card.name] = [translate(translator, scene) for scene in scenes]
            rows = [(small(a), small(b)) for a, b in zip(scenes, columns[card.name])]
        if only and card.name != only:
            continue
        sheet = np.vstack([np.hstack([label(a, "input"), label(b, card.name)]) for a, b in rows])
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
