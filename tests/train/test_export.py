"""`vidtoon export RUN`: a run becomes a style that `vidtoon restyle` uses on a real clip (--model, --to, ONNX, --to-label)."""

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
    assert "restyle with: vidtoon restyle FILM --to mine" in result.stderr
    assert find_style("mine").checkpoint == (folder / "mine.safetensors").resolve()
