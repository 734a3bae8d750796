"""Pure functions on optical flow: backward warping, the forward–backward consistency mask, the one-flow disocclusion test and the enlargement of a flow into sample positions.

Convention (every backend follows it): `flow` from frame t to frame s is N×2×H×W pixel offsets
(dx, dy) on frame t's grid such that frame_t(p) ≈ frame_s(p + flow(p)). Backward warping frame s
with that flow gives frame s seen from frame t.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # the tensor functions import torch themselves: the OpenCV ones below need none
    import torch


def _base_grid(height: int, width: int, device, dtype) -> torch.Tensor:
    import torch

    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype), torch.arange(width, device=device, dtype=dtype), indexing="ij"
    )
    return torch.stack((xs, ys))  # 2×H×W, (x, y)


def backward_warp(image: torch.Tensor, flow: torch.Tensor, *, mode: str = "bilinear") -> torch.Tensor:
    """Sample `image` at p + flow(p): N×C×H×W image, N×2×H×W flow -> N×C×H×W.

    Positions outside the image take the nearest border pixel. Zero flow returns `image`; an
    integer flow shifts it exactly.
    """
    import torch
    import torch.nn.functional as F

    if image.shape[0] != flow.shape[0] or image.shape[-2:] != flow.shape[-2:] or flow.shape[1] != 2:
        raise ValueError(
            f"image {tuple(image.shape)} and flow {tuple(flow.shape)} must be N×C×H×W and N×2×H×W of the same N, H, W"
        )
    height, width = image.shape[-2:]
    position = _base_grid(height, width, flow.device, flow.dtype)[None] + flow  # N×2×H×W, pixels
    grid = torch.stack(
        (2 * position[:, 0] / max(width - 1, 1) - 1, 2 * position[:, 1] / max(height - 1, 1) - 1), dim=-1
    )  # N×H×W×2 in [-1, 1], align_corners=True
    return F.grid_sample(image, grid.to(image.dtype), mode=mode, padding_mode="border", align_corners=True)


def consistency_mask(flow_ts: torch.Tensor, flow_st: torch.Tensor, *, alpha1: float = 0.01, alpha2: float = 0.5) -> torch.Tensor:
    """Where `flow_ts` (t -> s) is trustworthy: N×1×H×W bool, True = visible in both frames and consistent.

    Forward–backward check (Sundaram et al. 2010, as used by Lai et al. 2018): following the flow
    to s and back must return to the start, |w + ŵ|² < alpha1 (|w|² + |ŵ|²) + alpha2, where ŵ is
    `flow_st` sampled at p + w(p). Pixels that leave the frame are untrustworthy too.
    """
    height, width = flow_ts.shape[-2:]
    back = backward_warp(flow_st, flow_ts)
    total = flow_ts + back
    lhs = (total**2).sum(1, keepdim=True)
    rhs = alpha1 * ((flow_ts**2).sum(1, keepdim=True) + (back**2).sum(1, keepdim=True)) + alpha2
    position = _base_grid(height, width, flow_ts.device, flow_ts.dtype)[None] + flow_ts
    inside = (position[:, :1] >= 0) & (position[:, :1] <= width - 1) & (position[:, 1:] >= 0) & (position[:, 1:] <= height - 1)
    return (lhs < rhs) & inside


# The same two operations on single H×W×C numpy frames through OpenCV: what the temporal stage runs
# per frame on the CPU (cv2.remap is 3–4× faster than grid_sample there). Tests check they agree
# with the tensor versions above.


@functools.lru_cache(maxsize=8)
def pixel_grid(height: int, width: int) -> np.ndarray:
    """H×W×2 float32 (x, y) pixel coordinates, read-only (cached per size)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.stack((xs, ys), axis=-1)
    grid.flags.writeable = False
    return grid


def sample_positions(flow_hw2: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Where p + flow(p) lands: H×W×2 float32 absolute (x, y) positions, the map `cv2.remap` takes.

    `out`: an H×W×2 float32 array to write them into (it may be `flow_hw2` itself), instead of a new one."""
    return cv2.add(pixel_grid(*flow_hw2.shape[:2]), flow_hw2, dst=out)


def remap(image: np.ndarray, positions: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Bilinear sample of `image` (H×W or H×W×C float32, C ≤ 4) at `positions` (H×W×2 from `sample_positions`),
    nearest border pixel outside: the numpy twin of `backward_warp`. `out`: an array to write into (not `image`)."""
    return cv2.remap(image, positions, None, cv2.INTER_LINEAR, dst=out, borderMode=cv2.BORDER_REPLICATE)


def remap_by_flow(image: np.ndarray, flow_hw2: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """`remap(image, sample_positions(flow_hw2))` without the positions array: OpenCV adds the pixel grid itself
    (`WARP_RELATIVE_MAP`), ~15 % faster and one full-size pass fewer. The flow is rounded to 1/32 px before the grid
    is added (exactly `grid + round(32·flow) / 32`), where `remap` rounds the float32 sum: the two differ by 1/32 px
    on the ~0.1 % of pixels where the sum's float rounding crosses a 1/64 boundary."""
    return cv2.remap(image, flow_hw2, None, cv2.INTER_LINEAR | cv2.WARP_RELATIVE_MAP, dst=out, borderMode=cv2.BORDER_REPLICATE)


def consistent(
    flow_ts: np.ndarray, flow_st: np.ndarray, *, alpha1: float = 0.01, alpha2: float = 0.5, positions: np.ndarray | None = None
) -> np.ndarray:
    """H×W bool: the forward–backward check of `consistency_mask` on one H×W×2 float32 flow pair.

    `positions`: `sample_positions(flow_ts)` when the caller has it already (the temporal stage warps with it too)."""
    height, width = flow_ts.shape[:2]
    positions = sample_positions(flow_ts) if positions is None else positions
    back = remap(flow_st, positions)
    total = cv2.add(flow_ts, back)
    square = cv2.multiply(total, total, dst=total)
    lhs = np.add(square[..., 0], square[..., 1])  # dx² + dy²: what cv2.transform with [1, 1] gives (exact), faster
    energy = cv2.add(cv2.multiply(flow_ts, flow_ts), cv2.multiply(back, back, dst=back))
    rhs = cv2.transform(energy, _SUM * alpha1)  # its own rounding (not numpy's a·x + a·y): the torch twin matches it
    rhs += alpha2
    inside = cv2.inRange(positions, (0, 0), (width - 1, height - 1)) > 0  # both coordinates, one pass
    return (lhs < rhs) & inside


def upscale_positions(flow: np.ndarray, out: np.ndarray) -> None:
    """Where each pixel of the H×W frame `out` (H×W×2 float32) samples along the h×w×2 `flow` (t -> t−1, at flow
    resolution) enlarged bilinearly to H×W, its offsets scaled with the grid: `sample_positions` of the enlarged flow,
    in one pass instead of two.

    The small flow's offsets, scaled, are added to the small pixels' centres in full-size coordinates; enlarging that
    bilinearly gives each full-size pixel its own coordinates (bilinear interpolation reproduces a linear function
    exactly) plus the enlarged flow — except within half a small pixel of the border, where the enlargement holds the
    edge value; there the coordinates are put right (`position_tables`)."""
    (height, width), (small_h, small_w) = out.shape[:2], flow.shape[:2]
    centres, (columns, column_shift), (rows, row_shift) = position_tables(small_h, small_w, height, width)
    small = cv2.multiply(flow, (width / small_w, height / small_h, 0, 0))
    cv2.add(small, centres, dst=small)
    cv2.resize(small, (width, height), dst=out, interpolation=cv2.INTER_LINEAR)
    out[:, columns, 0] += column_shift
    out[rows, :, 1] += row_shift[:, None]


@functools.lru_cache(maxsize=8)
def position_tables(small_h: int, small_w: int, height: int, width: int) -> tuple[np.ndarray, tuple, tuple]:
    """For `upscale_positions`: the h×w×2 centres of the small pixels in full-size coordinates ((x + ½)·W/w − ½, ...),
    and per axis the border pixels whose enlarged coordinate is held at the edge centre, with the shift to their own."""

    def axis(small: int, full: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        scale = full / small
        centres = (np.arange(small, dtype=np.float64) + 0.5) * scale - 0.5
        coordinates = np.arange(full, dtype=np.float64)
        shift = coordinates - np.clip(coordinates, centres[0], centres[-1])
        border = np.flatnonzero(shift)
        return centres.astype(np.float32), (border, shift[border].astype(np.float32))

    (xs, columns), (ys, rows) = axis(small_w, width), axis(small_h, height)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    grid.flags.writeable = False
    return grid, columns, rows


_SUM = np.ones((1, 2))  # cv2.transform matrix: dx + dy per pixel


def disoccluded(flow_ts: np.ndarray, *, contraction: float = 0.15) -> np.ndarray:
    """H×W bool: where the H×W×2 float32 flow (t -> s) folds several pixels of t onto one place of s: its divergence
    ∂dx/∂x + ∂dy/∂y (central differences, mirrored at the border) is below −`contraction`.

    Behind a moving edge frame t shows background that s did not: the flow there slides from the background's motion
    to the edge's, so the pixels of t it covers sample a narrower stretch of s (and what they sample there is the edge,
    not the background). It needs the one flow t -> s, where the forward–backward check (`consistent`) needs both."""
    dx, dy = cv2.split(flow_ts)
    total = cv2.add(cv2.Sobel(dx, cv2.CV_32F, 1, 0, ksize=1), cv2.Sobel(dy, cv2.CV_32F, 0, 1, ksize=1))  # 2 × divergence
    return np.less_equal(total, np.float32(-2 * contraction))
