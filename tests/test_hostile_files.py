"""Hostile files refused before anything is decoded or loaded: style cards naming files outside their folder,
ONNX models whose external weights point elsewhere, pictures and videos whose headers promise too many pixels."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO, make_clip
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.errors import InputError
from vidtoon.io.budget import check_pixels, image_header_size
from vidtoon.io.images import read_image
from vidtoon.io.probe import probe
from vidtoon.io.reader import VideoReader
from vidtoon.styles.cards import read_style_card

runner = CliRunner()


def png_header_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG (a few dozen bytes) whose header says width×height RGB: its pixels are never there."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
    return path


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    return " ".join(result.stderr.split())


# -- pixel budget ------------------------------------------------------------------------------------------


def test_png_header_of_30000_squared_is_refused_before_decoding(tmp_path):
    big = png_header_claiming(tmp_path / "big.png", 30000, 30000)
    assert big.stat().st_size < 100 and image_header_size(big) == (30000, 30000)
    expected = "image is 30000x30000 = 900 megapixels (2.7 GB as RGB), over the budget of 100 megapixels"
    for read in (read_image, probe):
        with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            read(big)


def test_max_pixels_moves_the_budget(tmp_path):
    small = tmp_path / "small.png"
    import cv2

    cv2.imwrite(str(small), np.full((100, 120, 3), 7, np.uint8))
    assert read_image(small).shape == (100, 120, 3)
    with pytest.raises(InputError, match=r"image is 120x100 = 12,000 pixels \(0.0 MB as RGB\), over the budget of 5,000 pixels"):
        read_image(small, max_pixels=5000)
    with pytest.raises(InputError, match="impossible size 0x5"):
        check_pixels(0, 5, path=small)


def test_restyle_and_stitch_refuse_the_huge_png_in_one_line(tmp_path):
    big = png_header_claiming(tmp_path / "big.png", 30000, 30000)
    text = one_line_error(runner.invoke(app, ["restyle", str(big), "--to", "toon", "-o", str(tmp_path / "out.png")]))
    assert "big.png: image is 30000x30000 = 900 megapixels" in text and "--max-pixels" in text
    frames = tmp_path / "frames"
    frames.mkdir()
    png_header_claiming(frames / "f1.png", 30000, 30000)
    text = one_line_error(runner.invoke(app, ["stitch", str(frames), "-o", str(tmp_path / "m.mp4")]))
    assert "f1.png: image is 30000x30000 = 900 megapixels" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png", "frames"]


def test_restyle_max_pixels_flag_refuses_a_normal_picture(tmp_path):
    import cv2

    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.full((48, 64, 3), 90, np.uint8))
    result = runner.invoke(app, ["restyle", str(photo), "--to", "toon", "--max-pixels", "1000", "-o", str(tmp_path / "o.png")])
    assert "photo.png: image is 64x48 = 3,072 pixels (0.0 MB as RGB), over the budget of 1,000 pixels" in one_line_error(result)


def test_video_header_with_too_many_pixels_is_refused(tmp_path):
    """A YUV4MPEG header claiming 16000x8000 frames (128 megapixels; a few bytes of file)."""
    clip = tmp_path / "huge.y4m"
    clip.write_bytes(b"YUV4MPEG2 W16000 H8000 F25:1 Ip A1:1 C420jpeg\nFRAME\nabc")
    with pytest.raises(InputError, match=r"video frame is 16000x8000 = 128 megapixels \(384.0 MB as RGB\), over the budget"):
        probe(clip)
    assert probe(clip, max_pixels=200_000_000).width == 16000  # allowed when asked for: the header is all probe reads


# -- style cards -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "value"),
    [
        ("checkpoint", "../../etc/passwd"),
        ("checkpoint", "/etc/passwd"),
        ("checkpoint", "~/.ssh/id_rsa"),
        ("preview", "../secret.png"),
        ("reference", "sub/../../x.jpg"),
    ],
)
def test_card_paths_outside_the_folder_are_refused(tmp_path, entry, value):
    card = tmp_path / "styles" / "evil.yaml"
    card.parent.mkdir()
    kind = {"checkpoint": "checkpoint", "preview": "procedural", "reference": "reference"}[entry]
    body = {"checkpoint": "", "preview": "function: toon\n", "reference": ""}[entry]
    card.write_text(f"name: evil\nkind: {kind}\n{body}{entry}: {value}\n")
    with pytest.raises(InputError) as caught:
        read_style_card(card)
    assert caught.value.message == (
        f"{card}: style card's {entry} {value!r} is outside the card's folder — cards may only name files beside them "
        f"(or below): copy the file next to evil.yaml and give its name"
    )


def test_card_paths_inside_the_folder_are_fine(tmp_path):
    card = tmp_path / "mine.yaml"
    card.write_text("name: mine\nkind: reference\nreference: pics/monet.jpg\npreview: mine.png\n")
    read = read_style_card(card)
    assert read.reference == (tmp_path / "pics" / "monet.jpg").resolve() and read.preview == (tmp_path / "mine.png").resolve()


def test_styles_listing_with_a_hostile_card_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "evil.yaml").write_text("name: evil\ncheckpoint: ../../etc/passwd\n")
    monkeypatch.setenv("VIDTOON_STYLES", str(tmp_path))
    assert "evil.yaml: style card's checkpoint '../../etc/passwd' is outside" in one_line_error(
        runner.invoke(app, ["restyle", str(REPO / "clips" / "sample.jpg"), "--to", "evil", "-o", str(tmp_path / "x.png")])
    )
    assert not (tmp_path / "x.png").exists()


def test_one_broken_card_leaves_the_other_styles_usable(tmp_path, monkeypatch):
    # a card copied in wrong (or left from an old version) must not take `--to toon` and the listing down with it
    (tmp_path / "evil.yaml").write_text("name: evil\ncheckpoint: ../../etc/passwd\n")
    monkeypatch.setenv("VIDTOON_STYLES", str(tmp_path))
    listing = runner.invoke(app, ["styles"])
    names = [line.split()[0] for line in listing.output.splitlines() if line[:1].isalpha() and not line.startswith("WARNING")]
    assert listing.exit_code == 0 and "toon" in names and "evil" not in names, listing.output
    said = " ".join(listing.output.split())
    assert "style card's checkpoint '../../etc/passwd' is outside the card's folder" in said
    assert said.startswith("WARNING") and "left out of the styles" in said
    result = runner.invoke(app, ["restyle", str(REPO / "clips" / "sample.jpg"), "--to", "toon", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 0 and (tmp_path / "x.png").is_file()


# -- ONNX external data ------------------------------------------------------------------------------------


def onnx_add_model(folder: Path, location: str, *, write_weights: bool = True) -> Path:
    """y = x + w for x of 1×3×2×2, with w (values 0.5) stored outside the model at `location` (relative to `folder`)."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    folder.mkdir(parents=True, exist_ok=True)
    weights = np.full((1, 3, 2, 2), 0.5, np.float32)
    if write_weights:
        (folder / location).write_bytes(weights.tobytes())
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=list(weights.shape))
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(weights.nbytes))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2, 2])],
        initializer=[tensor],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("location", ["../../etc/passwd", "/etc/passwd", "sub/../../outside.bin"])
def test_onnx_external_data_outside_the_folder_is_refused(tmp_path, location):
    from vidtoon.models.onnx_model import open_onnx_session

    model = onnx_add_model(tmp_path / "model", location, write_weights=False)
    with pytest.raises(InputError) as caught:
        open_onnx_session(model, device=torch.device("cpu"))
    assert f"ONNX model's tensor 'w' points outside its folder ({location!r})" in caught.value.message
    assert "refused unread" in caught.value.message


def test_onnx_external_data_beside_the_model_loads_and_runs(tmp_path):
    from vidtoon.models.onnx_model import open_onnx_session

    model = onnx_add_model(tmp_path / "model", "weights.bin")
    session = open_onnx_session(model, device=torch.device("cpu"), threads=1)
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], x + 0.5)
    (tmp_path / "model" / "weights.bin").unlink()
    with pytest.raises(InputError, match="tensor 'w' is stored in 'weights.bin', which is missing"):
        open_onnx_session(model, device=torch.device("cpu"), threads=1)


def test_the_video_reader_takes_the_budget_it_is_given(tmp_path):
    """`--max-pixels` reaches the reader (restyle opens it with the budget the source was probed with)."""
    clip = make_clip(tmp_path / "c.mp4", 3)  # 64x48 = 3,072 pixels
    with pytest.raises(InputError, match="over the budget of 1,000 pixels"):
        VideoReader(clip, max_pixels=1000)
    with VideoReader(clip, max_pixels=3072) as reader:
        assert len(list(reader)) == 3
