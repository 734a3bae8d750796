from fractions import Fraction

import pytest

from vidtoon.errors import UsageError
from vidtoon.parsing import parse_rate, parse_size, parse_tags, parse_time


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("2", Fraction(2)),
        ("25", Fraction(25)),
        ("29.97", Fraction(30000, 1001)),
        ("23.976", Fraction(24000, 1001)),
        ("30000/1001", Fraction(30000, 1001)),
        ("12.5", Fraction(25, 2)),
        (0.5, Fraction(1, 2)),
    ],
)
def test_rates_are_exact_fractions(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0", "-5", "abc", "1/0", ""])
def test_bad_rates_say_what_to_give(text):
    with pytest.raises(UsageError, match="frame rate"):
        parse_rate(text)


def test_sizes():
    assert parse_size("256") == (256, 256)
    assert parse_size("640x360") == (640, 360)
    with pytest.raises(UsageError, match="WIDTHxHEIGHT"):
        parse_size("640by360")
    with pytest.raises(UsageError, match="out of range"):
        parse_size("0x10")


def test_times():
    assert parse_time("12.5") == Fraction(25, 2)
    assert parse_time("1:02.5") == Fraction(125, 2)
    assert parse_time("1:00:00") == 3600
    assert parse_time(None) is None
    with pytest.raises(UsageError):
        parse_time("1::2")


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("75:00", 4500), ("100:00:00", 360000), ("1:59.999", 119.999)])
def test_the_first_field_of_a_time_may_be_any_size(text, seconds):
    assert parse_time(text) == Fraction(str(seconds))


@pytest.mark.parametrize(
    ("text", "unit"),
    [("1:61", "seconds"), ("1:75", "seconds"), ("0:60", "seconds"), ("1:60:00", "minutes"), ("1:00:60.5", "seconds")],
)
def test_minutes_and_seconds_after_a_colon_stay_below_60(text, unit):
    with pytest.raises(UsageError) as info:
        parse_time(text, flag="--time-limit")
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"--time-limit time {text!r}") and f"the {unit} after" in message


def test_tags():
    assert parse_tags(["studio=blender", "medium=3d"]) == {"studio": "blender", "medium": "3d"}
    with pytest.raises(UsageError, match="key=value"):
        parse_tags(["studio"])
