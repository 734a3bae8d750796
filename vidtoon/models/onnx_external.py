"""ONNX external data, checked before onnxruntime opens a model: weights may live in files beside the model, never elsewhere.

An ONNX file can keep its tensors in other files, named by a `location` entry relative to the model's
folder. onnxruntime reads whatever that names, so a downloaded model whose `location` is
`../../home/you/.ssh/id_rsa` or `/etc/shadow` would have the runtime read that file. Such models are
refused with one line before onnxruntime sees them. With the `onnx` package the tensors' entries are
read from the graph; without it, a model that uses external data at all is refused with a hint to install it.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

from vidtoon.errors import InputError

# A StringStringEntryProto whose key is "location" (field 1, 8 bytes): present only in a model that names external data.
_LOCATION_KEY = b"\x0a\x08location"


def check_external_data(path: Path) -> None:
    """Refuse an ONNX model whose external data leaves its folder (absolute paths, `..`), or, without the `onnx`
    package, any model with external data.

    Raises:
        InputError: naming the tensor and the location it points to.
    """
    path = Path(path)
    if not _mentions_external_data(path):
        return
    try:
        import onnx
    except ImportError:
        raise InputError(
            "ONNX model keeps its weights in other files, and vidtoon cannot check where they point without the onnx package",
            path=path,
            hint="pip install onnx, or save the model with its weights inside the .onnx file",
        ) from None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise InputError(
            f"not a valid ONNX model ({type(exc).__name__})", path=path, hint="check that the file is complete"
        ) from None
    folder = path.parent
    for name, location in _external_locations(model.graph):
        if not _stays_inside(location):
            raise InputError(
                f"ONNX model's tensor {name!r} points outside its folder ({location!r})",
                path=path,
                hint="external weights must be files beside the model (a relative path without '..'); this model was refused unread",
            )
        if not (folder / location).is_file():
            raise InputError(
                f"ONNX model's tensor {name!r} is stored in {location!r}, which is missing",
                path=path,
                hint="copy the model together with its weight files",
            )


def _stays_inside(location: str) -> bool:
    if not location or os.path.isabs(location) or location.startswith(("/", "\\")) or ":" in location:
        return False
    parts = Path(os.path.normpath(location)).parts
    return bool(parts) and parts[0] != ".." and ".." not in Path(location).parts


def _mentions_external_data(path: Path) -> bool:
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(_LOCATION_KEY) >= 0
    except (OSError, ValueError):  # empty or unreadable: onnxruntime's load says what is wrong
        return False


def _external_locations(graph) -> Iterator[tuple[str, str]]:
    """(tensor name, location) of every tensor stored outside the file, in the graph and its subgraphs."""
    tensors = list(graph.initializer)
    for sparse in graph.sparse_initializer:
        tensors += [sparse.values, sparse.indices]
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                tensors.append(attribute.t)
            tensors += list(attribute.tensors)
            if attribute.HasField("g"):
                yield from _external_locations(attribute.g)
            for subgraph in attribute.graphs:
                yield from _external_locations(subgraph)
    for tensor in tensors:
        if tensor.data_location == 1:  # TensorProto.EXTERNAL
            entries = {entry.key: entry.value for entry in tensor.external_data}
            yield tensor.name, entries.get("location", "")
