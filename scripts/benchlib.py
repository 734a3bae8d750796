"""What the benchmark scripts share: where the clips are, timings, child processes, memory, tables, and the
dated notes page (docs/benchmarks.md). Never imported by the package.

The scripts run as `python scripts/bench_*.py`, which puts this folder first on sys.path.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLIPS = "../shared/clips"
MEMORY_GOAL = 1.10  # peak RSS of the whole film / of its 10-second cut, at most ("flat")
NOTES_PAGE = REPO_ROOT / "docs" / "benchmarks.md"


def clips_folder() -> Path:
    """$VIDTOON_TEST_MEDIA, or ../shared/clips; a relative path is taken from the repository root."""
    folder = Path(os.environ.get("VIDTOON_TEST_MEDIA") or DEFAULT_CLIPS)
    if not folder.is_absolute():
        folder = REPO_ROOT / folder
    return folder.resolve()


def load_average() -> str:
    """The 1/5/15-minute load averages, e.g. "2.61 3.10 3.40"."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def log_progress(message: str) -> None:
    """One progress line on stderr, with the time and the load average."""
    print(f"  [{time.strftime('%H:%M:%S')}, load {load_average()}] {message}", file=sys.stderr, flush=True)


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


def read_rgb_frames(path: Path, *, end: Fraction | None = None, limit: int | None = None) -> list:
    """The first frames of a clip as H×W×3 uint8 arrays (until `end` seconds, at most `limit`)."""
    from vidtoon.io import VideoReader

    frames = []
    with VideoReader(path, end=end) as reader:
        for frame in reader:
            frames.append(frame.rgb)
            if limit is not None and len(frames) == limit:
                break
    return frames


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


def time_job(job: Callable[[], int], timings: Timings, who: int = resource.RUSAGE_SELF) -> None:
    """Run `job` once (it returns the frames it handled), adding its wall and CPU seconds to `timings`; CPU seconds
    of this process, or with `who=RUSAGE_CHILDREN` of its finished children (a job that runs a command)."""
    cpu_before, wall_before = cpu_seconds(who), time.perf_counter()
    timings.frames.add(job())
    timings.wall.append(time.perf_counter() - wall_before)
    timings.cpu.append(cpu_seconds(who) - cpu_before)


# -- child processes: a fresh Python running a benchmark script, reporting one JSON line -----------------------


def run_json_child(
    script: Path, args: list[str], *, env: dict[str, str] | None = None, show_stderr: bool = True
) -> tuple[Any, float]:
    """Run `python script args...` from the repository root; returns the JSON of its last stdout line and the wall
    seconds it took. Its stderr (progress lines) passes through unless `show_stderr` is False.

    Raises:
        subprocess.CalledProcessError: the child failed.
    """
    command = [sys.executable, str(Path(script).resolve()), *args]
    started = time.perf_counter()
    finished = subprocess.run(
        command,
        check=True,
        stdout=subprocess.PIPE,
        stderr=None if show_stderr else subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    return json.loads(finished.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def print_memory_report(frames: int | None) -> None:
    """The memory child's last line: the frames it handled and its peak RSS, as JSON (read by `run_memory_child`)."""
    print(json.dumps({"frames": frames, "peak_kib": peak_rss_kib()}))


@dataclass
class MemoryRun:
    """Peak resident memory of one child process."""

    case: str
    frames: int | None
    seconds: float
    peak_mib: float


def run_memory_child(case: str, script: Path, args: list[str], *, show_stderr: bool = True) -> MemoryRun:
    """Run a memory child (a script whose last line is `print_memory_report`'s) and return its peak RSS."""
    report, seconds = run_json_child(script, args, show_stderr=show_stderr)
    return MemoryRun(case, report["frames"], seconds, report["peak_kib"] / 1024)


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
        rows.append(
            [
                run.case,
                str(run.frames or "-"),
                f"{run.seconds:.1f}",
                f"{run.peak_mib:.0f}",
                f"+{run.peak_mib - baseline.peak_mib:.0f}" if run is not baseline else "-",
                f"{ratio:.3f}x" if is_whole else "-",
                f"<= {MEMORY_GOAL:.2f}" if is_whole else "-",
                ("yes" if ratio <= MEMORY_GOAL else "NO") if is_whole else "-",
            ]
        )
    headers = ["memory (fresh child process)", "frames", "wall s", "peak RSS MiB", "over baseline", "whole/cut", "goal", "met?"]
    print_table(headers, rows)


# -- the notes page: docs/benchmarks.md, a section per benchmark ---------------------------------------------


@contextlib.contextmanager
def tee_stdout() -> Iterator[io.StringIO]:
    """Everything printed inside the block still goes to stdout, and is also kept in the yielded buffer."""

    class Tee(io.TextIOBase):
        def write(self, text: str) -> int:
            kept.write(text)
            return real.write(text)

        def flush(self) -> None:
            real.flush()

    real, kept = sys.stdout, io.StringIO()
    with contextlib.redirect_stdout(Tee()):
        yield kept


def command_line(script: str, argv: list[str]) -> str:
    """`script argv...` as typed, less the `--notes [COMMENT]` that asked for the entry."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            if not arg.startswith("-"):
                continue
        if arg == "--notes":
            skip = True
        elif not arg.startswith("--notes="):
            kept.append(arg)
    return " ".join([script, *kept])


def text_tables_to_markdown(report: str) -> str:
    """`print_table`'s plain-text tables in `report` as Markdown tables; every other line becomes its own paragraph.

    A table is a header line, a line of dash runs separated by two spaces, and the rows below of the same width.
    """
    lines, out, i = report.strip("\n").splitlines(), [], 0
    while i < len(lines):
        rule = lines[i + 1] if i + 1 < len(lines) else ""
        if rule and set(rule) <= {"-", " "} and rule.startswith("-") and len(lines[i]) == len(rule):
            spans, start = [], 0
            for dashes in rule.split("  "):
                spans.append((start, start + len(dashes)))
                start += len(dashes) + 2
            table = [lines[i]]
            i += 2
            while i < len(lines) and len(lines[i]) == len(rule) and lines[i].strip():
                table.append(lines[i])
                i += 1
            cells = [[line[a:b].strip().replace("|", "\\|") for a, b in spans] for line in table]
            out += ["", "| " + " | ".join(cells[0]) + " |", "|" + "|".join(["---"] + ["---:"] * (len(spans) - 1)) + "|"]
            out += ["| " + " | ".join(row) + " |" for row in cells[1:]]
            out.append("")
        else:
            if lines[i].strip():
                out += ["", lines[i].strip(), ""]
            i += 1
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"


def append_notes(section: str, report: str, *, command: str, comment: str = "", page: Path = NOTES_PAGE) -> None:
    """Append a dated entry (command, load average, `comment`, the printed `report` with its tables as Markdown) to
    the end of the section `## section` of the notes page; a missing section is added at the end of the page."""
    entry = (
        f"\n### {date.today().isoformat()}: `{command}` (load {load_average()})\n\n"
        + (f"{comment.strip()}\n\n" if comment.strip() else "")
        + text_tables_to_markdown(report)
    )
    text = page.read_text(encoding="utf-8") if page.is_file() else "# Benchmark notes\n"
    heading = f"\n## {section}\n"
    start = text.find(heading)
    if start < 0:
        text = text.rstrip("\n") + "\n" + heading + entry
    else:
        end = text.find("\n## ", start + len(heading))
        end = len(text) if end < 0 else end
        text = text[:end].rstrip("\n") + "\n" + entry + text[end:]
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")
