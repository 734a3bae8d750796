"""OpenCV DIS optical flow (Kroeger et al. 2016): fast, CPU, no weights. The default backend."""

from __future__ import annotations

import queue
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from vidtoon.cpu_threads import SizedPool, usable_cores
from vidtoon.errors import UsageError
from vidtoon.flow.base import FLOW_BACKENDS, check_pair, gray_u8, stack_flows, to_rgb_u8

if TYPE_CHECKING:  # tensors only in `__call__`: the temporal stage's `estimate` on uint8 frames needs no torch
    import torch

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


class DISFlow:
    """DIS flow with a preset ("ultrafast", "fast", "medium").

    One OpenCV instance per worker (an instance is not thread-safe). `estimate` runs the pairs of a call side by side
    on `threads` workers (OpenCV releases the GIL): a GPU batch of 8 frames is 8 pairs, ~7 ms each at 640×360 on
    one core, which one worker would cap at ~140 fps. The flows are the same as one worker's (each pair is computed
    alone, from the same preset). threads: None = half the usable cores from 4 cores up (at most 8), else all
    of them (the CPU temporal stage's batch on 2 cores), never more than OpenCV's thread count (`cv2.setNumThreads(1)`: one);
    read at each call.
    """

    name = "dis"

    def __init__(self, preset: str = "fast", *, threads: int | None = None):
        if preset not in PRESETS:
            raise UsageError(f"unknown DIS preset {preset!r}", hint=f"use one of {', '.join(PRESETS)}")
        self.preset = preset
        self.threads = threads
        self._idle: queue.SimpleQueue = queue.SimpleQueue()  # instances not in use
        self._pool = SizedPool("vidtoon-dis")

    def __call__(self, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        check_pair(target, source)
        return stack_flows(self.estimate(to_rgb_u8(target), to_rgb_u8(source)), target.device)

    def estimate(self, targets_u8: Sequence[np.ndarray], sources_u8: Sequence[np.ndarray]) -> list[np.ndarray]:
        grays: dict[int, np.ndarray] = {}  # by object: the temporal stage passes each frame twice (t -> t−1, t−1 -> t)
        for frame in (*targets_u8, *sources_u8):
            if id(frame) not in grays:
                grays[id(frame)] = gray_u8(frame)
        pairs = [(grays[id(t)], grays[id(s)]) for t, s in zip(targets_u8, sources_u8, strict=True)]
        pool = self._pool.sized(self.threads if self.threads is not None else _default_threads())
        if pool is None or len(pairs) < 2:
            return [self._calc(pair) for pair in pairs]
        return list(pool.map(self._calc, pairs))

    def _calc(self, pair: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The flow of one (target, source) pair of grey frames, on an instance no other thread is using."""
        try:
            dis = self._idle.get_nowait()
        except queue.Empty:
            dis = cv2.DISOpticalFlow_create(PRESETS[self.preset])
        try:
            return dis.calc(pair[0], pair[1], None)
        finally:
            self._idle.put(dis)


def _default_threads() -> int:
    cores = usable_cores()
    return min(8, cores // 2 if cores >= 4 else cores, max(1, cv2.getNumThreads()))


@FLOW_BACKENDS.register("dis")
def build_backend(*, preset: str = "fast", weights: str | None = None, device=None, **_settings):
    """`--flow dis`: OpenCV DIS with `preset` (ultrafast, fast, medium)."""
    return DISFlow(preset)
