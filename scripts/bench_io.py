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

The ffmpeg binary is the static one from the `imageio-ffmpeg` package (a dev dependency).
This script is a tool for developers; the vidtoon package never imports it.
"""

# Notes
# =====
# Measured 2026-11-22 (runs from 23:25 to 00:35) on this machine: 2 vCPU AMD EPYC, 24 GiB,
# Python 3.11.7, PyAV 18.1.0 (FFmpeg 8.1.2), imageio-ffmpeg's ffmpeg n9.0.2. The machine was
# shared with other sessions' test and training runs the whole time (load average 3-9 on 2
# CPUs): wall times swing up to 2x between repetitions, and a busy machine squeezes the wall
# ratios toward 1. The CPU seconds stayed steady (±5%) across runs, so trust those.
#
# `bench_io.py --repeat 5` (veryfast), load average 5.7 -> 8.8:
#   case                      frames  vidtoon s best/med  ffmpeg s best/med  vidtoon fps  ffmpeg fps  ratio  goal     met?  cpu s vidtoon/ffmpeg
#   decode 720p RGB              240         0.54 / 0.76        0.51 / 0.60          442         471  1.07x        -     -           0.38 / 0.62
#   decode 1080p RGB             251         0.98 / 1.93        1.42 / 1.52          255         177  0.69x        -     -           0.81 / 1.41
#   transcode 720p veryfast      240         5.77 / 6.82        4.73 / 6.01           42          51  1.22x  <= 1.15    NO           5.31 / 4.23
#   transcode 1080p veryfast     251         6.86 / 8.77        5.43 / 8.10           37          46  1.26x  <= 1.15    NO           5.89 / 3.62
#   memory (fresh child process)        frames  wall s  peak RSS MiB  over baseline  whole/cut  goal     met?
#   python + import vidtoon (baseline)       -     0.7            71              -          -        -     -
#   transcode vtest.avi first 10 s         100     2.2           144            +73          -        -     -
#   transcode vtest.avi whole              795     9.2           146            +75     1.013x  <= 1.10   yes
# `--repeat 5` at a lighter load (~3): transcode 720p 3.74 / 2.48 s = 1.50x, 1080p 4.62 / 2.33 s = 1.99x
# (cpu 5.86 / 4.62 and 6.73 / 4.29 s); decode 0.95x / 1.14x. At a load of ~3, ffmpeg transcodes at
# 97-118 fps and vidtoon at 54-68 fps.
# `--repeat 3 --preset medium` (vidtoon's default), load ~6-8: transcode 720p 17.89 / 13.67 s = 1.31x
# (cpu 12.41 / 11.38), 1080p 9.09 / 5.76 s = 1.58x (cpu 8.04 / 5.63); memory whole/cut 190 / 189 MiB = 1.006x.
#
# Why vidtoon's transcode misses 1.15x (measured with copies of vidtoon/io code in a scratch file):
# - Decoding is not the problem: VideoReader matches `ffmpeg ... -pix_fmt rgb24 -` (0.7-1.2x).
# - x264 runs with *sliced* threads in vidtoon (its SEI says `threads=2 sliced_threads=1 slices=2`) and
#   with frame threads in ffmpeg (`threads=3 sliced_threads=0`). PyAV's codec contexts default to
#   thread_type SLICE, and libx264 then switches to sliced threading. So each encode() call blocks
#   until that frame is done, and the RGB->YUV conversion in the main thread cannot overlap with
#   encoding. Encoder alone (pre-converted frames): 147 -> 165 fps at 720p, 142 -> 160 fps at 1080p,
#   and files 1-5% smaller. In the whole transcode at medium: 720p 19.5 -> 12.0 s wall, same CPU.
# - The RGB round trip costs CPU that ffmpeg never spends (ffmpeg passes the yuv420p through):
#   per 1080p frame, single thread, rgb24 -> yuv420p 6.3 ms (swscale's C "half chroma" input path),
#   yuv420p -> rgb24 0.9 ms, VideoFrame.from_ndarray 1.5 ms (array.tobytes() and then a second copy
#   into a newly allocated frame, holding the GIL). Each of to_ndarray/reformat also builds a new
#   SwsContext (and its thread pool) for every frame.
#   With swscale flags AREA|FULL_CHR_H_INP, rgb24 -> yuv420p costs 3.3 ms at 1080p (1.4 ms at 720p,
#   was 2.6), and the chroma comes out closer to an exact BT.709 2x2 average (U/V PSNR 59.3/58.6 ->
#   60.7/61.3 dB on the SMPTE bars, 56.4/57.4 -> 58.8/58.8 dB on Big Buck Bunny).
# - CPU s per transcode (best of 3-7 repetitions; range over 2-4 runs; changes cumulative, top to bottom):
#                                 1080p veryfast   720p veryfast
#     as is                            6.16-6.35       5.41-6.02
#     + x264 frame threads             6.37-6.56       5.71-6.06   (wall 720p -12..-14%, 1080p -18..+5%)
#     + reuse rgb frame and SwsContext 5.86-6.12       5.47-5.81
#     + AREA|FULL_CHR_H_INP            5.18-5.38       5.18-5.41
#     + one SwsContext in the reader   5.08-5.25       4.92-5.45   (CPU ratio to ffmpeg 1.28-1.37 / 1.13-1.14)
#     no RGB at all (passthrough)      3.64-3.96       5.03-5.46   (4.42 if the source's BT.601 tag is kept)
#     ffmpeg CLI                       3.74-4.23       4.36-4.81
#   So with the RGB round trip, 720p gets to about 1.13x and 1080p cannot get below about 1.3x on
#   this clip, because x264 has almost nothing to do on SMPTE bars. Only a transcode that skips RGB
#   gets to about 1.0x.
#
# After those changes landed (x264 frame threads, one refilled RGB frame and one SwsContext per
# writer with AREA|FULL_CHR_H_INP, one SwsContext per reader, and `transcode` passing decoded
# frames straight to the encoder when nothing touches the pixels), `--repeat 3`, load 3.7-5.8:
#   decode 720p RGB              240   0.53 / 0.55 s vs ffmpeg 1.03 / 1.04 s   0.52x
#   decode 1080p RGB             251   2.00 / 2.03 s vs ffmpeg 2.35 / 2.77 s   0.85x
#   transcode 720p veryfast      240   6.53 / 6.72 s vs ffmpeg 5.79 / 6.39 s   1.13x  <= 1.15  yes  (cpu 6.44 / 5.76)
#   transcode 1080p veryfast     251   4.73 / 5.33 s vs ffmpeg 4.97 / 5.32 s   0.95x  <= 1.15  yes  (cpu 4.73 / 4.94)
#   memory: vtest.avi first 10 s 141 MiB, whole 143 MiB: whole/cut 1.015x (flat)

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

from benchlib import (REPO_ROOT, MemoryRun, Timings, clips_folder, count_video_frames, cpu_seconds, memory_table, peak_rss_kib,
                      print_table, warm_page_cache)

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
        ffmpeg, "-nostdin", "-v", "error", "-threads", "0", *cut, "-i", str(path),
        "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
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
        ffmpeg, "-nostdin", "-y", "-v", "error", *cut, "-i", str(source),
        "-map", "0:v:0", "-map", "0:a?", "-c:v", "libx264", "-crf", str(CRF), "-preset", preset,
        "-pix_fmt", "yuv420p", *audio, "-movflags", "+faststart", str(output),
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
            cpu_before, wall_before = cpu_seconds(cpu_of), time.perf_counter()
            runs.frames.add(job())
            runs.wall.append(time.perf_counter() - wall_before)
            runs.cpu.append(cpu_seconds(cpu_of) - cpu_before)
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
    for label, end in ((f"transcode {film.name} first {MEMORY_CUT_SECONDS} s", MEMORY_CUT_SECONDS), (f"transcode {film.name} whole", None)):
        args = ["--child-transcode", str(film), str(scratch / "memory.mp4"), "--preset", preset]
        if end is not None:
            args += ["--end", str(end)]
        runs.append(run_child(label, args))
    return runs


def run_child(case: str, args: list[str]) -> MemoryRun:
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    started = time.perf_counter()
    finished = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO_ROOT)
    seconds = time.perf_counter() - started
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    return MemoryRun(case, report["frames"], seconds, report["peak_kib"] / 1024)


def child_transcode(source: str, output: str, end: float | None, preset: str) -> None:
    """The child process: transcode (or, with source "-", only import vidtoon); print peak RSS as JSON."""
    logging.getLogger("vidtoon").setLevel(logging.ERROR)
    import vidtoon  # noqa: F401 - the baseline is "imports done"

    frames = None
    if source != "-":
        end_fraction = Fraction(end) if end is not None else None
        frames = vidtoon_transcode(Path(source), Path(output), end_fraction, preset)
    print(json.dumps({"frames": frames, "peak_kib": peak_rss_kib()}))


# -- report ------------------------------------------------------------------------------------


def speed_table(rows: list[SpeedRow]) -> None:
    headers = [
        "case", "frames", "vidtoon s best/med", "ffmpeg s best/med", "vidtoon fps", "ffmpeg fps",
        "ratio", "goal", "met?", "cpu s vidtoon/ffmpeg",
    ]
    cells = []
    for row in rows:
        goal = f"<= {row.goal:.2f}" if row.goal is not None else "-"
        met = "-" if row.goal is None else ("yes" if row.ratio <= row.goal else "NO")
        cells.append([
            row.case, row.frames,
            f"{row.vidtoon.best:.2f} / {row.vidtoon.median:.2f}", f"{row.ffmpeg.best:.2f} / {row.ffmpeg.median:.2f}",
            f"{row.vidtoon.fps():.0f}", f"{row.ffmpeg.fps():.0f}", f"{row.ratio:.2f}x", goal, met,
            f"{row.vidtoon.best_cpu:.2f} / {row.ffmpeg.best_cpu:.2f}",
        ])
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
    print(header(ffmpeg, folder, args), flush=True)

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

    print()
    speed_table(rows)
    if memory:
        print()
        memory_table(memory)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (above ~0.5, other work shared the {os.cpu_count()} CPUs: trust best times and CPU s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
