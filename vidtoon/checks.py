"""Checks of option values, each raising one `UsageError` that names the flag, what it takes, and what it got.

The option dataclasses of every command (`RestyleOptions`, `EncodeOptions`, `StitchOptions`, ...) call these in
their `__post_init__`, so a bad value is refused when the options are made: before any input is opened or any
model loaded, with the same message from the CLI and from the Python API. No heavy imports here.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from vidtoon.errors import UsageError
from vidtoon.settings import FLOW_NAMES

DEVICE_HINT = "use auto, cpu, cuda or cuda:N"


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN or ±inf)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def whole_number(flag: str, value: Any, *, optional: bool = False, minimum: int = 1, maximum: int | None = None) -> None:
    """`value` is an int in [minimum, maximum] (None passes when `optional`)."""
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise UsageError(f"{flag} must be a whole number {bound}, got {value!r}")


def number_in(
    flag: str, value: Any, low: float, high: float, *, high_open: bool = False, hint: str | None = None, unit: str = ""
) -> None:
    """`value` is a finite number in [low, high] (or [low, high) with `high_open`)."""
    inside = is_number(value) and low <= value and (value < high if high_open else value <= high)
    if not inside:
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}"
        raise UsageError(f"{flag} must be in {interval}{unit}, got {value!r}", hint=hint)


def frame_size(flag: str, value: Any, *, optional: bool = True) -> tuple[int, int] | None:
    """`value` is (width, height) of 2 to 16384 pixels each, a tuple or a list (None passes when `optional`); returns it
    as a tuple."""
    if value is None and optional:
        return None
    if not (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 16384 for v in value)
    ):
        raise UsageError(f"{flag} must be (width, height) of 2 to 16384 pixels each, got {value!r}")
    return (value[0], value[1])


def choice(flag: str, value: Any, choices: tuple[str, ...] | frozenset[str]) -> None:
    """`value` is one of `choices`."""
    if value not in choices:
        raise UsageError(f"{flag} must be one of {', '.join(choices)}, got {value!r}")


def device_name(flag: str, value: Any) -> None:
    """`value` is spelled like a device ("auto", "cpu", "cuda", "cuda:N"); whether it exists is `resolve_device`'s job."""
    if not isinstance(value, str) or not re.fullmatch(r"\s*(auto|cpu|cuda(:\d{1,3})?)\s*", value.lower()):
        raise UsageError(f"{flag} {value}: unknown device", hint=DEVICE_HINT)


def flow_name(flag: str, value: Any) -> None:
    """`value` names a flow backend ("dis", "farneback", "raft")."""
    if value not in FLOW_NAMES:
        raise UsageError(f"unknown flow backend {value!r} for {flag}", hint=f"known: {', '.join(FLOW_NAMES)}")


def seconds(flag: str, value: Any, *, optional: bool = True) -> Fraction | None:
    """`value` (an int, a finite float or a Fraction, 0 or more) as exact seconds; None passes when `optional`."""
    if value is None and optional:
        return None
    if not (isinstance(value, Fraction) or is_number(value)) or value < 0:
        raise UsageError(f"{flag} must be a time of 0 seconds or more, got {value!r}")
    return value if isinstance(value, Fraction) else Fraction(str(value))


def renamed(name: str, value: Any, old_name: str, old_value: Any) -> Any:
    """The value of a keyword argument that has an older name still taken (`fit=` once `fit_mode=`): whichever of the
    two was given (None: neither), quietly; both, with different values, is refused."""
    if old_value is None:
        return value
    if value is not None and value != old_value:
        raise UsageError(f"{name}={value!r} and {old_name}={old_value!r} are one setting; give {name}= only")
    return old_value
