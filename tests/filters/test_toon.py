"""`toon`: flat stays flat, one line per step edge, the expected number of levels, clean lines on a real photo."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from filter_helpers import dark_flat_areas, implementations, line_measures, luma_np, shapes_image, to_x

from vidtoon.errors import UsageError
from vidtoon.filters import PROCEDURAL, ToonParams
from vidtoon.filters.toon import toon

# the known-answer tests run on the torch function and on its uint8 twin (`toon_u8`, within its 8-bit rounding)
both = pytest.mark.parametrize("impl", implementations("toon", toon))


@both
def test_flat_image_stays_flat_and_unlined(impl):
    toon, step = impl
    for value in (0.05, 0.35, 0.95):  # bin centres of the default 10 levels, and a near-black
        x = torch.full((1, 3, 24, 32), value * 2 - 1)
        out = toon(x)
        assert out.shape == x.shape
        assert (out.max() - out.min()).item() < 1e-5  # no line, no blotch, even when nearly black
        assert (out - x).abs().max().item() < 1e-4 + step


@both
def test_step_edge_gets_one_dark_line_on_its_dark_side(impl):
    toon, _ = impl
    x = torch.full((1, 3, 64, 96), 0.25)
    x[..., 48:] = 0.75  # both bin centres of 10 levels
    out = luma_np(toon(x * 2 - 1, ToonParams(reference_height=64)))
    row = out[32]
    inked = np.flatnonzero(row < 0.1)
    assert inked.size and inked.max() == 47  # the line ends at the edge, on the dark side
    assert np.all(np.diff(inked) == 1)  # one line
    assert 3 <= inked.size <= 6  # line_width 1.6 px at reference height: the DoG's dark lobe
    assert abs(row[5] - 0.25) < 0.01 and abs(row[90] - 0.75) < 0.01  # away from the edge, the levels
    assert np.allclose(out[:, 48:], out[:, 48:][32], atol=0.02)  # every row alike


@both
def test_ramp_gets_the_expected_number_of_levels(impl):
    toon, step = impl
    ramp = np.tile(np.linspace(0.0, 1.0, 256, dtype=np.float32)[None, :, None], (32, 1, 3))
    for levels in (4, 10):
        out = luma_np(toon(to_x(ramp), ToonParams(levels=levels, lines=0, softness=0.1)))[16]
        plateaus = [v for v in np.round(out, 3) if np.sum(np.abs(out - v) < 2e-3 + step / 2) >= 6]
        centres = (np.arange(levels) + 0.5) / levels
        gaps = np.abs(np.asarray(plateaus)[:, None] - centres[None, :])  # every plateau at a centre, every centre found
        assert gaps.min(1).max() < 0.011 and gaps.min(0).max() < 0.011


def test_batch_equals_single_images_and_is_deterministic():
    a, b = to_x(shapes_image(48)), to_x(shapes_image(48)[::-1].copy())
    both = toon(torch.cat((a, b)))
    assert torch.allclose(both[:1], toon(a), atol=1e-5) and torch.allclose(both[1:], toon(b), atol=1e-5)
    assert torch.equal(toon(a), toon(a))


@both
def test_scale_invariance_twice_the_size_looks_the_same(impl):
    toon, _ = impl
    params = ToonParams(reference_height=96)
    small = luma_np(toon(to_x(shapes_image(96)), params))
    large = luma_np(toon(to_x(shapes_image(192)), params))
    shrunk = cv2.resize(large, small.shape[::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk - small).mean() < 0.02
    inked_small, inked_large = (small < 0.1).mean(), (shrunk < 0.1).mean()
    assert inked_small > 0.01 and abs(inked_large - inked_small) < 0.3 * inked_small  # the same amount of ink


def test_output_range_and_gradient():
    x = to_x(shapes_image(32)).requires_grad_()
    out = toon(x)
    assert out.min() >= -1 and out.max() <= 1
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@both
def test_real_photo_has_clean_lines(photo, impl):
    """Astronaut portrait, default options. Measured on 2026-11-29: 2.5 % of the line pixels isolated; no line pixel
    in the large dark flat areas (the black sweater and stand); ~3 % of the picture inked."""
    toon, _ = impl
    inked = luma_np(toon(photo))
    plain = luma_np(toon(photo, ToonParams(lines=0)))
    lines = inked < plain - 0.25
    isolated, in_dark = line_measures(lines, dark_flat_areas(photo))
    assert 0.01 < lines.mean() < 0.08
    assert isolated < 0.04
    assert in_dark < 0.005


def test_bad_option_is_one_clear_usage_error():
    with pytest.raises(UsageError, match=r"toon option levels=40 is out of range \[2, 32\]"):
        PROCEDURAL.get("toon").apply(torch.zeros(1, 3, 8, 8), {"levels": "40"})
