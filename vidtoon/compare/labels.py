"""Text on pictures: labels drawn with Pillow's built-in font (nothing downloaded, no system font needed)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BAND_COLOUR = (24, 24, 24)
TEXT_COLOUR = (240, 240, 240)


def font_px(row_height: int) -> int:
    """Label size for pictures `row_height` pixels high: a ninth of it, 11 to 28 px."""
    return max(11, min(28, row_height // 9))


def band_height(row_height: int) -> int:
    """Height of a label band above pictures `row_height` pixels high (even, so videos need no padding)."""
    return (font_px(row_height) + 10 + 1) // 2 * 2


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_width(text: str, size: int) -> int:
    """Width in pixels of `text` at `size` px."""
    return int(np.ceil(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(text, font=_font(size))))


def fit_text(text: str, size: int, width: int) -> str:
    """`text`, shortened with an ellipsis until it fits in `width` pixels."""
    if text_width(text, size) <= width:
        return text
    while len(text) > 1 and text_width(text + "...", size) > width:
        text = text[:-1]
    return text + "..."


def draw_labels(canvas: np.ndarray, labels: list[tuple[str, int, int, int, int, str]], size: int) -> None:
    """Draw labels onto `canvas` (H×W×3 uint8, changed in place).

    Args:
        labels: (text, x0, y0, x1, y1, align) boxes; `align` is "left", "centre" or "right"; text is
            vertically centred and shortened to fit the box.
        size: font size in pixels.
    """
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    font = _font(size)
    for text, x0, y0, x1, y1, align in labels:
        text = fit_text(text, size, max(1, x1 - x0 - 4))
        width = text_width(text, size)
        x = {"left": x0 + 2, "centre": (x0 + x1 - width) // 2, "right": x1 - 2 - width}[align]
        draw.text((x, (y0 + y1) // 2), text, fill=TEXT_COLOUR, font=font, anchor="lm")
    canvas[:] = np.asarray(image)
