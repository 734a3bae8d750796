"""The temporal stage: the one stateful compute step between translation and encoding.

Modes are registered in `TEMPORAL_MODES` (`vidtoon.temporal.base`); each module below registers its
own when imported here. `none` passes translations through; `flow` (the default for videos) blends
the flow-warped previous output into each new translation where the flow is trustworthy
(`vidtoon.temporal.flow_blend`).
"""

from vidtoon.settings import DEFAULT_STRENGTH
from vidtoon.temporal import flow_blend  # noqa: F401  (registers "flow")
from vidtoon.temporal.base import TEMPORAL_MODES, PassThrough, TemporalStage
from vidtoon.temporal.flow_blend import FlowBlend

__all__ = ["TEMPORAL_MODES", "FlowBlend", "PassThrough", "TemporalStage", "make_temporal_stage"]


def make_temporal_stage(
    mode: str = "none",
    *,
    strength: float = DEFAULT_STRENGTH,
    flow: str = "dis",
    flow_preset: str = "fast",
    flow_weights: str | None = None,
    flow_size: int | None = None,
    device=None,
) -> TemporalStage:
    """The temporal stage for `mode` (a name in `TEMPORAL_MODES`); `flow_size`: the flow's longest side (None: the
    stage's own)."""
    build = TEMPORAL_MODES.get(mode)
    return build(
        strength=strength, flow=flow, flow_preset=flow_preset, flow_weights=flow_weights, flow_size=flow_size, device=device
    )
