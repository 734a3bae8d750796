"""Style kinds `checkpoint` (learned weights: vidtoon safetensors, CycleGAN/AnimeGANv2 .pth/.pt) and `onnx`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vidtoon.errors import InputError, VidtoonError
from vidtoon.files import file_sha256
from vidtoon.styles.cards import StyleCard
from vidtoon.styles.kinds import STYLE_KINDS

if TYPE_CHECKING:  # torch and the model code are imported by `load` (see `vidtoon.styles.kinds`)
    import torch

    from vidtoon.models.translator import Translator


def _check_file(card: StyleCard) -> Path:
    """The card's file, checked (an installed style's file must exist and match its sha256; a --model file must be a
    non-empty file here, before anything loads; what else it is not, its loader says)."""
    path = card.checkpoint
    if card.path is None:
        if path is None or not path.exists():
            raise InputError("checkpoint not found", path=path, hint="check the --model path")
        if not path.is_file():
            raise InputError("is a folder, not a model file", path=path, hint="give the model file itself with --model")
        if path.stat().st_size == 0:
            raise InputError("model file is empty (0 bytes)", path=path, hint="the copy or download is incomplete")
        return path
    where = f"reinstall the style (card: {card.path})"
    if path is None or not path.is_file():
        raise InputError(f"the {card.name!r} style's checkpoint is missing", path=path, hint=where)
    if card.sha256 and file_sha256(path) != card.sha256:
        raise InputError(
            f"the {card.name!r} style's checkpoint does not match its card's sha256 (damaged or replaced)", path=path, hint=where
        )
    return path


def _key(card: StyleCard) -> dict:
    path = card.checkpoint
    return {"file": str(path.resolve()), "size": path.stat().st_size if path.exists() else None}


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


@STYLE_KINDS.register("checkpoint")
class CheckpointKind:
    """A generator from the model registry with its weights (read without executing code)."""

    def check(self, card: StyleCard) -> None:
        from vidtoon.models.card import read_card  # the file's header alone: no torch

        path = _check_file(card)
        if path.suffix.lower() == ".safetensors":  # a damaged header or a foreign file is refused before torch loads
            read_card(path)

    def load(self, card: StyleCard, *, device: torch.device, precision: str, label: str | None, compile: bool) -> Translator:
        import torch

        from vidtoon.device import resolve_precision
        from vidtoon.models import load_checkpoint
        from vidtoon.models.translator import TorchTranslator

        module, model_card = load_checkpoint(_check_file(card), device=device)
        chosen = resolve_precision(precision if precision != "auto" else card.defaults.get("precision"), device)
        if compile:
            module = torch.compile(module)
        return TorchTranslator(module, model_card, device=device, precision=chosen, label=label or card.defaults.get("label"))

    def describe(self, card: StyleCard) -> str:
        from vidtoon.models.card import read_card  # the file's header alone: no torch

        try:
            family = read_card(card.checkpoint).family if card.checkpoint.suffix == ".safetensors" else card.checkpoint.suffix[1:]
            trained = card.training
            facts = f", {trained.get('steps')} steps at {trained.get('resolution')} px, {trained.get('date')}" if trained else ""
            return f"{family}, {_size(card.checkpoint)}{facts}"
        except (VidtoonError, OSError):
            return "missing checkpoint"

    def key(self, card: StyleCard) -> dict:
        return _key(card)


@STYLE_KINDS.register("onnx")
class OnnxKind:
    """Any image-to-image ONNX graph, run by onnxruntime (see `vidtoon.models.onnx_model`)."""

    def check(self, card: StyleCard) -> None:
        _check_file(card)

    def load(self, card: StyleCard, *, device: torch.device, precision: str, label: str | None, compile: bool) -> Translator:
        from vidtoon.models.onnx_model import OnnxTranslator

        return OnnxTranslator(_check_file(card), device=device)

    def describe(self, card: StyleCard) -> str:
        return f"onnx, {_size(card.checkpoint)}" if card.checkpoint and card.checkpoint.is_file() else "missing checkpoint"

    def key(self, card: StyleCard) -> dict:
        return _key(card)
