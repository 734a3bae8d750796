"""Optical-flow backends behind one protocol, and pure functions on flow.

Backends: "dis" (OpenCV DIS, default; CPU, no weights), "farneback" (OpenCV), "raft"
(torchvision's RAFT architecture, weights from a local file: `--flow-weights` or
`$VIDTOON_RAFT_WEIGHTS`; GPU batched).
"""

from vidtoon.flow.base import FlowBackend
from vidtoon.flow.warp import backward_warp, consistency_mask

__all__ = ["FlowBackend", "backward_warp", "consistency_mask", "make_flow"]

BACKENDS = ("dis", "farneback", "raft")


def make_flow(name: str = "dis", *, preset: str = "fast", weights: str | None = None, device=None) -> FlowBackend:
    """The backend `name` (see BACKENDS). `preset` is DIS's; `weights` is RAFT's weights file."""
    from vidtoon.errors import UsageError

    if name == "dis":
        from vidtoon.flow.dis import DISFlow

        return DISFlow(preset)
    if name == "farneback":
        from vidtoon.flow.farneback import FarnebackFlow

        return FarnebackFlow()
    if name == "raft":
        from vidtoon.flow.raft import RAFTFlow

        return RAFTFlow(weights=weights, device=device)
    raise UsageError(f"unknown flow backend {name!r}", hint=f"use one of {', '.join(BACKENDS)}")
