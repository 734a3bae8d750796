"""The machine's own processor as a device, without torch: where a procedural style's uint8 twin runs.

`vidtoon.device.resolve_device` picks a `torch.device` (and imports torch, ~2-4 s here). A procedural style on the CPU
needs no torch at all (`vidtoon.filters.FRAME_TWINS`, `vidtoon.restyle.twins`), so `restyle` first asks `cpu_only`
whether the user's `--device` can only mean the CPU, answering from what the system shows without loading torch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from vidtoon.gpus import visible_gpus


@dataclass(frozen=True)
class HostDevice:
    """The CPU, as `translator.device` for a translator that runs no torch: `.type` is "cpu", as a `torch.device`'s."""

    type: str = "cpu"
    index: None = None

    def __str__(self) -> str:
        return self.type


HOST = HostDevice()


def cpu_only(spec: str | None) -> bool:
    """Whether `--device spec` means the CPU, decided without importing torch where that can be: "cpu", or "auto" on
    Linux where torch would see no GPU (`gpus.visible_gpus`: a CPU build of torch, or a CUDA build and no device the
    driver reports; another build asks torch itself). Elsewhere (macOS's MPS, another spec) torch decides."""
    spec = (spec or "auto").strip().lower()
    if spec == "cpu":
        return True
    if spec != "auto" or not sys.platform.startswith("linux"):
        return False
    return visible_gpus() == 0
