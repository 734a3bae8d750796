"""`OnnxTranslator`: any image-to-image ONNX graph as a `Translator`, run by onnxruntime.

What the graph expects (layout, value range, channel order, fixed size, size multiple, tensor
names) is an `OnnxSpec`. It comes from a sidecar YAML beside the model (`model.onnx` ->
`model.yaml` or `model.onnx.yaml`, keys = the `OnnxSpec` fields); every key the sidecar leaves
out is read from the graph where the graph says it unambiguously:

- the input must be rank 4; a channel axis of exactly 3 at axis 1 means NCHW, at axis 3 NHWC;
- numeric height and width dimensions make a fixed size (the pipeline tiles for it);
- the value range and channel order cannot be read from a graph: (-1, 1) and RGB are assumed,
  with a warning that says to write them in a sidecar.

onnxruntime is imported when a model is opened, not when vidtoon is imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from vidtoon.errors import InputError, UsageError

log = logging.getLogger(__name__)

LAYOUTS = ("nchw", "nhwc")
CHANNEL_ORDERS = ("rgb", "bgr")
INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}
SIDECAR_HINT = (
    "add a sidecar YAML beside the model (model.onnx -> model.yaml) with the keys "
    "layout (nchw|nhwc), value_range ([-1, 1], [0, 1] or [0, 255]), channel_order (rgb|bgr), "
    "fixed_size ([H, W] or null), size_multiple, input_name, output_name"
)


def _is_int(value: Any) -> bool:
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
            not isinstance(value_range, Sequence) or isinstance(value_range, str) or len(value_range) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range)
            or not value_range[0] < value_range[1]
        ):
            raise UsageError(f"value_range must be [low, high] with low < high, got {value_range!r}")
        object.__setattr__(self, "value_range", (float(value_range[0]), float(value_range[1])))
        if not _is_int(self.size_multiple) or self.size_multiple < 1:
            raise UsageError(f"size_multiple must be a positive integer, got {self.size_multiple!r}")
        if self.fixed_size is not None:
            size = self.fixed_size
            if (
                not isinstance(size, Sequence) or isinstance(size, str) or len(size) != 2
                or not all(_is_int(v) and v >= 1 for v in size)
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
            path=path, hint=f"known keys: {', '.join(OnnxSpec.keys())}",
        )
    return dict(raw)


def _cpu_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _dims(arg: Any) -> list[int | str | None]:
    """The shape of an onnxruntime NodeArg: ints for fixed dims, names or None for dynamic ones."""
    return list(arg.shape) if arg.shape is not None else []


def _pick(args: list[Any], name: str | None, what: str, path: Path) -> Any:
    """The graph input/output called `name`, or the only one when `name` is None."""
    names = [a.name for a in args]
    if name is not None:
        if name not in names:
            raise InputError(f"the model has no {what} named {name!r}; its {what}s are {names}", path=path, hint=SIDECAR_HINT)
        return args[names.index(name)]
    if len(args) != 1:
        raise InputError(
            f"the model has {len(args)} {what}s ({', '.join(names)}): say which is the image",
            path=path, hint=f"set {what}_name in a sidecar YAML; {SIDECAR_HINT}",
        )
    return args[0]


def _infer_layout(dims: list[int | str | None], path: Path) -> str:
    at1, at3 = dims[1] == 3, dims[3] == 3
    if at1 != at3:
        return "nchw" if at1 else "nhwc"
    raise InputError(
        f"cannot tell whether the input {dims} is NCHW or NHWC (a channel axis of 3 is needed at axis 1 or 3, not both)",
        path=path, hint=SIDECAR_HINT,
    )


def _spatial(dims: list[int | str | None], layout: str) -> list[int | str | None]:
    return dims[1:3] if layout == "nhwc" else dims[2:4]


def _check_against_graph(spec: OnnxSpec, dims: list[int | str | None], path: Path) -> None:
    """Refuse a spec that contradicts the graph's input shape `dims` (rank 4)."""
    channels = dims[3] if spec.layout == "nhwc" else dims[1]
    if _is_int(channels) and channels != 3:
        raise InputError(
            f"the input {dims} has {channels} channels on the channel axis of layout {spec.layout}; vidtoon feeds 3 (RGB)",
            path=path, hint=SIDECAR_HINT,
        )
    for axis, dim in zip(("height", "width"), _spatial(dims, spec.layout)):
        if not _is_int(dim):
            continue
        if spec.fixed_size is None:
            raise InputError(
                f"the input {dims} fixes its {axis} to {dim} but not both sides", path=path,
                hint="set fixed_size: [H, W] in a sidecar YAML",
            )
        if dim != spec.fixed_size[0 if axis == "height" else 1]:
            raise InputError(f"fixed_size {list(spec.fixed_size)} contradicts the graph's input {dims}", path=path)


def open_onnx_session(path: Path, *, device: torch.device, threads: int | None = None) -> Any:
    """An onnxruntime InferenceSession for the graph at `path`: CUDA provider first when `device` is CUDA and
    onnxruntime-gpu is installed, else the CPU with `threads` intra-op threads (None: the CPUs this process may use).

    Raises:
        InputError: onnxruntime is missing, or the file is not a valid ONNX graph.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise InputError(
            "ONNX models need onnxruntime, which is not installed", path=path,
            hint="pip install onnxruntime (or onnxruntime-gpu for CUDA)",
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads is not None else _cpu_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the library does not print
    available = ort.get_available_providers()
    providers: list[Any] = ["CPUExecutionProvider"]
    if device.type == "cuda":
        if "CUDAExecutionProvider" in available:
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        else:
            log.warning("onnxruntime has no CUDA provider (install onnxruntime-gpu): %s runs on the CPU", path.name)
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime's own exception types (InvalidProtobuf, Fail, ...) derive from Exception
        raise InputError(
            f"not a valid ONNX model: {exc}", path=path, hint="check that the file is complete and really an .onnx graph"
        ) from exc


class OnnxTranslator:
    """An image-to-image ONNX model as a `Translator` (N×3×H×W in [-1, 1] -> the same), run by onnxruntime.

    Args:
        path: the `.onnx` file.
        device: where results are returned; with a CUDA device onnxruntime's CUDA provider runs
            the graph when it is installed (onnxruntime-gpu), else the CPU does.
        spec: how to feed the graph; None reads the sidecar YAML and infers the rest from the graph.
        threads: onnxruntime intra-op threads on the CPU; None: the CPUs this process may use.
        constants: further graph inputs fed the same array with every call, by name (e.g. a style
            vector); shapes must fit the graph's, a leading dimension of 1 is repeated to the batch
            when the graph's batch is dynamic. The spec must then name its `input_name`.

    Attributes:
        spec, size_multiple, fixed_size, device, path, providers (the onnxruntime providers in use).

    Raises:
        InputError: missing or invalid model file or sidecar; a graph vidtoon cannot feed (not a
            rank-4 3-channel image input; layout undecidable without a sidecar).
    """

    def __init__(self, path: str | Path, *, device: torch.device, spec: OnnxSpec | None = None, threads: int | None = None,
                 constants: Mapping[str, np.ndarray] | None = None):
        self.path = Path(path)
        self.device = device
        if not self.path.is_file():
            raise InputError("no such ONNX model file", path=self.path)
        self._session = open_onnx_session(self.path, device=device, threads=threads)
        self.providers: list[str] = self._session.get_providers()
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        self.spec = spec if spec is not None else self._spec_from_sidecar_and_graph(inputs, outputs)
        input_arg = _pick(inputs, self.spec.input_name, "input", self.path)
        output_arg = _pick(outputs, self.spec.output_name, "output", self.path)
        dims = self._image_dims(input_arg)
        _check_against_graph(self.spec, dims, self.path)
        if input_arg.type not in INPUT_DTYPES:
            raise InputError(
                f"the input {input_arg.name!r} is {input_arg.type}; vidtoon feeds {', '.join(INPUT_DTYPES)}", path=self.path
            )
        self._input_name, self._output_name = input_arg.name, output_arg.name
        self._dtype = INPUT_DTYPES[input_arg.type]
        self._batch: int | None = dims[0] if _is_int(dims[0]) else None  # a graph with a fixed batch size
        self._constants = self._check_constants(inputs, constants or {})
        self.size_multiple = self.spec.size_multiple
        self.fixed_size = self.spec.fixed_size
        log.info("ONNX model %s on %s: %s", self.path.name, ", ".join(self.providers), self.spec)

    def _check_constants(self, inputs: list[Any], constants: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`constants` cast to their graph inputs' dtypes; every graph input must be the image or a constant."""
        by_name = {a.name: a for a in inputs}
        checked: dict[str, np.ndarray] = {}
        for name, value in constants.items():
            arg = by_name.get(name)
            if arg is None or name == self._input_name:
                raise UsageError(f"{self.path.name} has no further input named {name!r}; its inputs are {list(by_name)}")
            if arg.type not in INPUT_DTYPES:
                raise UsageError(f"the input {name!r} of {self.path.name} is {arg.type}; constants can be {', '.join(INPUT_DTYPES)}")
            array = np.ascontiguousarray(value, dtype=INPUT_DTYPES[arg.type])
            dims = _dims(arg)
            if len(dims) != array.ndim or any(_is_int(d) and d != n for d, n in zip(dims, array.shape)):
                raise UsageError(f"the input {name!r} of {self.path.name} has shape {dims}, the constant given has {list(array.shape)}")
            checked[name] = array
        missing = [name for name in by_name if name != self._input_name and name not in checked]
        if missing:
            raise UsageError(f"{self.path.name} also needs the input(s) {', '.join(missing)}: pass them as constants")
        return checked

    def _feed(self, piece: np.ndarray) -> dict[str, np.ndarray]:
        """The graph's inputs for one batch `piece` of images (constants repeated along a leading 1 if needed)."""
        feed = {self._input_name: piece}
        for name, value in self._constants.items():
            if self._batch is None and value.shape[:1] == (1,) and len(piece) > 1:
                value = np.repeat(value, len(piece), axis=0)
            feed[name] = value
        return feed

    def _image_dims(self, arg: Any) -> list[int | str | None]:
        dims = _dims(arg)
        if len(dims) != 4:
            raise InputError(
                f"vidtoon expects a rank-4 image tensor, this model takes rank {len(dims)} (input {arg.name!r} of shape {dims})",
                path=self.path, hint="export the model with an N×3×H×W or N×H×W×3 image input",
            )
        return dims

    def _spec_from_sidecar_and_graph(self, inputs: list[Any], outputs: list[Any]) -> OnnxSpec:
        sidecar = sidecar_path(self.path)
        given = read_sidecar(sidecar) if sidecar is not None else {}
        input_arg = _pick(inputs, given.get("input_name"), "input", self.path)
        output_arg = _pick(outputs, given.get("output_name"), "output", self.path)
        dims = self._image_dims(input_arg)
        values = {"input_name": input_arg.name, "output_name": output_arg.name, **given}
        if "layout" not in values:
            values["layout"] = _infer_layout(dims, self.path)
        if "fixed_size" not in values:
            spatial = _spatial(dims, values["layout"])
            values["fixed_size"] = tuple(spatial) if all(_is_int(d) for d in spatial) else None
        guessed = [key for key in ("value_range", "channel_order") if key not in values]
        if guessed:
            log.warning(
                "%s: the graph does not say its %s; assuming value_range [-1, 1] and channel_order rgb. "
                "If the model expects otherwise (e.g. [0, 1] or [0, 255], bgr), write it in a sidecar %s",
                self.path, " or ".join(guessed), (sidecar or self.path.with_suffix(".yaml")).name,
            )
        try:
            return OnnxSpec(**values)
        except UsageError as exc:
            raise InputError(exc.what, path=sidecar or self.path, hint=SIDECAR_HINT) from None

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W float in [-1, 1] (H×W = fixed_size when fixed; multiples of size_multiple) -> N×3×H×W float32
        in [-1, 1] on `device`."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise UsageError(f"an ONNX translator takes N×3×H×W frames, got shape {tuple(x.shape)}")
        height, width = x.shape[-2:]
        if self.fixed_size is not None and (height, width) != self.fixed_size:
            raise UsageError(
                f"{self.path.name} only takes {self.fixed_size[0]}×{self.fixed_size[1]} frames, got {height}×{width}",
                hint="tile the frames with vidtoon.tiling.translate_tiled",
            )
        if height % self.size_multiple or width % self.size_multiple:
            raise UsageError(
                f"{self.path.name} needs sizes that are multiples of {self.size_multiple}, got {height}×{width}",
                hint="pad with vidtoon.tiling.pad_to_multiple",
            )
        low, high = self.spec.value_range
        t = x.detach().to(device="cpu", dtype=torch.float32)
        if (low, high) != (-1.0, 1.0):
            t = (t + 1) * ((high - low) / 2) + low
        if self.spec.channel_order == "bgr":
            t = t.flip(1)
        if self.spec.layout == "nhwc":
            t = t.permute(0, 2, 3, 1)
        feed = t.contiguous().numpy().astype(self._dtype, copy=False)
        y = torch.from_numpy(np.ascontiguousarray(self._run(feed), dtype=np.float32))
        if tuple(y.shape) != feed.shape:
            raise InputError(
                f"the model turned an input of shape {list(feed.shape)} into {list(y.shape)}; "
                "a translator must return an image of the input's size", path=self.path,
            )
        if self.spec.layout == "nhwc":
            y = y.permute(0, 3, 1, 2)
        if self.spec.channel_order == "bgr":
            y = y.flip(1)
        if (low, high) != (-1.0, 1.0):
            y = (y - low) * (2 / (high - low)) - 1
        return y.clamp(-1, 1).contiguous().to(self.device)

    def _run(self, feed: np.ndarray) -> np.ndarray:
        """Run the graph on `feed` (the graph's layout), in pieces of its fixed batch size if it has one."""
        step = self._batch or len(feed)
        results = []
        for start in range(0, len(feed), step):
            piece = feed[start:start + step]
            real = len(piece)
            if real < step:  # a graph with a fixed batch: fill the last piece by repeating its last frame
                piece = np.concatenate([piece, np.repeat(piece[-1:], step - real, axis=0)])
            try:
                (out,) = self._session.run([self._output_name], self._feed(piece))
            except Exception as exc:  # onnxruntime's own exception types derive from Exception
                raise InputError(
                    f"onnxruntime failed on an input of shape {list(piece.shape)}: {exc}", path=self.path,
                    hint="if the model needs sizes that are multiples of some N, set size_multiple in its sidecar YAML",
                ) from exc
            results.append(out[:real])
        return np.concatenate(results) if len(results) > 1 else results[0]
