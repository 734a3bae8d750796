"""Options of procedural styles: coercion of typed strings, range checks, unknown keys, the registry."""

from __future__ import annotations

import pytest

from vidtoon.errors import UsageError
from vidtoon.filters import PROCEDURAL, PaintParams, SketchParams, ToonParams


def test_strings_are_coerced_to_the_field_types():
    params = ToonParams.from_options({"levels": "6", "lines": "0.5", "smoothing": 3, "saturation": 1})
    assert (params.levels, params.lines, params.smoothing, params.saturation) == (6, 0.5, 3, 1.0)
    assert isinstance(params.levels, int) and isinstance(params.saturation, float)
    assert ToonParams.from_options({"levels": "8.0"}).levels == 8


def test_no_options_give_the_defaults():
    assert ToonParams.from_options({}) == ToonParams() == ToonParams.from_options(None)
    assert PaintParams().reference_height == SketchParams().reference_height == 720


def test_unknown_key_names_it_and_lists_the_known_ones():
    with pytest.raises(UsageError) as caught:
        ToonParams.from_options({"level": "6"})
    message = str(caught.value)
    assert "unknown toon option level" in message
    assert "levels=10 [2, 32]" in message and "lines=1 [0, 1]" in message


def test_out_of_range_value_names_key_range_and_known_keys():
    with pytest.raises(UsageError) as caught:
        ToonParams.from_options({"levels": "1"})
    message = str(caught.value)
    assert "toon option levels=1 is out of range [2, 32]" in message
    assert "known toon options" in message and "softness=" in message
    with pytest.raises(UsageError, match=r"paint option radius=0.5 is out of range \[1, 64\]"):
        PaintParams(radius=0.5)
    with pytest.raises(UsageError, match="out of range"):
        SketchParams.from_options({"threshold": "nan"})


@pytest.mark.parametrize("options", [{"levels": "six"}, {"levels": "6.5"}, {"levels": True}, {"lines": "strong"}])
def test_malformed_values_are_refused(options):
    with pytest.raises(UsageError, match="is not a"):
        ToonParams.from_options(options)


def test_radii_scale_with_the_height():
    params = ToonParams(reference_height=720)
    assert params.scale(360) == 0.5 and params.scale(2160) == 3.0


def test_registry_holds_the_three_styles_and_refuses_unknown_names():
    assert PROCEDURAL.names() == ["paint", "sketch", "toon"]
    entry = PROCEDURAL.get("toon")
    assert entry.params_cls is ToonParams and entry.description
    assert entry.params({"levels": "4"}).levels == 4
    with pytest.raises(UsageError, match="unknown procedural style 'cel'.*known: paint, sketch, toon"):
        PROCEDURAL.get("cel")


def test_options_round_trip():
    params = SketchParams(line_width=2.0)
    assert SketchParams.from_options(params.options()) == params
