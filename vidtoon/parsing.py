"""Parsing of user-given values: frame rates, sizes, times and tags.

Frame rates and times are exact `Fraction`s: "29.97" becomes 30000/1001, never 29.
"""

from __future__ import annotations

import re
from fractions import Fraction

from vidtoon.errors import UsageError

# Rates people write as decimals but mean as NTSC fractions.
_NTSC = {Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001), Fraction(120000, 1001)}


_DECIMAL = re.compile(r"\s*[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,2})?\s*")
MAX_RATE = 10_000  # frames per second: above this a "rate" is a typo, and no container keeps its timestamps


def parse_rate(text: str | float | Fraction, *, flag: str = "--fps") -> Fraction:
    """Parse a frame rate: "2", "29.97", "30000/1001" -> Fraction; rejects zero, negatives, NaN, infinity and
    rates above `MAX_RATE`. Errors name `flag`.

    Decimals within 0.001 of an NTSC rate (23.976, 29.97, 59.94) snap to it exactly.
    """
    try:
        if isinstance(text, bool):
            raise ValueError
        if isinstance(text, Fraction):
            rate = text
        elif isinstance(text, (int, float)):
            rate = Fraction(str(text))
        elif "/" in text:
            num, den = text.split("/", 1)
            rate = Fraction(_decimal(num), _decimal(den))
        else:
            rate = _decimal(text)
    except (ValueError, ZeroDivisionError, TypeError, AttributeError, OverflowError):
        raise UsageError(f"{flag} {text!r} is not a frame rate (a number)", hint="use e.g. 2, 29.97 or 30000/1001") from None
    if rate <= 0 or rate > MAX_RATE:
        raise UsageError(
            f"{flag} must be a frame rate above zero and at most {MAX_RATE}, got {text!r}", hint="use e.g. 2, 25 or 30000/1001"
        )
    for ntsc in _NTSC:
        if rate != ntsc and abs(rate - ntsc) < Fraction(1, 1000):
            return ntsc
    return rate


def parse_size(text: str, *, flag: str = "--size") -> tuple[int, int]:
    """Parse "256" (square) or "640x360" into (width, height); errors name `flag`."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*(?:[xX×]\s*(\d{1,9}))?\s*", str(text))
    if not match:
        raise UsageError(f"{flag} {text!r} is not WIDTHxHEIGHT or a single number", hint="use e.g. 256 or 640x360")
    width = int(match.group(1))
    height = int(match.group(2)) if match.group(2) else width
    if width < 2 or height < 2 or width > 16384 or height > 16384:
        raise UsageError(f"{flag} {text!r} is out of range", hint="use 2 to 16384 pixels per side")
    return width, height


def parse_time(text: str | float | None, *, flag: str = "--start") -> Fraction | None:
    """Parse a time: seconds ("12.5") or "[[HH:]MM:]SS[.fff]" -> Fraction seconds; None stays None; errors name `flag`.

    The first field may be any size ("90", "75:00"); the minutes and seconds after a ':' must be below 60.
    """
    if text is None:
        return None
    if isinstance(text, (int, float)):
        text = str(text)
    parts = text.strip().split(":")
    try:
        if len(parts) > 3 or not all(parts):
            raise ValueError
        values = [_decimal(part) for part in parts]
    except (ValueError, ZeroDivisionError, OverflowError):
        raise UsageError(f"{flag} time {text!r} is not seconds or HH:MM:SS", hint="use e.g. 12.5 or 1:02:03.5") from None
    units = ("minutes", "seconds")[-(len(values) - 1) :] if len(values) > 1 else ()
    seconds = Fraction(0)
    for value in values:
        seconds = seconds * 60 + value
    for unit, value in zip(units, values[1:], strict=True):
        if not 0 <= value < 60:
            plain = f"{float(seconds):g}" if seconds.denominator != 1 else str(seconds)
            raise UsageError(
                f"{flag} time {text!r}: the {unit} after a ':' must be from 0 to 59",
                hint=f"write {plain} s as plain seconds ({flag} {plain}) or as [HH:]MM:SS with fields below 60",
            )
    if seconds < 0:
        raise UsageError(f"{flag} time {text!r} is negative", hint="give 0 or more, e.g. 12.5 or 1:02:03.5")
    return seconds


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """Parse ["studio=blender", "medium=3d"] into a dict; keys are column names."""
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(f"--tag {item!r} is not key=value", hint="use e.g. --tag studio=blender")
        tags[key] = value.strip()
    return tags


def parse_assignments(items: list[str] | None, *, flag: str, example: str) -> dict[str, str]:
    """Parse ["levels=6", "lines=0.5"] given as `flag` into a dict of strings (values are typed by whoever takes them)."""
    values: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {item!r} is not key=value", hint=f"e.g. {flag} {example}")
        values[key.strip()] = value.strip()
    return values


def setting_word(value: object) -> str:
    """A setting's value as `--set key=VALUE` and config.yaml write it (true/false for booleans)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def first_few(names: list[str], shown: int = 10) -> str:
    """Names as a message lists them: the first `shown`, comma-separated, and "and N more" for the rest."""
    rest = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {rest} more" if rest > 0 else "")


def _decimal(text: str) -> Fraction:
    """A plain decimal ("12", "29.97", "1e3") as an exact Fraction; ValueError for anything else (NaN, inf, and
    exponents past 99, which would make Fraction build numbers of unbounded size)."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(text)
    return Fraction(text.strip())
