"""Property: whatever values a user types for a command's options, the command either succeeds (exit 0, its output
exists) or refuses in at most two lines with exit != 0 and no traceback (vidtoon issue #15).

Each command gets a strategy per option: bad values (zero, negative, huge, NaN, inf, words for numbers, unknown
choices) mixed with small good ones, so hypothesis also builds the combinations (`--start` after `--end`, a flow
with a bad strength, ...). The real CLI runs in-process on tiny real inputs. Good values are kept small (a 32 px
height, one training step) so a success costs little; derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_clip
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from vidtoon.cli import app

runner = CliRunner()

NUMBERS = st.sampled_from(
    ["0", "-1", "-7.5", "1e9", "99999999999999999999", "nan", "inf", "-inf", "abc", "", "1/0", "0x1F", "½", "3,5", "1e999"]
)
WORDS = st.sampled_from(["", "nosuch", "NONE", "auto ", "cuda:99", "fp8", "../x", "-", "é"])


def opt(*good: str):
    """A numeric option's values: bad ones (words, NaN, inf, random integers and floats) once in three, else a good one."""
    bad = st.one_of(NUMBERS, st.integers(-(10**12), 10**12).map(str), st.floats().map(repr))
    return st.one_of(bad, st.sampled_from(good), st.sampled_from(good))


def word(*good: str):
    """A choice option's values: unknown words or numbers once in three, else one of the `good` choices."""
    return st.one_of(st.one_of(WORDS, NUMBERS), st.sampled_from(good), st.sampled_from(good))


def flags(options: dict[str, st.SearchStrategy], required: tuple[str, ...] = ()) -> st.SearchStrategy[list[str]]:
    """A command line's flags: each option of `options` present half the time (those in `required` always)."""
    picks = {name: (strategy if name in required else st.none() | strategy) for name, strategy in options.items()}

    def as_args(values: dict[str, str | None]) -> list[str]:
        return [part for name, value in values.items() if value is not None for part in (name, value)]

    return st.fixed_dictionaries(picks).map(as_args)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fuzz")
    make_clip(folder / "clip.mp4", 6, size=(32, 24))
    cv2.imwrite(str(folder / "photo.png"), np.full((48, 64, 3), 90, np.uint8))
    frames = folder / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"f{i}.png"), np.full((24, 32, 3), 60 * i, np.uint8))
    return {"clip": folder / "clip.mp4", "photo": folder / "photo.png", "frames": frames}


def check(args: list[str], made: Path | None, out: Path) -> None:
    """Run `vidtoon ARGS`: success with `made` existing, or a refusal of at most two lines, no traceback."""
    try:
        result = runner.invoke(app, args)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
        if result.exit_code == 0:
            assert made is None or made.exists(), (args, result.output)
        else:
            assert 1 <= len(lines) <= 2, (args, result.output)
            assert lines[0].startswith("error: "), (args, result.output)
    finally:
        shutil.rmtree(out, ignore_errors=True)


FUZZ = settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
ENCODE = {"--crf": opt("0", "23", "51"), "--preset": word("ultrafast"), "--pix-fmt": word("yuv444p", "yuv420p")}


@FUZZ
@given(
    flags(
        {
            "--fps": opt("2", "24", "29.97", "30000/1001"),
            "--size": opt("32", "40x30"),
            "--fit": word("pad", "crop", "stretch"),
            "--pattern": word("*.png", "f1*"),
            **ENCODE,
        }
    )
)
@example([])
def test_stitch(inputs, args):
    out = Path(tempfile.mkdtemp())
    check(["stitch", str(inputs["frames"]), "-o", str(out / "x.mp4"), *args], out / "x.mp4", out)


@FUZZ
@given(
    flags(
        {
            "--fps": opt("all", "2", "24"),
            "--size": opt("16", "none", "20x10"),
            "--crop": word("center", "none"),
            "--start": opt("0", "0.1", "0:00.1"),
            "--end": opt("0.2", "1:00"),
            "--format": word("png", "jpg"),
            "--tag": word("studio=ours", "a=b=c"),
        }
    )
)
@example([])
def test_frames(inputs, args):
    out = Path(tempfile.mkdtemp())
    check(["frames", str(inputs["clip"]), "-o", str(out / "ds"), *args], out / "ds" / "manifest.csv", out)


@FUZZ
@given(
    flags(
        {
            "--height": opt("16", "24"),
            "--max-side": opt("16", "64"),
            "--batch-size": opt("1", "2"),
            "--start": opt("0", "0.05"),
            "--end": opt("0.2", "9"),
            "--consistency": word("none", "flow"),
            "--strength": opt("0", "0.5"),
            "--flow": word("dis", "farneback"),
            "--flow-size": opt("16", "64"),
            "--segment-seconds": opt("1", "30"),
            "--face-size": opt("32", "64"),
            "--face-margin": opt("0", "0.4"),
            "--device": word("cpu", "auto"),
            "--precision": word("fp32", "auto"),
            "--style-opt": word("levels=4", "lines=0.5", "levels=x", "nosuch=1"),
            **ENCODE,
        }
    )
)
@example(["--consistency", "flow", "--height", "16", "--end", "0.2"])
def test_restyle(inputs, args):
    out = Path(tempfile.mkdtemp())
    check(["restyle", str(inputs["clip"]), "--to", "toon", "-o", str(out / "x.mp4"), *args], out / "x.mp4", out)


@FUZZ
@given(
    flags(
        {
            "--strength": opt("0", "0.5"),
            "--flow": word("dis", "farneback", "raft"),
            "--device": word("cpu"),
            "--fps": opt("25", "30000/1001"),
            **ENCODE,
        }
    )
)
@example([])
def test_stabilize(inputs, args):
    out = Path(tempfile.mkdtemp())
    clip = str(inputs["clip"])
    check(["stabilize", clip, "--source", clip, "-o", str(out / "x.mp4"), *args], out / "x.mp4", out)


@FUZZ
@given(flags({"--max-side": opt("16", "32"), "--flow": word("dis", "farneback"), "--device": word("cpu")}))
@example([])
def test_eval(inputs, args):
    out = Path(tempfile.mkdtemp())
    clip = str(inputs["clip"])
    check(["eval", clip, "--source", clip, "--json", *args], None, out)


@FUZZ
@given(
    flags(
        {
            "--method": word("landmarks", "fomm"),
            "--size": opt("64", "96"),
            "--device": word("cpu"),
            "--turn": word("2.5d", "2d", "none"),
            **ENCODE,
        }
    )
)
def test_animate(inputs, args):
    out = Path(tempfile.mkdtemp())  # the grey photo has no face: at best a one-line refusal after the checks
    check(["animate", str(inputs["photo"]), str(inputs["clip"]), "-o", str(out / "x.mp4"), *args], out / "x.mp4", out)


@FUZZ
@given(flags({"--kernel": opt("3", "5")}))
@example([])
def test_prep_smooth(inputs, args):
    out = Path(tempfile.mkdtemp())
    check(["prep", "smooth", str(inputs["frames"]), "-o", str(out / "s"), *args], out / "s", out)


@FUZZ
@given(st.sampled_from(["mine", "../evil", "a b", "", "-x", "ok_2"]), flags({"--strength": opt("0", "0.7", "1")}))
@example("mine", [])
def test_styles_add(inputs, name, args):
    out = Path(tempfile.mkdtemp())
    made = out / "styles" / f"{name}.yaml"
    check(["styles", "add", name, "--like", str(inputs["photo"]), "--dir", str(out / "styles"), *args], made, out)


@settings(FUZZ, max_examples=6)
@given(
    st.sampled_from(["cyclegan", "cartoon"]),
    flags(
        {
            "--steps": opt("1"),
            "--size": opt("16"),
            "--batch-size": opt("1", "2"),
            "--fps": opt("2"),
            "--device": word("cpu"),
            "--precision": word("fp32", "fp16"),
            "--seed": opt("0", "7"),
            "--save-every": opt("1"),
            "--sample-every": opt("1", "50"),
            "--set": word("lr=0.001", "lr=.nan", "lambda_cycle=-1", "augment.flip=maybe", "workers=0"),
        },
        required=("--steps", "--size"),
    ),
)
@example("cartoon", ["--steps", "1", "--size", "16", "--batch-size", "1"])
def test_train(inputs, kind, args):
    out = Path(tempfile.mkdtemp())
    frames = str(inputs["frames"])
    check(["train", kind, "-o", str(out / "run"), "--a", frames, "--b", frames, *args], out / "run" / "config.yaml", out)


@FUZZ
@given(flags({"--name": word("mine", "a.b"), "--direction": word("a2b", "b2a"), "--provenance": word("pixar", "anime")}))
@example([])
def test_export(inputs, args):
    out = Path(tempfile.mkdtemp())  # the frame folder is no run: at best a one-line refusal after the option checks
    check(["export", str(inputs["frames"]), "-o", str(out / "styles"), *args], out / "styles", out)
