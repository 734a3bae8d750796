"""`TwinRestyler`: a procedural style's uint8 twin and the CPU temporal stage on uint8 frames — the whole CPU restyle
of `toon` or `sketch` without torch (no `import torch`: ~2-4 s of start-up here).

decode (uint8) -> shrink to the processing height (OpenCV's area average) -> twin -> `blend_u8` (the flow stage, or
none) -> enlarge back (OpenCV's bicubic) -> encode (uint8). The frames are those of `FrameRestyler` driving the
style's torch function and the same stage, within a grey level or two (tests/test_twins_restyle.py).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from vidtoon.restyle.options import processing_size


class TwinBatch(NamedTuple):
    """A batch between `TwinRestyler.translate` and `.blend`: the frames the stage follows and their translations
    (lists of h×w×3 uint8 at the processing size), and the frames' own (height, width)."""

    followed: list[np.ndarray]
    translated: list[np.ndarray]
    size: tuple[int, int]


class TwinRestyler:
    """uint8 RGB frames in, restyled uint8 RGB frames out, through a `TwinTranslator` and a temporal stage's `blend_u8`.

    Args:
        translator: the style's `TwinTranslator` (`vidtoon.styles.procedural`).
        temporal: the temporal stage (`FlowBlend` or `PassThrough`: anything with `blend_u8` and `reset`).
        process_height: height to restyle at (None: the frames' own).
    """

    def __init__(self, translator, temporal, *, process_height: int | None = None):
        self.translator = translator
        self.temporal = temporal
        self.process_height = process_height

    def process_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the style sees for frames of `height`×`width` (`options.processing_size`)."""
        return processing_size(height, width, self.process_height)

    def reset(self) -> None:
        self.temporal.reset()

    def __call__(
        self, frames_u8: list[np.ndarray], times: list[Fraction] | None = None, guides_u8: list[np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8 (same size) -> N restyled frames of the same size (`times` unused); with
        `guides_u8` (the originals of already translated frames) the temporal stage follows their motion."""
        return self.blend(self.translate(frames_u8, guides_u8))

    def translate(self, frames_u8: list[np.ndarray], guides_u8: list[np.ndarray] | None = None) -> TwinBatch:
        """The style's work, no state (the video loop runs it a batch ahead of `blend`, on its own thread)."""
        height, width = frames_u8[0].shape[:2]
        size = self.process_size(height, width)
        frames = [_at_size(frame, size) for frame in frames_u8]
        followed = frames if guides_u8 is None else [_at_size(guide, size) for guide in guides_u8]
        return TwinBatch(followed, self.translator(frames), (height, width))

    def blend(self, batch: TwinBatch) -> list[np.ndarray]:
        """The temporal stage (stateful, in frame order), then back to the frames' size."""
        frames = self.temporal.blend_u8(batch.followed, batch.translated)
        if frames and frames[0].shape[:2] != batch.size:
            frames = [cv2.resize(frame, batch.size[::-1], interpolation=cv2.INTER_CUBIC) for frame in frames]
        return frames

    def finish(self, what: str) -> None:
        pass

    def check_still(self, source: Path) -> None:
        pass


def _at_size(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """H×W×3 uint8 at (height, width) `size`: itself, or shrunk by area averaging (enlarged bilinearly)."""
    if frame.shape[:2] == size:
        return frame
    shrink = size[0] < frame.shape[0]
    return cv2.resize(frame, size[::-1], interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
