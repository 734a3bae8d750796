"""`vidtoon export RUN`: a run becomes a style that `vidtoon restyle` uses on a real clip (--model, --to, ONNX, --to-label)."""

import os
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
import torch
import yaml
from typer.testing import CliRunner

import vidtoon
from vidtoon.cli import app
from vidtoon.errors import InputError, OutputError
from vidtoon.models import load_checkpoint
from vidtoon.styles import find_style, read_style_card
from vidtoon.train.cartoon_config import CartoonConfig
from vidtoon.train.config import AugmentConfig, CAAEConfig, CycleGANConfig
from vidtoon.train.export import export_run
from vidtoon.train.run import train

from .toy import random_png_folder, write_manifest

TINY = {
    "size": 32,
    "load_size": 36,
    "ngf": 8,
    "ndf": 8,
    "d_layers": 2,
    "device": "cpu",
    "precision": "fp32",
    "sample_every": 2,
    "augment": AugmentConfig(),
}


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    a, b = random_png_folder(root / "a", 4, seed=1), random_png_folder(root / "b", 4, seed=2)
    train("cyclegan", CycleGANConfig(a=str(a), b=str(b), n_blocks=1, steps=2, **TINY), root / "toon")
    frames = random_png_folder(root / "frames", 4, seed=3)
    write_manifest(frames, [{"file": f"n{i:03d}.png", "studio": ("ghibli", "pixar")[i % 2]} for i in range(4)])
    train(
        "caae",
        CAAEConfig(data=str(frames), label_column="studio", z_dim=8, ndf_z=8, warmup_steps=1, steps=2, **TINY),
        root / "multi",
    )
    return root


def probe_frames(path):
    info = vidtoon.probe(path)
    return info.frame_count, (info.width, info.height)


def test_export_then_restyle_a_real_clip(runs, media, tmp_path, monkeypatch):
    styles = tmp_path / "styles"
    result = cli(
        "export",
        runs / "toon",
        "-o",
        styles,
        "--onnx",
        "--licence",
        "CC-BY 3.0 (Blender Foundation)",
        "--credits",
        "Big Buck Bunny © Blender Foundation",
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in styles.iterdir()) == ["onnx", "toon.preview.png", "toon.safetensors", "toon.yaml"]
    card = read_style_card(styles / "toon.yaml")
    assert card.checkpoint == (styles / "toon.safetensors").resolve() and card.preview.exists()
    model, model_card = load_checkpoint(card.checkpoint)
    assert model_card.family == "cyclegan_resnet" and model_card.notes["steps"] == 2 and model_card.kwargs["ngf"] == 8
    assert model_card.licence == card.licence == "CC-BY 3.0 (Blender Foundation)"
    assert model_card.notes["credits"] == "Big Buck Bunny © Blender Foundation" and model_card.notes["exported"][:2] == "20"
    assert all(t.dtype == torch.float16 for t in __import__("safetensors.torch").torch.load_file(card.checkpoint).values())

    clip = media / "vtest.avi"
    out = tmp_path / "vtest.toon.mp4"
    result = cli("restyle", clip, "--model", card.checkpoint, "--end", "1", "-o", out, "--preset", "ultrafast", "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    assert probe_frames(out) == (10, (768, 576))  # 1 s at 10 fps, the source's size

    monkeypatch.setenv("VIDTOON_STYLES", str(styles))
    out_onnx = tmp_path / "vtest.onnx.mp4"
    result = cli(
        "restyle", clip, "--model", styles / "onnx" / "toon.onnx", "--end", "0.5", "-o", out_onnx, "--preset", "ultrafast"
    )
    assert result.exit_code == 0, result.stderr
    assert probe_frames(out_onnx)[0] == 5
    result = cli("restyle", media / "face_astronaut.png", "--to", "toon", "-o", tmp_path / "face.png", "--consistency", "none")
    assert result.exit_code == 0, result.stderr and (tmp_path / "face.png").exists()


def test_onnx_matches_the_checkpoint(runs, tmp_path):
    result = export_run(runs / "toon", tmp_path, onnx=True)
    model, _ = load_checkpoint(result.checkpoint)
    x = torch.rand(2, 3, 48, 64) * 2 - 1
    with torch.no_grad():
        expected = model(x).numpy()
    session = onnxruntime.InferenceSession(str(result.onnx[0]))
    got = session.run(None, {"image": x.numpy()})[0]
    assert got.shape == (2, 3, 48, 64) and np.abs(got - expected).max() < 0.01  # the checkpoint stores fp16 weights
    sidecar = yaml.safe_load((tmp_path / "onnx" / "toon.yaml").read_text())
    assert sidecar["value_range"] == [-1.0, 1.0] and sidecar["layout"] == "nchw"


def test_caae_export_restyles_by_label(runs, media, tmp_path):
    result = export_run(runs / "multi", tmp_path / "styles", onnx=True)
    assert result.styles == ("ghibli", "pixar") and [p.name for p in result.onnx] == ["multi.ghibli.onnx", "multi.pixar.onnx"]
    image = media / "face_astronaut.png"
    missing = cli("restyle", image, "--model", result.checkpoint, "-o", tmp_path / "x.png")
    assert missing.exit_code == 1 and "--to-label" in missing.stderr and "ghibli, pixar" in missing.stderr
    for label in ("ghibli", "pixar"):  # (what a label does to the picture: see test_learning's label swap)
        out = tmp_path / f"face.{label}.png"
        done = cli("restyle", image, "--model", result.checkpoint, "--to-label", label, "-o", out, "--consistency", "none")
        assert done.exit_code == 0, done.stderr
        assert vidtoon.probe(out).width == vidtoon.probe(image).width
    unknown = cli("restyle", image, "--model", result.checkpoint, "--to-label", "disney", "-o", tmp_path / "y.png")
    assert unknown.exit_code == 1 and "unknown style label 'disney'" in unknown.stderr


def test_export_errors(runs, tmp_path):
    with pytest.raises(InputError, match="training checkpoint not found"):
        export_run(tmp_path / "nothing", tmp_path / "out")
    export_run(runs / "toon", tmp_path / "out")
    with pytest.raises(OutputError, match="toon.safetensors"):
        export_run(runs / "toon", tmp_path / "out")
    assert export_run(runs / "toon", tmp_path / "out", force=True, direction="b2a").name == "toon"
    result = cli("export", runs / "toon", "-o", tmp_path / "o2", "--name", "bad name!")
    assert result.exit_code == 1 and result.stderr.startswith("error: style name 'bad name!'")


def test_a_second_style_exports_its_onnx_beside_the_first(runs, tmp_path):
    styles = tmp_path / "styles"
    assert cli("export", runs / "toon", "-o", styles, "--onnx").exit_code == 0
    first = (styles / "onnx" / "toon.onnx").read_bytes()
    # before: "error: styles: already holds onnx — pass --force to replace" (the folder every style's graphs share)
    result = cli("export", runs / "multi", "-o", styles, "--onnx")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (styles / "onnx").glob("*.onnx")) == ["multi.ghibli.onnx", "multi.pixar.onnx", "toon.onnx"]
    assert (styles / "onnx" / "toon.onnx").read_bytes() == first
    again = cli("export", runs / "toon", "-o", styles, "--onnx")  # its own graphs are what it would replace
    assert again.exit_code == 1 and "onnx/toon.onnx, onnx/toon.yaml — pass --force" in again.stderr, again.stderr
    assert "multi" not in again.stderr


def test_unet_cyclegan_exports_with_its_size_multiple(runs, media, tmp_path):
    a = runs / "a"
    train("cyclegan", CycleGANConfig(a=str(a), b=str(a), generator="unet", num_downs=5, steps=1, **TINY), tmp_path / "unet")
    result = export_run(tmp_path / "unet", tmp_path / "styles")
    model, card = load_checkpoint(result.checkpoint)
    assert card.family == "cyclegan_unet" and card.size_multiple == 32 and card.kwargs == {"ngf": 8, "num_downs": 5}
    out = tmp_path / "face.png"  # any size: restyle pads to the multiple and crops back
    done = cli("restyle", media / "face_monalisa.jpg", "--model", result.checkpoint, "-o", out, "--consistency", "none")
    assert done.exit_code == 0, done.stderr
    assert (vidtoon.probe(out).width, vidtoon.probe(out).height) == (
        vidtoon.probe(media / "face_monalisa.jpg").width,
        vidtoon.probe(media / "face_monalisa.jpg").height,
    )


def test_export_goes_to_the_users_styles_folder_by_default(runs, tmp_path, monkeypatch):
    """Without -o the style lands where `--to NAME` looks, and the command says so."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("VIDTOON_STYLES", raising=False)
    result = cli("export", runs / "toon", "--name", "mine")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "xdg" / "vidtoon" / "styles"
    assert sorted(p.name for p in folder.iterdir()) == ["mine.preview.png", "mine.safetensors", "mine.yaml"]
    assert "restyle with: vidtoon restyle FILM --to mine" in result.stderr and "hides" not in result.stderr
    assert find_style("mine").checkpoint == (folder / "mine.safetensors").resolve()
    # a bundled style's name (retraining pixar): it takes that name's place, and the command says so
    result = cli("export", runs / "toon", "--name", "sketch")
    assert result.exit_code == 0, result.stderr
    assert f"note: it hides the built-in sketch; remove {folder / 'sketch.yaml'} to get that one back" in result.stderr
    assert find_style("sketch").checkpoint == (folder / "sketch.safetensors").resolve()


@pytest.fixture(scope="module")
def cartoon_run(tmp_path_factory):
    """A `train cartoon` run: its generator has the skip connection (tanh(logits + atanh(x)))."""
    root = tmp_path_factory.mktemp("cartoon")
    a, b = random_png_folder(root / "a", 6, seed=1, size=(48, 64)), random_png_folder(root / "b", 5, seed=2, size=(48, 64))
    tiny = {"size": 32, "load_size": 48, "batch_size": 2, "ngf": 8, "n_blocks": 1, "ndf": 8, "d_layers": 2, "holdout": 2}
    config = CartoonConfig(a=str(a), b=str(b), init_steps=2, steps=3, sample_every=3, device="cpu", precision="fp32", **tiny)
    train("cartoon", config, root / "run")
    return root / "run"


def test_a_cartoon_run_exports_onnx_that_restyles_like_its_weights(cartoon_run, media, tmp_path):
    old = os.umask(0o022)
    try:
        result = cli("export", cartoon_run, "-o", tmp_path / "styles", "--name", "toon", "--onnx")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    styles = tmp_path / "styles"
    written = sorted(p.relative_to(styles).as_posix() for p in styles.rglob("*"))
    assert written == ["onnx", "onnx/toon.onnx", "onnx/toon.yaml", "toon.preview.png", "toon.safetensors", "toon.yaml"]
    assert {p.name: p.stat().st_mode & 0o777 for p in styles.rglob("*") if p.is_file()} == dict.fromkeys(
        ["toon.onnx", "toon.yaml", "toon.preview.png", "toon.safetensors"], 0o644
    )
    image = media / "face_monalisa.jpg"
    outs = {}
    for kind, model in (("weights", styles / "toon.safetensors"), ("onnx", styles / "onnx" / "toon.onnx")):
        outs[kind] = tmp_path / f"face.{kind}.png"
        done = cli("restyle", image, "--model", model, "-o", outs[kind], "--consistency", "none", "--device", "cpu")
        assert done.exit_code == 0, done.stderr
    from vidtoon.io.images import read_image

    weights, graph, source = (read_image(p).astype(float) for p in (outs["weights"], outs["onnx"], image))
    assert graph.shape == weights.shape == source.shape
    assert np.abs(graph - weights).max() <= 3 and np.abs(graph - weights).mean() < 0.5  # fp16 weights vs fp32 graph
    assert np.abs(weights - source).mean() > 1  # and the style did something


def test_a_failed_onnx_export_leaves_nothing_behind(cartoon_run, tmp_path):
    """The exporter refusing an operation (as it refused aten::atanh) is one line, and no part of the style is left."""
    code = (
        "import contextlib, runpy, sys\n"
        "import vidtoon.train.export as export\n"
        "export._atanh_symbolic = contextlib.nullcontext  # as before the fix: no symbolic for aten::atanh\n"
        "sys.argv = ['vidtoon', *sys.argv[1:]]\n"
        "runpy.run_module('vidtoon', run_name='__main__')\n"
    )

    def export(out):
        args = [sys.executable, "-c", code, "export", str(cartoon_run), "-o", str(out), "--onnx"]
        return subprocess.run(args, capture_output=True, text=True, env={**os.environ, "COLUMNS": "250"}, check=False)

    result = export(tmp_path / "new" / "styles")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "cannot be exported to ONNX" in lines[0] and "aten::atanh" in lines[0] and "export without --onnx" in lines[0]
    assert not (tmp_path / "new").exists()  # nor the folders it made
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.txt").write_text("the user's")
    result = export(tmp_path / "kept")
    assert result.returncode == 1 and [p.name for p in (tmp_path / "kept").iterdir()] == ["mine.txt"]


def test_the_card_names_the_data_folders_not_this_machines_paths(runs, tmp_path):
    """A card is shared with the weights: it said 'A: /home/alice/photos; B: ...' (and credits the run's full path)."""
    assert cli("export", runs / "toon", "-o", tmp_path / "plain").exit_code == 0
    assert cli("export", runs / "multi", "-o", tmp_path / "plain").exit_code == 0
    toon, multi = read_style_card(tmp_path / "plain" / "toon.yaml"), read_style_card(tmp_path / "plain" / "multi.yaml")
    assert toon.data == "A: a/ (4 images); B: b/ (4 images)"
    assert multi.data == "frames/ (4 images) (labels from column 'studio')"
    for name in ("toon", "multi"):
        _, model_card = load_checkpoint(tmp_path / "plain" / f"{name}.safetensors")
        assert model_card.notes["credits"] == f"trained with vidtoon from the run {name}"
        written = (tmp_path / "plain" / f"{name}.yaml").read_text() + str(model_card)
        assert str(runs) not in written
    assert str(runs / "a") in (runs / "toon" / "config.yaml").read_text()  # the run keeps them whole: --resume reads them
    given = "/home/alice/photos; B: frames of a film"
    assert cli("export", runs / "toon", "-o", tmp_path / "given", "--data", given).exit_code == 0
    assert read_style_card(tmp_path / "given" / "toon.yaml").data == given
