"""`OnnxSpec`: what an image-to-image ONNX graph expects, from a sidecar YAML and the graph's input.

What the graph expects (layout, value range, channel order, fixed size, size multiple, tensor
names) is an `OnnxSpec`. It comes from a sidecar YAML beside the model (`model.onnx` ->
`model.yaml` or `model.onnx.yaml`, keys = the `OnnxSpec` fields); every key the sidecar leaves
out is read from the graph where the graph says it unambiguously:

- the input must be rank 4; a channel axis of exactly 3 at axis 1 means NCHW, at axis 3 NHWC;
- numeric height and width dimensions make a fixed size (the pipeline tiles for it);
- the value range and channel order cannot be read from a graph: (-1, 1) and RGB are assumed,
  with a warning that says to write them in a sidecar.

The graph is described by onnxruntime NodeArgs (`.name`, `.shape`, `.type`); nothing here imports onnxruntime.
The runtime that feeds the graph is `vidtoon.models.onnx_model`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from vidtoon.errors import InputError, UsageError

log = logging.getLogger(__name__)

LAYOUTS = ("nchw", "nhwc")
CHANNEL_ORDERS = ("rgb", "bgr")
SIDECAR_HINT = (
    "add a sidecar YAML beside the model (model.onnx -> model.yaml) with the keys "
    "layout (nchw|nhwc), value_range ([-1, 1], [0, 1] or [0, 255]), channel_order (rgb|bgr), "
    "fixed_size ([H, W] or null), size_multiple, input_name, output_name"
)


def is_int(value: Any) -> bool:
    """True for a Python int that is not a bool (a fixed graph dimension, a size)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class OnnxSpec:
    """How to feed an image-to-image ONNX graph and read its output (the output uses the input's conventions).

    Attributes:
        layout: "nchw" (N×3×H×W) or "nhwc" (N×H×W×3).
        value_range: (low, high) of the graph's pixels, e.g. (-1, 1), (0, 1) or (0, 255).
        channel_order: "rgb" or "bgr".
        fixed_size: (H, W) the graph only accepts, or None for any size.
        size_multiple: H and W must be multiples of this (fixed_size too).
        input_name, output_name: the graph's image tensors; None: its only input/output.
    """

    layout: str = "nchw"
    value_range: tuple[float, float] = (-1.0, 1.0)
    channel_order: str = "rgb"
    fixed_size: tuple[int, int] | None = None
    size_multiple: int = 1
    input_name: str | None = None
    output_name: str | None = None

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise UsageError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.channel_order not in CHANNEL_ORDERS:
            raise UsageError(f"channel_order must be one of {', '.join(CHANNEL_ORDERS)}, got {self.channel_order!r}")
        value_range = self.value_range
        if (
            not isinstance(value_range, Sequence)
            or isinstance(value_range, str)
            or len(value_range) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range)
            or not value_range[0] < value_range[1]
        ):
            raise UsageError(f"value_range must be [low, high] with low < high, got {value_range!r}")
        object.__setattr__(self, "value_range", (float(value_range[0]), float(value_range[1])))
        if not is_int(self.size_multiple) or self.size_multiple < 1:
            raise UsageError(f"size_multiple must be a positive integer, got {self.size_multiple!r}")
        if self.fixed_size is not None:
            size = self.fixed_size
            if (
                not isinstance(size, Sequence)
                or isinstance(size, str)
                or len(size) != 2
                or not all(is_int(v) and v >= 1 for v in size)
            ):
                raise UsageError(f"fixed_size must be [H, W] of positive integers or null, got {size!r}")
            if size[0] % self.size_multiple or size[1] % self.size_multiple:
                raise UsageError(f"fixed_size {list(size)} is not a multiple of size_multiple {self.size_multiple}")
            object.__setattr__(self, "fixed_size", (size[0], size[1]))
        for key in ("input_name", "output_name"):
            name = getattr(self, key)
            if name is not None and (not isinstance(name, str) or not name):
                raise UsageError(f"{key} must be a tensor name or null, got {name!r}")

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def sidecar_path(model: Path) -> Path | None:
    """The sidecar YAML of `model` (`x.onnx` -> `x.yaml` or `x.onnx.yaml`), None if there is none.

    Raises:
        InputError: both exist (which one holds is then unclear).
    """
    found = [p for p in (model.with_suffix(".yaml"), model.with_name(model.name + ".yaml")) if p.is_file()]
    if len(found) > 1:
        raise InputError(
            f"two sidecars describe this model: {found[0].name} and {found[1].name}", path=model, hint="keep one of them"
        )
    return found[0] if found else None


def read_sidecar(path: Path) -> dict[str, Any]:
    """The keys of a sidecar YAML (a subset of the `OnnxSpec` fields); unknown keys are refused.

    Raises:
        InputError: the file is not YAML, not a mapping, or has keys that `OnnxSpec` does not know.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the model sidecar: {exc}", path=path) from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError("a model sidecar must be a YAML mapping of keys to values", path=path, hint=SIDECAR_HINT)
    unknown = sorted(str(k) for k in raw if k not in OnnxSpec.keys())  # noqa: SIM118 (a classmethod, not a dict)
    if unknown:
        raise InputError(
            f"unknown key(s) in the model sidecar: {', '.join(unknown)}",
            path=path,
            hint=f"known keys: {', '.join(OnnxSpec.keys())}",
        )
    return dict(raw)


def graph_dims(arg: Any) -> list[int | str | None]:
    """The shape of an onnxruntime NodeArg: ints for fixed dims, names or None for dynamic ones."""
    return list(arg.shape) if arg.shape is not None else []


def pick_arg(args: list[Any], name: str | None, what: str, path: Path) -> Any:
    """The graph input/output called `name`, or the only one when `name` is None."""
    names = [a.name for a in args]
    if name is not None:
        if name not in names:
            raise InputError(f"the model has no {what} named {name!r}; its {what}s are {names}", path=path, hint=SIDECAR_HINT)
        return args[names.index(name)]
    if len(args) != 1:
        raise InputError(
            f"the model has {len(args)} {what}s ({', '.join(names)}): say which is the image",
            path=path,
            hint=f"set {what}_name in a sidecar YAML; {SIDECAR_HINT}",
        )
    return args[0]


def _infer_layout(dims: list[int | str | None], path: Path) -> str:
    at1, at3 = dims[1] == 3, dims[3] == 3
    if at1 != at3:
        return "nchw" if at1 else "nhwc"
    raise InputError(
        f"cannot tell whether the input {dims} is NCHW or NHWC (a channel axis of 3 is needed at axis 1 or 3, not both)",
        path=path,
        hint=SIDECAR_HINT,
    )


def _spatial(dims: list[int | str | None], layout: str) -> list[int | str | None]:
    return dims[1:3] if layout == "nhwc" else dims[2:4]


def check_against_graph(spec: OnnxSpec, dims: list[int | str | None], path: Path) -> None:
    """Refuse a spec that contradicts the graph's input shape `dims` (rank 4)."""
    channels = dims[3] if spec.layout == "nhwc" else dims[1]
    if is_int(channels) and channels != 3:
        raise InputError(
            f"the input {dims} has {channels} channels on the channel axis of layout {spec.layout}; vidtoon feeds 3 (RGB)",
            path=path,
            hint=SIDECAR_HINT,
        )
    for axis, dim in zip(("height", "width"), _spatial(dims, spec.layout)):
        if not is_int(dim):
            continue
        if spec.fixed_size is None:
            raise InputError(
                f"the input {dims} fixes its {axis} to {dim} but not both sides",
                path=path,
                hint="set fixed_size: [H, W] in a sidecar YAML",
            )
        if dim != spec.fixed_size[0 if axis == "height" else 1]:
            raise InputError(f"fixed_size {list(spec.fixed_size)} contradicts the graph's input {dims}", path=path)


def image_dims(arg: Any, path: Path) -> list[int | str | None]:
    """The shape of the graph's image input `arg`: ints for fixed dims, names or None for dynamic ones.

    Raises:
        InputError: the input is not rank 4.
    """
    dims = graph_dims(arg)
    if len(dims) != 4:
        raise InputError(
            f"vidtoon expects a rank-4 image tensor, this model takes rank {len(dims)} (input {arg.name!r} of shape {dims})",
            path=path,
            hint="export the model with an N×3×H×W or N×H×W×3 image input",
        )
    return dims


def spec_from_sidecar_and_graph(path: Path, inputs: list[Any], outputs: list[Any]) -> OnnxSpec:
    """The `OnnxSpec` of the graph at `path`: its sidecar's keys, the rest read from the graph's `inputs` and
    `outputs` (onnxruntime NodeArgs); value range and channel order are assumed, with a warning, when not given.

    Raises:
        InputError: a bad sidecar, or a graph whose image input or layout cannot be told.
    """
    sidecar = sidecar_path(path)
    given = read_sidecar(sidecar) if sidecar is not None else {}
    input_arg = pick_arg(inputs, given.get("input_name"), "input", path)
    output_arg = pick_arg(outputs, given.get("output_name"), "output", path)
    dims = image_dims(input_arg, path)
    values = {"input_name": input_arg.name, "output_name": output_arg.name, **given}
    if "layout" not in values:
        values["layout"] = _infer_layout(dims, path)
    if "fixed_size" not in values:
        spatial = _spatial(dims, values["layout"])
        values["fixed_size"] = tuple(spatial) if all(is_int(d) for d in spatial) else None
    guessed = [key for key in ("value_range", "channel_order") if key not in values]
    if guessed:
        log.warning(
            "%s: the graph does not say its %s; assuming value_range [-1, 1] and channel_order rgb. "
            "If the model expects otherwise (e.g. [0, 1] or [0, 255], bgr), write it in a sidecar %s",
            path,
            " or ".join(guessed),
            (sidecar or path.with_suffix(".yaml")).name,
        )
    try:
        return OnnxSpec(**values)
    except UsageError as exc:
        raise InputError(exc.what, path=sidecar or path, hint=SIDECAR_HINT) from None
