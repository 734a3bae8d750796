"""`FrameRestyler`: uint8 frames in, restyled uint8 frames out, whole frames through a translator's tensors.

One of the `Restyler`s the video loop drives (`vidtoon.restyle.batches`, with the batching); `TwinRestyler`
(`vidtoon.restyle.twins`) is its torch-free counterpart for procedural styles on the CPU.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vidtoon.models.norm_stats import SharedNormStats, per_sample_norm_layers
from vidtoon.models.translator import Translator
from vidtoon.restyle.options import processing_size
from vidtoon.restyle.transfer import FrameTransfers
from vidtoon.temporal import TemporalStage
from vidtoon.tiling import pad_to_multiple, translate_tiled

log = logging.getLogger(__name__)


class Translated(NamedTuple):
    """A batch between `FrameRestyler.translate` and `.blend`: the frames the temporal stage follows (N×3×h×w in
    [-1, 1], at the processing size), their translation (same shape), the frames' own (height, width), on CUDA the
    event `blend` waits on before it uses them (they were queued on the restyler's compute stream; None else), and for
    a temporal stage that works on uint8 frames (`blend_u8`) the followed frames as N h×w×3 uint8 arrays (else None)."""

    source: torch.Tensor
    translated: torch.Tensor
    size: tuple[int, int]
    ready: torch.cuda.Event | None = None
    sources_u8: list[np.ndarray] | None = None


class FrameRestyler:
    """uint8 RGB frames in, restyled uint8 RGB frames out (translate + temporal stages).

    Args:
        translator: the model, on its device.
        temporal: the temporal stage (stateful; reset on seeks and segment starts).
        process_height: height to translate at (None: the frames' own).
        overlap_transfers: on CUDA, pinned uploads and downloads with events, the model on its own stream
            (`vidtoon.restyle.transfer`); False: plain synchronous copies. The frames are the same either way; on the
            CPU nothing changes.
    """

    def __init__(
        self,
        translator: Translator,
        temporal: TemporalStage,
        *,
        process_height: int | None = None,
        max_side: int | None = None,
        tile: int = 512,
        overlap: int = 32,
        overlap_transfers: bool = True,
    ):
        self.translator = translator
        self.temporal = temporal
        self.process_height = process_height
        self.max_side = max_side
        self.tile = tile
        self.overlap = overlap
        self._tiled_after_oom: int | None = None
        self._uint8_stage = hasattr(temporal, "blend_u8")  # the CPU flow stage: uint8 frames in and out
        self.transfers = FrameTransfers(translator.device, overlap=overlap_transfers)

    def process_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the model sees for frames of `height`×`width` (`options.processing_size`)."""
        return processing_size(height, width, self.process_height, self.translator.size_multiple)

    def reset(self) -> None:
        """Forget the past (a seek, a segment start, a new photo)."""
        self.temporal.reset()

    def __call__(
        self, frames_u8: list[np.ndarray], times: list[Fraction] | None = None, guides_u8: list[np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8 (same size) -> N restyled frames of the same size (`times` unused).

        With `guides_u8` (the originals of already translated frames) the temporal stage follows their motion."""
        return self.blend(self.translate(frames_u8, guides_u8))

    @torch.inference_mode()
    def translate(self, frames_u8: list[np.ndarray], guides_u8: list[np.ndarray] | None = None) -> Translated:
        """The first half of `__call__`: the model's work, no state. The video loop runs it on its own thread, a batch
        ahead of `blend`, so the model and the temporal stage overlap (two cores do both at once; on CUDA the model's
        kernels run on the restyler's own stream while `blend` waits only for the batch it blends)."""
        transfers = self.transfers
        with transfers.translating():
            x = transfers.upload(frames_u8)  # N×3×H×W in [-1, 1]: uint8 uploaded, converted on the device
            height, width = x.shape[-2:]
            ph, pw = self.process_size(height, width)
            source = self._at_size(x, ph, pw)
            translated = self._translate(source)
            followed_u8 = None  # a stage on uint8 frames follows the frames themselves at their size
            if self._uint8_stage and (ph, pw) == (height, width):
                followed_u8 = list(guides_u8 if guides_u8 is not None else frames_u8)
            if guides_u8 is not None:
                source = self._at_size(transfers.upload(guides_u8), ph, pw)
            if self._uint8_stage and followed_u8 is None:  # ... or as the model saw them, at the processing size
                followed_u8 = transfers.download(source)
            return Translated(source, translated, (height, width), transfers.ready(), followed_u8)

    @torch.inference_mode()
    def blend(self, batch: Translated) -> list[np.ndarray]:
        """The second half of `__call__`, in frame order: the temporal stage (stateful), back to the frames' size, and
        one download per batch (frames that stay valid however long they are kept). A stage on uint8 frames (the CPU's
        `FlowBlend.blend_u8`) gets the translation as uint8 frames and gives back the frames to encode (enlarged by
        OpenCV when the processing size is another)."""
        self.transfers.receive(batch.ready, batch.source, batch.translated)
        if batch.sources_u8 is not None:
            frames = self.temporal.blend_u8(batch.sources_u8, self.transfers.download(batch.translated))
            if tuple(frames[0].shape[:2]) != batch.size:
                frames = [cv2.resize(f, batch.size[::-1], interpolation=cv2.INTER_CUBIC) for f in frames]
            return frames
        y = self.temporal(batch.source, batch.translated)
        if tuple(y.shape[-2:]) != batch.size:
            y = F.interpolate(y, size=batch.size, mode="bicubic", align_corners=False).clamp_(-1, 1)
        return self.transfers.download(y)

    def finish(self, what: str) -> None:
        pass

    def check_still(self, source: Path) -> None:
        pass

    @staticmethod
    def _at_size(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        if x.shape[-2:] == (height, width):
            return x
        return F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)

    def _translate(self, x: torch.Tensor) -> torch.Tensor:
        translator = self.translator
        if translator.fixed_size is not None:
            return translate_tiled(x, translator, tile=translator.fixed_size, overlap=self.overlap)
        side = self._tiled_after_oom or self.max_side
        if side is not None and max(x.shape[-2:]) > side:
            return self._translate_in_tiles(x, side)
        try:
            padded, (h, w) = pad_to_multiple(x, translator.size_multiple)
            return translator(padded)[..., :h, :w]
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            self._tiled_after_oom = max(translator.size_multiple * 2, (self._tiled_after_oom or max(x.shape[-2:])) // 2)
            log.warning("the GPU ran out of memory: translating in %d px tiles from now on", self._tiled_after_oom)
            return self._translate(x)

    def _translate_in_tiles(self, x: torch.Tensor, side: int) -> torch.Tensor:
        """Tiles of at most side×side; per-sample norm layers use each frame's whole-frame statistics, recorded
        on the frame downscaled to at most twice the tile side (4× a tile's memory)."""
        translator = self.translator
        multiple = translator.size_multiple
        tile = max(multiple, side // multiple * multiple)
        model = getattr(translator, "model", None)
        if model is None or not per_sample_norm_layers(model):
            return translate_tiled(x, translator, tile=(tile, tile), overlap=self.overlap, multiple=multiple)
        outputs = []
        for frame in x.split(1):
            height, width = frame.shape[-2:]
            scale = min(1.0, 2 * tile / max(height, width))  # statistics at up to twice the tile side
            small = F.interpolate(frame, scale_factor=scale, mode="area") if scale < 1 else frame
            with SharedNormStats(model) as stats:
                stats.record()
                padded, _ = pad_to_multiple(small, multiple)
                translator(padded)
                stats.reuse()
                outputs.append(translate_tiled(frame, translator, tile=(tile, tile), overlap=self.overlap, multiple=multiple))
        return torch.cat(outputs)
