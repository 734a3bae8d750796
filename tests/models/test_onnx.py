"""OnnxTranslator and OnnxSpec (onnx_model, onnx_spec): tiny torch models exported to ONNX give the torch outputs;
spec inference, sidecars, errors; and the White-box cartoonization peer on a real 720p frame, tiled."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from vidtoon.errors import InputError, UsageError
from vidtoon.io import read_frames
from vidtoon.models.onnx_model import OnnxTranslator
from vidtoon.models.onnx_spec import OnnxSpec
from vidtoon.tiling import translate_tiled

CPU = torch.device("cpu")


def export(model: nn.Module, path: Path, example: torch.Tensor, dynamic: dict[int, str] | None = None) -> Path:
    """Export `model` with one input "image" and one output "restyled" (legacy exporter: no onnxscript needed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            (example,),
            str(path),
            dynamo=False,
            input_names=["image"],
            output_names=["restyled"],
            dynamic_axes={"image": dynamic, "restyled": dynamic} if dynamic else None,
            opset_version=17,
        )
    return path


def tiny_net(seed: int = 0) -> nn.Module:
    """A small conv net that mixes channels unevenly (so RGB/BGR mistakes show), output in (-1, 1)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1), nn.Tanh()).eval()


class ToNhwc(nn.Module):
    """Wraps an NCHW net so the graph takes and returns N×H×W×3."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class UnitRange(nn.Module):
    """A net whose pixels are in [0, 1], in and out."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.net(x * 2 - 1) + 1) / 2


class Scale(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.5


def frames(n: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, height, width, generator=torch.Generator().manual_seed(seed)) * 2 - 1


class TestInferredSpec:
    def test_nchw_dynamic_size(self, tmp_path, caplog):
        net = tiny_net()
        path = export(net, tmp_path / "net.onnx", frames(1, 32, 32), {0: "n", 2: "h", 3: "w"})
        with caplog.at_level(logging.WARNING, logger="vidtoon.models.onnx_spec"):
            translator = OnnxTranslator(path, device=CPU)
        assert "sidecar" in caplog.text and "value_range" in caplog.text
        assert translator.spec == OnnxSpec(layout="nchw", input_name="image", output_name="restyled")
        assert translator.fixed_size is None and translator.size_multiple == 1 and translator.device == CPU
        x = frames(2, 37, 53)
        y = translator(x)
        assert y.shape == x.shape and y.dtype == torch.float32 and y.device == CPU
        with torch.no_grad():
            torch.testing.assert_close(y, net(x), atol=1e-4, rtol=0)

    def test_nhwc_fixed_size_and_batch_of_one(self, tmp_path):
        net = tiny_net(1)
        path = export(ToNhwc(net), tmp_path / "nhwc.onnx", torch.rand(1, 64, 64, 3))
        translator = OnnxTranslator(path, device=CPU)
        assert translator.spec.layout == "nhwc" and translator.fixed_size == (64, 64)
        x = frames(3, 64, 64)  # the graph's batch is fixed to 1: the translator loops
        with torch.no_grad():
            torch.testing.assert_close(translator(x), net(x), atol=1e-4, rtol=0)
        with pytest.raises(UsageError, match="only takes 64×64"):
            translator(frames(1, 32, 32))

    def test_fixed_model_runs_tiled(self, tmp_path):
        path = export(ToNhwc(Scale()), tmp_path / "half.onnx", torch.rand(1, 64, 64, 3))
        translator = OnnxTranslator(path, device=CPU)
        x = frames(1, 100, 150)
        y = translate_tiled(x, translator, tile=translator.fixed_size, overlap=16, multiple=translator.size_multiple)
        torch.testing.assert_close(y, x * 0.5, atol=1e-6, rtol=0)

    def test_output_is_clamped(self, tmp_path):
        class Double(nn.Module):
            def forward(self, x):
                return x * 2

        translator = OnnxTranslator(export(Double(), tmp_path / "d.onnx", frames(1, 8, 8), {0: "n", 2: "h", 3: "w"}), device=CPU)
        y = translator(frames(1, 8, 8))
        assert y.min() >= -1 and y.max() <= 1 and (y.abs() == 1).any()


class TestConstants:
    """A second graph input fed the same array every call (a style vector, a bias): `constants`."""

    class Shift(nn.Module):
        def forward(self, image: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
            return image * 0.5 + shift

    def export_shift(self, path: Path, dynamic: bool) -> Path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            axes = {"image": {0: "n"}, "shift": {0: "n"}, "out": {0: "n"}} if dynamic else None
            torch.onnx.export(
                self.Shift().eval(),
                (frames(1, 8, 8), torch.zeros(1, 3, 1, 1)),
                str(path),
                dynamo=False,
                input_names=["image", "shift"],
                output_names=["out"],
                dynamic_axes=axes,
                opset_version=17,
            )
        return path

    @pytest.mark.parametrize("dynamic", [True, False])  # a batch-1 constant is repeated / the graph is run frame by frame
    def test_constant_is_fed_with_every_batch(self, tmp_path, dynamic):
        path = self.export_shift(tmp_path / "shift.onnx", dynamic)
        shift = np.array([0.25, -0.25, 0.0], np.float32).reshape(1, 3, 1, 1)
        spec = OnnxSpec(input_name="image", fixed_size=(8, 8))
        translator = OnnxTranslator(path, device=CPU, spec=spec, constants={"shift": shift})
        x = frames(3, 8, 8)
        torch.testing.assert_close(translator(x), x * 0.5 + torch.from_numpy(shift), atol=1e-6, rtol=0)

    def test_missing_or_wrong_constants(self, tmp_path):
        path = self.export_shift(tmp_path / "shift.onnx", True)
        spec = OnnxSpec(input_name="image", fixed_size=(8, 8))
        with pytest.raises(UsageError, match="also needs the input.*shift"):
            OnnxTranslator(path, device=CPU, spec=spec)
        with pytest.raises(UsageError, match="has shape"):
            OnnxTranslator(path, device=CPU, spec=spec, constants={"shift": np.zeros((1, 4, 1, 1))})
        with pytest.raises(UsageError, match="no further input"):
            OnnxTranslator(path, device=CPU, spec=spec, constants={"image": np.zeros((1, 3, 8, 8))})


class TestSidecar:
    @pytest.mark.parametrize("sidecar_name", ["unit.yaml", "unit.onnx.yaml"])
    def test_unit_range_bgr_model(self, tmp_path, sidecar_name, caplog):
        net = tiny_net(2)
        path = export(UnitRange(net), tmp_path / "unit.onnx", torch.rand(1, 3, 16, 16), {0: "n", 2: "h", 3: "w"})
        (tmp_path / sidecar_name).write_text("value_range: [0, 1]\nchannel_order: bgr\nsize_multiple: 4\n")
        with caplog.at_level(logging.WARNING, logger="vidtoon.models.onnx_spec"):
            translator = OnnxTranslator(path, device=CPU)
        assert caplog.text == ""  # nothing guessed
        assert translator.spec.value_range == (0.0, 1.0) and translator.spec.channel_order == "bgr"
        assert translator.spec.layout == "nchw" and translator.size_multiple == 4
        x = frames(2, 24, 40)
        with torch.no_grad():
            expected = net(x.flip(1)).flip(1)  # the graph sees BGR in [0, 1]; UnitRange maps that back to the net's range
        torch.testing.assert_close(translator(x), expected, atol=1e-4, rtol=0)
        with pytest.raises(UsageError, match="multiples of 4"):
            translator(frames(1, 24, 42))

    def test_sidecar_settles_an_ambiguous_layout(self, tmp_path):
        path = export(Scale(), tmp_path / "amb.onnx", torch.rand(1, 3, 16, 3))  # axis 1 and axis 3 are both 3
        with pytest.raises(InputError, match="NCHW or NHWC") as info:
            OnnxTranslator(path, device=CPU)
        assert "amb.onnx" in str(info.value) and "sidecar YAML" in str(info.value) and "layout" in str(info.value)
        (tmp_path / "amb.yaml").write_text("layout: nchw\n")
        translator = OnnxTranslator(path, device=CPU)
        assert translator.spec.layout == "nchw" and translator.fixed_size == (16, 3)

    def test_dynamic_channels_are_ambiguous(self, tmp_path):
        path = export(Scale(), tmp_path / "dyn.onnx", torch.rand(1, 3, 16, 16), {0: "n", 1: "c", 2: "h", 3: "w"})
        with pytest.raises(InputError, match="sidecar YAML"):
            OnnxTranslator(path, device=CPU)

    def test_unknown_key_is_refused(self, tmp_path):
        path = export(Scale(), tmp_path / "m.onnx", frames(1, 8, 8), {0: "n", 2: "h", 3: "w"})
        (tmp_path / "m.yaml").write_text("value_range: [0, 1]\nmean: [0.5, 0.5, 0.5]\n")
        with pytest.raises(InputError, match="unknown key.*mean") as info:
            OnnxTranslator(path, device=CPU)
        assert "m.yaml" in str(info.value) and "value_range" in str(info.value)  # names the file and the known keys

    @pytest.mark.parametrize(
        "text,match",
        [
            ("layout: chw\n", "layout must be"),
            ("value_range: [1, 0]\n", "low < high"),
            ("- 1\n- 2\n", "mapping"),
            ("size_multiple: 0\n", "size_multiple"),
            ("value_range: [0, 1\n", "cannot read"),
        ],
    )
    def test_bad_sidecar_values(self, tmp_path, text, match):
        path = export(Scale(), tmp_path / "m.onnx", frames(1, 8, 8), {0: "n", 2: "h", 3: "w"})
        (tmp_path / "m.onnx.yaml").write_text(text)
        with pytest.raises(InputError, match=match):
            OnnxTranslator(path, device=CPU)

    def test_two_sidecars_are_refused(self, tmp_path):
        path = export(Scale(), tmp_path / "m.onnx", frames(1, 8, 8), {0: "n", 2: "h", 3: "w"})
        (tmp_path / "m.yaml").write_text("{}\n")
        (tmp_path / "m.onnx.yaml").write_text("{}\n")
        with pytest.raises(InputError, match="two sidecars"):
            OnnxTranslator(path, device=CPU)

    def test_explicit_spec_is_checked_against_the_graph(self, tmp_path):
        path = export(ToNhwc(Scale()), tmp_path / "f.onnx", torch.rand(1, 64, 64, 3))
        (tmp_path / "f.yaml").write_text("not: read\n")  # an explicit spec skips the sidecar
        translator = OnnxTranslator(path, device=CPU, spec=OnnxSpec(layout="nhwc", fixed_size=(64, 64)))
        assert translator.fixed_size == (64, 64)
        with pytest.raises(InputError, match="contradicts"):
            OnnxTranslator(path, device=CPU, spec=OnnxSpec(layout="nhwc", fixed_size=(32, 32)))
        with pytest.raises(InputError, match="fixes its height"):
            OnnxTranslator(path, device=CPU, spec=OnnxSpec(layout="nhwc"))
        with pytest.raises(InputError, match="64 channels"):
            OnnxTranslator(path, device=CPU, spec=OnnxSpec(layout="nchw", fixed_size=(64, 3)))


class TestBadModels:
    @pytest.mark.parametrize("shape", [(3, 16, 16), (16, 16)])
    def test_not_rank_4(self, tmp_path, shape):
        path = export(Scale(), tmp_path / "r.onnx", torch.rand(*shape))
        with pytest.raises(InputError, match=f"expects a rank-4 image tensor, this model takes rank {len(shape)}"):
            OnnxTranslator(path, device=CPU)

    def test_garbage_file(self, tmp_path):
        path = tmp_path / "garbage.onnx"
        path.write_bytes(bytes(range(256)) * 8)
        with pytest.raises(InputError, match="not a valid ONNX model") as info:
            OnnxTranslator(path, device=CPU)
        assert "garbage.onnx" in str(info.value)

    def test_missing_file(self, tmp_path):
        with pytest.raises(InputError, match="no such ONNX model"):
            OnnxTranslator(tmp_path / "absent.onnx", device=CPU)

    def test_bad_frames(self, tmp_path):
        translator = OnnxTranslator(export(Scale(), tmp_path / "m.onnx", frames(1, 8, 8), {0: "n", 2: "h", 3: "w"}), device=CPU)
        with pytest.raises(UsageError, match="N×3×H×W"):
            translator(torch.zeros(1, 1, 8, 8))

    @pytest.mark.parametrize(
        "kwargs",
        [
            dict(layout="NCHW"),
            dict(channel_order="rbg"),
            dict(value_range=(0,)),
            dict(fixed_size=(0, 8)),
            dict(fixed_size=(30, 32), size_multiple=4),
            dict(size_multiple=True),
            dict(input_name=""),
        ],
    )
    def test_spec_validation(self, kwargs):
        with pytest.raises(UsageError):
            OnnxSpec(**kwargs)


def flat_fraction_in_textured_areas(rgb: np.ndarray, textured: np.ndarray) -> float:
    """Share of `textured` pixels where the 5×5-median-filtered luma has a Sobel gradient below 8 (of 255)."""
    luma = cv2.cvtColor(cv2.medianBlur(rgb, 5), cv2.COLOR_RGB2GRAY).astype(np.float32)
    gradient = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
    return float((gradient[textured] < 8).mean())


def textured_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels whose 7×7 luma standard deviation exceeds 6 (of 255): foliage, fur, detail."""
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(luma, (7, 7))
    return np.sqrt(np.maximum(cv2.blur(luma * luma, (7, 7)) - mean * mean, 0)) > 6


def colour_count(rgb: np.ndarray) -> int:
    """Distinct colours after a 5×5 median (drops grain) and quantisation to 16 levels per channel."""
    q = (cv2.medianBlur(rgb, 5) // 16).reshape(-1, 3).astype(np.int32)
    return len(np.unique(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2]))


def test_whitebox_peer_cartoonizes_a_real_frame(peers, media):
    """The White-box cartoonization peer (fixed 1×512×512×3 NHWC) tiled over the first 1280×720 frame of Big Buck Bunny.

    A cartoon replaces texture by flat patches with sharp borders. Measured on this frame (int8 peer, tile 512,
    overlap 32): where the input is textured (7×7 luma std > 6: 22% of the frame, mostly foliage), the share of
    flat pixels goes from 0.051 to 0.170 (3.3×; the dr peer: 0.191); distinct colours after a median and 16-level
    quantisation go from 556 to 467 (-16%); the mean absolute change is 9.1 of 255; the image keeps its layout
    (correlation of 16×-downsampled luma 0.9+). Asserted with margins: flat share at least doubles, colours drop by
    at least 8%, a mean change of at least 4, layout correlation above 0.8 (a wrong layout, range or channel order
    would fail it).
    """
    translator = OnnxTranslator(peers / "whitebox_int8.onnx", device=CPU)
    assert translator.spec.layout == "nhwc" and translator.fixed_size == (512, 512)
    assert translator.spec.input_name == "input_photo" and translator.spec.output_name == "final_output"

    reader = read_frames(media / "bbb_2s_example2.mp4")
    rgb = next(reader).rgb
    reader.close()
    assert rgb.shape == (720, 1280, 3)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
    seconds: list[float] = []

    def timed(tiles: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        out = translator(tiles)
        seconds.append(time.perf_counter() - start)
        return out

    y = translate_tiled(x, timed, tile=translator.fixed_size, overlap=32, multiple=translator.size_multiple, max_batch=1)
    assert len(seconds) == 6  # 2 rows × 3 columns of 512² tiles
    out = ((y[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()

    textured = textured_mask(rgb)
    flat_in, flat_out = flat_fraction_in_textured_areas(rgb, textured), flat_fraction_in_textured_areas(out, textured)
    colours_in, colours_out = colour_count(rgb), colour_count(out)
    change = float(np.abs(out.astype(np.float32) - rgb).mean())
    small_in, small_out = (
        cv2.resize(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), (80, 45), interpolation=cv2.INTER_AREA) for im in (rgb, out)
    )
    layout = float(np.corrcoef(small_in.ravel(), small_out.ravel())[0, 1])
    print(
        f"whitebox_int8: {np.mean(seconds):.2f} s per 512² tile; flat share in textured areas {flat_in:.3f} -> {flat_out:.3f}; "
        f"colours {colours_in} -> {colours_out}; mean change {change:.1f}; layout correlation {layout:.3f}"
    )
    assert 0.1 < textured.mean() < 0.5
    assert flat_out >= 2 * flat_in
    assert colours_out <= 0.92 * colours_in
    assert change >= 4
    assert layout > 0.8
