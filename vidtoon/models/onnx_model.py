"""`OnnxTranslator`: any image-to-image ONNX graph as a `Translator`, run by onnxruntime.

The graph's conventions are an `OnnxSpec` (`vidtoon.models.onnx_spec`: a sidecar YAML beside the model,
the rest read from the graph); this module runs it.

onnxruntime is imported when a model is opened, not when vidtoon is imported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidtoon.cpu_threads import usable_cores
from vidtoon.errors import InputError, UsageError
from vidtoon.models.onnx_external import check_external_data
from vidtoon.models.onnx_spec import (
    OnnxSpec,
    check_against_graph,
    graph_dims,
    image_dims,
    is_int,
    pick_arg,
    spec_from_sidecar_and_graph,
)

log = logging.getLogger(__name__)

INPUT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}


def open_onnx_session(path: Path, *, device: torch.device, threads: int | None = None) -> Any:
    """An onnxruntime InferenceSession for the graph at `path`: CUDA provider first when `device` is CUDA and
    onnxruntime-gpu is installed, else the CPU with `threads` intra-op threads (None: the CPUs this process may use).

    Raises:
        InputError: onnxruntime is missing, the file is not a valid ONNX graph, or it names external
            weights outside its folder (see `vidtoon.models.onnx_external`).
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise InputError(
            "ONNX models need onnxruntime, which is not installed",
            path=path,
            hint="pip install onnxruntime (or onnxruntime-gpu for CUDA)",
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads if threads is not None else usable_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the library does not print
    available = ort.get_available_providers()
    providers: list[Any] = ["CPUExecutionProvider"]
    if device.type == "cuda":
        if "CUDAExecutionProvider" in available:
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        else:
            log.warning("onnxruntime has no CUDA provider (install onnxruntime-gpu): %s runs on the CPU", path.name)
    check_external_data(path)  # before onnxruntime reads anything the model names
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

    def __init__(
        self,
        path: str | Path,
        *,
        device: torch.device,
        spec: OnnxSpec | None = None,
        threads: int | None = None,
        constants: Mapping[str, np.ndarray] | None = None,
    ):
        self.path = Path(path)
        self.device = device
        if not self.path.is_file():
            raise InputError("no such ONNX model file", path=self.path)
        self._session = open_onnx_session(self.path, device=device, threads=threads)
        self.providers: list[str] = self._session.get_providers()
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        self.spec = spec if spec is not None else spec_from_sidecar_and_graph(self.path, inputs, outputs)
        input_arg = pick_arg(inputs, self.spec.input_name, "input", self.path)
        output_arg = pick_arg(outputs, self.spec.output_name, "output", self.path)
        dims = image_dims(input_arg, self.path)
        check_against_graph(self.spec, dims, self.path)
        if input_arg.type not in INPUT_DTYPES:
            raise InputError(
                f"the input {input_arg.name!r} is {input_arg.type}; vidtoon feeds {', '.join(INPUT_DTYPES)}", path=self.path
            )
        self._input_name, self._output_name = input_arg.name, output_arg.name
        self._dtype = INPUT_DTYPES[input_arg.type]
        self._batch: int | None = dims[0] if is_int(dims[0]) else None  # a graph with a fixed batch size
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
                raise UsageError(
                    f"the input {name!r} of {self.path.name} is {arg.type}; constants can be {', '.join(INPUT_DTYPES)}"
                )
            array = np.ascontiguousarray(value, dtype=INPUT_DTYPES[arg.type])
            dims = graph_dims(arg)
            if len(dims) != array.ndim or any(is_int(d) and d != n for d, n in zip(dims, array.shape)):
                raise UsageError(
                    f"the input {name!r} of {self.path.name} has shape {dims}, the constant given has {list(array.shape)}"
                )
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
                "a translator must return an image of the input's size",
                path=self.path,
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
            piece = feed[start : start + step]
            real = len(piece)
            if real < step:  # a graph with a fixed batch: fill the last piece by repeating its last frame
                piece = np.concatenate([piece, np.repeat(piece[-1:], step - real, axis=0)])
            try:
                (out,) = self._session.run([self._output_name], self._feed(piece))
            except Exception as exc:  # onnxruntime's own exception types derive from Exception
                raise InputError(
                    f"onnxruntime failed on an input of shape {list(piece.shape)}: {exc}",
                    path=self.path,
                    hint="if the model needs sizes that are multiples of some N, set size_multiple in its sidecar YAML",
                ) from exc
            results.append(out[:real])
        return np.concatenate(results) if len(results) > 1 else results[0]
