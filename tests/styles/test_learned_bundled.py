"""The learned style `pixar`, shipped inside the package: its card and file, its look on footage it was not trained
on (no colour cast, no checkerboard, simplified texture, livelier colour) and its cost. (A whole restyle of the sample
with it: tests/styles/test_bundled.py.)"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.flop_counter import FlopCounterMode
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.files import file_sha256
from vidtoon.io import read_frames
from vidtoon.models import load_checkpoint
from vidtoon.styles import list_styles, load_translator
from vidtoon.train.quality import CHECKER_BOUND, checkerboard, colour_cast

runner = CliRunner()
CAST_BOUND_SHIPPED = 3.0  # mean Lab (a, b) shift a shipped style may have on held-out footage (half the tint bound)
MACS_PER_360P_FRAME = 16e9  # multiply-adds; this family ran 35-46 GMAC/s on 2 cores (ngf 16: 8.0 G in 0.21-0.23 s)
HELD_OUT = "fire2.mp4"  # a phone clip: no frame of it is in the training data (train/provenance.py)


@pytest.fixture(scope="module")
def pixar():
    cards = [card for card in list_styles() if card.name == "pixar" and card.bundled]
    assert cards, "the learned style pixar is not bundled"
    return cards[0]


def detail(lightness: np.ndarray) -> float:
    """Mean absolute fine detail of an L channel: its difference from a σ 2 Gaussian blur."""
    return float(np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), 2)).mean())


def lab(rgb_u8: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb_u8.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def test_pixar_is_listed_with_its_card_and_its_file_is_what_the_card_says(pixar):
    listing = runner.invoke(app, ["styles"])
    assert listing.exit_code == 0 and "pixar  checkpoint" in listing.output
    assert pixar.kind == "checkpoint" and "research use" in pixar.licence and "film-look target" in pixar.data
    assert "Min et al." in pixar.credits  # the methods its target is made with
    assert {"trainer", "steps", "resolution", "size_mb", "date", "look"} <= set(pixar.training)
    assert pixar.preview is not None and pixar.preview.is_file() and pixar.preview.stat().st_size < 400_000
    assert pixar.checkpoint.stat().st_size <= 10e6 and file_sha256(pixar.checkpoint) == pixar.sha256
    assert all(t.dtype == torch.float16 for t in load_file(pixar.checkpoint).values())  # safetensors: no code runs
    model, card = load_checkpoint(pixar.checkpoint)
    assert card.family == "cyclegan_resnet" and card.height == 360 and pixar.defaults.get("height", 360) == 360


def test_pixar_on_held_out_footage_has_no_cast_no_grid_and_the_look(pixar, media):
    translator = load_translator(card=pixar, device="cpu", precision="fp32").translator
    frames = [f.rgb for i, f in enumerate(read_frames(media / HELD_OUT)) if i % 8 == 0]
    frames = [cv2.resize(f, (640, 360) if f.shape[1] > f.shape[0] else (360, 640), interpolation=cv2.INTER_AREA) for f in frames]
    x = u8_to_unit(np.stack(frames))
    with torch.inference_mode():
        y = translator(x)
    assert y.shape == x.shape
    casts, grids = colour_cast(x, y), checkerboard(y, 4)
    assert float(casts.mean()) < CAST_BOUND_SHIPPED and float(casts.max()) < 2 * CAST_BOUND_SHIPPED, casts
    assert float(grids.max()) < CHECKER_BOUND, grids
    outputs = unit_to_u8_numpy(y)
    texture = [detail(lab(o)[..., 0]) / detail(lab(f)[..., 0]) for f, o in zip(frames, outputs)]
    chroma = [
        lab(o)[..., 1:].reshape(-1, 2).std(0).mean() / lab(f)[..., 1:].reshape(-1, 2).std(0).mean()
        for f, o in zip(frames, outputs)
    ]
    assert np.mean(texture) < 0.85, texture  # fine texture simplified (shipped: 0.75; its film-look target: 0.73)
    assert np.mean(chroma) > 1.05, chroma  # livelier colour (shipped: 1.09; its target: 1.17)


def test_pixar_costs_under_half_a_second_per_360p_frame_on_two_cores(pixar):
    model, _ = load_checkpoint(pixar.checkpoint)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 360, 640))
    assert counter.get_total_flops() / 2 < MACS_PER_360P_FRAME  # timed in scripts/bench_styles.py --learned
