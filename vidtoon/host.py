"""The machine's own processor as a device, without torch: where a procedural style's uint8 twin runs.

`vidtoon.device.resolve_device` picks a `torch.device` (and imports torch, ~2-4 s here). A procedural style on the CPU
needs no torch at all (`vidtoon.filters.FRAME_TWINS`, `vidtoon.restyle.twins`), so `restyle` first asks `cpu_only`
whether the user's `--device` can only mean the CPU, answering from what the system shows without loading torch.
"""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class HostDevice:
    """The CPU, as `translator.device` for a translator that runs no torch: `.type` is "cpu", as a `torch.device`'s."""

    type: str = "cpu"
    index: None = None

    def __str__(self) -> str:
        return self.type


HOST = HostDevice()


def cpu_only(spec: str | None) -> bool:
    """Whether `--device spec` means the CPU, decided without torch: "cpu", or "auto" on a Linux machine that shows
    no GPU (no NVIDIA driver in /proc, no /dev/nvidia device, no AMD /dev/kfd) — where torch would find none either. Everywhere else
    (a GPU's driver present, another system, another spec) torch decides."""
    spec = (spec or "auto").strip().lower()
    if spec == "cpu":
        return True
    if spec != "auto" or not sys.platform.startswith("linux"):
        return False
    return not (os.path.exists("/proc/driver/nvidia/version") or glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/kfd"))
