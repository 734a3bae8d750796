"""The `Restyler` protocol and the batching the video loop drives restylers with, without torch.

A `Restyler` is what the video loop and the stills writer drive: `FrameRestyler` (`vidtoon.restyle.frames`, a
translator's tensors), `TwinRestyler` (`vidtoon.restyle.twins`, a procedural style's uint8 twin: no torch) and
`FaceRestyler` (`vidtoon.restyle.faces`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from vidtoon.streaming import prefetch

if TYPE_CHECKING:
    from vidtoon.models.translator import Translator


class Restyler(Protocol):
    """uint8 RGB frames in, restyled uint8 RGB frames of the same size out, with a lifetime of one run."""

    translator: Translator | Any  # a `Translator`, or a procedural twin (`vidtoon.styles.procedural.TwinTranslator`)

    def __call__(
        self, frames_u8: list[np.ndarray], times: list[Fraction] | None = None, guides_u8: list[np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8 (consecutive in a video; `times` in seconds, None for photos).

        guides_u8: for frames that are already translated (`stabilize`), the N originals they were made from
        (same size): the temporal stage follows their motion. None: the frames are the originals."""

    def reset(self) -> None:
        """Forget the past (a seek, a segment start, a new photo)."""

    def finish(self, what: str) -> None:
        """The run is over: log what the user should know about it (`what`: "frames" or "images")."""

    def check_still(self, source: Path) -> None:
        """After one photo: raise if it could not be restyled as asked (e.g. --faces and no face)."""


def batches(frames: Iterable, size: int) -> Iterator[tuple[list[Fraction], list[np.ndarray], list[np.ndarray] | None]]:
    """Group decoded `Frame`s into lists of `size` (the last may be shorter): yields (times, H×W×3 uint8 arrays,
    their guides: the originals of `GuidedFrame`s, else None)."""
    times, images, guides = [], [], []
    for frame in frames:
        times.append(frame.time)
        images.append(frame.rgb)
        guides.append(getattr(frame, "guide", None))
        if len(images) == size:
            yield times, images, _guides(guides)
            times, images, guides = [], [], []
    if images:
        yield times, images, _guides(guides)


def _guides(guides: list[np.ndarray | None]) -> list[np.ndarray] | None:
    return None if any(guide is None for guide in guides) else guides


def in_two_halves(restyler: Restyler) -> bool:
    """Whether `restyler` splits its work into a stateless `translate` and an in-order `blend` (`FrameRestyler`,
    `TwinRestyler`), so a caller can run the two on separate threads."""
    return hasattr(restyler, "translate") and hasattr(restyler, "blend")


def restyled_batches(
    restyler: Restyler, batched: Iterable[tuple[list[Fraction], list[np.ndarray], list[np.ndarray] | None]]
) -> Iterator[tuple[list[Fraction], list[np.ndarray]]]:
    """(times, restyled frames) for each batch of `batches(...)`, in order.

    A restyler with `translate` and `blend` (`FrameRestyler`, `TwinRestyler`) runs its model on a background thread a
    batch ahead of its temporal stage (`translate` then
    `blend`): on a CPU the two overlap on two cores instead of taking turns; on a GPU the next batch's kernels queue
    while the stage runs. Other restylers (faces) run whole, batch by batch."""
    if not in_two_halves(restyler):
        for times, frames, guides in batched:
            yield times, restyler(frames, times, guides)
        return
    ahead = prefetch(((times, restyler.translate(frames, guides)) for times, frames, guides in batched), depth=1)
    with closing(ahead):
        for times, translated in ahead:
            yield times, restyler.blend(translated)
