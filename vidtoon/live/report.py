"""What a live run measured: `LiveStats` (counts and per-frame times, read by the preview page while running) and
`LiveReport` (the end of a run: counts, rates, latency percentiles, CPU time and the stage breakdown)."""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass, field

from vidtoon.live.timing import FrameTimes, percentile


@dataclass
class LiveStats:
    """What the run measured: frames in, restyled, dropped, written (and of those repeated), each frame's stamps."""

    frames_in: int = 0
    restyled: int = 0
    dropped: int = 0
    written: int = 0
    repeated: int = 0
    started: float = field(default_factory=time.monotonic)
    frame_times: list[FrameTimes] = field(default_factory=list)  # each restyled frame's stamps (`vidtoon.live.timing`)
    _recent: deque = field(default_factory=lambda: deque(maxlen=120), repr=False)  # monotonic times of restyled frames

    def restyled_now(self) -> None:
        self.restyled += 1
        self._recent.append(time.monotonic())

    @property
    def fps(self) -> float:
        """Restyled frames per second over the last few seconds."""
        if len(self._recent) < 2:
            return 0.0
        span = self._recent[-1] - self._recent[0]
        return (len(self._recent) - 1) / span if span > 0 else 0.0

    def latency_ms(self, quantile: float) -> float | None:
        """The `quantile` of the restyled frames' latencies (input arrival -> handed to the muxer), ms."""
        if not self.frame_times:
            return None
        return 1000 * percentile([f.latency for f in self.frame_times], quantile)

    def snapshot(self) -> dict:
        """The numbers the preview page shows (JSON-ready)."""
        recent = [f.latency for f in self.frame_times[-60:]]
        return {
            "frames_in": self.frames_in,
            "restyled": self.restyled,
            "dropped": self.dropped,
            "written": self.written,
            "fps": round(self.fps, 1),
            "latency_ms": round(1000 * statistics.median(recent), 1) if recent else None,
        }


@dataclass(frozen=True)
class LiveReport:
    """The end of a live run: counts, rates, latency percentiles (ms), the output, and why it stopped."""

    output: str | None
    frames_in: int
    restyled: int
    dropped: int
    written: int
    repeated: int
    seconds: float
    fps: float
    latency_median_ms: float | None
    latency_p99_ms: float | None
    stopped_by: str  # "input end", "max frames", "signal", "request" (the `stop` event)
    cpu_seconds: float = 0.0  # the process's CPU time (user + sys) during the run, all threads
    stages: dict = field(default_factory=dict)  # stage -> {"median_ms", "p99_ms", "mean_ms"} (`timing.stage_breakdown`)

    def to_dict(self) -> dict:
        return dict(self.__dict__)
