"""Optical-flow backends behind one protocol and one registry, and pure functions on flow.

Backends (`FLOW_BACKENDS`, each module registers its own when imported): "dis" (OpenCV DIS, default; CPU, no
weights), "farneback" (OpenCV), "raft" (torchvision's RAFT architecture, weights from a local file: `--flow-weights`
or `$VIDTOON_RAFT_WEIGHTS`; GPU batched). Names are imported on first use (`vidtoon.lazy`), and `make_flow` imports
only the backend it builds: a CPU restyle with DIS imports no torch. `FLOW_BACKENDS` from here holds every backend
(`vidtoon.flow.catalog` imports them all).
"""

from __future__ import annotations

from vidtoon.lazy import lazy_api

# public name -> module that defines it
_LAZY = {
    "BACKENDS": "vidtoon.flow.catalog",
    "FLOW_BACKENDS": "vidtoon.flow.catalog",
    "FlowBackend": "vidtoon.flow.base",
    "make_flow": "vidtoon.flow.base",
    "backward_warp": "vidtoon.flow.warp",
    "consistency_mask": "vidtoon.flow.warp",
}

__all__ = ["BACKENDS", "FLOW_BACKENDS", "FlowBackend", "backward_warp", "consistency_mask", "make_flow"]

lazy_api(__name__, _LAZY)
