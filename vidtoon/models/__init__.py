"""Generator families behind one registry, self-describing checkpoints, and translators.

Each family module is imported by name in `vidtoon.models.catalog`, which registers it; nothing is found by scanning.
Names are imported on first use (`vidtoon.lazy`): a checkpoint's card (`vidtoon.models.card`, read from the file's
header) and the reference style's checks (`vidtoon.models.reference_check`) need no torch, so styles are listed and
checked before torch and the model code load.
"""

from __future__ import annotations

from vidtoon.lazy import lazy_api

# public name -> module that defines it
_LAZY = {
    "Family": "vidtoon.models.catalog",
    "ModelCard": "vidtoon.models.card",
    "build_model": "vidtoon.models.catalog",
    "family_names": "vidtoon.models.catalog",
    "file_sha256": "vidtoon.files",
    "get_family": "vidtoon.models.catalog",
    "load_checkpoint": "vidtoon.models.checkpoint",
    "read_card": "vidtoon.models.card",
    "register": "vidtoon.models.catalog",
    "save_checkpoint": "vidtoon.models.checkpoint",
}

__all__ = sorted(_LAZY)

lazy_api(__name__, _LAZY)
