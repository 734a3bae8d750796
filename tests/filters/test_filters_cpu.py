"""The CPU fast path (OpenCV kernels, fused passes) gives what the torch path gives: op by op, and whole styles on a
real photo within one grey level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidtoon.filters import PROCEDURAL, cpu, ops
from vidtoon.filters.toon import ToonParams, _finish


def torch_path(function, *tensors):
    """`function` on the torch path: recording a gradient keeps `ops` off OpenCV."""
    with torch.enable_grad():
        return function(*(t.clone().requires_grad_() for t in tensors)).detach()


def test_usable_only_for_cpu_float32_without_a_gradient():
    x = torch.rand(1, 3, 8, 8)
    assert cpu.usable(x)
    assert not cpu.usable(x.double())
    assert not cpu.usable(x[0])
    with torch.enable_grad():
        assert not cpu.usable(x.clone().requires_grad_())
    with torch.no_grad():
        leaf = x.clone().requires_grad_()
        assert cpu.usable(leaf)  # nothing recorded: OpenCV is fine
        assert torch.allclose(ops.box_blur(leaf, 1), ops.box_blur(x, 1))


@pytest.mark.parametrize("shape", [(2, 3, 37, 53), (1, 8, 5, 4)])
def test_opencv_blurs_and_enlargement_equal_the_torch_code(shape):
    torch.manual_seed(0)
    x = torch.rand(shape)
    for radius in (1, 4, 7, 12):  # shifted sums, box of threes, running sums; 12 > the 4-pixel side
        assert torch.allclose(ops.box_blur(x, radius), torch_path(lambda t, r=radius: ops.box_blur(t, r), x), atol=1e-5)
    for sigma in (0.6, 1.6, 3.0):
        assert torch.allclose(ops.gaussian_blur(x, sigma), torch_path(lambda t, s=sigma: ops.gaussian_blur(t, s), x), atol=1e-5)
    for size in ((shape[2] * 3, shape[3] * 2), (shape[2] + 1, shape[3] * 8 // 3)):
        fast = ops.resize(x, *size)
        assert fast.shape[-2:] == size
        assert torch.allclose(fast, torch_path(lambda t, s=size: ops.resize(t, *s), x), atol=1e-5)


def test_a_non_contiguous_input_is_read_correctly():
    x = torch.rand(1, 16, 12, 3).permute(0, 3, 1, 2)  # channels-last, as restyle hands frames
    assert torch.allclose(ops.box_blur(x, 2), torch_path(lambda t: ops.box_blur(t, 2), x.contiguous()), atol=1e-5)


def test_lab_without_branches_equals_the_textbook_formula():
    rgb = torch.cat((torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16) * 0.05), 3)  # half of it near black
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = ops.mix_channels(linear, ops._RGB_TO_XYZ)
    f = torch.where(xyz > ops._LAB_EPS, xyz ** (1 / 3), (ops._LAB_KAPPA * xyz + 16) / 116)
    assert torch.allclose(ops.rgb_to_lab(rgb), ops.mix_channels(f, ops._F_TO_LAB, (-16.0, 0.0, 0.0)), atol=2e-4)
    assert torch.allclose(ops.lab_to_rgb(ops.rgb_to_lab(rgb)), rgb, atol=5e-4)  # OpenCV's way back: see below


def test_opencv_lab_to_rgb_equals_the_torch_code_in_and_out_of_gamut():
    torch.manual_seed(2)
    lab = ops.rgb_to_lab(torch.rand(2, 3, 24, 20))
    lab[:, 1:] *= 1.6  # chroma boosted as toon does: some colours leave the gamut and are clamped
    fast, slow = ops.lab_to_rgb(lab), torch_path(ops.lab_to_rgb, lab)
    assert fast.min() >= 0 and fast.max() <= 1 and (slow > 0.9999).any() and (slow < 1e-4).any()
    assert (fast - slow).abs().max() < 5e-4  # a tenth of a grey level


@pytest.mark.parametrize("params", [ToonParams(), ToonParams(lines=0), ToonParams(softness=0.8, lines=0.5, levels=4)])
def test_toon_full_size_passes_equal_the_formula_they_fuse(params):
    """`_finish` against the readable formula: smooth colours, `ops.quantize` of their luma, the ink ramp."""
    torch.manual_seed(1)
    x = torch.rand(1, 3, 40, 30) * 2 - 1
    maps = torch.cat((torch.rand(1, 3, 40, 30), torch.rand(1, 3, 40, 30) - 0.5, torch.randn(1, 1, 40, 30) * 0.02), 1)
    out = maps[:, 3:6] + maps[:, 0:3] * ops.luma(x)
    luma = ops.luma(out) * 0.5 + 0.5
    out = out + 2 * (ops.quantize(luma, params.levels, params.softness) - luma)
    keep = 1 - params.lines * ops.smooth_ramp(-(maps[:, 6:7] + params.line_threshold) / params.line_softness)
    expected = ((out + 1) * keep - 1).clamp(-1, 1)
    assert torch.allclose(_finish(ops.luma(x), maps, params), expected, atol=1e-5)


@pytest.mark.parametrize("name", ["toon", "sketch", "paint"])
def test_styles_on_the_cpu_path_match_the_torch_path_on_a_real_photo(photo, name):
    """The astronaut photo: at most 1 grey level (of 255) apart anywhere, and 0.1 level apart on average."""
    x = photo[..., ::2, ::2].contiguous()  # 256×256: the torch path records a gradient, keep it small
    entry = PROCEDURAL.get(name)
    with torch.inference_mode():
        fast = entry.apply(x)
    reference = torch_path(entry.apply, x)
    levels = ((fast - reference).abs() * 127.5).numpy()
    assert levels.max() <= 1.0 and levels.mean() < 0.1
    assert np.percentile(levels, 99.9) <= 0.5
