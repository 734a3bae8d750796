"""Optical-flow backends behind one protocol and one registry, and pure functions on flow.

Backends (`FLOW_BACKENDS`, each module registers its own when imported here): "dis" (OpenCV DIS,
default; CPU, no weights), "farneback" (OpenCV), "raft" (torchvision's RAFT architecture, weights
from a local file: `--flow-weights` or `$VIDTOON_RAFT_WEIGHTS`; GPU batched).
"""

from vidtoon.flow import dis, farneback, raft  # noqa: F401  (registers the backends)
from vidtoon.flow.base import FLOW_BACKENDS, FlowBackend
from vidtoon.flow.warp import backward_warp, consistency_mask

__all__ = ["BACKENDS", "FLOW_BACKENDS", "FlowBackend", "backward_warp", "consistency_mask", "make_flow"]

BACKENDS = tuple(FLOW_BACKENDS.names())


def make_flow(name: str = "dis", *, preset: str = "fast", weights: str | None = None, device=None) -> FlowBackend:
    """The backend `name` (see `FLOW_BACKENDS`). `preset` is DIS's; `weights` is RAFT's weights file."""
    return FLOW_BACKENDS.get(name)(preset=preset, weights=weights, device=device)
