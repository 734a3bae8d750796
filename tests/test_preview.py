"""vidtoon.preview: the API the notebook stands on — style parameters as sliders need them, the frame at a time,
a one-frame preview equal to what the restyle loop makes of that frame, PNG bytes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import SAMPLE

from vidtoon.errors import UsageError
from vidtoon.preview import frame_at, png_bytes, preview_frame, style_names, style_parameters
from vidtoon.styles.cards import find_style


def test_style_names_and_parameters():
    assert {"toon", "paint", "sketch"} <= set(style_names())
    toon = {p.name: p for p in style_parameters("toon")}
    assert (toon["levels"].low, toon["levels"].high, toon["levels"].value, toon["levels"].integer) == (2, 32, 10, True)
    card = find_style("toon").params["line_softness"]
    assert toon["line_softness"].value == card != 0.01  # the card's params win over the function's default (0.01)
    assert "reference_height" not in toon and not toon["saturation"].integer
    assert {p.name for p in style_parameters("paint")} >= {"radius", "saturation"}
    with pytest.raises(UsageError, match="unknown style 'nope'"):
        style_parameters("nope")


def test_frame_at_picks_the_frame_shown_at_that_time():
    from vidtoon.io.reader import read_frames

    frames = list(read_frames(SAMPLE))  # 24 fps: the frame shown at 1.02 s is frame 24 (1.000 s .. 1.042 s)
    np.testing.assert_array_equal(frame_at(SAMPLE, 1.02), frames[24].rgb)
    np.testing.assert_array_equal(frame_at(SAMPLE, 0), frames[0].rgb)
    np.testing.assert_array_equal(frame_at(SAMPLE, 999), frames[-1].rgb)


def test_preview_frame_is_the_style_applied():
    from vidtoon.convert import u8_to_unit, unit_to_u8_numpy
    from vidtoon.filters import PROCEDURAL

    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, 32:] = (200, 120, 40)
    out = preview_frame(frame, to="toon", style_opts={"levels": 4}, device="cpu")
    card = dict(find_style("toon").params)
    expected = unit_to_u8_numpy(PROCEDURAL.get("toon").apply(u8_to_unit(frame[None]), {**card, "levels": 4}))[0]
    np.testing.assert_array_equal(out, expected)  # the card's params, the option on top, nothing else
    grey = preview_frame(frame, to="toon", style_opts={"saturation": 0.0}, device="cpu").astype(int)
    assert np.abs(grey - grey.mean(axis=2, keepdims=True)).max() <= 2  # no chroma left
    with pytest.raises(UsageError, match="levels"):
        preview_frame(frame, to="toon", style_opts={"levels": 99}, device="cpu")


def test_preview_frame_takes_to_as_the_flag_says_and_style_still_works():
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, 32:] = (200, 120, 40)
    by_to = preview_frame(frame, to="sketch", device="cpu")
    np.testing.assert_array_equal(preview_frame(frame, style="sketch", device="cpu"), by_to)  # the older name
    np.testing.assert_array_equal(preview_frame(frame, to="sketch", style="sketch", device="cpu"), by_to)
    assert not np.array_equal(preview_frame(frame, to="toon", device="cpu"), by_to)
    with pytest.raises(UsageError, match=r"to='toon' and style='sketch' are one setting; give to= only"):
        preview_frame(frame, to="toon", style="sketch")
    with pytest.raises(UsageError, match="preview_frame needs a style: to=STYLE"):
        preview_frame(frame)


def test_png_bytes_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    decoded = cv2.imdecode(np.frombuffer(png_bytes(rgb), np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(decoded[..., ::-1], rgb)


def test_restyle_with_takes_to_as_the_flag_says_and_style_still_works(tmp_path):
    """`to=` as `--to`; `style=`, its older name, picks the style as well (each output named after it)."""
    from vidtoon.io import probe
    from vidtoon.preview import restyle_with

    film = tmp_path / "film.mp4"
    film.write_bytes(SAMPLE.read_bytes())
    assert restyle_with(film, to="toon", seconds=0.25, device="cpu") == tmp_path / "film.toon.mp4"
    assert restyle_with(film, style="sketch", seconds=0.25, device="cpu") == tmp_path / "film.sketch.mp4"
    assert probe(tmp_path / "film.toon.mp4").frame_count == probe(tmp_path / "film.sketch.mp4").frame_count == 6  # 24 fps
    with pytest.raises(UsageError, match=r"to='toon' and style='sketch' are one setting; give to= only"):
        restyle_with(film, tmp_path / "both.mp4", to="toon", style="sketch")
    with pytest.raises(UsageError, match="restyle_with needs a style: to=STYLE"):
        restyle_with(film, tmp_path / "none.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.mp4", "film.sketch.mp4", "film.toon.mp4"]
