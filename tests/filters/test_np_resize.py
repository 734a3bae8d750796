"""`vidtoon.filters.np_resize`: torch's antialiased shrink and banded enlargements equal to OpenCV's whole-frame ones,
without torch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidtoon.filters import np_resize

SHRINKS = [
    (360, 640, 270, 480),
    (720, 1280, 270, 480),
    (1080, 1920, 270, 480),
    (601, 37, 270, 17),
    (100, 37, 31, 13),
    (9, 9, 9, 4),
]


def _torch_shrink(img: np.ndarray, height: int, width: int) -> np.ndarray:
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    return (
        F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)[0].permute(1, 2, 0).numpy()
    )


@pytest.mark.parametrize("size", SHRINKS)
def test_float_shrink_is_torch_float_kernel(size):
    big_h, big_w, height, width = size
    img = np.random.default_rng(2).random((big_h, big_w, 3), dtype=np.float32)
    assert np.abs(np_resize.shrink(img, height, width) - _torch_shrink(img, height, width)).max() < 1e-4  # its weights in float32
    plane = img[..., 0]
    assert np.abs(np_resize.shrink(plane, height, width) - _torch_shrink(img, height, width)[..., 0]).max() < 1e-4


@pytest.mark.parametrize(
    "small, large", [((270, 480), (720, 1280)), ((270, 480), (360, 640)), ((45, 17), (601, 37)), ((5, 7), (5, 9))]
)
@pytest.mark.parametrize("band_pixels", [1, 4096, 65536, 10**9])
def test_banded_enlargement_equals_the_whole_one(small, large, band_pixels):
    img = np.random.default_rng(3).random(small, dtype=np.float32)
    rows = np_resize.band_rows(small[0], large[0], band_pixels, large[1])
    whole = cv2.resize(img, large[::-1], interpolation=cv2.INTER_LINEAR)
    bands = list(np_resize.enlarge_bands(img, *large, rows))
    assert [top for top, _ in bands] == list(range(0, large[0], rows))
    assert np.abs(np.concatenate([band for _, band in bands]) - whole).max() < 1e-6
