"""The pixel budget: a picture (or a video frame) larger than the budget is refused from its header, before decoding.

A PNG of a few hundred bytes can promise 30000x30000 pixels (2.7 GB as RGB): decoding it to find out
would exhaust memory, so the size is read from the header first (PIL's lazy open reads the header,
not the pixels) and compared with the budget, 100 megapixels unless the user passes `--max-pixels`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from vidtoon.errors import InputError

DEFAULT_MAX_PIXELS = 100_000_000  # 100 megapixels: 300 MB as RGB, ~1.2 GB as a float tensor


def check_pixels(width: int, height: int, *, path: Path, max_pixels: int = DEFAULT_MAX_PIXELS, what: str = "picture") -> None:
    """Refuse a `width`×`height` picture above `max_pixels`, with the numbers.

    Raises:
        InputError: too many pixels (or a size of zero or less in the header).
    """
    if width <= 0 or height <= 0:
        raise InputError(f"{what} header gives an impossible size {width}x{height}", path=path, hint="the file is damaged")
    pixels = width * height
    if pixels > max_pixels:
        raise InputError(
            f"{what} is {width}x{height} = {_count(pixels)} ({_bytes(pixels * 3)} as RGB), over the budget of {_count(max_pixels)}",
            path=path,
            hint="pass --max-pixels N to allow more if the machine has the memory, or use a smaller copy",
        )


def image_header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header without decoding its pixels; None when PIL does not know the format."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - PIL comes with torchvision
        return None
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # our budget decides, with the numbers; PIL's own bomb check has neither
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:  # lazy: reads the header only
                return image.size
    except Exception:  # noqa: BLE001 - not an image PIL knows (a video, a damaged file): the decoder will say
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def check_image_file(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Refuse an image file whose header promises more than `max_pixels` (a file PIL cannot read passes: the
    decoder that reads it next says what is wrong)."""
    size = image_header_size(path)
    if size is not None:
        check_pixels(*size, path=path, max_pixels=max_pixels, what="image")


def _count(pixels: int) -> str:
    return f"{pixels / 1e6:,.0f} megapixels" if pixels >= 10_000_000 else f"{pixels:,} pixels"


def _bytes(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB" if nbytes >= 1e9 else f"{nbytes / 1e6:.1f} MB"
