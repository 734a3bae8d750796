"""Generator families behind one registry, self-describing checkpoints, and translators.

Each family module is imported here by name, which registers it; nothing is found by scanning.
"""

from vidtoon.models import animegan, caae, cyclegan  # noqa: F401  (registers the families)
from vidtoon.models.checkpoint import ModelCard, file_sha256, load_checkpoint, read_card, save_checkpoint
from vidtoon.models.registry import Family, build_model, family_names, get_family, register

__all__ = [
    "Family",
    "ModelCard",
    "build_model",
    "family_names",
    "file_sha256",
    "get_family",
    "load_checkpoint",
    "read_card",
    "register",
    "save_checkpoint",
]
