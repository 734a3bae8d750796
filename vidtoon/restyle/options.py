"""`RestyleOptions`: how to restyle, validated in one place, merged with a style's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from vidtoon.checks import choice, device_name, is_number, seconds, whole_number
from vidtoon.errors import UsageError
from vidtoon.io.formats import EncodeOptions
from vidtoon.settings import CONSISTENCY_MODES, DEFAULT_STRENGTH, FLOW_NAMES, FLOW_PRESETS, ON_CORRUPT_MODES, PRECISION_CHOICES
from vidtoon.styles.cards import STYLE_DEFAULT_KEYS  # the option fields a style card's `defaults:` may set

if TYPE_CHECKING:
    from vidtoon.temporal import TemporalStage

BUILT_IN_DEFAULTS: dict[str, Any] = {
    "height": None,
    "consistency": "flow",
    "strength": DEFAULT_STRENGTH,
    "label": None,
    "max_side": None,
    "precision": "auto",
    "faces": False,
    "face_size": 256,
    "face_margin": 0.4,
}
"""What a field a style card may set (`STYLE_DEFAULT_KEYS`) is when neither the caller nor a card gives it."""


@dataclass(frozen=True)
class RestyleOptions:
    """How to restyle. Every value is checked when the options are made (a bad one raises `UsageError`).

    The fields a style card's `defaults:` may set (height, consistency, strength, label, max_side, precision, faces,
    face_size, face_margin) default to None: "the style decides", as a flag not given on the command line. The
    options hold the built-in value then (`BUILT_IN_DEFAULTS`: `RestyleOptions().faces is False`) and remember that
    it was not given (`left_to_style`), so a named style's card can still set it (`over_style`; `vidtoon.restyle(...,
    to=...)` does this), while a value given, even one equal to the built-in, wins over the card.
    (`dataclasses.replace` gives every field again: its result leaves nothing to the style.)

    Attributes:
        device: "auto", "cpu", "cuda" or "cuda:N".
        precision: "auto", "fp32", "bf16" or "fp16" (autocast).
        height: processing height in pixels (width follows the aspect ratio); None = the source's.
            The output keeps the source's size.
        max_side: frames whose longer processing side exceeds this are translated in tiles.
        tile: tile side for tiled inference; overlap: pixels tiles share (feathered).
        batch_size: frames per model call; None = 1 on CPU, 8 on a GPU.
        start, end: seconds of the source to restyle (the output starts at `start`).
        consistency, strength: the temporal stage (see `vidtoon.temporal`): "flow" blends each
            frame with the previous output along the optical flow; "none" is per frame.
        flow, flow_preset, flow_weights: the flow backend of the temporal stage.
        flow_size: the temporal stage estimates its flow and trust on frames at most this long (px, the longer side)
            and scales them up; None: the stage's own (640). Smaller is cheaper (docs/benchmarks.md#bench_temporal).
        warmup_seconds: on resume, frames decoded and blended (not written) before the resume
            point, so the temporal state at the join is what an uninterrupted run would have.
        label: style label of a multi-style (CAAE) model.
        segment_seconds: length of the resumable segments.
        compile: `torch.compile` the generator (pays off on long films, costs ~20 s up front).
        faces: translate only the faces: each detected face's square crop (`face_margin` × the face's
            size added on every side) at `face_size`×`face_size`, pasted back through a feathered disc;
            every other pixel stays the source's (see `vidtoon.restyle.faces`); `height` is not used.
        on_corrupt: a frame that fails to decode "stop"s the run (naming its index and time) or is
            "conceal"ed: the previous good frame is shown at its time, so timing and sound stay in step.
        encode: encoder settings.
    """

    device: str = "auto"
    precision: str | None = None
    height: int | None = None
    max_side: int | None = None
    tile: int = 512
    overlap: int = 32
    batch_size: int | None = None
    start: Fraction | None = None
    end: Fraction | None = None
    consistency: str | None = None
    strength: float | None = None
    flow: str = "dis"
    flow_preset: str = "fast"
    flow_weights: str | None = None
    flow_size: int | None = None
    warmup_seconds: Fraction = Fraction(1)
    label: str | None = None
    segment_seconds: int = 30
    compile: bool = False
    faces: bool | None = None
    face_size: int | None = None
    face_margin: float | None = None
    on_corrupt: str = "stop"
    encode: EncodeOptions = field(default_factory=EncodeOptions)

    def __post_init__(self) -> None:
        left = frozenset(key for key in STYLE_DEFAULT_KEYS if getattr(self, key) is None)
        for key in left:
            object.__setattr__(self, key, BUILT_IN_DEFAULTS[key])
        object.__setattr__(self, "_left_to_style", left)  # not a field: equality, asdict and resume keys ignore it
        whole_number("--height", self.height, optional=True, minimum=16, maximum=16384)  # the flow needs 12 px or more
        whole_number("--max-side", self.max_side, optional=True, minimum=16)
        whole_number("tile", self.tile, minimum=16)
        if not isinstance(self.overlap, int) or not 0 <= self.overlap < self.tile // 2:
            raise UsageError(f"tile overlap must be 0 or more and under half the tile ({self.tile // 2}), got {self.overlap!r}")
        whole_number("--batch-size", self.batch_size, optional=True, maximum=1024)
        whole_number("--flow-size", self.flow_size, optional=True, minimum=16, maximum=16384)
        whole_number("--segment-seconds", self.segment_seconds)
        whole_number("--face-size", self.face_size, minimum=32, maximum=4096)
        choice("--consistency", self.consistency, CONSISTENCY_MODES)
        choice("--flow", self.flow, FLOW_NAMES)
        choice("--precision", self.precision, PRECISION_CHOICES)
        choice("--on-corrupt", self.on_corrupt, ON_CORRUPT_MODES)
        device_name("--device", self.device)
        choice("flow preset", self.flow_preset, FLOW_PRESETS)
        for flag, value in (("--compile", self.compile), ("--faces", self.faces)):
            if not isinstance(value, bool):
                raise UsageError(f"{flag} must be true or false, got {value!r}")
        if (isinstance(self.start, Fraction) or is_number(self.start)) and self.start < 0:
            raise UsageError(f"--start must not be negative, got {float(self.start):g}s")
        for key, flag in (("start", "--start"), ("end", "--end"), ("warmup_seconds", "warmup_seconds")):
            object.__setattr__(self, key, seconds(flag, getattr(self, key), optional=key != "warmup_seconds"))
        if not isinstance(self.encode, EncodeOptions):
            raise UsageError(f"encode must be EncodeOptions, got {self.encode!r}")
        if not is_number(self.strength) or not 0.0 <= self.strength < 1.0:
            raise UsageError(
                f"--strength must be in [0, 1), got {self.strength}",
                hint=f"0 keeps each frame as translated; {DEFAULT_STRENGTH} is the default",
            )
        if not is_number(self.face_margin) or not 0.0 <= self.face_margin <= 4.0:
            raise UsageError(
                f"--face-margin must be in [0, 4] (× the face's size), got {self.face_margin}", hint="0.4 is the default"
            )
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise UsageError(f"--end ({float(self.end):g}s) must be after --start ({float(self.start):g}s)")
        if self.end is not None and self.end <= 0:
            raise UsageError(f"--end must be after the video's start, got {float(self.end):g}s")

    @classmethod
    def from_style(cls, defaults: dict[str, Any] | None = None, **overrides: Any) -> RestyleOptions:
        """Options from a style's `defaults` (its card) with `overrides` on top; an override of None means "not given".

        The order is: the dataclass defaults < the style's defaults < the overrides (the user's flags).
        """
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown restyle options {sorted(unknown)}")
        values = {k: v for k, v in (defaults or {}).items() if k in STYLE_DEFAULT_KEYS and v is not None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def left_to_style(self) -> frozenset[str]:
        """The fields a style card may set that were not given (None) when these options were made."""
        return self._left_to_style

    def over_style(self, defaults: dict[str, Any] | None) -> RestyleOptions:
        """These options over a style card's `defaults`: a field given here wins (even at its built-in value, e.g.
        `faces=False` over anime's `faces: true`), one left to the style takes the card's (else the built-in), exactly
        as `from_style` does with the command line's flags."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.left_to_style}
        return type(self).from_style(defaults, **given)


def temporal_stage(options: RestyleOptions, device) -> TemporalStage:
    """The temporal stage `options` ask for (mode, strength, flow backend), for frames on `device` (a `torch.device`,
    or `vidtoon.host.HOST`)."""
    from vidtoon.temporal import make_temporal_stage  # no torch: the CPU stage and DIS import none

    return make_temporal_stage(
        options.consistency,
        strength=options.strength,
        flow=options.flow,
        flow_preset=options.flow_preset,
        flow_weights=options.flow_weights,
        flow_size=options.flow_size,
        device=device,
    )


def processing_size(height: int, width: int, process_height: int | None, multiple: int = 1) -> tuple[int, int]:
    """(height, width) a style or model sees for frames of `height`×`width` under `--height process_height` (None or
    the frames' own height: unchanged): that height, the width following the aspect ratio, rounded to an even number
    and at least `multiple` (the model's size multiple; tiles pad the rest)."""
    if process_height is None or process_height == height:
        return height, width
    return process_height, max(multiple, round(width * process_height / height / 2) * 2)
