"""A `.safetensors` file's header, read with the standard library (no torch, no safetensors package).

The format: an 8-byte little-endian unsigned header length N, then N bytes of JSON: a mapping of tensor names to
{dtype, shape, data_offsets}, and an optional `__metadata__` mapping of string keys to string values (where vidtoon
keeps a checkpoint's model card). Listing or checking a style reads only this header; the tensors are read by
`vidtoon.models.checkpoint.load_checkpoint` (safetensors, torch) when the style is loaded.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from vidtoon.errors import InputError

MAX_HEADER_BYTES = 100_000_000  # a header larger than 100 MB is damage (or a trap), not a model's description
HINT = "re-download or re-export the checkpoint"


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of the safetensors file at `path`: tensor entries and `__metadata__` (if any).

    Raises:
        InputError: unreadable, shorter than its own header, a header over `MAX_HEADER_BYTES` (100 MB), not JSON, or
            not a mapping; one line naming the file.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            start = handle.read(8)
            if len(start) < 8:
                _refuse(path, f"{len(start)} bytes: shorter than the 8-byte header length")
            (length,) = struct.unpack("<Q", start)
            size = path.stat().st_size
            if length > MAX_HEADER_BYTES:
                _refuse(path, f"header of {length} bytes, over the {MAX_HEADER_BYTES // 1_000_000} MB allowed")
            if 8 + length > size:
                _refuse(path, f"header of {length} bytes in a file of {size}")
            raw = handle.read(length)
    except OSError as exc:
        _refuse(path, exc.strerror or type(exc).__name__)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        _refuse(path, "header is not JSON")
    if not isinstance(header, dict):
        _refuse(path, "header is not a JSON mapping")
    return header


def read_metadata(path: str | Path) -> dict[str, str]:
    """The `__metadata__` string key/values of the safetensors file at `path` ({} when it has none).

    Raises:
        InputError: as `read_header`, or `__metadata__` is not a mapping of strings to strings.
    """
    metadata = read_header(path).get("__metadata__") or {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        _refuse(Path(path), "__metadata__ is not a mapping of strings to strings")
    return metadata


def _refuse(path: Path, why: str):
    raise InputError(f"not a readable safetensors checkpoint ({why})", path=path, hint=HINT) from None
