"""Representations of the cartoon trainer: box and guided filters, anchor, surface and texture views, colour moments."""

import torch

from vidtoon.train.views import anchor, box_filter, colour_moments, guided_filter, random_grey_weights, surface_view, texture_view


def test_box_filter_known_values():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 9.0
    y = box_filter(x, 1)
    assert torch.allclose(y[0, 0, 1:4, 1:4], torch.ones(3, 3)) and float(y[0, 0, 0, 0]) == 0.0
    assert torch.equal(box_filter(x, 0), x)


def test_guided_filter_keeps_flat_and_edges_smooths_noise():
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(guided_filter(flat, flat, 2, 0.01), flat, atol=1e-6)
    step = torch.ones(1, 3, 16, 16)
    step[..., :8] = -1  # a hard edge of height 2
    assert (anchor(step) - step).abs().max() < 0.05  # the edge survives the abstraction
    noise = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.05
    assert float(surface_view(noise).std()) < 0.5 * float(noise.std())  # texture is smoothed away


def test_a_stronger_anchor_flattens_texture_and_keeps_the_edge():
    # a hard edge between two regions, each with a fine texture (±0.1 noise): the stronger anchor (radius 4, eps 0.02,
    # two passes) removes far more of the texture than the default one, and the edge stays a step of height ~2
    noise = torch.randn(1, 3, 48, 48, generator=torch.Generator().manual_seed(0)) * 0.1
    step = torch.ones(1, 3, 48, 48)
    step[..., :24] = -1
    photo = (step * 0.8 + noise).clamp(-1, 1)
    mild, strong = anchor(photo), anchor(photo, radius=4, eps=0.02, passes=2)
    inner = (..., slice(4, -4), slice(4, 20))  # inside the left region, away from the edge and the borders
    assert float(strong[inner].std()) < 0.5 * float(mild[inner].std()) < 0.5 * float(photo[inner].std())
    assert float(strong[..., 30:].mean() - strong[..., :18].mean()) > 1.5  # the two regions keep their contrast
    assert float((strong[..., 26] - strong[..., 21]).mean()) > 1.2  # and the edge stays sharp: 5 px apart


def test_texture_view_is_grey_with_given_weights():
    x = torch.tensor([1.0, -1.0, 0.0])[None, :, None, None].expand(2, 3, 4, 4)
    weights = torch.tensor([[1.0, 1.0, 2.0], [1.0, 0.0, 0.0]])
    y = texture_view(x, weights)
    assert y.shape == (2, 3, 4, 4) and torch.equal(y[:, 0], y[:, 2])
    assert torch.allclose(y[:, 0, 0, 0], torch.tensor([0.0, 1.0]))
    w = random_grey_weights(100, torch.Generator().manual_seed(1))
    assert w.shape == (100, 3) and float((w - torch.tensor([0.299, 0.587, 0.114])).abs().max()) <= 0.1 + 1e-6


def test_colour_moments():
    grey = torch.linspace(-1, 1, 64).reshape(1, 1, 8, 8).expand(1, 3, 8, 8)
    m = colour_moments(grey)[0]
    assert m[0] > 20 and m[1] < 0.01 and m[2] < 0.01 and m[3] < 0.01  # lightness varies, no chroma
    red = torch.tensor([1.0, -1, -1])[None, :, None, None].expand(1, 3, 4, 4)
    assert abs(float(colour_moments(red)[0, 3]) - 104.55) < 0.2  # chroma of sRGB red: √(80.09² + 67.20²)
