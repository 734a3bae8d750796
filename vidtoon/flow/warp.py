"""Pure functions on optical flow: backward warping and the forward–backward consistency mask.

Convention (every backend follows it): `flow` from frame t to frame s is N×2×H×W pixel offsets
(dx, dy) on frame t's grid such that frame_t(p) ≈ frame_s(p + flow(p)). Backward warping frame s
with that flow gives frame s seen from frame t.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _base_grid(height: int, width: int, device, dtype) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=dtype), torch.arange(width, device=device, dtype=dtype), indexing="ij")
    return torch.stack((xs, ys))  # 2×H×W, (x, y)


def backward_warp(image: torch.Tensor, flow: torch.Tensor, *, mode: str = "bilinear") -> torch.Tensor:
    """Sample `image` at p + flow(p): N×C×H×W image, N×2×H×W flow -> N×C×H×W.

    Positions outside the image take the nearest border pixel. Zero flow returns `image`; an
    integer flow shifts it exactly.
    """
    if image.shape[0] != flow.shape[0] or image.shape[-2:] != flow.shape[-2:] or flow.shape[1] != 2:
        raise ValueError(f"image {tuple(image.shape)} and flow {tuple(flow.shape)} must be N×C×H×W and N×2×H×W of the same N, H, W")
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
