"""The uint8 frame twins (`FRAME_TWINS`: `toon_u8`, `sketch_u8`): torch-free, and the same pictures as the torch
functions on real frames. Their known-answer checks (flat stays flat, one line per edge, levels, scale invariance,
clean lines) run in tests/filters/test_toon.py and test_sketch.py, parametrized over both implementations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from filter_helpers import shapes_image

from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
from vidtoon.errors import UsageError
from vidtoon.filters import FRAME_TWINS, PROCEDURAL, SketchParams, ToonParams

REPO = Path(__file__).resolve().parents[2]
NON_DEFAULT = {
    "toon": {"levels": "6", "lines": "0.5", "smoothing": "1"},
    "sketch": {"line_width": "2", "sharpen": "10", "shading": "0.2", "pencil": "0.7", "work_height": "300"},
}


def _frame(path: Path, index: int) -> np.ndarray:
    from vidtoon.io.reader import VideoReader

    with VideoReader(path) as reader:
        for frame in reader:
            if frame.index == index:
                return frame.rgb
    raise AssertionError(f"{path} has no frame {index}")


def _difference(name: str, rgb: np.ndarray, options: dict) -> np.ndarray:
    """|twin - torch| in grey levels, the torch function fed and read back as the restyle pipeline converts frames."""
    with torch.inference_mode():
        reference = unit_to_u8_numpy(PROCEDURAL.get(name).apply(u8_to_unit(rgb[None]), options))[0]
    twin = FRAME_TWINS.get(name).apply(rgb, options)
    assert twin.shape == rgb.shape and twin.dtype == np.uint8
    return np.abs(twin.astype(np.int16) - reference)


@pytest.fixture(scope="module", params=["sample 480x270", "chaplin 640x360", "bbb 1280x720"])
def real_frame(request) -> np.ndarray:
    if request.param.startswith("sample"):
        return _frame(REPO / "clips" / "sample.mp4", 40)
    media = request.getfixturevalue("media")
    if request.param.startswith("chaplin"):
        return _frame(media / "chaplin.mp4", 100)
    return _frame(media / "big_buck_bunny_0_30.webm", 150)


@pytest.mark.parametrize("name", FRAME_TWINS.names())
@pytest.mark.parametrize("options", ["default", "non-default"])
def test_twin_matches_the_torch_function_on_real_frames(real_frame, name, options):
    """Measured 2026-11-30 on the three frames, both option sets: mean 0.000003-0.000056 grey levels, 99.9th
    percentile 0, max 1, 0.0003-0.0056 % of the values differ (float rounding at a half level; the working-size shrink
    is torch's uint8 kernel, integer for integer)."""
    diff = _difference(name, real_frame, NON_DEFAULT.get(name, {}) if options == "non-default" else {})
    assert diff.max() <= 1
    assert np.percentile(diff, 99.9) == 0
    assert diff.mean() <= 0.0005 and (diff > 0).mean() <= 0.0002


@pytest.mark.parametrize("name", FRAME_TWINS.names())
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (17, 9), (601, 37), (1080, 1920)])
def test_twin_matches_at_odd_tiny_and_large_sizes(name, size):
    """Shapes the real frames do not cover: tiny, odd, a size ratio with no short band (601 / 270), 1080p (both twins
    shrink it); the test card, enlarged or shrunk to the size."""
    import cv2

    height, width = size
    rgb = (cv2.resize(shapes_image(96), (width, height), interpolation=cv2.INTER_LINEAR) * 255).round().astype(np.uint8)
    diff = _difference(name, rgb, {})
    assert diff.max() <= 1 and diff.mean() <= 0.002


@pytest.mark.parametrize(
    "name, options",
    [
        ("toon", {"lines": "0", "softness": "0", "smoothing": "0", "saturation": "0"}),
        ("toon", {"levels": "2", "radius": "64", "tolerance": "50", "line_width": "8", "work_height": "32"}),
        ("toon", {"reference_height": "16", "line_threshold": "0", "line_softness": "0.5", "work_height": "4320"}),
        ("sketch", {"sharpen": "0", "shading": "0", "pencil": "1", "softness": "0.01"}),
        ("sketch", {"line_width": "8", "threshold": "1.5", "work_height": "32"}),
    ],
)
def test_twin_matches_with_extreme_options(name, options):
    """Every option honoured: the ends of their ranges (no lines, hard steps, no smoothing, grey; a tiny working
    height) on a 360×480 test card."""
    rgb = (shapes_image(360) * 255).round().astype(np.uint8)
    diff = _difference(name, rgb, options)
    assert diff.max() <= 1 and diff.mean() <= 0.002


@pytest.mark.parametrize("name", FRAME_TWINS.names())
def test_out_is_filled_and_returned_and_input_kept(name):
    rgb = (shapes_image(48) * 255).astype(np.uint8)
    before = rgb.copy()
    out = np.zeros_like(rgb)
    result = FRAME_TWINS.get(name).apply(rgb, None, out)
    assert result is out and np.array_equal(out, FRAME_TWINS.get(name).apply(rgb))
    assert np.array_equal(rgb, before)
    for height in (48, 600):  # in place (out is the frame), without and with a working-size shrink
        frame = (shapes_image(height) * 255).astype(np.uint8)
        expected = FRAME_TWINS.get(name).apply(frame)
        assert FRAME_TWINS.get(name).apply(frame, None, frame) is frame and np.array_equal(frame, expected)


@pytest.mark.parametrize("name", FRAME_TWINS.names())
def test_bad_frames_and_options_are_usage_errors(name):
    twin = FRAME_TWINS.get(name)
    with pytest.raises(UsageError, match="H×W×3 uint8 RGB"):
        twin.apply(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(UsageError, match="H×W×3 uint8 RGB"):
        twin.apply(np.zeros((8, 8), np.uint8))
    with pytest.raises(UsageError, match="out must be"):
        twin.apply(np.zeros((8, 8, 3), np.uint8), None, np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(UsageError, match=f"unknown {name} option bogus"):
        twin.apply(np.zeros((8, 8, 3), np.uint8), {"bogus": "1"})


def test_registry_twins_the_procedural_styles_with_their_parameter_classes():
    assert FRAME_TWINS.names() == ["sketch", "toon"]  # paint has none: it runs on torch
    for name in FRAME_TWINS:
        assert FRAME_TWINS.get(name).params_cls is PROCEDURAL.get(name).params_cls
    assert FRAME_TWINS.get("toon").params({"levels": "6"}) == ToonParams(levels=6)
    assert FRAME_TWINS.get("sketch").params() == SketchParams()
    with pytest.raises(UsageError, match="unknown uint8 frame twin 'paint'"):
        FRAME_TWINS.get("paint")


@pytest.mark.parametrize(
    "module", ["vidtoon.filters.toon_u8", "vidtoon.filters.sketch_u8", "vidtoon.filters.twin_catalog", "vidtoon.filters"]
)
def test_no_torch_is_imported(module):
    code = (
        f"import {module}, sys, numpy as np; from vidtoon.filters import FRAME_TWINS; "
        "[FRAME_TWINS.get(n).apply(np.full((40, 60, 3), 128, np.uint8)) for n in FRAME_TWINS]; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("name", FRAME_TWINS.names())
def test_strided_frames_give_what_contiguous_ones_give(name):
    """A crop, a flipped and a Fortran-ordered view of a decoded frame: the same output as a contiguous copy."""
    big = (shapes_image(330) * 255).astype(np.uint8)
    twin = FRAME_TWINS.get(name)
    for view in (big[7:307, 11:411], big[::-1, ::-1][:300, :400], np.asfortranarray(big[:300, :400])):
        assert np.array_equal(twin.apply(view), twin.apply(np.ascontiguousarray(view)))
