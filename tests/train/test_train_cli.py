"""`vidtoon train / prep / export` on the command line: bad inputs are one clear line and exit 1; Ctrl-C saves."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import VIDTOON, run_vidtoon
from typer.testing import CliRunner

from vidtoon.cli import app

from .toy import random_png_folder, write_manifest

TINY = [
    "--size",
    "32",
    "--device",
    "cpu",
    "--precision",
    "fp32",
    "--set",
    "ngf=8",
    "--set",
    "n_blocks=1",
    "--set",
    "ndf=8",
    "--set",
    "d_layers=2",
    "--set",
    "load_size=36",
]


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, (result.exit_code, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return random_png_folder(tmp_path_factory.mktemp("good") / "imgs", 4)


def test_bad_training_inputs(good, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("x")
    (notes / "data.csv").write_text("x")
    run = tmp_path / "run"
    assert_one_line_error(cli("train", "cyclegan", "--a", empty, "--b", good, "-o", run), str(empty), "folder is empty")
    assert_one_line_error(cli("train", "cyclegan", "--a", good, "--b", notes, "-o", run), str(notes), "2 files, none an image")
    assert_one_line_error(cli("train", "cyclegan", "--a", good, "-o", run), "no domain B", "--b")
    assert_one_line_error(cli("train", "cyclegan", "--a", good, "--b", tmp_path / "nope", "-o", run), "nope", "not found")
    assert not run.exists()  # nothing is created before the data is known to be good
    config = tmp_path / "c.yaml"
    config.write_text("steps: 5\nlambda_cycel: 5\n")
    assert_one_line_error(
        cli("train", "cyclegan", "--a", good, "--b", good, "--config", config, "-o", run), str(config), "'lambda_cycel'"
    )
    assert_one_line_error(cli("train", "cyclegan", "--set", "augment.flipp=1", "-o", run), "'augment.flipp'")
    assert_one_line_error(cli("train", "cyclegan", "--set", "steps", "-o", run), "not key=value")
    assert_one_line_error(cli("train", "cyclegan", "--size", "50", "-o", run), "multiple of 16")
    assert_one_line_error(
        cli("train", "cyclegan", "--a", good, "--b", good, "--size", "16", "-o", run), "too small", "--set d_layers=2"
    )
    assert_one_line_error(cli("train", "caae", "--data", good, "--label-column", "studio", "-o", run), "no manifest.csv")
    assert_one_line_error(cli("train", "cyclegan", "-o", tmp_path / "never", "--resume"), "no run to resume")
    assert_one_line_error(cli("export", tmp_path / "never"), "training checkpoint not found")
    assert_one_line_error(cli("prep", "smooth", empty, "-o", tmp_path / "s"), str(empty), "no images")


def test_corrupt_images_are_skipped_with_a_warning(tmp_path):
    mixed = random_png_folder(tmp_path / "mixed", 3)
    (mixed / "bad1.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (mixed / "bad2.jpg").write_text("not a jpeg")
    result = cli("train", "cyclegan", "--a", mixed, "--b", mixed, "--steps", "2", "-o", tmp_path / "run", *TINY)
    assert result.exit_code == 0, result.stderr
    warning = " ".join(result.stderr.split())
    assert "skipped 2 of 5 images that cannot be read: bad1.png, bad2.jpg" in warning
    assert "done: 2 steps" in warning and "steps/s" in warning and "vidtoon export" in warning
    again = cli("train", "cyclegan", "--a", mixed, "--b", mixed, "--steps", "2", "-o", tmp_path / "run", *TINY)
    assert_one_line_error(again, "already holds a run", "--resume")
    one_more = cli("train", "cyclegan", "-o", tmp_path / "run", "--resume", "--steps", "3")
    assert one_more.exit_code == 0, one_more.stderr
    summary = " ".join(one_more.stderr.split())  # one step this session, and it is the untimed first: was "0.00 steps/s"
    assert "done: 3 steps" in summary and "too few steps in this session to time" in summary
    assert "0.00 steps/s" not in summary


def test_a_precision_the_device_cannot_run_is_refused_before_the_data_loads(data, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((data / "photos" / "bsds500").glob("*.jpg"))[:3]:
        (photos / path.name).write_bytes(path.read_bytes())
    (photos / "damaged.jpg").write_text("not a jpeg")  # loading the data would warn about it
    run = tmp_path / "run"
    result = cli("train", "cyclegan", "--a", photos, "--b", photos, "-o", run, *TINY, "--precision", "fp16")
    # before: "skipped 1 of 4 images that cannot be read" first (the data loaded, on a film: minutes), then the error
    assert_one_line_error(result, "fp16 needs a CUDA GPU", "--precision")
    assert not run.exists()


def test_caae_label_column_errors(tmp_path):
    frames = random_png_folder(tmp_path / "frames", 4)
    write_manifest(frames, [{"file": f"n{i:03d}.png", "studio": "a" if i % 2 else "b"} for i in range(4)])
    assert_one_line_error(
        cli("train", "caae", "--data", frames, "--label-column", "medium", "-o", tmp_path / "r"),
        "no column 'medium'",
        "file, studio",
    )
    assert_one_line_error(cli("train", "caae", "--data", frames, "-o", tmp_path / "r"), "--label-column")


def test_ctrl_c_saves_and_resume_finishes(tmp_path):
    images = random_png_folder(tmp_path / "imgs", 4)
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "vidtoon",
        "train",
        "cyclegan",
        "--a",
        str(images),
        "--b",
        str(images),
        "-o",
        str(run),
        "--steps",
        "100000",
        "--set",
        "log_every=1",
        *TINY,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if (run / "metrics.csv").exists() and len((run / "metrics.csv").read_text().splitlines()) >= 3:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    text = " ".join(stderr.split())
    assert "stopped at step" in text and "--resume" in text and "Traceback" not in text
    step = int(text.split("stopped at step ")[1].split()[0])
    assert step >= 2 and (run / "checkpoints" / "latest.pt").exists()
    result = cli("train", "cyclegan", "-o", run, "--resume", "--steps", step + 2)
    assert result.exit_code == 0, result.stderr
    rows = (run / "metrics.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, step + 3))


def _ctrl_c_twice(run, rows, *args):
    """`vidtoon train cyclegan ARGS -o RUN` on slow 256 px steps (a metrics row each), Ctrl-C 0.2 s after metrics.csv
    exists with `rows` rows (into the next step) and again 0.4 s later, while that step is still running: (exit code,
    stderr)."""
    command = [*VIDTOON, "train", "cyclegan", "-o", str(run), "--size", "256", "--device", "cpu", "--precision", "fp32"]
    command += ["--set", "log_every=1", *map(str, args)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    metrics, deadline = run / "metrics.csv", time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:  # a --force run removes the previous run's metrics.csv: it may go between a look and a read
            if len(metrics.read_text().splitlines()) >= rows + (1 if rows else 0):  # (and the header)
                break
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    time.sleep(0.4)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, " ".join(stderr.split())


def test_a_second_ctrl_c_says_what_the_run_folder_holds(data, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((data / "photos" / "bsds500").glob("*.jpg"))[:2]:
        (photos / path.name).write_bytes(path.read_bytes())
    run = tmp_path / "run"
    # before: "interrupted: nothing was written under the output name", beside the run's config.yaml and metrics.csv
    code, text = _ctrl_c_twice(run, 0, "--a", photos, "--b", photos, "--steps", 1000)
    assert code == 130 and "Traceback" not in text, text
    assert f"interrupted: stopped at step 0, before the run's first checkpoint: {run} has none; run again with --force" in text
    assert (run / "config.yaml").is_file() and not (run / "checkpoints" / "latest.pt").exists()
    # a checkpoint every 2 steps; Ctrl-C twice during step 4 (before: "nothing was written" as well)
    code, text = _ctrl_c_twice(run, 3, "--a", photos, "--b", photos, "--steps", 1000, "--save-every", 2, "--force")
    assert code == 130 and "Traceback" not in text, text
    assert "without saving it; the checkpoint of step 2 is kept; run again with --resume" in text, text
    resumed = cli("train", "cyclegan", "-o", run, "--resume", "--steps", 3)
    assert resumed.exit_code == 0 and "step 2 of 3" in " ".join(resumed.stderr.split()), resumed.stderr


def test_prep_smooth_command(data, tmp_path):
    source = tmp_path / "anime"
    source.mkdir()
    for path in sorted((data / "anime_faces" / "selfie2anime_trainB").glob("*.jpg"))[:2]:
        (source / path.name).write_bytes(path.read_bytes())
    result = cli("prep", "smooth", source, "-o", tmp_path / "smooth")
    assert result.exit_code == 0, result.stderr
    assert "wrote 2 smoothed images" in result.stderr and len(list((tmp_path / "smooth").iterdir())) == 2


def test_training_progress_bar_shows_rate_and_losses():
    import io

    from rich.console import Console

    from vidtoon.cli import RichProgress

    buffer = io.StringIO()
    with RichProgress("it/s", console=Console(file=buffer, force_terminal=True, width=160), show_metrics=True) as progress:
        progress.start(4, "cyclegan run")
        for _ in range(4):
            progress.advance()
            progress.metrics({"cycle": 2.5, "d_a": 0.25})
    text = buffer.getvalue()
    assert "4/4" in text and "it/s" in text and "cycle 2.5" in text and "d_a 0.25" in text


def test_train_on_real_photos_and_a_film(data, media, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((data / "photos" / "bsds500").glob("*.jpg"))[:4]:
        (photos / path.name).write_bytes(path.read_bytes())
    film = media / "big_buck_bunny_0_30.webm"
    run = tmp_path / "run"
    result = cli(
        "train", "cyclegan", "--a", photos, "--b", film, "--fps", "0.2", "--steps", "2", "-o", run, "--sample-every", "2", *TINY
    )
    assert result.exit_code == 0, result.stderr
    assert "A: 4 images, B: 6 images" in " ".join(result.stderr.split())  # 30 s of film at 0.2 frames/s
    assert (run / "samples" / "step_000002.png").exists() and (run / "checkpoints" / "latest.pt").exists()


def test_a_time_limit_stops_with_a_checkpoint_and_a_sheet_and_resume_goes_on(tmp_path):
    images = random_png_folder(tmp_path / "imgs", 4)
    run = tmp_path / "run"
    began = time.monotonic()
    result = cli("train", "cyclegan", "--a", images, "--b", images, "-o", run, "--steps", 100000, "--time-limit", 2, *TINY)
    took = time.monotonic() - began
    assert result.exit_code == 0, (result.stderr, result.exception)  # an expected end, not an interruption
    text = " ".join(result.stderr.split())
    assert "time limit reached: stopped at step" in text and "--resume" in text, text
    assert "time limit of 2 s applies again; --time-limit 0 lifts it" in text  # it is saved with the run's config
    step = int(text.split("stopped at step ")[1].split()[0])
    assert 1 <= step < 100000 and took < 60
    assert (run / "samples" / f"step_{step:06d}.png").is_file()  # the look where it stopped
    resumed = cli("train", "cyclegan", "-o", run, "--resume", "--steps", step + 2, "--time-limit", "0")
    assert resumed.exit_code == 0 and "done: " in resumed.stderr, resumed.stderr
    rows = (run / "metrics.csv").read_text().splitlines()
    assert int(rows[-1].split(",")[0]) == step + 2


def test_a_run_given_relative_data_paths_resumes_from_another_directory(data, tmp_path):
    work = tmp_path / "work"
    photos = work / "photos"
    photos.mkdir(parents=True)
    for path in sorted((data / "photos" / "bsds500").glob("*.jpg"))[:4]:
        (photos / path.name).write_bytes(path.read_bytes())
    started = run_vidtoon("train", "cyclegan", "--a", "photos", "--b", "photos", "-o", "run", "--steps", 2, *TINY, cwd=work)
    assert started.returncode == 0, started.stderr
    # before: "error: photos: not found", the relative path of config.yaml read against the new working directory
    resumed = run_vidtoon("train", "cyclegan", "-o", work / "run", "--resume", "--steps", 3, cwd=tmp_path)
    assert resumed.returncode == 0 and "done: 3 steps" in resumed.stderr, resumed.stderr
    again = run_vidtoon("train", "cyclegan", "-o", "run", "--resume", "--steps", 4, "--a", "photos", cwd=work)
    assert again.returncode == 0 and "done: 4 steps" in again.stderr, again.stderr  # the same folder, named as at first


@pytest.mark.parametrize("limit", ["-5", "soon"])
def test_a_bad_time_limit_is_one_line(good, tmp_path, limit):
    run = tmp_path / "run"
    assert_one_line_error(cli("train", "cyclegan", "--a", good, "--b", good, "-o", run, "--time-limit", limit), "--time-limit")
    assert not run.exists()
