"""Style kind `procedural`: a registered filter function (`vidtoon.filters`) and its parameters; no file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidtoon.styles.cards import StyleCard
from vidtoon.styles.kinds import STYLE_KINDS

if TYPE_CHECKING:
    import torch


class ProceduralTranslator:
    """A procedural style's function with its parameters as a `Translator` (any size, any device, fp32).

    Args:
        function: `function(x, params) -> y`, both N×3×H×W in [-1, 1].
        params: the function's parameters (its dataclass).
    """

    size_multiple = 1
    fixed_size = None
    light = True  # cheap per frame: on a CPU the video loop gives it half the cores (`cpu_threads.shared_cores`)

    def __init__(self, function, params: Any, *, device: torch.device):
        self.function = function
        self.params = params
        self.device = device

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        import torch  # here, not at the top: checking a procedural style needs no torch

        with torch.inference_mode():
            x = x.float()
            if x.device.type == "cpu" and x.shape[0] > 1:  # one frame at a time: its passes stay in the cache (toon
                return torch.cat([self(frame) for frame in x.split(1)])  # at 720p: 72 ms a frame alone, 143 in a batch of 4)
            return self.function(x, self.params).clamp_(-1, 1)


class TwinTranslator:
    """A procedural style's uint8 twin (`vidtoon.filters.FRAME_TWINS`) with its parameters, on the CPU, without torch:
    H×W×3 uint8 RGB frames in and out (`TwinRestyler` drives it; `tensor_translator` gives the torch function for the
    paths that need tensors, e.g. `--faces`).

    Args:
        twin: the `FrameTwin` (its `function(image_u8, params, out)`).
        params: the style's parameters (its dataclass).
        card: the style card (to build the torch translator from, when asked).
    """

    size_multiple = 1
    fixed_size = None
    light = True
    frames_u8 = True  # takes uint8 frames, not tensors

    def __init__(self, twin, params: Any, card: StyleCard):
        from vidtoon.host import HOST

        self.twin = twin
        self.params = params
        self.card = card
        self.device = HOST

    def __call__(self, frames_u8: list) -> list:
        """N frames H×W×3 uint8 -> N new restyled frames of the same sizes."""
        return [self.twin.function(frame, self.params) for frame in frames_u8]

    def tensor_translator(self) -> ProceduralTranslator:
        """The same style as a tensor `Translator` on the CPU (imports torch)."""
        import torch

        return ProceduralTranslator(_entry(self.card).function, self.params, device=torch.device("cpu"))


def _entry(card: StyleCard):
    from vidtoon.filters import PROCEDURAL  # the filters themselves, and torch

    return PROCEDURAL.get(card.function)


def _params(card: StyleCard):
    from vidtoon.filters.param_sets import PARAMS  # the parameter classes alone: no torch

    return PARAMS.get(card.function).from_options(card.params)  # strings coerced, ranges checked: a bad --style-opt fails here


@STYLE_KINDS.register("procedural")
class ProceduralKind:
    """`function:` names an entry of `vidtoon.filters.PROCEDURAL`; `params:` are its parameters (--style-opt overrides)."""

    def check(self, card: StyleCard) -> None:
        _params(card)  # an unknown function or a bad parameter fails here, before any frame is read

    def load(self, card: StyleCard, *, device: torch.device, precision: str, label: str | None, compile: bool):
        from vidtoon.errors import UsageError

        if label is not None:
            raise UsageError("--to-label only applies to a multi-style (CAAE) model")
        return ProceduralTranslator(_entry(card).function, _params(card), device=device)

    def load_twin(self, card: StyleCard) -> TwinTranslator | None:
        """The style's torch-free uint8 twin on the CPU (`TwinTranslator`), or None when it has none (`paint`)."""
        from vidtoon.filters.twin_catalog import FRAME_TWINS  # numpy and OpenCV alone

        if card.function not in FRAME_TWINS:
            return None
        return TwinTranslator(FRAME_TWINS.get(card.function), _params(card), card)

    def describe(self, card: StyleCard) -> str:
        return f"procedural {card.function}"

    def key(self, card: StyleCard) -> dict:
        return {"function": card.function, "params": {k: str(v) for k, v in sorted(card.params.items())}}
