"""A typo answers at once: naming, checking and listing styles, and refusing a bad restyle, import no torch (nor PyAV
nor OpenCV where nothing needs them). Each case runs in a fresh interpreter (this one has torch loaded already) and
reports the modules it ended with."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SAMPLE

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "av", "cv2")


def run_child(body: str, tmp_path: Path) -> tuple[dict, str, str]:
    """Run `body` in a fresh Python: (what `body` put in `result`, with "loaded": which of HEAVY it imported; its other
    stdout; its stderr)."""
    script = textwrap.dedent(body) + textwrap.dedent(
        f"""
        import json as _json, sys as _sys
        print(_json.dumps({{**result, "loaded": [m for m in {HEAVY!r} if m in _sys.modules]}}))
        """
    )
    env = {"PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    *out, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(out), done.stderr


def run_cli(args: list[str], tmp_path: Path) -> tuple[dict, str, str]:
    """The command line's app invoked in-process (not `run()`, which ends with os._exit before we could look)."""
    return run_child(
        f"""
        from vidtoon.cli import app
        try:
            app({args!r})
        except SystemExit as exc:
            result = {{"code": exc.code}}
        """,
        tmp_path,
    )


def test_importing_restyle_and_styles_loads_no_torch_pyav_or_opencv(tmp_path):
    modules, _, _ = run_child(
        """
        import vidtoon.restyle, vidtoon.styles
        from vidtoon.restyle import RestyleOptions, check_source, default_output, resolve_style
        from pathlib import Path
        card = resolve_style(style="toon", style_opts={"levels": "6"})
        options = RestyleOptions.from_style(card.defaults, strength=0.5)
        result = {"output": str(default_output(Path("film.mov"), card.name)), "strength": options.strength,
                  "levels": card.params["levels"]}
        """,
        tmp_path,
    )
    assert modules == {"output": "film.toon.mov", "strength": 0.5, "levels": "6", "loaded": []}


CASES = [
    ("missing", ["restyle", "{tmp}/missing.mp4", "--to", "toon"], "missing.mp4: file not found", []),
    ("typo", ["restyle", str(SAMPLE), "--to", "tooon"], "unknown style 'tooon': did you mean 'toon'?", []),
    ("style-opt", ["restyle", str(SAMPLE), "--to", "toon", "--style-opt", "nokey=1"], "unknown toon option nokey", []),
    ("strength", ["restyle", str(SAMPLE), "--to", "toon", "--strength", "2"], "--strength must be in [0, 1)", []),
    ("like-and-to", ["restyle", str(SAMPLE), "--to", "toon", "--like", str(SAMPLE)], "give exactly one of", []),
    # the source is probed (PyAV), the output checked: still no torch
    ("suffix", ["restyle", str(SAMPLE), "--to", "toon", "-o", "{tmp}/out.xyz"], "unknown output type '.xyz'", ["av"]),
]


@pytest.mark.parametrize(("case", "args", "line", "loaded"), [pytest.param(*c, id=c[0]) for c in CASES])
def test_a_bad_restyle_is_refused_before_torch_is_imported(tmp_path, case, args, line, loaded):
    result, stdout, stderr = run_cli([arg.format(tmp=tmp_path) for arg in args], tmp_path)
    assert result["code"] == 1 and stdout == "", stderr
    lines = [text for text in stderr.splitlines() if text.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and line in lines[0], stderr
    assert result["loaded"] == loaded


def test_styles_lists_the_bundled_styles_without_torch(tmp_path):
    result, stdout, stderr = run_cli(["styles"], tmp_path)
    assert result == {"code": 0, "loaded": []}, stderr
    listed = {line.split()[1]: line for line in stdout.splitlines() if line.startswith("│ ")}
    assert {"paint", "sketch", "toon"} <= set(listed), stdout
    assert "procedural toon" in listed["toon"] and "procedural sketch" in listed["sketch"]


def test_styles_help_without_torch(tmp_path):
    result, stdout, stderr = run_cli(["styles", "--help"], tmp_path)
    assert result == {"code": 0, "loaded": []}, stderr
    assert "Installed styles" in stdout and "add" in stdout
