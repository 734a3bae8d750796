"""`vidtoon batch` run again, for real (local workers, real clips): a job is done only while what made its output
still matches, and a folder batch does not take its own outputs for new films."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import make_clip
from typer.testing import CliRunner

from vidtoon.cli import app

runner = CliRunner()

JOBS = """\
defaults: {to: sketch, height: 64, end: 0.4, consistency: none, preset: ultrafast}
jobs:
  - {source: SRC/chaplin.mp4, output: out/chaplin.mp4}
  - {source: SRC/bbb_2s_example2.mp4, output: out/bbb.mp4}
  - source: c.mp4
"""


def _frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def _mtimes(paths: list[Path]) -> list[int]:
    return [path.stat().st_mtime_ns for path in paths]


def _statuses(report: Path) -> list[str]:
    return [job["status"] for job in json.loads(report.read_text())["jobs"]]


def test_a_changed_job_whose_output_exists_is_refused_then_made_again_with_force(media, tmp_path):
    jobs = tmp_path / "jobs.yaml"
    make_clip(tmp_path / "c.mp4", 8)
    jobs.write_text(JOBS.replace("SRC", str(media)))
    first = runner.invoke(app, ["batch", str(jobs), "--workers", "1"])
    assert first.exit_code == 0, first.output
    named = [tmp_path / "out" / "chaplin.mp4", tmp_path / "out" / "bbb.mp4"]
    sketches = [_frames(path) for path in named]
    made = _mtimes(named)

    jobs.write_text(jobs.read_text().replace("to: sketch", "to: paint"))  # every job changed
    refused = runner.invoke(app, ["batch", str(jobs), "--workers", "1"])
    assert refused.exit_code == 1, refused.output
    lines = refused.output.strip().splitlines()
    assert lines[0] == "error: 2 problem(s) in jobs.yaml, nothing was started", refused.output
    for line, (number, source, output) in zip(
        lines[1:], [(1, "chaplin.mp4", named[0]), (2, "bbb_2s_example2.mp4", named[1])], strict=True
    ):
        assert line == (
            f"jobs.yaml: job {number} ({media / source}): output exists, made with other settings (style sketch → paint): "
            f"{output} (pass --force to make it again)"
        )
    assert _mtimes(named) == made and not (tmp_path / "c.paint.mp4").exists()  # job 3's new output waits too
    again = runner.invoke(app, ["batch", str(jobs), "--workers", "1", "--resume"])  # resume keeps no stale output
    assert again.exit_code == 1 and "made with other settings" in again.output

    forced = runner.invoke(app, ["batch", str(jobs), "--workers", "1", "--force"])
    assert forced.exit_code == 0, forced.output
    assert _statuses(tmp_path / "batch-report.json") == ["done", "done", "done"]
    for path, sketch in zip(named, sketches, strict=True):
        paint = _frames(path)
        assert paint.shape == sketch.shape and not np.array_equal(paint, sketch)  # the paint versions now
    assert (tmp_path / "c.paint.mp4").is_file()

    painted = _mtimes(named)
    last = runner.invoke(app, ["batch", str(jobs), "--workers", "1"])
    assert last.exit_code == 0, last.output
    assert "nothing to do: all 3 job(s) are done already" in last.output
    assert _mtimes(named) == painted


@pytest.mark.parametrize("flags", [[], ["--resume"]], ids=["plain", "resume"])
def test_a_folder_batch_run_again_skips_its_done_jobs(media, tmp_path, flags):
    folder = tmp_path / "bdir"
    folder.mkdir()
    for name in ("bbb_2s_example2.mp4", "chaplin.mp4"):
        shutil.copy(media / name, folder / name)
    command = ["batch", str(folder), "--glob", "*.mp4", "--to", "toon", "--height", "64", "--end", "0.4", "--workers", "1"]
    command += ["--preset", "ultrafast"]
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    outputs = [folder / "bbb_2s_example2.toon.mp4", folder / "chaplin.toon.mp4"]
    made = _mtimes(outputs)

    again = runner.invoke(app, command + flags)
    assert again.exit_code == 0, again.output
    for number, (source, output) in enumerate(zip(("bbb_2s_example2.mp4", "chaplin.mp4"), outputs, strict=True), 1):
        assert f"job {number} ({folder / source}): skipped, done in an earlier run: {output}" in again.output
    assert "nothing to do: all 2 job(s) are done already" in again.output
    assert _mtimes(outputs) == made
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["batch-report.json", "bbb_2s_example2.mp4", "chaplin.mp4", *(p.name for p in outputs)]
    )  # no toon of a toon
    assert _statuses(folder / "batch-report.json") == ["skipped", "skipped"]
