"""The registry of style kinds: each kind turns a `StyleCard` into a `Translator`.

A kind is one module with one decorated class (`@STYLE_KINDS.register("name")`) that has:

    check(card)                          cheap checks before anything is loaded (files exist, digests match)
    load(card, *, device, precision, label, compile) -> Translator
    describe(card) -> str                what `vidtoon styles` shows in its "made of" column
    key(card) -> dict                    what identifies the model in a resumable run's settings
    load_twin(card) -> translator | None optional: a torch-free CPU translator on uint8 frames (`procedural`'s twins)

Every kind's translator takes and returns N×3×H×W float in [-1, 1] on one device, so nothing after
it knows which kind it runs. Only `load` may import torch (or PyAV, OpenCV, onnxruntime): `check`, `describe` and
`key` run when a style is named or listed, which must answer at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vidtoon.registry import Registry
from vidtoon.styles.cards import StyleCard

if TYPE_CHECKING:  # torch is imported by `load` alone: checking and listing styles need none
    import torch

    from vidtoon.models.translator import Translator


class StyleKind(Protocol):
    def check(self, card: StyleCard) -> None: ...

    def load(self, card: StyleCard, *, device: torch.device, precision: str, label: str | None, compile: bool) -> Translator: ...

    def describe(self, card: StyleCard) -> str: ...

    def key(self, card: StyleCard) -> dict: ...


# kind name -> a class whose instances do the above (stateless)
STYLE_KINDS: Registry[type[StyleKind]] = Registry("style kind")
