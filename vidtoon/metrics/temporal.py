"""Temporal consistency: the warping error E_warp of Lai et al. 2018, streamed over frame sequences.

"Learning Blind Video Temporal Consistency" (ECCV 2018), section 5.1: for each pair of consecutive
frames (t, t+1), optical flow and occlusion are estimated on the ORIGINAL (source) frames; the
processed frame t+1 is backward-warped onto frame t with that flow, and

    E_warp(t) = Σ_p M_t(p) · ‖O_t(p) − Ô_{t+1}(p)‖² / (3 · Σ_p M_t(p))

with RGB in [0, 1], M_t the non-occlusion mask and Ô_{t+1} the warped frame. E_warp of a video is
the mean of E_warp(t) over its T−1 pairs.

Normalisation: the paper writes the denominator as Σ M_t, but the authors' `evaluate_WarpError.py`
reads the occlusion PNG with `cv2.imread` as three identical channels, so its `np.sum(noc_mask)`
counts every valid pixel three times: the published numbers are the mean over non-occluded pixels
AND over the three channels. We follow the code (and so the published numbers); multiply by 3
for the per-pixel channel sum. A pair with no valid pixel scores 0, as in their code.

Flow convention (`vidtoon.flow`): flow t -> t+1 is `flow(target=source_t, source=source_{t+1})`,
so source_t(p) ≈ source_{t+1}(p + flow(p)); the same flow aligns the outputs. Occlusion is
`consistency_mask(flow t -> t+1, flow t+1 -> t)`: the forward-backward check of Lai et al.
(Sundaram et al. 2010) plus pixels leaving the frame. Their extra motion-boundary term (large flow
gradients also count as occluded) is not applied, so our masks keep a few more pixels at edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np
import torch

from vidtoon.errors import InputError
from vidtoon.flow.base import FlowBackend
from vidtoon.flow.warp import backward_warp, consistency_mask
from vidtoon.streaming import zip_in_step


@dataclass(frozen=True)
class WarpingError:
    """E_warp of one frame sequence against a source's flow.

    Attributes:
        mean: E_warp of the video: the mean of `per_frame` (mean squared RGB difference in [0, 1] units).
        per_frame: E_warp(t) of each consecutive pair (t, t+1), t = 0 … T−2: T−1 values.
        valid_fraction: mean fraction of pixels the occlusion mask kept (the same for every sequence
            scored against the same source).
    """

    mean: float
    per_frame: tuple[float, ...]
    valid_fraction: float


def pair_warping_error(output_t: torch.Tensor, output_t1: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """E_warp(t) of N frame pairs.

    Args:
        output_t: N×3×H×W frames t, RGB in [0, 1].
        output_t1: N×3×H×W frames t+1, RGB in [0, 1].
        flow: N×2×H×W flow t -> t+1 (pixels, on t's grid; `vidtoon.flow` convention).
        mask: N×1×H×W bool, True where the flow is trusted (non-occluded).
    Returns:
        N float tensor: Σ mask·(output_t − warp(output_t1))² / (C · Σ mask), 0 where the mask is empty.
    """
    if output_t.shape != output_t1.shape or mask.shape != (output_t.shape[0], 1, *output_t.shape[-2:]):
        raise ValueError(
            f"pair_warping_error: frames {tuple(output_t.shape)} and {tuple(output_t1.shape)} and mask {tuple(mask.shape)} "
            "must be N×C×H×W, N×C×H×W and N×1×H×W"
        )
    warped = backward_warp(output_t1, flow)
    weight = mask.to(output_t.dtype)
    squared = (((output_t - warped) ** 2) * weight).sum(dim=(1, 2, 3))
    count = weight.sum(dim=(1, 2, 3)) * output_t.shape[1]
    return torch.where(count > 0, squared / count.clamp_min(1), torch.zeros_like(squared))


def _checked(frames: Iterable[Sequence[np.ndarray]]) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield the tuples of `frames` after checking every frame is H×W×3 uint8 and the same size as the first."""
    first: tuple[int, ...] | None = None  # (tuple length, H, W)
    for index, item in enumerate(frames):
        item = tuple(item)
        for k, frame in enumerate(item):
            if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                what = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
                raise InputError(f"frame {index} of sequence {k} is {what}, expected H×W×3 uint8 RGB")
            if first is None:
                first = (len(item), *frame.shape[:2])
            if frame.shape[:2] != first[1:]:
                raise InputError(
                    f"frame {index} of sequence {k} is {frame.shape[1]}x{frame.shape[0]}, "
                    f"the sequences started at {first[2]}x{first[1]}",
                    hint="every frame of every sequence must have the same size",
                )
        if len(item) != first[0]:
            raise InputError(f"frame {index} comes with {len(item)} sequences, frame 0 with {first[0]}")
        yield item


def _to_tensor(frames_u8: list[np.ndarray], device: torch.device) -> torch.Tensor:
    """K H×W×3 uint8 frames -> K×3×H×W float32 in [0, 1] on `device`."""
    return torch.from_numpy(np.stack(frames_u8)).to(device).permute(0, 3, 1, 2).float().div_(255)


@torch.inference_mode()
def warping_errors(
    frames: Iterable[Sequence[np.ndarray]],
    *,
    flow: FlowBackend,
    batch_size: int = 1,
    device: torch.device | str = "cpu",
) -> list[WarpingError]:
    """E_warp of several aligned sequences against the flow of the first, streamed.

    Args:
        frames: yields, for each time t, a tuple (source_t, output1_t, output2_t, …) of H×W×3 uint8
            RGB frames, all the same size. The flow and occlusion come from the sources only.
        flow: the flow backend (`vidtoon.flow.make_flow`).
        batch_size: frame pairs per flow call. Memory holds batch_size + 1 frames of each sequence,
            whatever the length of the video (1: frame pairs only; more helps GPU backends).
        device: where the frames, flows and errors are computed.
    Returns:
        One `WarpingError` per tuple element, in order: element 0 is the source's own E_warp (a
        baseline, not a floor: a processed version flatter than the source goes below it).
    Raises:
        InputError: fewer than 2 frames, frames of another size or type than the first.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    device = torch.device(device)
    items = _checked(frames)
    per_frame: list[list[float]] = []
    valid: list[float] = []
    previous: list[torch.Tensor] | None = None  # the last frame of each sequence, 1×3×H×W
    while chunk := list(islice(items, batch_size)):
        stacked = [_to_tensor([item[k] for item in chunk], device) for k in range(len(chunk[0]))]
        if previous is not None:
            stacked = [torch.cat((last, batch)) for last, batch in zip(previous, stacked)]
        previous = [batch[-1:] for batch in stacked]
        if stacked[0].shape[0] < 2:
            continue
        source = stacked[0] * 2 - 1  # the flow protocol's [-1, 1]
        before, after = source[:-1], source[1:]
        both = flow(torch.cat((before, after)), torch.cat((after, before)))
        forward, backward = both.float().split(before.shape[0])  # t -> t+1, t+1 -> t
        mask = consistency_mask(forward, backward)
        valid += mask.float().mean(dim=(1, 2, 3)).tolist()
        if not per_frame:
            per_frame = [[] for _ in stacked]
        for values, sequence in zip(per_frame, stacked):
            values += pair_warping_error(sequence[:-1], sequence[1:], forward, mask).tolist()
    if not valid:
        raise InputError("temporal consistency needs at least 2 frames", hint="give a longer video or frame folder")
    return [WarpingError(float(np.mean(values)), tuple(values), float(np.mean(valid))) for values in per_frame]


def warping_error(
    output: Iterable[np.ndarray],
    source: Iterable[np.ndarray] | None = None,
    *,
    flow: FlowBackend,
    batch_size: int = 1,
    device: torch.device | str = "cpu",
) -> WarpingError:
    """E_warp of one sequence of H×W×3 uint8 RGB frames, with flow from `source` (None: from the output itself).

    Both are iterables read once, in step, a batch of frame pairs at a time (see `warping_errors`).

    Raises:
        InputError: the two sequences differ in length, fewer than 2 frames, or frames of mixed sizes.
    """
    if source is None:
        return warping_errors(((frame,) for frame in output), flow=flow, batch_size=batch_size, device=device)[0]
    return warping_errors(zip_in_step(source, output), flow=flow, batch_size=batch_size, device=device)[1]


__all__ = ["WarpingError", "pair_warping_error", "warping_error", "warping_errors"]
