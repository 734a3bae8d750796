"""Shared tensor operations of the procedural styles: known answers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vidtoon.filters import ops


def test_blurs_keep_a_constant_and_conserve_an_impulse():
    flat = torch.full((2, 3, 9, 11), 0.375)
    assert torch.allclose(ops.gaussian_blur(flat, 1.5), flat, atol=1e-6)
    assert torch.allclose(ops.box_blur(flat, 2), flat, atol=1e-6)
    impulse = torch.zeros(1, 1, 21, 21)
    impulse[..., 10, 10] = 1
    blurred = ops.gaussian_blur(impulse, 1.0)
    assert blurred.sum().item() == pytest.approx(1.0, abs=1e-5)
    # the spread of a Gaussian: the variance along x is sigma²
    xs = torch.arange(21.0) - 10
    assert (blurred[0, 0].sum(0) * xs**2).sum().item() == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("radius", [1, 3, 6])
def test_box_blur_is_the_mean_of_the_replicate_padded_square(radius):
    x = torch.rand(2, 3, 17, 23)
    expected = F.avg_pool2d(F.pad(x, (radius,) * 4, mode="replicate"), 2 * radius + 1, stride=1)
    assert torch.allclose(ops.box_blur(x, radius), expected, atol=1e-5)


def test_lab_known_values_and_round_trip():
    rgb = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [1.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 4)
    lab = ops.rgb_to_lab(rgb)[0, :, 0].T
    assert lab[0].tolist() == pytest.approx([100, 0, 0], abs=0.05)
    assert lab[1].tolist() == pytest.approx([0, 0, 0], abs=0.05)
    assert lab[2].tolist() == pytest.approx([53.39, 0, 0], abs=0.05)  # sRGB mid grey
    assert lab[3].tolist() == pytest.approx([53.24, 80.09, 67.20], abs=0.1)  # sRGB red
    x = torch.rand(1, 3, 8, 8)
    assert torch.allclose(ops.lab_to_rgb(ops.rgb_to_lab(x)), x, atol=5e-4)


def test_guided_filter_flattens_noise_and_keeps_a_step():
    torch.manual_seed(0)
    step = torch.zeros(1, 1, 32, 32)
    step[..., 16:] = 1
    noisy = step + 0.02 * torch.randn_like(step)
    out = ops.guided_filter(noisy, noisy, 3, 0.01)
    assert out[..., :, 4:12].std() < 0.5 * noisy[..., :, 4:12].std()
    assert out[0, 0, 10, 15].item() < 0.1 and out[0, 0, 10, 16].item() > 0.9  # the edge stays one pixel sharp


def test_guided_filter_in_place_path_equals_the_differentiable_one():
    """Without a gradient to record the coefficients are worked out in place in one tensor: the same values."""
    torch.manual_seed(1)
    for guide_channels in (1, 3):
        guide, src = torch.rand(2, guide_channels, 40, 56), torch.rand(2, 3, 40, 56) * 100
        fast = ops.guided_filter(guide, src, 2, 25.0)
        slow = ops.guided_filter(guide.clone().requires_grad_(), src, 2, 25.0)
        assert torch.allclose(fast, slow.detach(), atol=1e-4)


def test_quantize_gives_the_bin_centres():
    ramp = torch.linspace(0.0005, 0.9995, 1000)  # no value on a bin boundary
    hard = ops.quantize(ramp, 4, 0.0)
    assert sorted(set(hard.round(decimals=4).tolist())) == [0.125, 0.375, 0.625, 0.875]
    soft = ops.quantize(ramp, 4, 0.5)
    assert (soft[1:] >= soft[:-1] - 1e-6).all()  # monotonic: a slow change never jumps backwards


def test_structure_tensor_orientation_of_vertical_stripes():
    xs = torch.arange(40.0)
    stripes = (0.5 + 0.5 * torch.sin(xs * 2 * math.pi / 8)).expand(1, 3, 40, 40)
    tx, ty, anisotropy = ops.orientation(ops.structure_tensor(stripes, 2.0))
    inner = (..., slice(8, 32), slice(8, 32))
    assert tx[inner].abs().max() < 1e-3 and ty[inner].abs().min() > 0.999  # the tangent runs along the stripes
    assert anisotropy[inner].min() > 0.99


def test_flat_image_is_isotropic():
    tx, ty, anisotropy = ops.orientation(ops.structure_tensor(torch.full((1, 3, 8, 8), 0.5), 1.0))
    assert anisotropy.abs().max() == 0 and (tx == 1).all() and (ty == 0).all()


def test_work_size_never_enlarges():
    assert ops.work_size(720, 1280, 360) == (360, 640)
    assert ops.work_size(240, 320, 360) == (240, 320)
