"""Checkpoints that describe themselves: safetensors weights + a model card in the metadata.

Loading never executes code: vidtoon's own files are safetensors; other projects' `.pth`/`.pt`
files are read with `torch.load(weights_only=True)` and recognised by their state-dict layout.
"""

from __future__ import annotations

import hashlib
import pickle
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from vidtoon.errors import InputError
from vidtoon.files import AtomicFile, file_sha256  # file_sha256: re-exported by vidtoon.models
from vidtoon.models.card import FORMAT, ModelCard, card_from_metadata, existing_checkpoint, read_card  # noqa: F401 (read_card: re-exported)
from vidtoon.models.catalog import build_model, get_family
from vidtoon.models.legacy import clean_state_dict, model_from_state_dict
from vidtoon.models.safetensors_header import read_metadata
from vidtoon.version import __version__

LEGACY_SUFFIXES = (".pth", ".pt", ".ckpt", ".tar")


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    """A digest of names, dtypes, shapes and bytes of `tensors`, independent of file layout."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def save_checkpoint(model: nn.Module, path: str | Path, card: ModelCard, *, half: bool = False) -> str:
    """Write `model`'s weights and `card` to a safetensors file (atomically); returns the file's sha256.

    Args:
        half: store floating-point weights as float16 (half the size; loaded back as float32).
    """
    get_family(card.family)  # refuse to write a card nobody can load
    tensors = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        if half and tensor.is_floating_point():
            tensor = tensor.half()
        tensors[name] = tensor.clone()
    card = ModelCard(**{**asdict(card), "vidtoon_version": card.vidtoon_version or __version__})
    metadata = {"format": FORMAT, "card": card.to_json(), "tensors_sha256": tensors_sha256(tensors)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with AtomicFile(path) as staged:
        save_file(tensors, str(staged.path), metadata=metadata)
    return file_sha256(path)


def load_checkpoint(path: str | Path, *, device: torch.device | str = "cpu") -> tuple[nn.Module, ModelCard]:
    """Load a checkpoint into a ready model (eval mode, float32, on `device`) and its card.

    vidtoon `.safetensors` files are verified against their recorded digest. `.pth`/`.pt` files
    from pytorch-CycleGAN-and-pix2pix or AnimeGANv2 are recognised by their state-dict layout.

    Raises:
        InputError: missing, damaged, tampered, holding code (a pickle payload), or of an unknown layout.
    """
    path = existing_checkpoint(path)
    if path.suffix.lower() in LEGACY_SUFFIXES:
        model, card = _load_legacy(path)
    else:
        try:
            tensors = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise InputError(
                f"not a readable safetensors checkpoint ({exc})", path=path, hint="re-download or re-export the checkpoint"
            ) from None
        metadata = read_metadata(path)
        card = card_from_metadata(metadata, path)
        recorded = metadata.get("tensors_sha256")
        if recorded and recorded != tensors_sha256(tensors):
            raise InputError(
                "weights do not match the digest recorded in the checkpoint (damaged or altered)",
                path=path,
                hint="re-download or re-export it",
            )
        model = build_model(card.family, **card.kwargs)
        _load_state(model, tensors, path)
    return model.float().eval().to(device), card


def _load_legacy(path: Path) -> tuple[nn.Module, ModelCard]:
    try:
        with warnings.catch_warnings():  # torch warns about what it refuses; the error below says it once
            warnings.simplefilter("ignore")
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = [line.strip() for line in str(exc).splitlines() if "global" in line.lower()]
        if not refused:  # the restricted unpickler met bytes it cannot parse: damage, not code
            raise InputError("not a readable PyTorch checkpoint (damaged pickle data)", path=path, hint="re-download") from None
        raise InputError(
            f"checkpoint holds code or objects, not just weights; vidtoon never runs code from a checkpoint ({refused[0]})",
            path=path,
            hint="ask for a safetensors or plain state-dict file, or convert it where you trust it",
        ) from None
    except Exception as exc:  # torch.load on damaged bytes raises many types: RuntimeError, EOFError, KeyError, ...
        first_line = next(iter(str(exc).splitlines()), "")
        raise InputError(
            f"not a readable PyTorch checkpoint ({type(exc).__name__}: {first_line})",
            path=path,
            hint="re-download it",
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(
            "checkpoint is not a state dict of tensors", path=path, hint="give a generator's weights (e.g. latest_net_G_A.pth)"
        )
    state = clean_state_dict(state)
    model, card = model_from_state_dict(state, path)
    _load_state(model, state, path)
    return model, card


def _load_state(model: nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, strict=True)
    except RuntimeError as exc:
        raise InputError(
            f"weights do not fit the model they claim to be ({str(exc).splitlines()[0]})",
            path=path,
            hint="re-export the checkpoint",
        ) from None
