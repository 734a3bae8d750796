"""The CLI is a thin layer: its flags become the right API call (the API functions replaced by fakes that record
their arguments), style defaults sit under the flags, and every VidtoonError leaves through one boundary."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

import vidtoon.restyle  # noqa: F401  (the module whose functions the fakes replace)
import vidtoon.stitch  # noqa: F401
from vidtoon.cli import app
from vidtoon.errors import InputError
from vidtoon.restyle import LoadedStyle, RestyleOptions

runner = CliRunner()


class Recorder:
    """A stand-in for an API function: records each call's arguments, returns `result` or raises `error`."""

    def __init__(self, result=None, error: Exception | None = None):
        self.calls: list[tuple[tuple, dict]] = []
        self.result, self.error = result, error

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def fake_restyle(monkeypatch, tmp_path):
    module = sys.modules["vidtoon.restyle"]
    loaded = LoadedStyle(translator=object(), name="tiny", defaults={}, key={"kind": "checkpoint"})
    load, run = Recorder(result=loaded), Recorder(result=tmp_path / "out.mp4")
    monkeypatch.setattr(module, "load_translator", load)
    monkeypatch.setattr(module, "restyle", run)
    return load, run


def test_restyle_flags_become_options(fake_restyle, tiny_checkpoint, tmp_path):
    load, run = fake_restyle
    result = runner.invoke(
        app,
        [
            "restyle",
            str(SAMPLE),
            "--model",
            str(tiny_checkpoint),
            "-o",
            str(tmp_path / "x.mkv"),
            "--height",
            "360",
            "--strength",
            "0.5",
            "--consistency",
            "none",
            "--start",
            "1",
            "--end",
            "0:00:02.5",
            "--crf",
            "20",
            "--preset",
            "fast",
            "--faces",
            "--face-size",
            "128",
            "--face-margin",
            "0.2",
            "--batch-size",
            "2",
            "--flow",
            "farneback",
            "--resume",
            "--force",
            "--segment-seconds",
            "10",
            "--device",
            "cpu",
            "--precision",
            "fp32",
            "--max-side",
            "512",
        ],
    )
    assert result.exit_code == 0, result.output
    (source, output), kwargs = run.calls[0]
    assert Path(source) == SAMPLE and Path(output) == tmp_path / "x.mkv"
    assert kwargs["resume"] is True and kwargs["force"] is True and kwargs["style_name"] == "tiny"
    options: RestyleOptions = kwargs["options"]
    assert (options.height, options.strength, options.consistency, options.flow) == (360, 0.5, "none", "farneback")
    assert (options.start, options.end) == (Fraction(1), Fraction(5, 2))
    assert (options.faces, options.face_size, options.face_margin, options.batch_size) == (True, 128, 0.2, 2)
    assert (options.segment_seconds, options.max_side, options.device, options.precision) == (10, 512, "cpu", "fp32")
    assert (options.encode.crf, options.encode.preset) == (20, "fast")
    assert load.calls[0][1]["device"] == "cpu" and load.calls[0][1]["card"].checkpoint == tiny_checkpoint


def test_style_defaults_sit_under_the_flags(fake_restyle, tiny_checkpoint, tmp_path, monkeypatch):
    load, run = fake_restyle
    folder = tmp_path / "styles"
    folder.mkdir()
    (folder / "tiny.safetensors").symlink_to(tiny_checkpoint)  # a card names files beside it, never elsewhere
    (folder / "mine.yaml").write_text(
        "name: mine\ncheckpoint: tiny.safetensors\ndefaults:\n  height: 96\n  strength: 0.3\n  faces: true\n"
    )
    monkeypatch.setenv("VIDTOON_STYLES", str(folder))
    assert runner.invoke(app, ["restyle", str(SAMPLE), "--to", "mine"]).exit_code == 0
    assert runner.invoke(app, ["restyle", str(SAMPLE), "--to", "mine", "--height", "144", "--no-faces"]).exit_code == 0
    first, second = run.calls[0][1]["options"], run.calls[1][1]["options"]
    assert (first.height, first.strength, first.faces) == (96, 0.3, True)
    assert (second.height, second.strength, second.faces) == (144, 0.3, False)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--height", "0"], "--height must be a whole number between 16 and 16384, got 0"),
        (["--height", "-5"], "--height must be a whole number"),
        (["--strength", "1.5"], "--strength must be in [0, 1)"),
        (["--batch-size", "0"], "--batch-size must be a whole number"),
        (["--start", "3", "--end", "2"], "--end (2s) must be after --start (3s)"),
        (["--consistency", "sideways"], "--consistency must be one of none, flow"),
        (["--face-size", "8"], "--face-size must be a whole number between 32"),
        (["--style-opt", "levels=6"], "--style-opt does not apply to a checkpoint style"),
        (["--like-strength", "0.5"], "--like-strength goes with --like IMAGE"),
    ],
)
def test_bad_options_are_refused_before_anything_loads(fake_restyle, tiny_checkpoint, flags, message):
    load, run = fake_restyle
    result = runner.invoke(app, ["restyle", str(SAMPLE), "--model", str(tiny_checkpoint), *flags])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert not load.calls and not run.calls  # refused in milliseconds: no model loaded, no frame read


def test_one_error_boundary_for_every_command(monkeypatch, tmp_path):
    fake = Recorder(error=InputError("folder not found", path=tmp_path / "nope", hint="check the name"))
    monkeypatch.setattr(sys.modules["vidtoon.stitch"], "stitch", fake)
    result = runner.invoke(app, ["stitch", str(tmp_path / "nope"), "--fps", "30000/1001", "--size", "64x48", "--fit", "crop"])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {tmp_path / 'nope'}: folder not found — check the name"
    args, kwargs = fake.calls[0]
    assert kwargs["fps"] == "30000/1001" and kwargs["size"] == (64, 48) and kwargs["fit"] == "crop"


def test_stabilize_flags_become_the_api_call(monkeypatch, tmp_path):
    import vidtoon.stabilize  # noqa: F401  (the module; `vidtoon.stabilize` the attribute is the API function)

    run = Recorder(result=tmp_path / "p.stable.mp4")
    monkeypatch.setattr(sys.modules["vidtoon.stabilize"], "stabilize", run)
    result = runner.invoke(
        app,
        ["stabilize", "p.mp4", "--source", "s.mp4", "--strength", "0.5", "--truncate", "--resume", "--preset", "veryfast"],
    )
    assert result.exit_code == 0, result.output
    (processed, source, output), kwargs = run.calls[0]
    assert (processed, source, output) == (Path("p.mp4"), Path("s.mp4"), None)
    assert (kwargs["strength"], kwargs["truncate"], kwargs["resume"], kwargs["force"]) == (0.5, True, True, False)
    assert kwargs["options"].preset == "veryfast"


@pytest.mark.parametrize("name", ["restyle", "batch", "compare", "stabilize", "stitch", "animate"])
def test_crf_help_states_the_default_the_command_uses(name):
    """--crf's help gives the H.264 quality the command really encodes at when --crf is not given (its --preset's
    default decides: none = the automatic faster/CRF 17, a fixed preset = CRF 18)."""
    import typer.main

    from vidtoon.animate.pipeline import PRESET as ANIMATE_PRESET
    from vidtoon.compare.video import PRESET as COMPARE_PRESET
    from vidtoon.io.formats import EncodeOptions
    from vidtoon.stabilize import PRESET as STABILIZE_PRESET
    from vidtoon.stitch import PRESET as STITCH_PRESET

    command = typer.main.get_command(app).commands[name]
    params = {param.name: param for param in command.params}
    # compare, stabilize, stitch and animate leave --preset None (refused for pictures, GIF, VP9); their video's
    # default is the module's PRESET
    video_default = {
        "compare": COMPARE_PRESET,
        "stabilize": STABILIZE_PRESET,
        "stitch": STITCH_PRESET,
        "animate": ANIMATE_PRESET,
    }.get(name)
    preset, crf = EncodeOptions(preset=params["preset"].default or video_default).x264_settings("libx264")
    help_text = " ".join(params["crf"].help.split())
    assert f"H.264 0-51 (default {crf}" in help_text and "VP9 0-63 (default 31)" in help_text, (name, help_text)
    assert ("17 at preset faster" in help_text) == ((preset, crf) == ("faster", 17)), (name, help_text)
