"""Frames between the host and the translator's device for `FrameRestyler`: one upload and one download per batch.

On a CUDA device (the only place any of the CUDA calls below run, each behind `self.cuda`):

* upload: the batch's uint8 frames are stacked into a page-locked (pinned) host buffer and copied to the device with
  `non_blocking=True` on a side copy stream; the work that follows waits on the copy's event (not a device-wide
  sync), and the conversion to [-1, 1] runs on the device (`vidtoon.convert.u8_to_unit`). uint8 crosses the bus:
  4× less than float32.
* compute: `translate` queues the model on its own stream (`FrameTransfers.translating`), so the temporal stage's
  syncs in `blend` (its flow download, its cut test, the frames' download) wait only for the batch they blend, not
  for the next batch's model, which the video loop's background thread has already queued: the model, the copies
  and the CPU's flow work overlap. `receive` makes `blend`'s stream wait on the batch's event and tells the caching
  allocator that the batch's tensors are used there (`record_stream`).
* download: the result becomes uint8 on the device, is copied with `non_blocking=True` into a pinned host buffer and
  its event is waited for before the frames leave `download` (they are plain numpy arrays the encoder can read at
  any time).

Pinned buffers, a ring sized by what is still referenced: every batch takes its buffer from PyTorch's caching host
allocator (`torch.empty(..., pin_memory=True)`), which hands a block out again only once the tensor is freed AND the
copies recorded on it are done. The frames handed to the encoder are views of that tensor (numpy keeps the tensor
as their base), so a block is not reused while the encode thread (its queue holds 2 × batch + 4 frames), a preview
or a test still holds any frame of it: no copy out, no overwrite, and the ring is as long as the batches in flight
(3-4 at 1080p, 50 MB each), whatever the sink's depth. The upload's staging buffer is freed as soon as its copy is
queued; the allocator keeps it until the copy's event has passed.

On the CPU every method is today's path: `u8_to_unit(np.stack(frames))` (the stack is the one copy) and
`unit_to_u8_numpy` (OpenCV's one-pass conversion), no streams, no events.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch

from vidtoon.convert import u8_to_unit, unit_to_u8, unit_to_u8_numpy


class FrameTransfers:
    """Uploads, a compute stream and downloads for the frames of one restyler on `device`.

    Args:
        device: the translator's device.
        overlap: on CUDA, pinned buffers, side streams and events (False: the plain synchronous copies, the path the
            benchmark compares against). Ignored on the CPU.
    """

    def __init__(self, device: torch.device, *, overlap: bool = True):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda" and overlap
        self._copy_stream = torch.cuda.Stream(self.device) if self.cuda else None
        self._compute_stream = torch.cuda.Stream(self.device) if self.cuda else None

    def translating(self):
        """Context for `translate`'s work: on CUDA the restyler's compute stream, else nothing."""
        return torch.cuda.stream(self._compute_stream) if self.cuda else nullcontext()

    def upload(self, frames_u8: list[np.ndarray]) -> torch.Tensor:
        """N frames H×W×3 uint8 (one size) -> N×3×H×W float32 in [-1, 1] on the device, ready on the current stream."""
        first = frames_u8[0] if len(frames_u8) else None
        if not self.cuda or first is None or first.dtype != np.uint8 or first.ndim != 3:
            return u8_to_unit(np.stack(frames_u8), self.device)  # (wrong input: u8_to_unit's error)
        staging = torch.empty((len(frames_u8), *first.shape), dtype=torch.uint8, pin_memory=True)
        np.stack(frames_u8, out=staging.numpy())
        consumer = torch.cuda.current_stream(self.device)
        with torch.cuda.stream(self._copy_stream):
            frames = torch.empty(staging.shape, dtype=torch.uint8, device=self.device)  # the copy stream's memory
            frames.copy_(staging, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record(self._copy_stream)
        consumer.wait_event(copied)
        frames.record_stream(consumer)  # not reused before the consumer's conversion below has run
        return u8_to_unit(frames)

    def ready(self) -> torch.cuda.Event | None:
        """After `translate` queued its work: an event `receive` waits on (CUDA), else None."""
        if not self.cuda:
            return None
        event = torch.cuda.Event()
        event.record(torch.cuda.current_stream(self.device))
        return event

    def receive(self, ready: torch.cuda.Event | None, *tensors: torch.Tensor) -> None:
        """In `blend`: the current stream waits for `ready` (the batch's model), and `tensors` (made on the compute
        stream) stay allocated until the current stream's use of them is done."""
        if not self.cuda or ready is None:
            return
        consumer = torch.cuda.current_stream(self.device)
        consumer.wait_event(ready)
        for tensor in tensors:
            if tensor.device.type == "cuda":
                tensor.record_stream(consumer)

    def download(self, x: torch.Tensor) -> list[np.ndarray]:
        """N×3×H×W float in [-1, 1] -> N frames H×W×3 uint8 (numpy, safe to keep: see the module's docstring)."""
        if not self.cuda:
            return list(unit_to_u8_numpy(x))
        frames = unit_to_u8(x)  # N×H×W×3 uint8, on the device
        host = torch.empty(frames.shape, dtype=torch.uint8, pin_memory=True)
        host.copy_(frames, non_blocking=True)
        copied = torch.cuda.Event()
        copied.record(torch.cuda.current_stream(self.device))
        copied.synchronize()  # this batch's work only: the next batch's model runs on the compute stream meanwhile
        return list(host.numpy())
