"""Style cards: found in user folders, listed with their facts, checked against their sha256."""

import os
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
    sha = save_checkpoint(build_model("cyclegan_resnet", **family.tiny), checkpoint,
                          ModelCard(family="cyclegan_resnet", kwargs=family.tiny, size_multiple=4, name="toon", licence="CC-BY 4.0"))
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
    result = subprocess.run([sys.executable, "-m", "vidtoon", "styles"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 0
    row = next(line for line in result.stdout.splitlines() if " toon " in line)
    assert "cyclegan_resnet" in row and "MB" in row and "CC-BY 4.0" in row and "toon.png" in row


def test_restyle_by_style_name_uses_card_defaults(user_styles, tmp_path):
    out = tmp_path / "s.mp4"
    result = subprocess.run([sys.executable, "-m", "vidtoon", "restyle", str(SAMPLE), "--to", "toon", "-o", str(out), "--end", "0.5",
                             "--preset", "ultrafast"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert probe(out).frame_count == 12
    translator, name, defaults, _ = load_translator(style="toon", device="cpu")
    assert name == "toon" and defaults["height"] == 96


def test_unknown_style_lists_known_ones_and_how_to_train(user_styles):
    with pytest.raises(UsageError, match=r"unknown style 'pixie' \(installed: .*toon.*\).*vidtoon train"):
        find_style("pixie")


def test_checkpoint_that_does_not_match_its_card_is_refused(user_styles):
    checkpoint = user_styles / "toon.safetensors"
    data = bytearray(checkpoint.read_bytes())
    data[-10] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    assert file_sha256(checkpoint) != find_style("toon").sha256
    with pytest.raises(InputError, match="sha256"):
        load_translator(style="toon", device="cpu")


def test_card_with_unknown_keys_is_refused(user_styles):
    (user_styles / "bad.yaml").write_text("checkpoint: toon.safetensors\ncolour: blue\n")
    with pytest.raises(InputError, match="unknown keys.*colour"):
        list_styles()
