"""Parsing of user-given values: frame rates, sizes, times and tags.

Frame rates and times are exact `Fraction`s: "29.97" becomes 30000/1001, never 29.
"""

from __future__ import annotations

import re
from fractions import Fraction

from vidtoon.errors import UsageError

# Rates people write as decimals but mean as NTSC fractions.
_NTSC = {Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001), Fraction(120000, 1001)}


def parse_rate(text: str | float | Fraction) -> Fraction:
    """Parse a frame rate: "2", "29.97", "30000/1001" -> Fraction; rejects zero and negatives.

    Decimals within 0.001 of an NTSC rate (23.976, 29.97, 59.94) snap to it exactly.
    """
    try:
        if isinstance(text, Fraction):
            rate = text
        elif isinstance(text, (int, float)):
            rate = Fraction(str(text))
        elif "/" in text:
            num, den = text.split("/", 1)
            rate = Fraction(int(num), int(den))
        else:
            rate = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"frame rate {text!r} is not a number", hint="use e.g. 2, 29.97 or 30000/1001") from None
    if rate <= 0:
        raise UsageError(f"frame rate {text!r} must be above zero", hint="use e.g. 2, 25 or 30000/1001")
    for ntsc in _NTSC:
        if rate != ntsc and abs(rate - ntsc) < Fraction(1, 1000):
            return ntsc
    return rate


def parse_size(text: str) -> tuple[int, int]:
    """Parse "256" (square) or "640x360" into (width, height)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*", str(text))
    if not match:
        raise UsageError(f"size {text!r} is not WIDTHxHEIGHT or a single number", hint="use e.g. 256 or 640x360")
    width = int(match.group(1))
    height = int(match.group(2)) if match.group(2) else width
    if width < 2 or height < 2 or width > 16384 or height > 16384:
        raise UsageError(f"size {text!r} is out of range", hint="use 2 to 16384 pixels per side")
    return width, height


def parse_time(text: str | float | None) -> Fraction | None:
    """Parse a time: seconds ("12.5") or "[[HH:]MM:]SS[.fff]" -> Fraction seconds; None stays None."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        text = str(text)
    parts = text.strip().split(":")
    try:
        if len(parts) > 3 or not all(parts):
            raise ValueError
        seconds = Fraction(0)
        for part in parts:
            seconds = seconds * 60 + Fraction(part)
    except ValueError:
        raise UsageError(f"time {text!r} is not seconds or HH:MM:SS", hint="use e.g. 12.5 or 1:02:03.5") from None
    if seconds < 0:
        raise UsageError(f"time {text!r} is negative", hint="times count from the start of the video")
    return seconds


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """Parse ["studio=blender", "medium=3d"] into a dict; keys are column names."""
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(f"tag {item!r} is not key=value", hint="use e.g. --tag studio=blender")
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
