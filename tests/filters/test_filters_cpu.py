"""The CPU fast path (OpenCV kernels, fused passes) gives what the torch path gives: op by op, and whole styles on a
real photo within one grey level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidtoon.filters import PROCEDURAL, cpu, ops
from vidtoon.filters.cv_resize import area_downscale
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


def eight_bit_frames(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """N×3×H×W in [-1, 1] holding 8-bit values, channels-last in memory: what restyle hands a filter (`u8_to_unit`)."""
    frames_u8 = np.random.default_rng(seed).integers(0, 256, (n, height, width, 3), dtype=np.uint8)
    return torch.from_numpy(frames_u8).permute(0, 3, 1, 2).float() / 127.5 - 1


def test_eight_bit_working_frames_equal_the_float_ones_within_a_level():
    x = eight_bit_frames(2, 90, 160)
    same = cpu.frames_u8(x, 90, 160)  # 8-bit values go back to their own byte exactly
    assert same.dtype == np.uint8 and np.array_equal(same, ((x + 1) * 127.5).round().permute(0, 2, 3, 1).byte().numpy())
    small = cpu.frames_u8(x, 67, 120)  # the shrink: OpenCV's uint8 area kernel against the float one in torch (noise)
    reference = (ops.to_unit(area_downscale(x.contiguous(), (67, 120))) * 255).permute(0, 2, 3, 1).numpy()
    assert small.shape == (2, 67, 120, 3) and np.abs(small - reference).max() <= 1.01
    outside = torch.tensor([-1.5, -1.0, 0.0, 1.0, 1.5]).view(1, 1, 1, 5).expand(1, 3, 1, 5)  # beyond [-1, 1]: clamped
    assert cpu.frames_u8(outside, 1, 5)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]


def test_lab_from_eight_bits_equals_the_torch_code():
    rgb_u8 = np.random.default_rng(1).integers(0, 256, (2, 30, 40, 3), dtype=np.uint8)
    rgb_u8[0, 0, :4] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [1, 1, 1]]  # black, white, a primary, below the knee
    fast = cpu.rgb_to_lab(rgb_u8)
    slow = ops.rgb_to_lab(torch.from_numpy(rgb_u8).permute(0, 3, 1, 2).float().contiguous() / 255)
    assert fast.shape == (2, 3, 30, 40) and (fast - slow).abs().max() < 5e-4  # L 0-100: far below a grey level
    assert fast[0, :, 0, 1].tolist() == pytest.approx([100.0, 0.0, 0.0], abs=2e-3)  # white


def test_luma_of_channels_last_and_planar_frames_equals_the_matrix():
    x = eight_bit_frames(2, 24, 32)
    expected = ops.mix_channels(x.contiguous(), (ops.LUMA,))
    for frames in (x, x.contiguous()):
        assert torch.allclose(ops.luma(frames), expected, atol=1e-6)
    assert torch.allclose(
        cpu.luma_of_u8(((x + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()), expected / 2 + 0.5, atol=1e-6
    )


def test_a_self_guided_filter_equals_the_general_one():
    lab = torch.rand(1, 3, 50, 70) * torch.tensor([100.0, 60.0, 60.0]).view(1, 3, 1, 1)
    with torch.inference_mode():
        shared = ops.guided_filter_coefficients(lab[:, :1], lab, 2, 25.0)  # the guide is the source's first plane
        general = ops.guided_filter_coefficients(lab[:, :1].clone(), lab, 2, 25.0)
    for fast, reference in zip(shared, general, strict=True):
        assert torch.allclose(fast, reference, rtol=1e-5, atol=1e-4)


def test_toon_on_restyles_channels_last_frames_matches_the_torch_path(photo):
    """The astronaut at 512×512 (shrunk to the 270-row working size, in 8 bits on the CPU path), handed over
    channels-last as restyle does. Measured 2026-11-30: 0.08 grey levels apart on average, 99 % of the pixels within
    1.4, 0.003 % more than 8 apart (single pixels where the rounding of the shrunk frame tips a luminance step or the
    ink threshold); on chaplin.mp4's frames 0.09 on average, 99.9 % within 1."""
    x = photo.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    with torch.inference_mode():
        fast = PROCEDURAL.get("toon").apply(x)
    reference = torch_path(PROCEDURAL.get("toon").apply, photo)
    levels = ((fast - reference).abs() * 127.5).numpy()
    assert fast.shape == photo.shape and levels.mean() < 0.15
    assert np.percentile(levels, 99) <= 2.0 and (levels > 8).mean() < 1e-4
