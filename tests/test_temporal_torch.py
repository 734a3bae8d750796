"""TorchFlowBlend: the OpenCV temporal stage's results, computed on the frames' device."""

import cv2
import numpy as np
import pytest
import torch

from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.errors import UsageError
from vidtoon.filters.cv_resize import area_downscale, area_downscale_levels, resize_linear
from vidtoon.flow import make_flow
from vidtoon.flow.warp import consistent as consistent_cv
from vidtoon.flow.warp import disoccluded as disoccluded_cv
from vidtoon.flow.warp import remap as remap_cv
from vidtoon.flow.warp import sample_positions as sample_positions_cv
from vidtoon.io.sequence import read_sequence
from vidtoon.temporal import FlowBlend
from vidtoon.temporal.flow_blend_torch import (
    TorchFlowBlend,
    box_blur,
    box_sum,
    consistent,
    disoccluded,
    erode,
    remap,
    remap_levels,
    sample_positions,
    to_levels,
)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def frames(folder, count, start=0) -> np.ndarray:
    """`count` frames of an image-folder sequence from `start`: N×H×W×3 uint8."""
    return np.stack([frame.rgb for frame, _ in zip(read_sequence(folder), range(start + count))][start:])


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]


def run(stage, source, translated, batch):
    return torch.cat([stage(source[i : i + batch], translated[i : i + batch]) for i in range(0, len(source), batch)])


def level_differences(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    return np.abs(unit_to_u8_numpy(a).astype(int) - unit_to_u8_numpy(b))


# the building blocks against the OpenCV calls FlowBlend makes


def test_area_downscale_is_opencv_inter_area():
    rng = np.random.default_rng(0)
    for (height, width), size in (((480, 910), (338, 640)), ((450, 800), (360, 640)), ((96, 128), (48, 64))):
        image = rng.random((height, width, 3), dtype=np.float32) * 2 - 1
        expected = cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA)
        ours = area_downscale(nchw(image), size)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(ours, expected)  # bit-exact, non-integer (910 -> 640) and integer factors
    # torch's own "area" mode (adaptive pooling) is not the same at non-integer factors
    smooth = cv2.resize(rng.random((12, 16, 3), dtype=np.float32), (910, 480))  # image-like: no pixel noise
    pooled = torch.nn.functional.interpolate(nchw(smooth), size=(338, 640), mode="area")[0].permute(1, 2, 0).numpy()
    assert np.abs(pooled - cv2.resize(smooth, (640, 338), interpolation=cv2.INTER_AREA)).max() > 1e-3


@pytest.mark.parametrize(
    "source_size, size", [((360, 640), (180, 320)), ((338, 640), (169, 320)), ((180, 320), (91, 213))]
)  # 2× on both sides; 2× with an odd side; 1.98× and 1.50×
def test_area_downscale_levels_is_opencv_uint8_area_shrink(source_size, size):
    """The trust's shrink of uint8 levels: OpenCV's integer path for whole factors (sums rounded half up), its float
    means rounded half to even otherwise, bit for bit."""
    rng = np.random.default_rng(2)
    source = cv2.resize(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), source_size[::-1])
    source[:, :2] = (7, 8, 9)  # flat columns: 2×2 sums of 28, 32, 36
    source[::2, 2:4] = 1  # 2×2 sums of 2 and more: exact halves
    ours = area_downscale_levels(torch.from_numpy(source).permute(2, 0, 1)[None].contiguous(), size)[0].permute(1, 2, 0).numpy()
    assert np.array_equal(ours, cv2.resize(source, size[::-1], interpolation=cv2.INTER_AREA))


def test_box_sum_is_opencv_unnormalised_box_filter():
    rng = np.random.default_rng(3)
    difference = rng.integers(-255, 256, (40, 50, 3)).astype(np.int16)
    ours = box_sum(torch.from_numpy(difference.astype(np.float32)).permute(2, 0, 1)[None], 3)[0].permute(1, 2, 0).numpy()
    assert np.array_equal(ours, cv2.boxFilter(difference, cv2.CV_32F, (3, 3), normalize=False))


def test_remap_erode_blur_resize_match_opencv():
    rng = np.random.default_rng(1)
    image = rng.random((50, 60, 3), dtype=np.float32) * 2 - 1
    positions = (rng.random((40, 45, 2)) * [70, 60] - 5).astype(np.float32)  # inside and outside the frame
    ours = remap(nchw(image), torch.from_numpy(positions)[None])[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - remap_cv(image, positions)).max() < 1e-5  # positions rounded to 1/32 px like OpenCV
    mask = (image[..., 0] > 0.3).astype(np.float32)
    assert np.array_equal(erode(torch.from_numpy(mask)[None, None], 9)[0, 0].numpy(), cv2.erode(mask, np.ones((9, 9), np.uint8)))
    assert np.abs(box_blur(nchw(image), 5)[0].permute(1, 2, 0).numpy() - cv2.blur(image, (5, 5))).max() < 1e-6
    small = image[:13, :17, 0].copy()
    ours = resize_linear(torch.from_numpy(small)[None, None], (50, 60))[0, 0].numpy()
    assert np.abs(ours - cv2.resize(small, (60, 50), interpolation=cv2.INTER_LINEAR)).max() < 1e-5


def test_remap_levels_is_opencv_uint8_remap_on_real_frames(data):
    """A DAVIS frame (as the stage's grey-level past) warped along a real DIS flow, scaled ×2 to 864×480 and ×3 so that
    parts leave the frame: `remap_levels` equals OpenCV's fixed-point uint8 remap on every value, and that remap is the
    float remap of the same levels within half a level (its one rounding)."""
    a, b = frames(data / "video_seq" / "propainter_davis_tennis", 2)
    (backward,) = make_flow("dis").estimate([b], [a])
    image = cv2.resize(a, (864, 480))
    flow = cv2.resize(cv2.multiply(backward, (2, 2, 0, 0)), (864, 480)) * 3
    positions = sample_positions_cv(flow)
    expected = cv2.remap(image, positions, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ours = remap_levels(nchw(image), sample_positions(nchw(flow)))[0].permute(1, 2, 0).numpy()
    assert np.array_equal(ours, expected)
    exact = remap_cv(image.astype(np.float32), positions)
    assert np.abs(expected - exact).max() <= 0.5 and (np.abs(expected - exact) > 0).mean() > 0.5  # rounded, not truncated
    assert (np.abs(expected.astype(int) - image) > 8).mean() > 0.1  # it did move
    x = torch.from_numpy(np.random.default_rng(1).random((1, 3, 40, 50), dtype=np.float32)) * 2 - 1
    levels = cv2.convertScaleAbs(x[0].permute(1, 2, 0).numpy(), alpha=127.5, beta=127.5)
    assert np.array_equal(to_levels(x)[0].permute(1, 2, 0).numpy(), levels)  # the past's rounding: OpenCV's


def test_forward_backward_check_matches_opencv_on_real_flow(data):
    folder = data / "video_seq" / "propainter_davis_tennis"
    a, b = frames(folder, 2)
    flow = make_flow("dis")
    backward, forward = flow.estimate([b, a], [a, b])
    ours = consistent(nchw(backward), nchw(forward))[0, 0].numpy()
    assert np.array_equal(ours, consistent_cv(backward, forward))
    assert 0.5 < ours.mean() < 1.0  # a real mix of consistent and occluded pixels
    grid = sample_positions(nchw(backward))[0].numpy()
    assert np.array_equal(grid, sample_positions_cv(backward))


def test_disocclusion_test_matches_opencv_on_real_flow(data):
    folder = data / "video_seq" / "propainter_davis_bmx-trees"
    a, b = frames(folder, 2)
    (backward,) = make_flow("dis").estimate([b], [a])
    for contraction in (0.15, 0.05):
        ours = disoccluded(nchw(backward), contraction=contraction)[0, 0].numpy()
        assert np.array_equal(ours, disoccluded_cv(backward, contraction=contraction))
        assert 0.001 < ours.mean() < 0.2  # a real mix: the rider's trailing edges fold, the rest does not


# the whole stage


@pytest.mark.parametrize("sequence, batch", [("dvp_davis_bike-packing", 3), ("dvp_bedroom", 4)])
def test_equals_the_opencv_stage_on_real_frames(data, sequence, batch):
    """8 real frames and their flickering per-frame processed versions (910×480 and 800×450: flow at a
    non-integer 640 px), in batches: the uint8 outputs of both stages.

    Measured: identical on 99.994 % of values, 1 level apart on the rest (max 1). Float outputs: 6e-5 apart at most
    within a frame (cv2.resize INTER_LINEAR and remap's rounding of positions differ from ours by ~1e-6 px), but both
    keep the past as grey levels, so where such a difference crosses a rounding boundary the next frame differs by
    strength × one level (0.0059) there.
    """
    folder = data / "video_seq"
    source = u8_to_unit(frames(folder / f"{sequence}_input", 8))
    translated = u8_to_unit(frames(folder / f"{sequence}_processed", 8))
    reference, stage = FlowBlend(make_flow("dis")), TorchFlowBlend(make_flow("dis"))
    expected, ours = run(reference, source, translated, batch), run(stage, source, translated, batch)
    assert ours.shape == translated.shape and ours.dtype == torch.float32
    differences = level_differences(ours, expected)
    assert differences.max() <= 1 and (differences == 0).mean() > 0.999
    apart = (ours - expected).abs()
    assert apart.max() <= 0.75 / 127.5 + 1e-4 and (apart < 1e-4).float().mean() > 0.999
    assert (level_differences(ours, translated) > 1).mean() > 0.3  # the stage did blend (not a pass-through on both)
    assert stage.cuts == reference.cuts == 0


def test_same_scene_cuts_and_resets_as_the_opencv_stage(data):
    """Two DAVIS shots back to back (432×240: flow at full size) under a synthetic per-frame flicker."""
    folder = data / "video_seq"
    source = u8_to_unit(
        np.concatenate((frames(folder / "propainter_davis_tennis", 5), frames(folder / "propainter_davis_bmx-trees", 5)))
    )
    flicker = torch.tensor([0.15, -0.15] * 5).view(10, 1, 1, 1)
    translated = (source * 0.8 + flicker).clamp(-1, 1)
    reference, stage = FlowBlend(make_flow("dis")), TorchFlowBlend(make_flow("dis"))
    expected, ours = run(reference, source, translated, 4), run(stage, source, translated, 4)
    assert stage.cuts == reference.cuts == 1
    assert torch.equal(ours[5], translated[5])  # the new shot's first frame: its own translation only
    assert level_differences(ours, expected).max() <= 1
    # reset: the next frame has no past, like the first one
    stage.reset()
    reference.reset()
    again, again_reference = stage(source[6:8], translated[6:8]), reference(source[6:8], translated[6:8])
    assert torch.equal(again[0], translated[6]) and level_differences(again, again_reference).max() <= 1
    # a new frame size resets too
    smaller = torch.nn.functional.interpolate(source[8:], size=(120, 216), mode="area")
    assert torch.equal(stage(smaller, smaller * 0.5)[0], smaller[0] * 0.5)


def test_zero_motion_gives_the_strength_weighted_blend():
    """A static textured shot whose translation alternates between two flat colours: the flow is zero and every
    pixel trusted, so out_t = (1 − s)·translated_t + s·q(out_{t−1}) (within blendLinear's 1e-5 normaliser), q the past
    kept as grey levels: round(127.5·x + 127.5) / 127.5 − 1."""
    rng = np.random.default_rng(3)
    still = (
        torch.nn.functional.interpolate(
            torch.from_numpy(rng.random((1, 3, 12, 16), dtype=np.float32)), size=(96, 128), mode="bicubic", align_corners=False
        ).clamp(0, 1)
        * 2
        - 1
    )
    source = still.repeat(4, 1, 1, 1)
    translated = torch.tensor([-0.5, 0.5, -0.5, 0.5]).view(4, 1, 1, 1).expand(4, 3, 96, 128).contiguous()
    strength = 0.55  # no level of the recursion falls on a rounding tie (0.6 would: -0.2588 is level 94.5)
    out = TorchFlowBlend(make_flow("dis"), strength=strength)(source, translated)
    expected = [-0.5]
    for value in (0.5, -0.5, 0.5):
        past = float(np.round(127.5 * expected[-1] + 127.5)) / 127.5 - 1  # -0.5 -> level 64 -> -0.49804
        expected.append((1 - strength) * value + strength * past)  # -0.04892, -0.25304, 0.08480
    assert torch.allclose(out.mean(dim=(1, 2, 3)), torch.tensor(expected), atol=1e-4)
    assert (out.amax(dim=(1, 2, 3)) - out.amin(dim=(1, 2, 3))).max() < 1e-4  # flat: no warp artefacts


def test_bad_arguments():
    with pytest.raises(UsageError, match="strength"):
        TorchFlowBlend(make_flow("dis"), strength=1.0)
    with pytest.raises(ValueError, match="N×3×H×W"):
        TorchFlowBlend(make_flow("dis"))(torch.zeros(2, 3, 16, 16), torch.zeros(2, 3, 16, 17))


@CUDA
def test_on_cuda_equals_the_opencv_stage(data):
    folder = data / "video_seq"
    source = u8_to_unit(frames(folder / "dvp_davis_bike-packing_input", 6))
    translated = u8_to_unit(frames(folder / "dvp_davis_bike-packing_processed", 6))
    expected = run(FlowBlend(make_flow("dis")), source, translated, 3)
    ours = run(TorchFlowBlend(make_flow("dis")), source.cuda(), translated.cuda(), 3)
    assert ours.device.type == "cuda"
    differences = level_differences(ours, expected)
    assert differences.max() <= 1 and (differences == 0).mean() > 0.999
