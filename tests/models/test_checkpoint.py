"""Self-describing checkpoints: the card survives a round trip; damaged, tampered, foreign and code-carrying files are refused."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from vidtoon import __version__
from vidtoon.errors import InputError
from vidtoon.models import ModelCard, build_model, load_checkpoint, read_card, save_checkpoint

TINY = {"n_blocks": 1, "ngf": 8}


@pytest.fixture
def saved(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "style.safetensors"
    save_checkpoint(build_model("cyclegan_resnet", **TINY), path, ModelCard(family="cyclegan_resnet", kwargs=TINY))
    return path


class RunsCode:
    """Unpickling this runs a shell command that writes the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class PlainObject:
    """An object that is not a tensor: unpickling it needs a class import."""


def test_card_round_trip(tmp_path):
    card = ModelCard(
        family="cyclegan_resnet",
        kwargs=TINY,
        size_multiple=4,
        styles=(),
        name="pixar",
        data="frames of 3 films",
        licence="CC-BY-4.0",
        notes={"steps": 1000, "resolution": [256, 256]},
    )
    model = build_model("cyclegan_resnet", **TINY)
    digest = save_checkpoint(model, tmp_path / "pixar.safetensors", card)
    assert len(digest) == 64

    expected = replace(card, vidtoon_version=__version__)
    assert read_card(tmp_path / "pixar.safetensors") == expected
    loaded, loaded_card = load_checkpoint(tmp_path / "pixar.safetensors")
    assert loaded_card == expected
    assert not loaded.training


def test_tampered_weights_are_refused(saved):
    data = bytearray(saved.read_bytes())
    data_start = 8 + int.from_bytes(data[:8], "little")  # safetensors: u64 header size, JSON header, then tensor bytes
    data[data_start] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(InputError, match="digest"):
        load_checkpoint(saved)


def test_safetensors_without_card_is_refused(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file(build_model("cyclegan_resnet", **TINY).state_dict(), str(path))
    with pytest.raises(InputError, match="no vidtoon model card"):
        load_checkpoint(path)
    with pytest.raises(InputError, match="no vidtoon model card"):
        read_card(path)


@pytest.mark.parametrize("payload", ["code", "object"])
def test_pickle_payload_is_refused_without_running_it(tmp_path, payload):
    marker = tmp_path / "marker"
    path = tmp_path / "latest_net_G_A.pth"
    torch.save({"model.1.weight": torch.zeros(1), "x": RunsCode(marker) if payload == "code" else PlainObject()}, path)
    assert not marker.exists()
    with pytest.raises(InputError, match="holds code"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_corrupt_file_is_refused(tmp_path, suffix):
    path = tmp_path / f"corrupt{suffix}"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    with pytest.raises(InputError, match="not a readable"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"hello world" * 10, b"PK\x03\x04 truncated zip"])
def test_damaged_pytorch_file_is_refused(tmp_path, content):
    path = tmp_path / "damaged.pt"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(path)


def test_missing_and_empty_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_checkpoint(tmp_path / "missing.safetensors")
    (tmp_path / "empty.pth").touch()
    with pytest.raises(InputError, match="empty"):
        load_checkpoint(tmp_path / "empty.pth")
