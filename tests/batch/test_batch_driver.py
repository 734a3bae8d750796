"""The batch process only checks the list and hands the work out: torch is its workers' (the forkserver's, or Ray's
actors'), never its own. Runs in fresh interpreters (this one has torch loaded already), which report what they
imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from conftest import SAMPLE

from vidtoon.gpus import torch_build
from vidtoon.io import probe

REPO = Path(__file__).resolve().parents[2]


def run_child(body: str, cwd: Path) -> dict:
    """Run `body` in a fresh Python; returns the dict it left in `result`, with "torch": whether torch was imported."""
    script = textwrap.dedent(body) + '\nimport json, sys\nprint(json.dumps({**result, "torch": "torch" in sys.modules}))\n'
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, env={"PYTHONPATH": str(REPO)}, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_local_batch_runs_with_torch_in_the_workers_only(tmp_path):
    out = tmp_path / "a.sketch.mp4"
    result = run_child(
        f"""
        import vidtoon
        report = vidtoon.batch([{{"source": {str(SAMPLE)!r}, "output": {str(out)!r}, "to": "sketch", "end": 0.25,
                                  "preset": "ultrafast"}}], workers=1)
        result = {{"statuses": [job.status for job in report.jobs], "frames": [job.frames for job in report.jobs]}}
        """,
        tmp_path,
    )
    assert result == {"statuses": ["done"], "frames": [6], "torch": False}  # 0.25 s at 24 fps
    assert probe(out).frame_count == 6


def test_the_ray_driver_modules_import_no_torch(tmp_path):
    result = run_child(
        """
        import vidtoon.batch.ray_runner, vidtoon.batch.ray_cluster, vidtoon.batch.ray_worker, vidtoon.batch.local
        from vidtoon.batch import plan_batch
        jobs, _ = plan_batch([{"source": "SAMPLE", "to": "toon", "height": 128}])
        result = {"styles": [job.style for job in jobs], "outputs": [str(job.output) for job in jobs]}
        """.replace("SAMPLE", str(SAMPLE)),
        tmp_path,
    )
    assert result == {"styles": ["toon"], "outputs": [str(SAMPLE.with_name("sample.toon.mp4"))], "torch": False}


def test_gpus_are_counted_as_torch_counts_them_without_importing_it(tmp_path):
    result = run_child(
        """
        from vidtoon.gpus import torch_build, visible_gpus
        result = {"build": torch_build(), "gpus": visible_gpus()}
        """,
        tmp_path,
    )
    build = (
        "cuda" if torch.version.cuda else "hip" if torch.version.hip else "xpu" if getattr(torch.version, "xpu", None) else "cpu"
    )
    expected = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert result == {"build": build, "gpus": expected, "torch": False}
    assert torch_build() == build


def test_no_torch_installed_means_no_gpu(tmp_path, monkeypatch):
    from vidtoon import gpus

    monkeypatch.setattr(gpus, "find_spec", lambda name: None)
    monkeypatch.delitem(sys.modules, "torch")
    assert gpus.torch_build() is None and gpus.visible_gpus() == 0
