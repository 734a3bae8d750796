"""`AnimateOptions`: how `animate` drives a still face, checked in one place before any file is opened."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidtoon.checks import device_name, whole_number
from vidtoon.errors import UsageError

METHODS = ("landmarks", "fomm")
TURNS = ("2.5d", "2d", "none")
"""Head turns of the landmark method (`--turn`): '2.5d' the driver's 3D yaw and pitch turn the source's own 3D
landmarks (`turn.transfer_turn`); '2d' the driver's 2D landmark motion carried over (an in-plane similarity plus the
driver's own 2D deformation, which mimics its turns); 'none' no yaw or pitch (the 3D pose is fitted and only its
in-plane part kept: roll, scale, shift), expressions still follow."""
MIN_SIZE = 64  # px: below this a face has too few pixels to move


@dataclass(frozen=True)
class AnimateOptions:
    """How to animate, checked when made (a bad value raises `UsageError` naming the flag).

    Attributes:
        method: "landmarks" (offline, MediaPipe) or "fomm" (needs `checkpoint`).
        checkpoint: FOMM checkpoint file; only with method "fomm".
        relative: motion relative to the driver's first frame (keeps the source's face shape).
        crop: work on a box around the face and paste it back (False: the whole image).
        size: longer side of the output in pixels, 64 to 16384; None = the source's size.
        device: "auto", "cpu", "cuda" or "cuda:N" (fomm).
        turn: head turns of the landmark method, one of `TURNS` (fomm: only the default).
    """

    method: str = "landmarks"
    checkpoint: str | Path | None = None
    relative: bool = True
    crop: bool = True
    size: int | None = None
    device: str = "auto"
    turn: str = "2.5d"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UsageError(f"unknown method {self.method!r} for --method", hint=f"use one of: {', '.join(METHODS)}")
        if self.method == "fomm" and self.checkpoint is None:
            raise UsageError(
                "--method fomm needs a checkpoint", hint="pass --checkpoint vox-cpk.pth.tar (the published FOMM weights)"
            )
        if self.method != "fomm" and self.checkpoint is not None:
            raise UsageError("--checkpoint is for --method fomm", hint="drop --checkpoint, or add --method fomm")
        if isinstance(self.size, int) and not isinstance(self.size, bool) and self.size < MIN_SIZE:
            raise UsageError(f"--size must be at least {MIN_SIZE} px, got {self.size}")
        whole_number("--size", self.size, optional=True, minimum=MIN_SIZE, maximum=16384)
        device_name("--device", self.device)
        check_turn(self.turn)
        if self.method == "fomm" and self.turn != TURNS[0]:
            raise UsageError("--turn is for --method landmarks", hint="drop --turn, or use --method landmarks")
        for flag, value in (("--relative/--absolute", self.relative), ("--crop/--no-crop", self.crop)):
            if not isinstance(value, bool):
                raise UsageError(f"{flag} must be true or false, got {value!r}")


def check_turn(turn: object) -> str:
    """`turn` if it is one of `TURNS`; else `UsageError` naming `--turn`."""
    if turn not in TURNS:
        raise UsageError(f"unknown head turn {turn!r} for --turn", hint=f"use one of: {', '.join(TURNS)}")
    return turn
