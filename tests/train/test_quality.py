"""Look measures: Lab conversion against OpenCV, colour cast and checkerboard scores on real photos."""

import cv2
import numpy as np
import pytest
import torch

from vidtoon.io.images import read_image
from vidtoon.train.quality import (
    BLOTCH_BOUND,
    CAST_BOUND,
    CHECKER_BOUND,
    blotches,
    checkerboard,
    colour_cast,
    look_report,
    rgb_to_lab,
)


def to_x(rgb_u8):
    return torch.from_numpy(rgb_u8).permute(2, 0, 1)[None].float() / 127.5 - 1


def to_u8(x):
    return x[0].permute(1, 2, 0).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()


@pytest.fixture(scope="module")
def photo(data):
    folder = data / "photos" / "kodak24_mcmaster"
    return read_image(min(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".bmp", ".tif")))


def test_lab_known_colours():
    colours = torch.tensor([[1.0, 1, 1], [-1, -1, -1], [1, -1, -1], [-1, 1, -1]])[:, :, None, None]
    lab = rgb_to_lab(colours)[:, :, 0, 0]
    expected = torch.tensor([[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20], [87.73, -86.18, 83.18]])
    assert torch.allclose(lab, expected, atol=0.1), lab


def test_lab_matches_opencv_on_a_photo(photo):
    x = to_x(photo)
    reference = cv2.cvtColor(photo.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    ours = rgb_to_lab(x)[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - reference).mean() < 0.2 and np.abs(ours - reference).max() < 1.0  # OpenCV tabulates its gamma


def test_colour_cast_known_answers(photo):
    x = to_x(photo)
    assert float(colour_cast(x, x)[0]) < 1e-4
    grey = torch.zeros(1, 3, 8, 8)
    assert float(colour_cast(grey, grey + 0.4)[0]) < 0.01  # lighter, still neutral: no cast
    green = to_x(np.clip(photo.astype(np.float32) * np.array([0.9, 1.12, 0.9]), 0, 255).round().astype(np.uint8))
    warm = to_x(np.clip(photo.astype(np.float32) * np.array([1.1, 1.0, 0.85]), 0, 255).round().astype(np.uint8))
    cartoon = to_x(cv2.stylization(photo, sigma_s=60, sigma_r=0.45))  # OpenCV's procedural cartoon: smooth, no tint
    assert float(colour_cast(x, green)[0]) > 2 * CAST_BOUND > 2 * float(colour_cast(x, cartoon)[0])
    assert float(colour_cast(x, warm)[0]) > CAST_BOUND


def test_checkerboard_scores(photo):
    x = to_x(photo)
    h, w = photo.shape[:2]
    pattern = torch.from_numpy(((np.indices((h, w)).sum(0) % 2) * 2 - 1).astype(np.float32))
    gridded = (x + 0.04 * pattern).clamp(-1, 1)  # ±5 grey levels, hardly visible: what a transposed conv leaves
    stride4 = torch.from_numpy((np.indices((h, w)) % 4 == 0).any(0).astype(np.float32))  # a 4-pixel lattice
    natural, checkered, lattice = (
        float(checkerboard(x, 4)[0]),
        float(checkerboard(gridded, 4)[0]),
        float(checkerboard(x + 0.05 * stride4, 4)[0]),
    )
    assert natural < CHECKER_BOUND and checkered > 5 * CHECKER_BOUND and lattice > 2 * CHECKER_BOUND, (
        natural,
        checkered,
        lattice,
    )
    smooth = to_x(cv2.GaussianBlur(photo, (0, 0), 2))
    assert float(checkerboard(smooth, 2)[0]) < CHECKER_BOUND
    report = look_report(x, gridded)
    assert report["cast_max"] < 0.5 and report["checker_max"] > 5 * CHECKER_BOUND


def test_bad_inputs():
    with pytest.raises(ValueError, match="N×3×H×W"):
        rgb_to_lab(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="shapes differ"):
        colour_cast(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))
    with pytest.raises(ValueError, match="smaller than"):
        checkerboard(torch.zeros(1, 3, 8, 8), 4)


def test_blotches_find_droplets_not_styles(photo):
    x = to_x(photo)
    h, w = photo.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    droplets = photo.copy()
    centres = [(h * i // 4, w * j // 3) for i in (1, 2, 3) for j in (1, 2)]
    for k, (cy, cx) in enumerate(centres):
        droplets[(yy - cy) ** 2 + (xx - cx) ** 2 < 12**2] = (230, 255, 120) if k % 2 else (255, 255, 255)  # yellow-green, white
    fraction = len(centres) * np.pi * 12**2 / (h * w)  # the droplets' share of the frame: 1.1 % of a 500² photo
    scored = float(blotches(x, to_x(droplets))[0])
    assert 0.5 * fraction < scored <= 1.05 * fraction and scored > BLOTCH_BOUND, (scored, fraction)
    assert float(blotches(x, x)[0]) == 0.0
    brighter = to_x(cv2.convertScaleAbs(photo, alpha=1.3, beta=10))  # a whole-frame change moves the median with it
    smooth = to_x(cv2.bilateralFilter(photo, 9, 50, 7))  # an edge-preserving abstraction, like the training anchor
    assert float(blotches(x, brighter)[0]) < BLOTCH_BOUND / 10 and float(blotches(x, smooth)[0]) < BLOTCH_BOUND / 10
    report = look_report(x, to_x(droplets))
    assert report["blotch_max"] == pytest.approx(scored)
    with pytest.raises(ValueError, match="shapes differ"):
        blotches(x, x[..., 1:])
