"""scripts/train_styles_gpu.py --smoke: the GPU recipe's code path, tiny, on the CPU and without PyAV, so GPU time is
never spent discovering a bug. Checks the outputs the GPU run must bring back."""

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import torch
from safetensors.torch import load_file

from vidtoon.models import file_sha256, load_checkpoint
from vidtoon.styles import read_style_card
from vidtoon.styles.cards import find_style

from .toy import random_png_folder

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "train_styles_gpu.py"


def test_gpu_recipe_smoke_without_pyav(tmp_path):
    data = tmp_path / "gpu_data"
    for k, style in enumerate(("pixar", "anime")):
        random_png_folder(data / style / "a", 5, seed=2 * k, size=(48, 64))
        random_png_folder(data / style / "b", 4, seed=2 * k + 1, size=(48, 48))
    # here (OpenCV with ximgproc): each photo's target, the palette applied, as the run would have made it
    made = subprocess.run(
        [sys.executable, str(SCRIPT), "--prepare", "--smoke", "--data", str(data)], capture_output=True, text=True, check=False
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert "pixar: 5 targets (film look; B's palette: " in made.stdout and "anime: 5 targets (anime look)" in made.stdout
    assert sorted(p.name for p in (data / "pixar" / "targets").iterdir()) == [f"n{i:03d}.jpg" for i in range(5)]
    for style in ("pixar", "anime"):
        shutil.rmtree(data / style / "b")  # the film frames stay here: the anchor-only run needs none
    out = tmp_path / "out"
    runner = (
        "import runpy, sys; sys.modules['av'] = None; "  # as on the GPU machine: importing PyAV fails,
        "import cv2; del cv2.ximgproc; "  # and its OpenCV (opencv-python-headless) has no ximgproc
        f"sys.argv = [{str(SCRIPT)!r}] + sys.argv[1:]; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", runner, "--smoke", "--out", str(out), "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "anime.heldout.png",
        "anime.safetensors",
        "anime.yaml",
        "pixar.heldout.png",
        "pixar.safetensors",
        "pixar.yaml",
        "report.txt",
    ]
    assert all(p.stat().st_size < 16 * 2**20 for p in out.iterdir())
    report = (out / "report.txt").read_text()
    said = "pixar: 6 steps (6 anchor-only) from the shipped pixar at 32 px, batch 2: 12 crops seen"
    assert said in report and "anime: 6 steps (6 anchor-only) from the shipped anime" in report, report
    assert "held-out colour cast" in report and "FAILED" not in report
    assert report.count("held-out (2 photos): shipped ") == 2 and "levels from the target" in report
    # the sheet: photo, target, shipped, new (4 rows of the 2 held-out photos' 48 px centres, 2 px gaps)
    assert cv2.imread(str(out / "pixar.heldout.png")).shape == (4 * 48 + 3 * 2, 2 * 48 + 2, 3)
    for style in ("pixar", "anime"):
        card = read_style_card(out / f"{style}.yaml")
        assert card.sha256 == file_sha256(card.checkpoint) and card.training["steps"] == 6 and "look" in card.training
        assert all(t.dtype == torch.float16 for t in load_file(card.checkpoint).values())
        model, model_card = load_checkpoint(card.checkpoint)
        _, shipped_card = load_checkpoint(find_style(style).checkpoint)
        assert card.training["init_from"] == style and model_card.kwargs == shipped_card.kwargs
        with torch.no_grad():
            y = model(torch.zeros(1, 3, 360 // 4 * 4, 640))
        assert y.shape == (1, 3, 360, 640) and bool(y.abs().le(1).all())
    assert read_style_card(out / "anime.yaml").defaults == {"faces": True}
    assert "Blender Foundation" in read_style_card(out / "pixar.yaml").credits
    # without the targets, a machine without ximgproc says what to do
    shutil.rmtree(data / "pixar" / "targets")
    (data / "pixar" / "b").mkdir()
    again = subprocess.run(
        [sys.executable, "-c", runner, "--smoke", "--out", str(tmp_path / "o2"), "--data", str(data), "--styles", "pixar"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 1 and "this OpenCV has no ximgproc for the pixar look: make " in again.stdout


def test_gpu_recipe_smoke_from_scratch_with_the_adversarial_phase(tmp_path):
    data = tmp_path / "gpu_data"
    random_png_folder(data / "pixar" / "a", 5, seed=0, size=(48, 64))
    random_png_folder(data / "pixar" / "b", 4, seed=1, size=(48, 48))
    out = tmp_path / "out"
    args = ["--smoke", "--out", str(out), "--data", str(data), "--styles", "pixar", "--from-scratch", "--adversarial"]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = (out / "report.txt").read_text()
    assert "pixar: 6 steps (2 anchor-only) from random weights at 32 px" in report, report
    _, card = load_checkpoint(out / "pixar.safetensors")
    assert card.kwargs["ngf"] == 8 and card.kwargs["n_blocks"] == 1  # the tiny smoke generator, not the shipped one
    assert "init_from" not in read_style_card(out / "pixar.yaml").training


def test_missing_data_is_reported_and_fails(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--smoke",
            "--out",
            str(tmp_path / "o"),
            "--data",
            str(tmp_path / "none"),
            "--styles",
            "pixar",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1 and "pixar: no data in" in done.stdout


def test_the_calibration_rate_leaves_out_the_steps_the_full_batch_queue_paid_for(tmp_path):
    import runpy

    steady_rate = runpy.run_path(str(SCRIPT))["steady_rate"]
    metrics = tmp_path / "metrics.csv"
    rows = ["step,lr,step_ms,data_ms"]  # 20 steps a row: the first two rows never waited for data (queue full)
    rows += [f"{step},0.0001,10,{0 if step <= 40 else 40}" for step in range(20, 121, 20)]
    metrics.write_text("\n".join(rows) + "\n")
    assert abs(steady_rate(metrics) - 20.0) < 1e-9  # 50 ms a step after step 40: 20 steps/s, not the mean's 26
    metrics.write_text("step,lr,step_ms,data_ms\n20,0.0001,10,0\n")
    assert steady_rate(metrics) is None  # a smoke run: too short to say
