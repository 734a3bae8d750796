"""uint8 <-> [-1, 1] frame conversions: known values, exact round trips, layouts, devices."""

import numpy as np
import pytest
import torch

from vidtoon.convert import image_u8_to_unit, u8_to_unit, unit_to_image_u8_numpy, unit_to_u8, unit_to_u8_numpy
from vidtoon.flow.base import frames_to_tensor, to_rgb_u8

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"))]


def every_level() -> np.ndarray:
    """1×16×16×3 uint8 holding each of the 256 levels once per channel (channel 1 and 2 reversed/shifted)."""
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    return np.stack((levels, levels[::-1], np.roll(levels, 7)), axis=-1)[None]


@pytest.mark.parametrize("device", DEVICES)
def test_known_values_and_exact_round_trip(device):
    frames_u8 = every_level()
    x = u8_to_unit(frames_u8, device)
    assert x.shape == (1, 3, 16, 16) and x.dtype == torch.float32 and x.device.type == device
    assert x[0, 0, 0, 0].item() == -1.0 and x[0, 0, 15, 15].item() == 1.0  # 0 -> -1, 255 -> 1
    assert x[0, 0, 8, 0].item() == pytest.approx(128 / 127.5 - 1, abs=1e-7)
    back = unit_to_u8(x)
    assert back.device.type == device and back.dtype == torch.uint8 and back.shape == (1, 16, 16, 3)
    assert np.array_equal(back.cpu().numpy(), frames_u8)  # all 256 levels come back exactly
    assert np.array_equal(unit_to_u8_numpy(x), frames_u8)


@pytest.mark.parametrize("device", DEVICES)
def test_rounding_is_half_to_even_and_out_of_range_clamps(device):
    x = torch.tensor([0.0, -1e-6, 1e-6, -1.0, 1.0, -1.5, 1.5, -1 + 0.49 / 127.5, -1 + 0.51 / 127.5], device=device)
    x = x.view(1, 1, 1, -1).expand(1, 3, 1, -1)
    # 0.0 -> 127.5 -> 128 (half to even; the one exact midpoint in float32); outside [-1, 1] clamps
    assert unit_to_u8_numpy(x)[0, 0, :, 0].tolist() == [128, 127, 128, 0, 255, 0, 255, 0, 1]


def test_inputs_layouts_and_dtypes():
    frames_u8 = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    x = u8_to_unit(frames_u8)
    assert torch.equal(u8_to_unit(list(frames_u8)), x)  # a sequence of H×W×3 frames
    assert torch.equal(u8_to_unit(torch.from_numpy(frames_u8)), x)  # a uint8 tensor
    assert x.is_contiguous(memory_format=torch.channels_last)  # the upload's layout, no extra copy
    assert torch.equal(x, frames_to_tensor(list(frames_u8)))  # bit-identical to the conversions it replaces
    assert [np.array_equal(a, b) for a, b in zip(unit_to_u8_numpy(x), to_rgb_u8(x))] == [True, True]
    assert np.array_equal(unit_to_u8_numpy(x.contiguous()), frames_u8)  # either memory layout
    assert np.abs(unit_to_u8_numpy(x.to(torch.bfloat16)).astype(int) - frames_u8).max() <= 1  # bf16 keeps 8 bits
    y = x.clone()
    unit_to_u8(y)
    assert torch.equal(y, x)  # the input is not modified


def test_single_images():
    image_u8 = every_level()[0]
    image = image_u8_to_unit(image_u8)
    assert image.shape == (3, 16, 16) and image[0, 15, 15].item() == 1.0
    assert np.array_equal(unit_to_image_u8_numpy(image), image_u8)


def test_bad_inputs_say_what_was_expected():
    with pytest.raises(ValueError, match="N×H×W×3 uint8"):
        u8_to_unit(np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="N×H×W×3 uint8"):
        u8_to_unit(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="N×3×H×W float"):
        unit_to_u8(torch.zeros(2, 4, 4, 3))
    with pytest.raises(ValueError, match="3×H×W float"):
        unit_to_image_u8_numpy(torch.zeros(1, 3, 4, 4))


def test_channels_last_cpu_frames_take_opencv_and_give_the_same_values():
    """What the CPU temporal stage returns (channels-last float32) is converted in one OpenCV pass: the torch path's
    values, the midpoint 0.0 -> 128 and out-of-range values clamped included."""
    torch.manual_seed(3)
    x = (torch.rand(2, 37, 53, 3) * 2.6 - 1.3).permute(0, 3, 1, 2)  # channels-last, some values outside [-1, 1]
    x[0, :, 0, 0] = torch.tensor([0.0, -1.0, 1.0])
    fast = unit_to_u8_numpy(x)
    assert x.permute(0, 2, 3, 1).is_contiguous() and fast.shape == (2, 37, 53, 3) and fast.dtype == np.uint8
    assert np.array_equal(fast, unit_to_u8(x).numpy())
    assert fast[0, 0, 0].tolist() == [128, 0, 255]


def test_planar_cpu_frames_take_opencv_and_give_the_same_values():
    """What the procedural styles return (contiguous N×3×H×W float32 planes) is converted plane by plane by OpenCV and
    interleaved: the torch path's values, the midpoint and out-of-range values included."""
    torch.manual_seed(4)
    x = torch.rand(2, 3, 41, 29) * 2.6 - 1.3
    x[1, :, 5, 7] = torch.tensor([0.0, -1.0, 1.0])
    fast = unit_to_u8_numpy(x)
    assert x.is_contiguous() and fast.shape == (2, 41, 29, 3) and fast.dtype == np.uint8
    assert np.array_equal(fast, unit_to_u8(x).numpy())
    assert fast[1, 5, 7].tolist() == [128, 0, 255]
