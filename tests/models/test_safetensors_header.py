"""A checkpoint's header read with the standard library: the same metadata the safetensors package reads, and a
damaged header refused in one line naming the file."""

from __future__ import annotations

import json
import struct

import pytest
from safetensors import safe_open

from vidtoon.errors import InputError, UsageError
from vidtoon.models import ModelCard, build_model, family_names, read_card, save_checkpoint
from vidtoon.models.card import FAMILY_NAMES
from vidtoon.models.safetensors_header import MAX_HEADER_BYTES, read_header, read_metadata

TINY = {"n_blocks": 1, "ngf": 8}


def with_header(path, header: bytes, *, length: int | None = None, tail: bytes = b"\0" * 16):
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + tail)
    return path


def test_metadata_is_what_safetensors_reads(tmp_path):
    path = tmp_path / "w.safetensors"
    card = ModelCard(family="cyclegan_resnet", kwargs=TINY, name="w", licence="CC0", notes={"credits": "me"}, height=240)
    save_checkpoint(build_model("cyclegan_resnet", **TINY), path, card)
    with safe_open(str(path), framework="pt") as handle:
        expected, names = handle.metadata(), set(handle.keys())
    assert read_metadata(path) == expected and expected["format"] == "vidtoon-checkpoint/1"
    assert set(read_header(path)) - {"__metadata__"} == names  # the tensor entries, by name
    read = read_card(path)
    assert (read.family, read.kwargs, read.licence, read.notes, read.height) == (
        "cyclegan_resnet",
        TINY,
        "CC0",
        {"credits": "me"},
        240,
    )


def test_the_torch_free_family_table_is_the_registry():
    assert FAMILY_NAMES == tuple(family_names())


def test_an_unknown_family_is_refused_as_the_registry_would(tmp_path):
    card = json.dumps({"family": "dcgan"})
    header = json.dumps({"__metadata__": {"format": "vidtoon-checkpoint/1", "card": card}}).encode()
    with pytest.raises(UsageError, match="unknown model family 'dcgan'") as info:
        read_card(with_header(tmp_path / "w.safetensors", header))
    assert "cyclegan_resnet" in info.value.hint


@pytest.mark.parametrize(
    ("name", "header", "length", "says"),
    [
        ("short", b"", 0, "shorter than the 8-byte header length"),
        ("huge", b"{}", MAX_HEADER_BYTES + 1, "over the 100 MB allowed"),
        ("past-the-end", b"{}", 1_000, "header of 1000 bytes in a file of"),
        ("not-json", b"\xff\xfe{not json", None, "header is not JSON"),
        ("a-list", b"[1, 2]", None, "header is not a JSON mapping"),
        ("numbers", json.dumps({"__metadata__": {"format": 1}}).encode(), None, "not a mapping of strings to strings"),
    ],
)
def test_a_malformed_header_is_one_line_naming_the_file(tmp_path, name, header, length, says):
    path = tmp_path / f"{name}.safetensors"
    if name == "short":
        path.write_bytes(b"\x01\x02\x03")
    else:
        with_header(path, header, length=length)
    with pytest.raises(InputError) as info:
        read_metadata(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "not a readable safetensors checkpoint" in message
    assert says in message, message
