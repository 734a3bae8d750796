"""How the `vidtoon` command ends: its exit code as the command set it, and every exit hook registered while it ran
(torch's, Ray's, multiprocessing's, TensorBoard's) run before the interpreter's own teardown is skipped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_cli_with(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    """`vidtoon.cli.run()` with its Typer app replaced by `body` (a function `app()`), in a child process."""
    script = tmp_path / "child.py"
    script.write_text("import atexit, sys\nimport vidtoon.cli as cli\n" + textwrap.dedent(body) + "\ncli.app = app\ncli.run()\n")
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(REPO)}
    )


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_the_exit_code_is_kept_and_later_exit_hooks_run(tmp_path, code):
    marker = tmp_path / "hook-ran"
    result = run_cli_with(
        tmp_path,
        f"""
        def app():
            atexit.register(lambda: open({str(marker)!r}, "w").write("yes"))  # as torch or Ray would, mid-command
            print("output")
            raise SystemExit({code})
        """,
    )
    assert result.returncode == code and result.stdout == "output\n", result.stderr
    assert marker.read_text() == "yes"


def test_a_crash_is_left_to_the_interpreter(tmp_path):
    result = run_cli_with(tmp_path, "def app():\n    raise RuntimeError('a bug')\n")
    assert result.returncode == 1 and "RuntimeError: a bug" in result.stderr


def test_a_real_command_ends_with_its_code(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "vidtoon", "probe", str(REPO / "clips" / "sample.mp4")], capture_output=True, text=True
    )
    missing = subprocess.run(
        [sys.executable, "-m", "vidtoon", "probe", str(tmp_path / "none.mp4")], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "480" in ok.stdout
    assert missing.returncode == 1 and missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1
