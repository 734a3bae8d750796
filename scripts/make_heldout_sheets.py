#!/usr/bin/env python
"""Make the README's held-out sheets of the learned styles: footage the style never trained on, its code-made
target, and the shipped style's output, a row per frame.

    .venv/bin/python scripts/make_heldout_sheets.py pixar --data /work/runs/data/pixar   # docs/images/pixar_heldout.jpg
    .venv/bin/python scripts/make_heldout_sheets.py anime                                  # docs/images/anime_heldout.jpg

- pixar: two frames of fire2.mp4 (a phone clip, moviepy's media, MIT) and the rocket and cup shots of the bundled
  sample (public domain), at 640×360 as `restyle --to pixar` works. Its target is the film look with the Blender
  films' palette, fitted as the run fitted it: from the film looks of the prepared photos to the prepared film
  frames (`--data`: scripts/prepare_style_data.py's folder, loaded at the recipe's 288 px).
- anime: the two public-domain faces of the clips folder (the astronaut, the Mona Lisa), cut as `restyle --faces`
  cuts them, 256 px squares. The talking head of the tests is not shown: its origin is not stated (SOURCES.md).

Reads the clips from `$VIDTOON_TEST_MEDIA` (default ../shared/clips): a doc-making script, not part of the package.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np
import torch
from make_style_previews import label  # scripts/ is on the path when a script runs

from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.faces import crop_inside, cut, detect_faces, face_detector, face_square
from vidtoon.io import read_frames
from vidtoon.io.images import read_image, write_image
from vidtoon.styles import list_styles, load_translator
from vidtoon.train.data import load_domain
from vidtoon.train.look_targets import LOOK_TARGETS, hwc
from vidtoon.train.palette import fit_palette

REPO = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("VIDTOON_TEST_MEDIA", REPO.parent / "shared" / "clips"))
LOOKS = {"pixar": "film", "anime": "anime"}  # the code-made look each style was distilled from
PIXAR_LOAD_SIZE = 288  # the pixar recipe's load size: the palette is fitted on the data as the run loaded it
SAMPLE_SHOTS = (44, 80)  # the rocket and the cup of clips/sample.mp4
FIRE2_FRAMES = 2
ROW_WIDTH = 320  # each pixar cell is shown at 320×180 (half the 640×360 it was made at)


def pixar_frames() -> list[np.ndarray]:
    fire2 = [frame.rgb for frame in read_frames(MEDIA / "fire2.mp4")]
    picks = [fire2[round((i + 1) * len(fire2) / (FIRE2_FRAMES + 1))] for i in range(FIRE2_FRAMES)]
    sample = [frame.rgb for frame in read_frames(REPO / "clips" / "sample.mp4")]
    picks += [sample[i] for i in SAMPLE_SHOTS]
    return [cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA if f.shape[0] > 360 else cv2.INTER_CUBIC) for f in picks]


def anime_frames() -> list[np.ndarray]:
    detector, squares = face_detector(), []
    for name in ("face_astronaut.png", "face_monalisa.jpg"):
        rgb = read_image(MEDIA / name)
        face = detect_faces(rgb, detector)[0]
        squares.append(cut(rgb, crop_inside(face_square(face, margin=0.4), (rgb.shape[1], rgb.shape[0])), 256))
    return squares


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("style", choices=sorted(LOOKS))
    parser.add_argument("--data", type=Path, help="pixar: the prepared training data (a/ and b/), to fit the palette")
    args = parser.parse_args()
    card = next(c for c in list_styles() if c.name == args.style and c.bundled)
    translator = load_translator(card=card, device="cpu", precision="fp32").translator
    look = LOOK_TARGETS.get(LOOKS[args.style])
    frames = pixar_frames() if args.style == "pixar" else anime_frames()
    targets = [look(f) for f in frames]
    if args.style == "pixar":
        if args.data is None:
            parser.error("pixar needs --data (its target takes the films' palette, fitted on the training data)")
        photos = load_domain(args.data / "a", load_size=PIXAR_LOAD_SIZE)
        films = load_domain(args.data / "b", load_size=PIXAR_LOAD_SIZE)
        palette = fit_palette([look(hwc(p)) for p in photos.images], [hwc(f) for f in films.images])
        targets = [palette.apply(t) for t in targets]
    outputs = list(unit_to_u8_numpy(translator(u8_to_unit(np.stack(frames)))))
    rows = []
    for frame, target, output in zip(frames, targets, outputs):
        cells = [frame, target, output]
        if args.style == "pixar":
            cells = [cv2.resize(c, (ROW_WIDTH, ROW_WIDTH * 9 // 16), interpolation=cv2.INTER_AREA) for c in cells]
        rows.append(np.hstack([label(c, text) for c, text in zip(cells, ("input", "target", args.style))]))
    path = REPO / "docs" / "images" / f"{args.style}_heldout.jpg"
    write_image(path, np.vstack(rows), jpeg_quality=88)
    print("wrote", path)


if __name__ == "__main__":
    main()
