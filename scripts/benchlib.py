"""What the benchmark scripts share: where the clips are, timings, memory, tables. Never imported by the package.

The scripts run as `python scripts/bench_*.py`, which puts this folder first on sys.path.
"""

from __future__ import annotations

import os
import resource
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import av

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLIPS = "../shared/clips"
MEMORY_GOAL = 1.10  # peak RSS of the whole film / of its 10-second cut, at most ("flat")


def clips_folder() -> Path:
    """$VIDTOON_TEST_MEDIA, or ../shared/clips; a relative path is taken from the repository root."""
    folder = Path(os.environ.get("VIDTOON_TEST_MEDIA") or DEFAULT_CLIPS)
    if not folder.is_absolute():
        folder = REPO_ROOT / folder
    return folder.resolve()


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """CPU seconds used so far by this process (all threads) or, with RUSAGE_CHILDREN, by its finished children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def peak_rss_kib() -> int:
    """This process's peak resident set size (VmHWM), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def warm_page_cache(path: Path) -> None:
    """Read the file once so that every timed run finds it in the page cache."""
    with open(path, "rb") as file:
        while file.read(4 << 20):
            pass


def count_video_frames(path: Path) -> int:
    """Frames of the first video stream: the container's count, else its non-empty packets."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.frames or sum(1 for packet in container.demux(stream) if packet.size)


@dataclass
class Timings:
    """Wall and CPU seconds of the repetitions of one job, and the frames it handled."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    frames: set[int] = field(default_factory=set)
    inner: list[float] = field(default_factory=list)  # seconds of a part inside the job (e.g. the translator's forward)

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)

    def fps(self) -> float:
        return max(self.frames) / self.best


@dataclass
class MemoryRun:
    """Peak resident memory of one child process."""

    case: str
    frames: int | None
    seconds: float
    peak_mib: float


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(str(cell).rjust(w) if i else str(cell).ljust(w) for i, (cell, w) in enumerate(zip(row, widths))))


def memory_table(runs: list[MemoryRun]) -> None:
    """Baseline, cut and whole film; the whole film's row carries the ratio and the goal."""
    baseline, cut, whole = runs
    ratio = whole.peak_mib / cut.peak_mib
    rows = []
    for run in runs:
        is_whole = run is whole
        rows.append([
            run.case, str(run.frames or "-"), f"{run.seconds:.1f}", f"{run.peak_mib:.0f}",
            f"+{run.peak_mib - baseline.peak_mib:.0f}" if run is not baseline else "-",
            f"{ratio:.3f}x" if is_whole else "-", f"<= {MEMORY_GOAL:.2f}" if is_whole else "-",
            ("yes" if ratio <= MEMORY_GOAL else "NO") if is_whole else "-",
        ])
    headers = ["memory (fresh child process)", "frames", "wall s", "peak RSS MiB", "over baseline", "whole/cut", "goal", "met?"]
    print_table(headers, rows)
