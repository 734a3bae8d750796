"""Every flow backend, registered: importing this module imports each backend module (RAFT: torch), which fills
`FLOW_BACKENDS`. `make_flow` imports only the one it builds."""

from __future__ import annotations

from vidtoon.flow import dis, farneback, raft  # noqa: F401  (register the backends)
from vidtoon.flow.base import FLOW_BACKENDS

__all__ = ["BACKENDS", "FLOW_BACKENDS"]

BACKENDS = tuple(FLOW_BACKENDS.names())
