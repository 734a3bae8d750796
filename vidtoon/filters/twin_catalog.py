"""Every uint8 frame twin, registered: importing this module imports each twin module by name (numpy and OpenCV, no
torch), which fills `FRAME_TWINS`. `vidtoon.filters.FRAME_TWINS` resolves to it on first use."""

from __future__ import annotations

from vidtoon.filters import sketch_u8, toon_u8  # noqa: F401  (register their twins)
from vidtoon.filters.frame_twins import FRAME_TWINS

__all__ = ["FRAME_TWINS"]
