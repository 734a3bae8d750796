"""The command line: thin over the API; every bad input is one clear line, exit 1, nothing left behind."""

import io
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE, VIDTOON, assert_one_line_error, make_audio_only, make_clip, no_leftovers, run_vidtoon
from rich.console import Console

from vidtoon.cli import RichProgress

run = run_vidtoon


def test_help_and_version():
    from vidtoon.cli.app import COMMAND_ORDER, app

    result = run("--help")
    assert result.returncode == 0 and "stitch" in result.stdout and "frames" in result.stdout
    listed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ") and line[2:3].isalpha()]
    assert listed[0] == "restyle" and listed == list(COMMAND_ORDER), listed  # what most users came for, first
    import typer.main

    registered = set(typer.main.get_command(app).commands)
    assert registered == set(COMMAND_ORDER), "a new command needs its place in COMMAND_ORDER"
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("vidtoon ")


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is a text file, renamed\n" * 40)
    data = SAMPLE.read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])
    make_audio_only(folder / "song.m4a")
    (folder / "a_folder.mp4").mkdir()
    return folder


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("missing.mp4", "file not found"),
        ("a_folder.mp4", "is a folder"),
        ("empty.mp4", "empty (0 bytes)"),
        ("notes.mp4", "not a video"),
        ("cut.mp4", "truncated"),
        ("song.m4a", "no video stream"),
    ],
)
def test_bad_video_inputs(bad_inputs, tmp_path, name, fragment):
    target = bad_inputs / name
    assert_one_line_error(run("probe", target), str(target), fragment)
    out = tmp_path / "ds"
    assert_one_line_error(run("frames", target, "-o", out), str(target), fragment)
    assert not out.exists()


def test_verbose_shows_the_traceback(bad_inputs):
    result = run("-v", "probe", bad_inputs / "missing.mp4")
    assert result.returncode == 1 and "Traceback" in result.stderr and "file not found" in result.stderr


def frames_folder(path, count=4):
    path.mkdir()
    for i in range(count):
        cv2.imwrite(str(path / f"f{i}.png"), np.full((32, 32, 3), 40 * i, np.uint8))
    return path


def test_stitch_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run("stitch", empty), str(empty), "no images")
    frames = frames_folder(tmp_path / "frames")
    assert_one_line_error(run("stitch", frames, "-o", "/proc/vidtoon/out.mp4"), "/proc/vidtoon", "cannot write")
    assert_one_line_error(run("stitch", frames, "--fps", "0"), "frame rate")
    song = make_clip(tmp_path / "song.mp4", 2, audio_seconds=3.0)
    before = song.read_bytes()
    assert_one_line_error(run("stitch", frames, "--audio", song, "-o", song, "--force"), str(song), "same file as the input")
    assert song.read_bytes() == before
    assert no_leftovers(tmp_path) == []


def test_stitch_and_frames_from_the_command_line(tmp_path):
    frames = frames_folder(tmp_path / "frames", 6)
    result = run("stitch", frames, "--fps", "2", "--preset", "ultrafast")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "frames.mp4").exists()
    assert_one_line_error(run("stitch", frames, "--fps", "2"), "already exists", "--force")
    result = run("frames", SAMPLE, "--fps", "2", "--size", "64", "-o", tmp_path / "ds", "--tag", "studio=ours", "--end", "2")
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "ds" / "manifest.csv").read_text().splitlines()
    assert manifest[0] == "file,source,timestamp,studio" and len(manifest) == 1 + 4
    assert_one_line_error(run("frames", SAMPLE, "-o", tmp_path / "x", "--tag", "oops"), "key=value")


def test_frames_force_replaces_the_earlier_run(tmp_path):
    # the audit's case: --fps 4 then --fps 1 --force leaves the second run only
    assert run("frames", SAMPLE, "--fps", "4", "--size", "32", "-o", "ds", "--end", "2", cwd=tmp_path).returncode == 0
    assert_one_line_error(run("frames", SAMPLE, "--size", "32", "-o", "ds", cwd=tmp_path), "8 frames of", "--force")
    result = run("frames", SAMPLE, "--fps", "1", "--size", "32", "-o", "ds", "--end", "2", "--force", cwd=tmp_path)
    assert result.returncode == 0 and "wrote 2 frames" in result.stderr, result.stderr
    assert sorted(p.name for p in (tmp_path / "ds").glob("*.png")) == ["sample_t000000.000.png", "sample_t000001.000.png"]
    assert len((tmp_path / "ds" / "manifest.csv").read_text().splitlines()) == 1 + 2
    same_name = tmp_path / "other" / "sample.mp4"
    same_name.parent.mkdir()
    make_clip(same_name, 48)  # 2 s at 24 fps
    result = run("frames", same_name, "--fps", "1", "--size", "32", "-o", "ds", cwd=tmp_path)
    assert result.returncode == 0 and "frames of another video named sample.mp4" in result.stderr, result.stderr
    assert len(list((tmp_path / "ds").glob("*.png"))) == 4


def test_progress_bar_shows_rate_and_eta():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with RichProgress("fps", console=console) as progress:
        progress.start(10, "film.mp4")
        for _ in range(10):
            progress.advance()
    text = buffer.getvalue()
    assert "film.mp4" in text and "10/10" in text and "fps" in text and "ETA" in text


def test_module_entry_point_exists():
    assert (Path(__file__).resolve().parent.parent / "vidtoon" / "__main__.py").exists()


def test_restyle_into_an_existing_folder_writes_the_default_name_there(tmp_path):
    folder = tmp_path / "renders"
    folder.mkdir()
    result = run("restyle", SAMPLE, "--to", "toon", "--height", "64", "--end", "0.5", "-o", folder)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["sample.toon.mp4"]
    assert f"wrote {folder / 'sample.toon.mp4'}\n" in result.stderr


def test_a_folder_restyle_names_its_output_as_the_user_named_the_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    for i in range(2):
        cv2.imwrite(str(tmp_path / "frames" / f"f{i}.png"), np.full((32, 48, 3), 60 * i + 40, np.uint8))
    result = run("restyle", "frames/", "--to", "sketch", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "wrote frames.sketch"  # not the absolute path
    assert sorted(p.name for p in (tmp_path / "frames.sketch").iterdir()) == [".vidtoon-frames.json", "f0.png", "f1.png"]


def test_file_names_are_printed_as_named_on_one_line_in_a_pipe(tmp_path):
    folder = tmp_path / ("a folder named at length " * 4).strip()
    folder.mkdir()
    clip = make_clip(folder / "take [b] [red].mp4", 6)  # Rich markup: printed as "take  .mp4" before
    env = {**os.environ, "COLUMNS": "40", "NO_COLOR": "1"}
    result = subprocess.run(
        [*VIDTOON, "restyle", str(clip), "--to", "toon", "--device", "cpu"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0 and result.stderr == f"wrote {folder / 'take [b] [red].toon.mp4'}\n", result.stderr
    result = subprocess.run([*VIDTOON, "probe", str(clip)], capture_output=True, text=True, env={**env, "COLUMNS": "400"})
    assert result.stdout.splitlines()[0].split(maxsplit=1)[1].strip() == str(clip), result.stdout
    # no $COLUMNS, as in `vidtoon probe x | tee log`: a table is printed whole, not cut at 80 columns ("…") or wrapped
    plain = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    result = subprocess.run([*VIDTOON, "probe", str(clip)], capture_output=True, text=True, env=plain)
    assert len(str(clip)) > 100 and result.stdout.splitlines()[0].split(maxsplit=1)[1].strip() == str(clip), result.stdout


def test_a_non_utf8_locale_lists_and_restyles_without_a_traceback(tmp_path):
    # LANG=C with Python's UTF-8 fallbacks off: the bundled cards (their credits hold "ö") were read in ASCII
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    listing = run_vidtoon("styles", env=env)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert "toon  procedural toon" in listing.stdout
    result = run_vidtoon("restyle", SAMPLE.with_name("sample.jpg"), "--to", "toon", "-o", tmp_path / "x.png", env=env)
    assert result.returncode == 0 and (tmp_path / "x.png").is_file(), result.stderr


@pytest.mark.parametrize("command", ["stitch", "eval", "compare", "stabilize"])
def test_help_ends_with_examples_of_the_command(command):
    result = run(command, "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    examples = lines[lines.index("Examples:") + 1 :]
    assert sum(line.startswith(f"vidtoon {command} ") for line in examples) >= 2, result.stdout
