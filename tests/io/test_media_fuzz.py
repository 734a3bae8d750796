"""Fuzzed media: real clips, cut small and then damaged with a seeded RNG (truncated, bytes flipped, a chunk
dropped, a range zeroed, a range duplicated), go through `probe`, `restyle --consistency none` and `frames`.

The standard for every run: never a crash (negative exit code), never a hang (timeout), never a traceback;
either exit 0 with a correct output (decodable, more than zero frames) or exit 1 with at most 2 lines
naming what is wrong, and nothing left under the output's name.

Most runs go through the CLI in-process (one Click command built once: milliseconds each); a handful run as
real subprocesses with a time limit, to catch segfaults and hangs.
"""

from __future__ import annotations

import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from vidtoon.io import AudioSource, EncodeOptions, VideoReader, VideoWriter, read_frames

pytestmark = pytest.mark.timeout(600)  # a hang fails fast (pytest-timeout, in the dev extra) instead of eating CI

MUTATIONS = ("truncate", "flip", "drop", "zero", "duplicate")
FILES_PER_CLIP = 36  # × 6 clips = 216 mutated videos
IMAGES_PER_PICTURE = 20  # × 2 pictures = 40 mutated images
HEIGHT = 160

# name -> (source, start s, seconds, encoder, pixel format): small cuts keep each run short; several containers
# and codecs (H.264 + MP3 in MP4, VP9 + Opus in WebM, MPEG-4 Part 2 + AC3 in AVI, GIF, rotated H.264 + AAC in
# MKV, Motion JPEG + AAC in MOV).
CLIPS = {
    "chaplin.mp4": ("chaplin.mp4", 2, Fraction(3, 4), None, None),
    "bbb.webm": ("big_buck_bunny_0_30.webm", 10, Fraction(3, 4), None, None),
    "megamind.avi": ("Megamind.avi", 3, Fraction(3, 4), "mpeg4", None),
    "pigs.gif": ("pigs_in_a_polka.gif", 0, Fraction(1), None, None),
    "fire.mkv": ("fire2.mp4", 0, Fraction(3, 4), None, None),
    "sample.mov": (None, 1, Fraction(3, 4), "mjpeg", "yuvj420p"),  # None: the project's own clips/sample.mp4
}


def cut(source: Path, output: Path, start: float, seconds: Fraction, codec: str | None, pix_fmt: str | None) -> Path:
    """`seconds` of `source` from `start`, HEIGHT px tall, with its sound, through vidtoon's own reader and writer."""
    end = Fraction(start) + seconds
    with VideoReader(source, start=Fraction(start), end=end) as reader:
        info = reader.info
        width = round(info.width * HEIGHT / info.height / 2) * 2
        options = EncodeOptions(preset="ultrafast", crf=30, codec=codec, pix_fmt=pix_fmt)
        audio = AudioSource(source, origin=reader.start, end=end)
        with VideoWriter(output, fps=info.fps, time_base=info.time_base, options=options, audio=audio) as writer:
            for frame in reader:
                writer.write(cv2.resize(frame.rgb, (width, HEIGHT), interpolation=cv2.INTER_AREA), frame.time)
    return output


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One random damage to `data`, kept away from the first 10% (the header) except for truncation."""
    kind = rng.choice(MUTATIONS)
    size = len(data)
    if kind == "truncate":
        return kind, data[: rng.randrange(1, size)]
    damaged = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(size // 10, size)] ^= 1 << rng.randrange(8)
        return kind, bytes(damaged)
    a = rng.randrange(size // 10, size - 1)
    b = min(size, a + rng.randint(1, max(2, size // 20)))
    if kind == "drop":
        return kind, bytes(damaged[:a] + damaged[b:])
    if kind == "zero":
        damaged[a:b] = bytes(b - a)
        return kind, bytes(damaged)
    return kind, bytes(damaged[:b] + damaged[a:b] + damaged[b:])  # duplicate


@pytest.fixture(scope="module")
def clips(media, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fuzz_bases")
    made = {}
    for name, (source, start, seconds, codec, pix_fmt) in CLIPS.items():
        path = SAMPLE if source is None else media / source
        made[name] = cut(path, folder / name, start, seconds, codec, pix_fmt)
    return made


@pytest.fixture(scope="module")
def cli():
    """The vidtoon app and a runner that builds its Click command once, not on every run (~0.4 s each)."""
    import typer.testing

    from vidtoon.cli import app

    command = typer.main.get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda _app: command)
        yield app, CliRunner()


def problems(result, command: str, output: Path | None) -> list[str]:
    """What breaks the standard in one in-process run (empty when it holds)."""
    found = []
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        found.append(f"raised {type(result.exception).__name__}: {result.exception}")
    if "Traceback" in stderr:
        found.append("printed a traceback")
    if result.exit_code not in (0, 1):
        found.append(f"exit code {result.exit_code}")
    lines = [line for line in stderr.splitlines() if line.strip()]
    if result.exit_code == 1:
        if not 1 <= len(lines) <= 2 or not any(line.startswith("error: ") for line in lines):
            found.append(f"{len(lines)} lines: {stderr[-400:]!r}")
        if output is not None and output.exists():
            found.append(f"left {output.name} behind")
    if result.exit_code == 0 and output is not None:
        found += output_problems(command, output)
    return found


def output_problems(command: str, output: Path) -> list[str]:
    if command == "restyle":
        if not output.is_file():
            return ["exit 0 without an output"]
        try:
            count = sum(1 for _ in read_frames(output))
        except Exception as exc:  # noqa: BLE001 - what a user would see: the output does not decode
            return [f"output does not decode: {exc}"]
        return [] if count > 0 else ["output has no frames"]
    images = sorted(output.glob("*.png"))
    if not images:
        return ["exit 0 without frames"]
    rows = (output / "manifest.csv").read_text().strip().splitlines()[1:]
    unreadable = [p.name for p in images if cv2.imread(str(p)) is None]
    return ([f"{len(rows)} manifest rows for {len(images)} images"] if len(rows) != len(images) else []) + [
        f"unreadable {name}" for name in unreadable
    ]


@pytest.mark.parametrize("name", list(CLIPS))
def test_damaged_clips_give_an_output_or_one_clear_line(clips, cli, tmp_path, name):
    command, runner = cli
    data = clips[name].read_bytes()
    outcomes: dict[str, int] = {}
    failures = []
    for k in range(FILES_PER_CLIP):
        rng = random.Random(f"{name}-{k}")  # each file reproducible on its own
        kind, damaged = mutate(data, rng)
        path = tmp_path / f"{k:02d}_{kind}{clips[name].suffix}"
        path.write_bytes(damaged)
        runs = {
            "probe": (["probe", str(path)], None),
            "restyle": (
                [
                    "restyle",
                    str(path),
                    "--to",
                    "sketch",
                    "--consistency",
                    "none",
                    "--preset",
                    "ultrafast",
                    "-o",
                    str(tmp_path / f"{k:02d}.mp4"),
                ],
                tmp_path / f"{k:02d}.mp4",
            ),
            "frames": (
                ["frames", str(path), "-o", str(tmp_path / f"{k:02d}_frames"), "--fps", "all", "--size", "32"],
                tmp_path / f"{k:02d}_frames",
            ),
        }
        for what, (args, output) in runs.items():
            result = runner.invoke(command, args)
            outcomes[f"{what} exit {result.exit_code}"] = outcomes.get(f"{what} exit {result.exit_code}", 0) + 1
            failures += [f"{path.name} {what}: {problem}" for problem in problems(result, what, output)]
    assert failures == [], "\n".join(failures)
    # the damage is real: some runs fail cleanly, and some files still restyle
    assert outcomes.get("restyle exit 0", 0) + outcomes.get("restyle exit 1", 0) == FILES_PER_CLIP, outcomes


@pytest.mark.parametrize("name", ["face_astronaut.png", "face_monalisa.jpg"])
def test_damaged_images_give_an_output_or_one_clear_line(media, cli, tmp_path, name):
    command, runner = cli
    picture = cv2.resize(cv2.imread(str(media / name)), (96, 128), interpolation=cv2.INTER_AREA)
    small = tmp_path / f"small{Path(name).suffix}"
    cv2.imwrite(str(small), picture)
    data = small.read_bytes()
    failures = []
    for k in range(IMAGES_PER_PICTURE):
        kind, damaged = mutate(data, random.Random(f"{name}-{k}"))
        path = tmp_path / f"{k:02d}_{kind}{small.suffix}"
        path.write_bytes(damaged)
        output = tmp_path / f"{k:02d}.out.png"
        for what, args in {
            "probe": ["probe", str(path)],
            "restyle": ["restyle", str(path), "--to", "sketch", "-o", str(output)],
        }.items():
            result = runner.invoke(command, args)
            failures += [
                f"{path.name} {what}: {problem}" for problem in problems(result, what, output if what == "restyle" else None)
            ]
            if what == "restyle" and result.exit_code == 0 and cv2.imread(str(output)) is None:
                failures.append(f"{path.name}: exit 0 but {output.name} is not a picture")
    assert failures == [], "\n".join(failures)


def test_damaged_clips_in_real_processes(clips, tmp_path):
    """A handful of runs as real processes with a time limit: a segfault or a hang shows here, not as a lost CI job."""
    runs = [("chaplin.mp4", "restyle"), ("megamind.avi", "frames"), ("sample.mov", "frames"), ("bbb.webm", "frames")]
    for name, what in runs:
        data = clips[name].read_bytes()
        kind, damaged = mutate(data, random.Random(f"process-{name}"))
        path = tmp_path / f"{kind}_{name}"
        path.write_bytes(damaged)
        output = tmp_path / f"{path.stem}.out" / "frames" if what == "frames" else tmp_path / f"{path.stem}.out.mp4"
        if what == "restyle":
            args = ["restyle", path, "--to", "sketch", "--consistency", "none", "--preset", "ultrafast", "-o", output]
        else:
            args = ["frames", path, "--fps", "all", "--size", "32", "-o", output]
        # 60 s: a run takes 2-5 s, several times that on a loaded 2-core machine; a hang is caught either way
        result = subprocess.run([sys.executable, "-m", "vidtoon", *map(str, args)], capture_output=True, text=True, timeout=60)
        assert result.returncode in (0, 1), (path.name, result.returncode, result.stderr[-800:])  # < 0: killed by a signal
        assert "Traceback" not in result.stderr, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        if result.returncode == 1:
            assert 1 <= len(lines) <= 2 and not output.exists(), result.stderr
        elif what == "restyle":
            assert sum(1 for _ in read_frames(output)) > 0
        else:
            assert len(list(output.glob("*.png"))) > 0
