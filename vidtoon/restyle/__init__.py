"""`restyle`: a film (or an image, or a folder of images) turned into a restyled one.

The data path is one straight line, each stage overlapping the others:

    decode thread -> batches on the device -> translate -> temporal stage -> encode thread

Modules: `options` (RestyleOptions), `check` (the cheap checks and the default output name), `batches` (the
Restyler protocol, batching), `frames` (FrameRestyler), `twins` (TwinRestyler: a procedural style's uint8 twin, no
torch), `faces` (FaceRestyler), `video` (the segmented, resumable video loop), `stills` (photos, folders), `pipeline`
(`make_restyler`, `restyle`).

Names are imported on first use (`vidtoon.lazy`): `import vidtoon.restyle` imports neither torch nor PyAV, and
`RestyleOptions`, `resolve_style`, `default_output`, `check_source` and `check_restyle` need no torch, so a bad
input, flag or style name is refused at once, before the model (and torch) is loaded.
"""

from __future__ import annotations

from vidtoon.lazy import lazy_api

# public name -> module that defines it
_LAZY = {
    "RestyleOptions": "vidtoon.restyle.options",
    "RestyleJob": "vidtoon.restyle.check",
    "check_restyle": "vidtoon.restyle.check",
    "check_source": "vidtoon.restyle.check",
    "default_output": "vidtoon.restyle.check",
    "LoadedStyle": "vidtoon.styles",
    "load_translator": "vidtoon.styles",
    "resolve_style": "vidtoon.styles",
    "FaceRestyler": "vidtoon.restyle.faces",
    "FrameRestyler": "vidtoon.restyle.frames",
    "Restyler": "vidtoon.restyle.batches",
    "make_restyler": "vidtoon.restyle.pipeline",
    "restyle": "vidtoon.restyle.pipeline",
}

__all__ = [
    "FaceRestyler",
    "FrameRestyler",
    "LoadedStyle",
    "RestyleJob",
    "RestyleOptions",
    "Restyler",
    "check_restyle",
    "check_source",
    "default_output",
    "load_translator",
    "make_restyler",
    "resolve_style",
    "restyle",
]

lazy_api(__name__, _LAZY)
