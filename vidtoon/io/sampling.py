"""Frames sampled at a rate from a stream of decoded frames, the way FFmpeg's fps filter picks them.

Anything with a `time` (seconds, a Fraction) can be sampled: PyAV is not needed here, so the training data
loader and dataset extraction share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Protocol, TypeVar


class Timed(Protocol):
    time: Fraction


T = TypeVar("T", bound=Timed)


def sample_at_rate(
    frames: Iterator[T], fps: Fraction | None, source_fps: Fraction | None, duration: Fraction | None = None
) -> Iterator[T]:
    """Keep the frame nearest to each time 0, 1/fps, 2/fps, … (each frame at most once); None keeps all.

    Like FFmpeg's fps filter, a clip of `duration` seconds gives round(duration × fps) frames:
    a time in the last half output interval is not sampled.
    """
    if fps is None:
        yield from frames
        return
    step = 1 / fps
    tolerance = 1 / (2 * source_fps) if source_fps else Fraction(0)
    target = Fraction(0)
    for frame in frames:
        if duration is not None and target > duration - step / 2:
            return
        if frame.time + tolerance >= target:
            yield frame
            while target <= frame.time + tolerance:
                target += step
