"""Style cards: found in user folders, listed with their facts, checked against their sha256."""

import os
import shlex
import subprocess
import sys

import pytest
import torch
from conftest import SAMPLE

from vidtoon.errors import InputError, UsageError
from vidtoon.io import probe
from vidtoon.models import ModelCard, build_model, file_sha256, get_family, save_checkpoint
from vidtoon.restyle import load_translator
from vidtoon.styles import find_style, list_styles


@pytest.fixture
def user_styles(tmp_path, monkeypatch):
    folder = tmp_path / "styles"
    folder.mkdir()
    family = get_family("cyclegan_resnet")
    torch.manual_seed(0)
    checkpoint = folder / "toon.safetensors"
    sha = save_checkpoint(
        build_model("cyclegan_resnet", **family.tiny),
        checkpoint,
        ModelCard(family="cyclegan_resnet", kwargs=family.tiny, size_multiple=4, name="toon", licence="CC-BY 4.0"),
    )
    (folder / "toon.png").write_bytes(b"\x89PNG preview")
    (folder / "toon.yaml").write_text(
        f"name: toon\ncheckpoint: toon.safetensors\nsha256: {sha}\npreview: toon.png\nlicence: CC-BY 4.0 (test data)\n"
        "defaults:\n  height: 96\n"
    )
    monkeypatch.setenv("VIDTOON_STYLES", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return folder


def test_user_style_is_found_and_listed(user_styles):
    card = find_style("toon")
    assert card.checkpoint == user_styles / "toon.safetensors" and card.defaults == {"height": 96}
    assert [c.name for c in list_styles()][0] == "toon"
    result = subprocess.run(
        [sys.executable, "-m", "vidtoon", "styles"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "250"}
    )
    assert result.returncode == 0
    row = next(line for line in result.stdout.splitlines() if " toon " in line)
    assert "cyclegan_resnet" in row and "MB" in row and "CC-BY 4.0" in row and "toon.png" in row
    # a narrow terminal: a block per style, the licence and the credits each under its own label (a style without
    # credits has no credits line, and the credits never pass for the licence)
    result = subprocess.run(
        [sys.executable, "-m", "vidtoon", "styles"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}
    )
    blocks = {block.split()[0]: block for block in result.stdout.split("\n\n") if block.strip()}
    assert "  licence: CC-BY 4.0 (test data)\n" in blocks["toon"] and "credits:" not in blocks["toon"]
    assert "\n  licence: Style frames: Big Buck Bunny" in blocks["pixar"] and "\n  credits: Big Buck Bunny" in blocks["pixar"]


def test_restyle_by_style_name_uses_card_defaults(user_styles, tmp_path):
    out = tmp_path / "s.mp4"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidtoon",
            "restyle",
            str(SAMPLE),
            "--to",
            "toon",
            "-o",
            str(out),
            "--end",
            "0.5",
            "--preset",
            "ultrafast",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert probe(out).frame_count == 12
    translator, name, defaults, _ = load_translator(style="toon", device="cpu")
    assert name == "toon" and defaults["height"] == 96


def test_unknown_style_lists_known_ones_and_how_to_train(user_styles):
    with pytest.raises(UsageError, match=r"unknown style 'zebra' \(installed: .*toon.*\).*vidtoon train"):
        find_style("zebra")


def test_checkpoint_that_does_not_match_its_card_is_refused(user_styles):
    checkpoint = user_styles / "toon.safetensors"
    data = bytearray(checkpoint.read_bytes())
    data[-10] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    assert file_sha256(checkpoint) != find_style("toon").sha256
    with pytest.raises(InputError, match="sha256"):
        load_translator(style="toon", device="cpu")


def test_card_with_unknown_keys_is_refused(user_styles, caplog):
    (user_styles / "bad.yaml").write_text("checkpoint: toon.safetensors\ncolour: blue\n")
    assert "bad" not in [card.name for card in list_styles()]  # the others stay usable
    assert "unknown keys ['colour']" in caplog.text and "left out of the styles" in caplog.text
    with pytest.raises(InputError, match="unknown keys.*colour"):
        find_style("bad")


# --- reference styles: `--like IMAGE` and `vidtoon styles add NAME --like IMAGE` -------------------------------------

REPO_SAMPLE_JPG = SAMPLE.with_name("sample.jpg")


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "vidtoon", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
    )


def test_styles_add_makes_a_reference_style_that_restyles_by_name(media, tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "VIDTOON_STYLES": ""}
    added = run_cli("styles", "add", "mona", "--like", media / "face_monalisa.jpg", "--strength", "0.8", env=env)
    assert added.returncode == 0, added.stderr
    folder = tmp_path / "xdg" / "vidtoon" / "styles"
    assert sorted(p.name for p in folder.iterdir()) == ["mona.jpg", "mona.yaml"]
    listed = run_cli("styles", env=env)
    row = next(line for line in listed.stdout.splitlines() if " mona " in line)
    assert "reference" in row and "Apache-2.0" in listed.stdout and "Magenta" in listed.stdout
    out = tmp_path / "rocket.png"
    result = run_cli("restyle", REPO_SAMPLE_JPG, "--to", "mona", "-o", out, env=env)
    assert result.returncode == 0, result.stderr
    from vidtoon.io.images import read_image

    before, after = read_image(REPO_SAMPLE_JPG).astype(float), read_image(out).astype(float)
    assert after.shape == before.shape and abs(after - before).mean() > 10  # the look changed, the size did not
    again = run_cli("styles", "add", "mona", "--like", media / "face_monalisa.jpg", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr
    assert "with -o" not in again.stderr  # `styles add` has no -o to suggest


def test_styles_add_into_another_folder_says_how_restyle_finds_it(media, tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "VIDTOON_STYLES": ""}
    elsewhere = tmp_path / "my styles [1]"  # the command to paste quotes it
    added = run_cli("styles", "add", "mona", "--like", media / "face_monalisa.jpg", "--dir", elsewhere, env=env)
    assert added.returncode == 0, added.stderr
    said = added.stderr.split("restyle with: ")[1]
    assert shlex.split(said) == [
        f"VIDTOON_STYLES={elsewhere}",
        "vidtoon",
        "restyle",
        "FILM",
        "--to",
        "mona",
    ]  # --to mona: unknown
    listed = run_cli("styles", env={**env, "VIDTOON_STYLES": str(elsewhere)})
    assert any(line.split()[1:2] == ["mona"] for line in listed.stdout.splitlines()), listed.stdout
    inside = run_cli(
        "styles",
        "add",
        "lisa",
        "--like",
        media / "face_monalisa.jpg",
        "--dir",
        elsewhere,
        env={**env, "VIDTOON_STYLES": str(elsewhere)},
    )
    assert inside.returncode == 0 and "restyle with: vidtoon restyle FILM --to lisa" in " ".join(inside.stderr.split())


def test_styles_add_does_not_hide_a_built_in_style_without_force(media, tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg"), "VIDTOON_STYLES": ""}
    refused = run_cli("styles", "add", "toon", "--like", media / "face_monalisa.jpg", env=env)
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 1 and len(lines) == 1 and "toon is a built-in style" in lines[0] and "--force" in lines[0]
    assert not (tmp_path / "xdg" / "vidtoon" / "styles").exists()
    listed = run_cli("styles", env=env)
    assert any(line.split()[1:4] == ["toon", "│", "procedural"] for line in listed.stdout.splitlines())  # the built-in
    forced = run_cli("styles", "add", "toon", "--like", media / "face_monalisa.jpg", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    listed = run_cli("styles", env=env)
    assert any(line.split()[1:4] == ["toon", "│", "reference"] for line in listed.stdout.splitlines())  # asked: hidden


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--like", "README.md"], "cannot be read as an image"),
        (["--like", "clips/sample.jpg", "--to", "pixar"], "give exactly one of --to STYLE, --model FILE or --like IMAGE"),
        (["--like", "clips/sample.jpg", "--like-strength", "1.5"], "--like-strength must be a number from 0 to 1"),
    ],
)
def test_bad_reference_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    repo = SAMPLE.parent.parent
    args = [str(repo / a) if a.endswith((".md", ".jpg")) else a for a in args]
    result = run_cli("restyle", REPO_SAMPLE_JPG, *args, "-o", tmp_path / "out.png")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and message in lines[0], result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["restyle video", "restyle still", "animate", "styles add"])
def test_a_truncated_reference_is_one_line_before_anything_is_written(media, tmp_path, command):
    trunc = tmp_path / "in" / "trunc.jpg"
    trunc.parent.mkdir()
    trunc.write_bytes((media / "face_monalisa.jpg").read_bytes()[:3000])  # the header is whole, the pixels are not
    out = tmp_path / "out"
    out.mkdir()
    args = {
        "restyle video": ["restyle", SAMPLE, "--like", trunc, "-o", out / "l2.mp4"],
        "restyle still": ["restyle", REPO_SAMPLE_JPG, "--like", trunc, "-o", out / "l2.png"],
        "animate": ["animate", media / "face_monalisa.jpg", media / "talking_head_d3.mp4", "--like", trunc, "-o", out / "a.mp4"],
        "styles add": ["styles", "add", "trunc", "--like", trunc, "--dir", out / "styles"],
    }[command]
    result = run_cli(*args, env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "VIDTOON_STYLES": ""})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(trunc) in lines[0]
    assert "cannot be read as an image: truncated or corrupt" in lines[0] and "Traceback" not in result.stderr
    assert not list(out.iterdir()) and not (tmp_path / "xdg").exists()


def test_styles_add_refuses_a_bad_strength_before_writing(media, tmp_path):
    result = run_cli("styles", "add", "x", "--like", media / "face_monalisa.jpg", "--strength", "2", "--dir", tmp_path / "s")
    assert result.returncode == 1 and "--strength must be a number from 0 to 1" in result.stderr  # the flag of `styles add`
    assert not (tmp_path / "s").exists()


def test_styles_add_into_a_folder_it_cannot_write_names_its_own_flag(media):
    env = {"XDG_DATA_HOME": "/proc/vidtoon", "VIDTOON_STYLES": ""}  # a home that cannot be written (even by root)
    result = run_cli("styles", "add", "x", "--like", media / "face_monalisa.jpg", env=env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "/proc/vidtoon/vidtoon/styles: cannot write to this folder" in result.stderr
    assert result.stderr.endswith("choose a styles folder you can write to with --dir\n")  # it has no -o


def test_a_learned_styles_facts_and_height_come_from_its_weights(tmp_path, monkeypatch):
    folder = tmp_path / "styles"
    folder.mkdir()
    family = get_family("cyclegan_resnet")
    card = ModelCard(
        family="cyclegan_resnet",
        kwargs=family.tiny,
        name="w",
        licence="CC-BY 3.0",
        data="films",
        notes={"credits": "Blender Foundation"},
        height=360,
    )
    sha = save_checkpoint(build_model("cyclegan_resnet", **family.tiny), folder / "w.safetensors", card)
    (folder / "w.yaml").write_text(f"name: w\ncheckpoint: w.safetensors\nsha256: {sha}\n")
    (folder / "v.yaml").write_text(
        f"name: v\ncheckpoint: w.safetensors\nsha256: {sha}\nlicence: mine\ndefaults: {{height: 240}}\n"
    )
    monkeypatch.setenv("VIDTOON_STYLES", str(folder))
    w, v = find_style("w"), find_style("v")
    assert (w.licence, w.data, w.credits, w.defaults) == ("CC-BY 3.0", "films", "Blender Foundation", {"height": 360})
    assert (v.licence, v.defaults["height"]) == ("mine", 240)  # the YAML card wins where it speaks
