"""Styles that work on a fresh install: the bundled procedural cards, a procedural card of the user's own, options."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from conftest import SAMPLE
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.errors import UsageError
from vidtoon.filters import PROCEDURAL, Procedural
from vidtoon.filters.param_sets import PARAMS
from vidtoon.filters.params import FilterParams, option
from vidtoon.io import probe, read_frames
from vidtoon.styles import STYLE_KINDS, cards, list_styles, load_translator, resolve_style

runner = CliRunner()
BUNDLED = ("paint", "sketch", "toon")


@dataclass(frozen=True)
class InvertParams(FilterParams):
    """A trivial filter's options: how much of the inverted picture to show."""

    filter_name = "test-invert"
    amount: float = option(1.0, 0.0, 1.0, "share of the inverted picture")


def invert(x: torch.Tensor, params: InvertParams | None = None) -> torch.Tensor:
    """N×3×H×W in [-1, 1] -> the negative, blended with the input by `amount`."""
    amount = (params or InvertParams()).amount
    return -x * amount + x * (1 - amount)


@pytest.fixture
def invert_registered(monkeypatch):
    """`test-invert` in the procedural registry (and its parameters in `PARAMS`, where cards are checked without torch)
    for one test (removed afterwards: other tests walk the registries)."""
    monkeypatch.setitem(PROCEDURAL._entries, "test-invert", Procedural("test-invert", invert, InvertParams, "the negative"))
    monkeypatch.setitem(PARAMS._entries, "test-invert", InvertParams)


def test_bundled_styles_are_listed_with_their_previews():
    cards = {card.name: card for card in list_styles() if card.bundled}
    assert set(BUNDLED) <= set(cards)
    for name in BUNDLED:
        card = cards[name]
        assert card.kind == "procedural" and card.function == name and card.licence and card.credits
        assert card.preview is not None and card.preview.is_file() and card.preview.stat().st_size < 400_000
        assert STYLE_KINDS.get("procedural")().describe(card) == f"procedural {name}"
        resolve_style(style=name)  # the card's own params are valid


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_style_restyles_a_frame(name):
    frame = next(iter(read_frames(SAMPLE))).rgb
    translator = load_translator(style=name, device="cpu").translator
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 127.5 - 1
    y = translator(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert (y - x).abs().mean() > 0.03  # the look changed (in [-1, 1] units: > 4 grey levels on average)


# the README's first command, and the learned styles in the wheel (anime: on the faces only, its card's default)
@pytest.mark.parametrize("style", ["toon", "pixar", "anime"])
def test_a_bundled_style_restyles_the_sample_film_keeping_count_timing_and_sound(style, tmp_path):
    out = tmp_path / f"{style}.mp4"
    result = runner.invoke(app, ["restyle", str(SAMPLE), "--to", style, "-o", str(out), "--end", "1", "--preset", "ultrafast"])
    assert result.exit_code == 0, result.output
    info, source = probe(out), probe(SAMPLE)
    assert info.frame_count == 24 and info.fps == source.fps and (info.width, info.height) == (source.width, source.height)
    assert info.audio and abs(float(info.duration) - 1.0) < 0.05
    # the first second is the push-in on the astronaut's face: its middle changes; a faces style leaves the corners be
    before, after = (next(iter(read_frames(path))).rgb.astype(np.int16) for path in (SAMPLE, out))
    middle, corner = (slice(70, 140), slice(175, 245)), (slice(0, 40), slice(0, 60))  # the face: x 162-258, y 54-150
    assert np.abs(after[middle] - before[middle]).mean() > 6
    if style == "anime":
        assert np.abs(after[corner] - before[corner]).mean() < 3  # only x264's own loss


def test_style_options_change_the_look_and_bad_ones_are_one_line(tmp_path):
    frame = next(iter(read_frames(SAMPLE))).rgb
    x = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 127.5 - 1
    full = load_translator(style="toon", device="cpu").translator(x)
    no_lines = load_translator(style="toon", device="cpu", style_opts={"lines": "0"}).translator(x)
    assert (full - no_lines).abs().amax() > 0.5 and (no_lines <= full + 1e-6).float().mean() < 1  # ink removed
    for opts, message in (
        ({"levels": "99"}, "toon option levels=99 is out of range [2, 32]"),
        ({"colour": "3"}, "unknown toon option colour"),
    ):
        with pytest.raises(UsageError, match=re.escape(message)):
            resolve_style(style="toon", style_opts=opts)
    result = runner.invoke(app, ["restyle", str(SAMPLE), "--to", "toon", "--style-opt", "levels", "-o", str(tmp_path / "o.mp4")])
    assert result.exit_code == 1 and result.output.strip().startswith("error: --style-opt 'levels' is not key=value")
    assert not list(tmp_path.iterdir())


def test_a_users_procedural_card_is_listed_and_restyles(tmp_path, monkeypatch, invert_registered):
    folder = tmp_path / "styles"
    folder.mkdir()
    (folder / "negative.yaml").write_text("name: negative\nkind: procedural\nfunction: test-invert\nparams: {amount: 1}\n")
    monkeypatch.setenv("VIDTOON_STYLES", str(folder))
    listed = runner.invoke(app, ["styles"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and any(
        "negative" in line and "procedural test-invert" in line for line in listed.output.splitlines()
    )
    photo = tmp_path / "photo.png"
    out = tmp_path / "photo.negative.png"
    from vidtoon.io.images import read_image, write_image

    rgb = next(iter(read_frames(SAMPLE))).rgb
    write_image(photo, rgb)
    result = runner.invoke(app, ["restyle", str(photo), "--to", "negative"])
    assert result.exit_code == 0, result.output
    negative = read_image(out).astype(int)
    assert np.abs(negative - (255 - rgb.astype(int))).max() <= 1  # known answer: the exact negative
    half = runner.invoke(
        app, ["restyle", str(photo), "--to", "negative", "--style-opt", "amount=0.5", "-o", str(tmp_path / "h.png")]
    )
    assert (
        half.exit_code == 0 and np.abs(read_image(tmp_path / "h.png").astype(int) - 128).max() <= 1
    )  # (x + (−x)) / 2 = mid grey
    bad = runner.invoke(app, ["restyle", str(photo), "--to", "negative", "--style-opt", "amount=2"])
    assert bad.exit_code == 1 and "test-invert option amount=2" in bad.output


def test_styles_in_a_narrow_terminal_are_blocks_with_nothing_cut():
    listed = runner.invoke(app, ["styles"], env={"COLUMNS": "80"})
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    for name in BUNDLED:
        header = lines.index(next(line for line in lines if line.startswith(f"{name}  ")))
        assert lines[header] == f"{name}  procedural {name}"
        block = lines[header + 1 : lines.index("", header)]
        assert all(line.startswith("  ") and len(line) <= 80 or "/" in line for line in block)
        assert block[-1].strip().endswith(f"{name}.png") and block[-1].strip().startswith("preview: /")


def test_a_learned_style_that_is_not_installed_and_a_typo_get_their_own_line(tmp_path, monkeypatch):
    # an install whose package lacks the anime weights (the bundled folder without anime.*)
    trimmed = tmp_path / "bundled"
    shutil.copytree(cards.BUNDLED_DIR, trimmed, ignore=shutil.ignore_patterns("anime.*"))
    monkeypatch.setattr(cards, "BUNDLED_DIR", trimmed)
    out = tmp_path / "out"
    out.mkdir()
    anime = runner.invoke(app, ["restyle", str(SAMPLE), "--to", "anime", "-o", str(out / "x.mp4")])
    assert anime.exit_code == 1 and anime.output.count("\n") == 1
    assert anime.output.startswith("error: style 'anime' is not installed: it is a learned style")
    assert "vidtoon export RUN --name anime --provenance anime" in anime.output
    typo = runner.invoke(app, ["restyle", str(SAMPLE), "--to", "tooon", "-o", str(out / "x.mp4")])
    assert typo.exit_code == 1 and typo.output.startswith("error: unknown style 'tooon': did you mean 'toon'?")
    assert not list(out.iterdir())
