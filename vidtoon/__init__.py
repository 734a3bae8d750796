"""vidtoon: turn real footage into animation, frame-consistent, with timing and sound kept.

The Python API; the `vidtoon` command line is a thin layer over these functions. Names are
imported on first use (PEP 562), so `import vidtoon` is cheap and pulls in neither PyAV nor torch:
the training code runs on machines without PyAV, and the CLI's help stays fast.
"""

from vidtoon.errors import (
    DecodeError,
    DiskFullError,
    EncodeError,
    InputError,
    Interrupted,
    OutputError,
    UsageError,
    VidtoonError,
)
from vidtoon.lazy import lazy_api
from vidtoon.version import __version__

# public name -> module that defines it
_LAZY = {
    "AudioSource": "vidtoon.io",
    "EncodeOptions": "vidtoon.io",
    "Frame": "vidtoon.io",
    "VideoInfo": "vidtoon.io",
    "VideoReader": "vidtoon.io",
    "VideoWriter": "vidtoon.io",
    "probe": "vidtoon.io",
    "read_frames": "vidtoon.io",
    "transcode": "vidtoon.io",
    "ExtractedFrames": "vidtoon.frames",
    "extract_frames": "vidtoon.frames",
    "stitch": "vidtoon.stitch",
    "restyle": "vidtoon.restyle",
    "RestyleOptions": "vidtoon.restyle",
    "batch": "vidtoon.batch",
    "BatchReport": "vidtoon.batch",
    "live": "vidtoon.live",
    "LiveOptions": "vidtoon.live",
    "compare": "vidtoon.compare",
    "CompareOptions": "vidtoon.compare",
    "tally": "vidtoon.compare",
    "evaluate": "vidtoon.evaluate",
    "EvalReport": "vidtoon.evaluate",
    "stabilize": "vidtoon.stabilize",
}


__all__ = [
    "DecodeError",
    "DiskFullError",
    "EncodeError",
    "InputError",
    "Interrupted",
    "OutputError",
    "UsageError",
    "VidtoonError",
    "__version__",
    "AudioSource",
    "BatchReport",
    "CompareOptions",
    "EncodeOptions",
    "EvalReport",
    "ExtractedFrames",
    "Frame",
    "LiveOptions",
    "RestyleOptions",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "batch",
    "compare",
    "evaluate",
    "extract_frames",
    "live",
    "probe",
    "read_frames",
    "restyle",
    "stabilize",
    "stitch",
    "tally",
    "transcode",
]

lazy_api(__name__, _LAZY)
