"""The registry of uint8 frame twins: torch-free versions of procedural styles on one H×W×3 uint8 frame.

    @frame_twin("toon")
    def toon_u8(image_u8, params=None, out=None) -> np.ndarray: ...

    FRAME_TWINS.get("toon").apply(image_u8, {"levels": "6"})   # options coerced and range-checked

A twin computes what its procedural style (`vidtoon.filters.PROCEDURAL`, same name, same parameter class from
`vidtoon.filters.param_sets.PARAMS`) computes on the frame in [-1, 1], converted back to 8 bits, up to float
rounding; it imports neither torch nor anything that does, so a CPU restyle can skip `import torch`.
`vidtoon.filters.twin_catalog` imports each twin module by name, which registers it. A style without a twin (`paint`)
runs its torch function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from vidtoon.errors import UsageError
from vidtoon.filters.param_sets import HINT, PARAMS
from vidtoon.filters.params import FilterParams, OptionValue
from vidtoon.registry import Registry

TwinFunction = Callable[..., np.ndarray]  # (image_u8, params=None, out=None) -> H×W×3 uint8


@dataclass(frozen=True)
class FrameTwin:
    """One uint8 frame twin.

    Attributes:
        name: the procedural style it twins (`toon`).
        function: `function(image_u8, params=None, out=None)`: H×W×3 uint8 RGB -> H×W×3 uint8 RGB.
        params_cls: the style's frozen `FilterParams` dataclass (shared with the torch function).
    """

    name: str
    function: TwinFunction
    params_cls: type[FilterParams]

    def params(self, options: Mapping[str, OptionValue] | None = None) -> FilterParams:
        """Parameters from user options (strings coerced); an unknown key or a bad value raises `UsageError`."""
        return self.params_cls.from_options(options)

    def apply(
        self, image_u8: np.ndarray, options: Mapping[str, OptionValue] | FilterParams | None = None, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Run the twin on H×W×3 uint8 `image_u8` with options (a mapping or ready parameters), into `out` if given."""
        params = options if isinstance(options, FilterParams) else self.params(options)
        return self.function(image_u8, params, out)


FRAME_TWINS: Registry[FrameTwin] = Registry("uint8 frame twin", hint=HINT + " (styles without a twin run on torch)")


def frame_twin(name: str) -> Callable[[TwinFunction], TwinFunction]:
    """Decorator: register the decorated function as the uint8 twin of procedural style `name` (its parameter class
    is the style's, from `param_sets.PARAMS`)."""
    params_cls = PARAMS.get(name)

    def decorate(function: TwinFunction) -> TwinFunction:
        FRAME_TWINS.add(name, FrameTwin(name, function, params_cls))
        return function

    return decorate


def check_frame(image_u8: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """`out`, or a new H×W×3 uint8 array, after checking that `image_u8` is an H×W×3 uint8 frame and `out` one of the
    same size, C-contiguous.

    Raises:
        UsageError: either array has the wrong type, shape or layout.
    """
    if not isinstance(image_u8, np.ndarray) or image_u8.dtype != np.uint8 or image_u8.ndim != 3 or image_u8.shape[2] != 3:
        got = f"{image_u8.shape} {image_u8.dtype}" if isinstance(image_u8, np.ndarray) else type(image_u8).__name__
        raise UsageError(f"a frame twin takes an H×W×3 uint8 RGB array, got {got}", hint="decode frames as RGB uint8")
    if min(image_u8.shape[:2]) < 1:
        raise UsageError(f"a frame twin takes a non-empty frame, got {image_u8.shape}")
    if out is None:
        return np.empty(image_u8.shape, np.uint8)
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != image_u8.shape or not out.flags.c_contiguous:
        got = f"{out.shape} {out.dtype}" if isinstance(out, np.ndarray) else type(out).__name__
        raise UsageError(
            f"out must be a C-contiguous {image_u8.shape} uint8 array, got {got}", hint="pass out=None for a new one"
        )
    return out
