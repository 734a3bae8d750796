"""vidtoon: turn real footage into animation, frame-consistent, with timing and sound kept.

The Python API; the `vidtoon` command line is a thin layer over these functions. Names are
imported on first use (PEP 562), so `import vidtoon` is cheap and pulls in neither PyAV nor torch:
the training code runs on machines without PyAV, and the CLI's help stays fast.
"""

import sys
import types
from importlib import import_module

from vidtoon.errors import DecodeError, EncodeError, InputError, OutputError, UsageError, VidtoonError
from vidtoon.version import __version__

# public name -> module that defines it
_LAZY = {
    "AudioSource": "vidtoon.io", "EncodeOptions": "vidtoon.io", "Frame": "vidtoon.io", "VideoInfo": "vidtoon.io",
    "VideoReader": "vidtoon.io", "VideoWriter": "vidtoon.io", "probe": "vidtoon.io", "read_frames": "vidtoon.io",
    "transcode": "vidtoon.io", "ExtractedFrames": "vidtoon.frames", "extract_frames": "vidtoon.frames",
    "stitch": "vidtoon.stitch", "restyle": "vidtoon.restyle", "RestyleOptions": "vidtoon.restyle",
}


# API functions that share their name with a submodule (vidtoon.restyle the package, vidtoon.stitch the module).
_FUNCTIONS_NAMED_LIKE_MODULES = {"restyle", "stitch"}


class _Api(types.ModuleType):
    """The package object: `vidtoon.restyle` and `vidtoon.stitch` stay the API functions even after their
    submodules are imported (the import system binds a submodule to its parent's attribute of the same name;
    for these two names that binding is skipped — the modules stay importable through `sys.modules`)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _FUNCTIONS_NAMED_LIKE_MODULES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vidtoon' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DecodeError", "EncodeError", "InputError", "OutputError", "UsageError", "VidtoonError", "__version__",
    "AudioSource", "EncodeOptions", "ExtractedFrames", "Frame", "RestyleOptions", "VideoInfo", "VideoReader", "VideoWriter",
    "extract_frames", "probe", "read_frames", "restyle", "stitch", "transcode",
]
