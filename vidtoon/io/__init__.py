"""The only code that touches containers and codecs: probe, read, write, transcode.

Names are imported on first use (PEP 562), so `import vidtoon.io.images` (OpenCV only) does not pull in
PyAV: training from image folders runs on machines without it.
"""

from vidtoon.lazy import lazy_api

# public name -> module that defines it
_LAZY = {
    "AudioSource": "vidtoon.io.audio",
    "StreamInfo": "vidtoon.io.probe",
    "VideoInfo": "vidtoon.io.probe",
    "probe": "vidtoon.io.probe",
    "Frame": "vidtoon.io.reader",
    "VideoReader": "vidtoon.io.reader",
    "read_frames": "vidtoon.io.reader",
    "transcode": "vidtoon.io.transcode",
    "EncodeOptions": "vidtoon.io.formats",
    "VideoWriter": "vidtoon.io.writer",
}

__all__ = [
    "AudioSource",
    "EncodeOptions",
    "Frame",
    "StreamInfo",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "probe",
    "read_frames",
    "transcode",
]

lazy_api(__name__, _LAZY)
