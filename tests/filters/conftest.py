"""Fixtures of the procedural-style tests: a real photo (helpers are in filter_helpers.py)."""

from __future__ import annotations

import cv2
import pytest
import torch


@pytest.fixture(scope="session")
def photo(media) -> torch.Tensor:
    """The astronaut portrait (512×512) from $VIDTOON_TEST_MEDIA as 1×3×H×W in [-1, 1]."""
    rgb = cv2.cvtColor(cv2.imread(str(media / "face_astronaut.png")), cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
