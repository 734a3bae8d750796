"""The workers' server: a batch started from a deleted current folder is one line, not multiprocessing's traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from vidtoon.cli import app


def test_batch_from_a_deleted_current_folder_is_one_line(tmp_path, monkeypatch):
    jobs = tmp_path / "films.txt"
    jobs.write_text("film.mp4\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result = CliRunner().invoke(app, ["batch", str(jobs), "--to", "toon"])
    assert result.exit_code == 1 and result.stderr == (
        "error: the current folder no longer exists, so no worker can start in it — cd to a folder that exists and run again\n"
    ), result.output
