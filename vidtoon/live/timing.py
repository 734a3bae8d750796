"""Where a live frame's latency goes: per-frame clock stamps at each hand-over, and their summary by stage.

A restyled frame passes: arrival (due or received) -> converted to RGB (input thread) -> taken by the model thread
-> modelled -> taken by the finish thread (temporal stage, mix) -> finished -> taken by the writer thread -> the
repeats of the last picture before it written (dropped input frames' places) -> encoded and handed to the muxer.
The stamps are `time.monotonic()` seconds; the waits between stages are the hand-overs (a busy next stage).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

# (name, from stamp, to stamp): the stages a frame's latency adds up from, in order.
STAGES = (
    ("convert", "arrival", "ready"),
    ("input wait", "ready", "taken"),
    ("model", "taken", "modelled"),
    ("model wait", "modelled", "finish_start"),
    ("temporal + mix", "finish_start", "finished"),
    ("writer wait", "finished", "write_start"),
    ("repeats", "write_start", "fresh_start"),
    ("encode + mux", "fresh_start", "sent"),
)


@dataclass
class FrameTimes:
    """The monotonic clock (s) at each hand-over of one restyled frame (see the module's docstring)."""

    arrival: float
    ready: float
    taken: float = 0.0
    modelled: float = 0.0
    finish_start: float = 0.0
    finished: float = 0.0
    write_start: float = 0.0
    fresh_start: float = 0.0
    sent: float = 0.0

    @property
    def latency(self) -> float:
        """Arrival -> handed to the muxer (s)."""
        return self.sent - self.arrival


@dataclass(frozen=True)
class StageTime:
    """One stage over a run: its median, 99th percentile and mean per frame (ms)."""

    name: str
    median_ms: float
    p99_ms: float
    mean_ms: float


def percentile(values: list[float], quantile: float) -> float:
    """The `quantile` (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def stage_breakdown(frames: list[FrameTimes]) -> list[StageTime]:
    """Each stage's median, p99 and mean (ms) over `frames` (those fully stamped), in `STAGES` order, then the whole
    latency as "total". Means add up to the mean latency; medians need not. Empty for no frames."""
    done = [f for f in frames if f.sent > 0]
    if not done:
        return []
    rows = []
    for name, start, end in (*STAGES, ("total", "arrival", "sent")):
        spans = [1000 * (getattr(f, end) - getattr(f, start)) for f in done]
        rows.append(
            StageTime(
                name, round(statistics.median(spans), 1), round(percentile(spans, 0.99), 1), round(statistics.fmean(spans), 1)
            )
        )
    return rows
