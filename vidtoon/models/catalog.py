"""The model registry, filled: imports each family module by name (which registers it) and re-exports the registry's
functions. Import the registry's lookups from here (or from `vidtoon.models`), not from `vidtoon.models.registry`,
whose `FAMILIES` is empty until the family modules are imported. Imports torch."""

from __future__ import annotations

from vidtoon.models import animegan, caae, cyclegan  # noqa: F401  (registers the families)
from vidtoon.models.registry import FAMILIES, Family, build_model, family_names, get_family, register

__all__ = ["FAMILIES", "Family", "build_model", "family_names", "get_family", "register"]
