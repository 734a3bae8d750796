"""A typo answers at once: naming, checking and listing styles, and refusing a bad restyle, import no torch (nor PyAV
nor OpenCV where nothing needs them). Each case runs in a fresh interpreter (this one has torch loaded already) and
reports the modules it ended with."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SAMPLE

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "av", "cv2")
PICTURE = REPO / "vidtoon" / "styles" / "bundled" / "toon.png"  # a real image, for --like


def run_child(body: str, tmp_path: Path) -> tuple[dict, str, str]:
    """Run `body` in a fresh Python: (what `body` put in `result`, with "loaded": which of HEAVY it imported; its other
    stdout; its stderr)."""
    script = textwrap.dedent(body) + textwrap.dedent(
        f"""
        import json as _json, sys as _sys
        print(_json.dumps({{**result, "loaded": [m for m in {HEAVY!r} if m in _sys.modules]}}))
        """
    )
    env = {"PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path), "COLUMNS": "400"}
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


def test_import_vidtoon_loads_nothing_heavy_and_its_api_has_every_commands_function(tmp_path):
    """`evaluate` and `stabilize` are in the API as the other commands' functions are: named at once, imported on
    first use (torch only then), and still the functions after their modules of the same name are imported."""
    modules, _, _ = run_child(
        """
        import sys
        import vidtoon
        light = [m for m in ("torch", "av", "cv2") if m in sys.modules]
        import vidtoon.evaluate, vidtoon.stabilize
        result = {"light": light, "functions": [getattr(vidtoon, n).__module__ for n in ("evaluate", "stabilize")],
                  "named": sorted({"evaluate", "stabilize", "EvalReport"} & set(vidtoon.__all__) & set(dir(vidtoon)))}
        """,
        tmp_path,
    )
    assert modules["light"] == [] and modules["functions"] == ["vidtoon.evaluate", "vidtoon.stabilize"]
    assert modules["named"] == ["EvalReport", "evaluate", "stabilize"]


CASES = [
    ("missing", ["restyle", "{tmp}/missing.mp4", "--to", "toon"], "missing.mp4: file not found", []),
    ("typo", ["restyle", str(SAMPLE), "--to", "tooon"], "unknown style 'tooon': did you mean 'toon'?", []),
    ("style-opt", ["restyle", str(SAMPLE), "--to", "toon", "--style-opt", "nokey=1"], "unknown toon option nokey", []),
    ("strength", ["restyle", str(SAMPLE), "--to", "toon", "--strength", "2"], "--strength must be in [0, 1)", []),
    ("like-and-to", ["restyle", str(SAMPLE), "--to", "toon", "--like", str(SAMPLE)], "give exactly one of", []),
    # --like: the picture and the strength are checked without torch (nor the model's onnxruntime)
    ("like-missing", ["restyle", str(SAMPLE), "--like", "{tmp}/missing.jpg"], "missing.jpg: reference image not found", []),
    (
        "like-not-an-image",
        ["restyle", str(SAMPLE), "--like", "{tmp}/notanimage.txt"],
        "notanimage.txt: the reference cannot be read as an image",
        [],
    ),
    (
        "like-strength",
        ["restyle", str(SAMPLE), "--like", str(PICTURE), "--like-strength", "7"],
        "--like-strength must be a number from 0 to 1, got 7.0",
        [],
    ),
    # the source is probed (PyAV), the output checked: still no torch
    ("suffix", ["restyle", str(SAMPLE), "--to", "toon", "-o", "{tmp}/out.xyz"], "unknown output type '.xyz'", ["av"]),
]


@pytest.mark.parametrize(("case", "args", "line", "loaded"), [pytest.param(*c, id=c[0]) for c in CASES])
def test_a_bad_restyle_is_refused_before_torch_is_imported(tmp_path, case, args, line, loaded):
    (tmp_path / "notanimage.txt").write_text("plain text, not a picture\n")
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


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A folder holding a real exported style `mine`, made the way a user makes one: a 2-step tiny CycleGAN run on
    noise pictures, then `vidtoon export RUN --name mine` (a card, the safetensors weights and a preview)."""
    import numpy as np
    from PIL import Image

    from vidtoon.train.config import AugmentConfig, CycleGANConfig
    from vidtoon.train.export import export_run
    from vidtoon.train.run import train

    root = tmp_path_factory.mktemp("exported")
    rng = np.random.default_rng(0)
    for domain in ("a", "b"):
        (root / domain).mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (40, 48, 3), np.uint8)).save(root / domain / f"n{i}.png")
    config = CycleGANConfig(
        a=str(root / "a"), b=str(root / "b"), n_blocks=1, steps=2, size=32, load_size=36, ngf=8, ndf=8, d_layers=2,
        device="cpu", precision="fp32", sample_every=2, augment=AugmentConfig(),
    )  # fmt: skip
    train("cyclegan", config, root / "run")
    export_run(root / "run", root / "styles", name="mine")
    return root / "styles"


def install(exported: Path, tmp_path: Path) -> Path:
    """Copy the exported style into the user's styles folder the child process sees (XDG_DATA_HOME=tmp/data)."""
    folder = tmp_path / "data" / "vidtoon" / "styles"
    shutil.copytree(exported, folder)
    return folder


def test_styles_lists_an_installed_checkpoint_style_without_torch(exported, tmp_path):
    install(exported, tmp_path)
    result, stdout, stderr = run_cli(["styles"], tmp_path)
    assert result == {"code": 0, "loaded": []}, stderr
    listed = {line.split()[1]: line for line in stdout.splitlines() if line.startswith("│ ")}
    assert {"mine", "paint", "sketch", "toon"} <= set(listed), stdout
    row = listed["mine"].split("│")  # the family comes from the weights' own card, read from the file's header
    # (the cell may wrap after the family: a longer temporary path, as under xdist, leaves the column narrower)
    assert row[2].strip() == "checkpoint" and row[3].strip().startswith("cyclegan_resnet"), stdout
    assert "0.1 MB" in stdout, stdout
    assert row[6].strip().endswith("/data/vidtoon/styles/mine.preview.png"), stdout


def test_a_typo_with_a_checkpoint_style_installed_is_refused_without_torch(exported, tmp_path):
    install(exported, tmp_path)
    result, stdout, stderr = run_cli(["restyle", str(SAMPLE), "--to", "tooon"], tmp_path)
    assert result == {"code": 1, "loaded": []} and stdout == "", stderr
    lines = [text for text in stderr.splitlines() if text.strip()]
    assert (
        len(lines) == 1
        and "unknown style 'tooon': did you mean 'toon'? (installed: mine, anime, paint, pixar, sketch, toon)" in lines[0]
    )


def test_naming_a_checkpoint_style_checks_its_card_without_torch(exported, tmp_path):
    """The card, completed from the weights' own card (read from the header), and checked against its sha256."""
    folder = install(exported, tmp_path)
    result, _, stderr = run_child(
        """
        from vidtoon.restyle import resolve_style
        card = resolve_style(style="mine")
        result = {"family_checked": card.checkpoint.name, "training_steps": card.training.get("steps")}
        """,
        tmp_path,
    )
    assert result == {"family_checked": "mine.safetensors", "training_steps": 2, "loaded": []}, stderr
    (folder / "mine.safetensors").write_bytes(b"\x00" * 64)  # replaced: the card's sha256 no longer matches
    result, stdout, stderr = run_cli(["restyle", str(SAMPLE), "--to", "mine"], tmp_path)
    assert result == {"code": 1, "loaded": []} and "does not match its card's sha256" in stderr, stderr


def test_a_malformed_safetensors_header_is_one_line_without_torch(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((10**12).to_bytes(8, "little") + b"{}")  # a header length of a terabyte
    result, stdout, stderr = run_cli(["restyle", str(SAMPLE), "--model", str(bad)], tmp_path)
    assert result == {"code": 1, "loaded": []} and stdout == "", stderr
    lines = [text for text in stderr.splitlines() if text.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: not a readable safetensors checkpoint (header of"), stderr
