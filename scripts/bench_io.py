#!/usr/bin/env python
"""Benchmark vidtoon's video I/O against the `ffmpeg` command line doing the same job, in one run.

What it measures (each timing repeated `--repeat` times; vidtoon and ffmpeg take turns, so machine
noise hits both; the ratio is vidtoon's best time / ffmpeg's best time):

1. decode only, 720p and 1080p: iterate `vidtoon.io.VideoReader` (RGB frames) against
   `ffmpeg -threads 0 -i CLIP -f rawvideo -pix_fmt rgb24 -` read from a pipe and discarded
   (RGB through a pipe is the fair match: vidtoon hands out RGB arrays). Informational, no goal.
2. transcode (decode → encode, x264 crf 18, `--preset`, default veryfast), 720p and 1080p:
   `vidtoon.io.transcode` against `ffmpeg -i CLIP -map 0:v:0 -map 0:a? -c:v libx264 -crf 18
   -preset P -pix_fmt yuv420p OUT.mp4`. The ffmpeg command does what vidtoon does with the
   sound (copied when MP4 takes the codec, else AAC at 64 kb/s per channel, as
   `vidtoon.io.audio` does) and adds `-movflags +faststart`, which vidtoon's MP4s get too.
   Goal (from the issue): vidtoon within 1.15× of ffmpeg's time.
   720p is the first 10 s of big_buck_bunny_0_30.webm (1280×720 VP8 + Vorbis; vidtoon
   `end=Fraction(10)`, ffmpeg `-t 10`), 1080p is smpte-2997.mp4 (1920×1080 H.264 + AAC, 10 s).
   Both sides must produce the same number of frames; a mismatch is shown in the table.
3. peak memory, flat as length grows: `vidtoon.io.transcode` of vtest.avi (79.5 s, 768×576)
   and of its first 10 s, each in a fresh child process (this script with `--child-transcode`)
   that reports its own peak RSS (VmHWM). Goal: full / cut ≤ 1.10 (flat). A child that only
   imports vidtoon is shown as the baseline.

Wall time is what the goals are about; CPU seconds (all threads; for ffmpeg the child's user +
system time) are shown too, because on a small, shared machine they are steadier than wall time
and tell "more work" apart from "worse parallelism".

Run (from the repository root; clips from $VIDTOON_TEST_MEDIA, default ../shared/clips
relative to the repository root; temporary outputs go to a temporary folder that is removed):

    .venv/bin/python scripts/bench_io.py                   # everything, --repeat 3
    .venv/bin/python scripts/bench_io.py --repeat 5 --preset medium
    .venv/bin/python scripts/bench_io.py --quick           # smoke run: 1 repetition, 720p only
    .venv/bin/python scripts/bench_io.py --notes "what changed"   # also append the report, dated, to the notes

The ffmpeg binary is the static one from the `imageio-ffmpeg` package (a dev dependency).
This script is a tool for developers; the vidtoon package never imports it.

notes: docs/benchmarks.md#bench_io (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

from benchlib import (
    MemoryRun,
    Timings,
    append_notes,
    clips_folder,
    command_line,
    count_video_frames,
    memory_table,
    print_memory_report,
    print_table,
    run_memory_child,
    tee_stdout,
    time_job,
    warm_page_cache,
)

TRANSCODE_GOAL = 1.15  # vidtoon's transcode time / ffmpeg's, at most (from the issue)
CRF = 18
READ_CHUNK = 4 << 20  # bytes read from ffmpeg's pipe at a time


@dataclass(frozen=True)
class Clip:
    """A benchmark input: a file from the clips folder, optionally only its first seconds."""

    label: str  # "720p", "1080p", ...
    file: str
    seconds: int | None = None  # None: the whole file

    @property
    def end(self) -> Fraction | None:
        return Fraction(self.seconds) if self.seconds is not None else None


CLIP_720P = Clip("720p", "big_buck_bunny_0_30.webm", seconds=10)
CLIP_1080P = Clip("1080p", "smpte-2997.mp4")
MEMORY_FILM = "vtest.avi"
MEMORY_CUT_SECONDS = 10


@dataclass
class SpeedRow:
    """One vidtoon-against-ffmpeg comparison."""

    case: str
    vidtoon: Timings
    ffmpeg: Timings
    goal: float | None  # the most vidtoon/ffmpeg may be; None: informational

    @property
    def ratio(self) -> float:
        return self.vidtoon.best / self.ffmpeg.best

    @property
    def frames(self) -> str:
        counts = sorted(self.vidtoon.frames | self.ffmpeg.frames)
        if len(counts) == 1:
            return str(counts[0])
        return f"MISMATCH v{sorted(self.vidtoon.frames)} f{sorted(self.ffmpeg.frames)}"


# -- inputs and tools --------------------------------------------------------------------------


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


# -- the jobs: each returns the number of frames it decoded or wrote ---------------------------


def vidtoon_decode(path: Path, end: Fraction | None) -> int:
    from vidtoon.io import VideoReader

    frames = 0
    with VideoReader(path, end=end) as reader:
        for _frame in reader:
            frames += 1
    return frames


def ffmpeg_decode(ffmpeg: str, path: Path, seconds: int | None, width: int, height: int) -> int:
    """Decode to rgb24 rawvideo on a pipe, read and discard it; frames = bytes / frame size."""
    cut = ["-t", str(seconds)] if seconds is not None else []
    command = [
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-threads",
        "0",
        *cut,
        "-i",
        str(path),
        "-map",
        "0:v:0",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    received = 0
    buffer = bytearray(READ_CHUNK)
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        while count := process.stdout.readinto(buffer):
            received += count
    if process.returncode:
        raise RuntimeError(f"ffmpeg failed ({process.returncode}): {' '.join(command)}")
    return received // (width * height * 3)


def vidtoon_transcode(source: Path, output: Path, end: Fraction | None, preset: str) -> int:
    from vidtoon.io import EncodeOptions, transcode

    transcode(source, output, end=end, options=EncodeOptions(crf=CRF, preset=preset), force=True)
    return count_video_frames(output)


def ffmpeg_transcode(ffmpeg: str, source: Path, output: Path, seconds: int | None, preset: str, audio: list[str]) -> int:
    cut = ["-t", str(seconds)] if seconds is not None else []
    command = [
        ffmpeg,
        "-nostdin",
        "-y",
        "-v",
        "error",
        *cut,
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-map",
        "0:a?",
        "-c:v",
        "libx264",
        "-crf",
        str(CRF),
        "-preset",
        preset,
        "-pix_fmt",
        "yuv420p",
        *audio,
        "-movflags",
        "+faststart",
        str(output),
    ]
    subprocess.run(command, check=True)
    return count_video_frames(output)


def ffmpeg_audio_args(source: Path) -> list[str]:
    """What vidtoon does with each audio stream going into MP4: copy it, or AAC at 64 kb/s a channel."""
    from vidtoon.io import probe
    from vidtoon.io.formats import FORMATS

    accepted = FORMATS[".mp4"].audio_copy
    args: list[str] = []
    for number, stream in enumerate(probe(source).audio):
        if accepted is None or stream.codec in accepted:
            args += [f"-c:a:{number}", "copy"]
        else:
            bitrate = 64_000 * max(1, min(stream.channels or 2, 8))
            args += [f"-c:a:{number}", "aac", f"-b:a:{number}", str(bitrate)]
    return args


# -- timing ------------------------------------------------------------------------------------


def compare(vidtoon_job: Callable[[], int], ffmpeg_job: Callable[[], int], repeat: int) -> tuple[Timings, Timings]:
    """Run both jobs `repeat` times, taking turns (v f, f v, v f, ...), timing each."""
    vidtoon, ffmpeg = Timings(), Timings()
    for repetition in range(repeat):
        turns = [(vidtoon_job, vidtoon, resource.RUSAGE_SELF), (ffmpeg_job, ffmpeg, resource.RUSAGE_CHILDREN)]
        if repetition % 2:
            turns.reverse()
        for job, runs, cpu_of in turns:
            time_job(job, runs, cpu_of)
    return vidtoon, ffmpeg


def bench_decode(clip: Clip, folder: Path, ffmpeg: str, repeat: int) -> SpeedRow:
    from vidtoon.io import probe

    path = folder / clip.file
    info = probe(path)
    warm_page_cache(path)
    vidtoon, ffmpeg_runs = compare(
        lambda: vidtoon_decode(path, clip.end),
        lambda: ffmpeg_decode(ffmpeg, path, clip.seconds, info.width, info.height),
        repeat,
    )
    return SpeedRow(f"decode {clip.label} RGB", vidtoon, ffmpeg_runs, goal=None)


def bench_transcode(clip: Clip, folder: Path, ffmpeg: str, repeat: int, preset: str, scratch: Path) -> SpeedRow:
    source = folder / clip.file
    warm_page_cache(source)
    audio = ffmpeg_audio_args(source)
    vidtoon, ffmpeg_runs = compare(
        lambda: vidtoon_transcode(source, scratch / f"vidtoon-{clip.label}.mp4", clip.end, preset),
        lambda: ffmpeg_transcode(ffmpeg, source, scratch / f"ffmpeg-{clip.label}.mp4", clip.seconds, preset, audio),
        repeat,
    )
    return SpeedRow(f"transcode {clip.label} {preset}", vidtoon, ffmpeg_runs, goal=TRANSCODE_GOAL)


def bench_memory(folder: Path, preset: str, scratch: Path) -> list[MemoryRun]:
    """Peak RSS of fresh child processes: imports only, the 10-second cut, the whole film."""
    film = folder / MEMORY_FILM
    warm_page_cache(film)
    runs = [run_child("python + import vidtoon (baseline)", ["--child-transcode", "-", "-"])]
    for label, end in (
        (f"transcode {film.name} first {MEMORY_CUT_SECONDS} s", MEMORY_CUT_SECONDS),
        (f"transcode {film.name} whole", None),
    ):
        args = ["--child-transcode", str(film), str(scratch / "memory.mp4"), "--preset", preset]
        if end is not None:
            args += ["--end", str(end)]
        runs.append(run_child(label, args))
    return runs


def run_child(case: str, args: list[str]) -> MemoryRun:
    """This script in a fresh child process (`--child-transcode`): its peak RSS."""
    return run_memory_child(case, Path(__file__), args, show_stderr=False)


def child_transcode(source: str, output: str, end: float | None, preset: str) -> None:
    """The child process: transcode (or, with source "-", only import vidtoon); print peak RSS as JSON."""
    logging.getLogger("vidtoon").setLevel(logging.ERROR)
    import vidtoon  # noqa: F401 - the baseline is "imports done"

    frames = None
    if source != "-":
        end_fraction = Fraction(end) if end is not None else None
        frames = vidtoon_transcode(Path(source), Path(output), end_fraction, preset)
    print_memory_report(frames)


# -- report ------------------------------------------------------------------------------------


def speed_table(rows: list[SpeedRow]) -> None:
    headers = [
        "case",
        "frames",
        "vidtoon s best/med",
        "ffmpeg s best/med",
        "vidtoon fps",
        "ffmpeg fps",
        "ratio",
        "goal",
        "met?",
        "cpu s vidtoon/ffmpeg",
    ]
    cells = []
    for row in rows:
        goal = f"<= {row.goal:.2f}" if row.goal is not None else "-"
        met = "-" if row.goal is None else ("yes" if row.ratio <= row.goal else "NO")
        cells.append(
            [
                row.case,
                row.frames,
                f"{row.vidtoon.best:.2f} / {row.vidtoon.median:.2f}",
                f"{row.ffmpeg.best:.2f} / {row.ffmpeg.median:.2f}",
                f"{row.vidtoon.fps():.0f}",
                f"{row.ffmpeg.fps():.0f}",
                f"{row.ratio:.2f}x",
                goal,
                met,
                f"{row.vidtoon.best_cpu:.2f} / {row.ffmpeg.best_cpu:.2f}",
            ]
        )
    print_table(headers, cells)


def header(ffmpeg: str, folder: Path, args: argparse.Namespace) -> str:
    import av

    ffmpeg_version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n", 1)[0]
    return (
        f"vidtoon I/O vs ffmpeg CLI -- {date.today().isoformat()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}); {ffmpeg_version}\n"
        f"clips: {folder}; repeat {args.repeat}, preset {args.preset}, crf {CRF}; ratio = vidtoon best / ffmpeg best; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each timing (default 3)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset for the transcodes (default veryfast)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repetition, 720p only, no memory runs")
    parser.add_argument(
        "--notes",
        nargs="?",
        const="",
        metavar="COMMENT",
        help="also append the report, dated, to docs/benchmarks.md#bench_io (with COMMENT)",
    )
    parser.add_argument("--child-transcode", nargs=2, metavar=("SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--end", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_transcode:
        child_transcode(*args.child_transcode, end=args.end, preset=args.preset)
        return 0
    if args.quick:
        args.repeat = 1
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    logging.getLogger("vidtoon").setLevel(logging.ERROR)  # e.g. "re-encoding vorbis to aac", every run
    folder = clips_folder()
    clips = [CLIP_720P] if args.quick else [CLIP_720P, CLIP_1080P]
    missing = [name for name in [c.file for c in clips] + [MEMORY_FILM] if not (folder / name).is_file()]
    if missing:
        print(f"missing clips in {folder}: {', '.join(missing)} (set VIDTOON_TEST_MEDIA)", file=sys.stderr)
        return 1
    ffmpeg = ffmpeg_exe()
    title = header(ffmpeg, folder, args)
    print(title, flush=True)

    rows: list[SpeedRow] = []
    with tempfile.TemporaryDirectory(prefix="vidtoon-bench-") as scratch_name:
        scratch = Path(scratch_name)
        for clip in clips:
            rows.append(bench_decode(clip, folder, ffmpeg, args.repeat))
            print(f"  done: {rows[-1].case}", file=sys.stderr, flush=True)
        for clip in clips:
            rows.append(bench_transcode(clip, folder, ffmpeg, args.repeat, args.preset, scratch))
            print(f"  done: {rows[-1].case}", file=sys.stderr, flush=True)
        memory = [] if args.quick else bench_memory(folder, args.preset, scratch)

    with tee_stdout() as report:
        print()
        speed_table(rows)
        if memory:
            print()
            memory_table(memory)
        print(
            f"\nload average at the end {os.getloadavg()[0]:.1f} (above ~0.5, other work shared the {os.cpu_count()} CPUs: trust best times and CPU s)"
        )
    if args.notes is not None:
        append_notes(
            "bench_io",
            title + "\n" + report.getvalue(),
            command=command_line("bench_io.py", sys.argv[1:] if argv is None else argv),
            comment=args.notes,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
