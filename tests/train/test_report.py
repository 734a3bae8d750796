"""What a run writes to look at: the sample grid, the loss curve (drawn with OpenCV), the metrics log."""

import csv

import numpy as np
import pytest
import torch

from vidtoon.train.report import COLOURS, MetricsLog, image_grid, plot_curves


def test_image_grid_known_answer():
    rows = [torch.full((2, 3, 4, 5), -1.0), torch.full((2, 3, 4, 5), 1.0)]
    grid = image_grid(rows, gap=2)
    assert grid.shape == (2 * 4 + 2, 2 * 5 + 2, 3) and grid.dtype == np.uint8
    assert (grid[:4, :5] == 0).all() and (grid[6:, 7:] == 255).all() and (grid[4:6] == 255).all()


def test_loss_curve_draws_each_series():
    series = {"cycle": [(s, 5.0 - s / 50) for s in range(0, 200, 10)], "d_a": [(s, 0.25) for s in range(0, 200, 10)]}
    image = plot_curves(series, width=640, height=360)
    assert image.shape == (360, 640, 3)
    for colour in COLOURS[:2]:
        assert (np.abs(image.astype(int) - colour).sum(-1) < 30).sum() > 50  # both lines are drawn in their colours
    blank = plot_curves({}, width=320, height=200)
    assert blank.shape == (200, 320, 3)


def test_metrics_log_resumes_at_the_checkpoint(tmp_path):
    log = MetricsLog(tmp_path, tensorboard=False)
    for step in range(1, 6):
        log.write(step, {"loss": 1.0 / step})
    log.close()
    resumed = MetricsLog(tmp_path, resume_step=3, tensorboard=False)
    assert resumed.history["loss"] == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3, rel=1e-5))]
    resumed.write(4, {"loss": 9.0})
    with (tmp_path / "metrics.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["step"], r["loss"]) for r in rows] == [("1", "1"), ("2", "0.5"), ("3", "0.333333"), ("4", "9")]


def test_tensorboard_when_installed(tmp_path):
    pytest.importorskip("tensorboard")
    log = MetricsLog(tmp_path)
    log.write(1, {"loss": 1.0})
    log.close()
    assert log.tensorboard and list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
