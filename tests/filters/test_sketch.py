"""`sketch`: paper where the picture is flat and light, one stroke per edge, light shading in the dark, no specks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from filter_helpers import dark_flat_areas, implementations, line_measures, luma_np, shapes_image, to_x

from vidtoon.filters import SketchParams
from vidtoon.filters.sketch import GRAPHITE, PAPER, sketch

PAPER_LUMA = 0.299 * PAPER[0] + 0.587 * PAPER[1] + 0.114 * PAPER[2]
GRAPHITE_LUMA = 0.299 * GRAPHITE[0] + 0.587 * GRAPHITE[1] + 0.114 * GRAPHITE[2]
STROKE = PAPER_LUMA - 0.5 * (PAPER_LUMA - GRAPHITE_LUMA)  # darker than this: a pencil stroke

# the known-answer tests run on the torch function and on its uint8 twin (`sketch_u8`, within its 8-bit rounding)
both = pytest.mark.parametrize("impl", implementations("sketch", sketch))


@both
def test_light_flat_image_is_blank_paper(impl):
    sketch, step = impl
    out = sketch(torch.full((1, 3, 16, 24), 0.8))
    paper = torch.tensor(PAPER).view(1, 3, 1, 1) * 2 - 1
    assert torch.allclose(out, paper.expand_as(out), atol=1e-5 + step / 2)


@both
def test_dark_flat_image_gets_light_shading_not_black(impl):
    sketch, step = impl
    params = SketchParams()
    out = luma_np(sketch(torch.full((1, 3, 16, 24), -1.0), params))  # black
    expected = PAPER_LUMA + (GRAPHITE_LUMA - PAPER_LUMA) * params.shading * params.pencil
    assert out.max() - out.min() < 1e-5  # even shading
    assert expected - 1e-4 - step / 2 <= out.min() < PAPER_LUMA - 0.1  # shaded, at most `shading` of the graphite


@both
def test_step_edge_gets_one_stroke_on_its_dark_side(impl):
    sketch, _ = impl
    x = torch.full((1, 3, 64, 96), 0.7)
    x[..., 48:] = 0.95
    row = luma_np(sketch(x * 2 - 1, SketchParams(reference_height=64)))[32]
    stroke = np.flatnonzero(row < STROKE)
    assert stroke.size and stroke.max() in (46, 47) and np.all(np.diff(stroke) == 1)  # next to the edge, one stroke
    assert 1 <= stroke.size <= 4  # line_width 1 px at reference height
    assert abs(row[5] - PAPER_LUMA) < 0.01 and abs(row[90] - PAPER_LUMA) < 0.01  # light flat areas: paper


def test_batch_equals_single_images():
    a, b = to_x(shapes_image(48)), to_x(shapes_image(48)[:, ::-1].copy())
    both = sketch(torch.cat((a, b)))
    assert torch.allclose(both[:1], sketch(a), atol=1e-5) and torch.allclose(both[1:], sketch(b), atol=1e-5)


@both
def test_scale_invariance_twice_the_size_looks_the_same(impl):
    sketch, _ = impl
    params = SketchParams(reference_height=96)
    small = luma_np(sketch(to_x(shapes_image(96)), params))
    large = luma_np(sketch(to_x(shapes_image(192)), params))
    shrunk = cv2.resize(large, small.shape[::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk - small).mean() < 0.02


def test_output_range_and_gradient():
    x = to_x(shapes_image(32)).requires_grad_()
    out = sketch(x)
    assert out.min() >= -1 and out.max() <= 1
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@both
def test_real_photo_has_clean_strokes(photo, impl):
    """Astronaut portrait, default options. Measured on 2026-11-29: 1.2 % of the stroke pixels isolated; no stroke
    in the large dark flat areas (they get the light shading); ~10 % of the picture stroked."""
    sketch, _ = impl
    strokes = luma_np(sketch(photo)) < STROKE
    isolated, in_dark = line_measures(strokes, dark_flat_areas(photo))
    assert 0.03 < strokes.mean() < 0.2
    assert isolated < 0.03
    assert in_dark < 0.005
