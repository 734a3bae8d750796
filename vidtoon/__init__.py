"""vidtoon: turn real footage into animation, frame-consistent, with timing and sound kept.

The Python API; the `vidtoon` command line is a thin layer over these functions.
"""

from vidtoon.errors import DecodeError, EncodeError, InputError, OutputError, UsageError, VidtoonError
from vidtoon.frames import ExtractedFrames, extract_frames
from vidtoon.io import AudioSource, EncodeOptions, Frame, VideoInfo, VideoReader, VideoWriter, probe, read_frames, transcode
from vidtoon.stitch import stitch


def restyle(*args, **kwargs):
    """Restyle a video, image or image folder (see `vidtoon.pipeline.restyle`); imports torch on first use."""
    from vidtoon.pipeline import restyle as _restyle

    return _restyle(*args, **kwargs)


__version__ = "0.1.0"

__all__ = [
    "AudioSource", "DecodeError", "EncodeError", "EncodeOptions", "ExtractedFrames", "Frame", "InputError",
    "OutputError", "UsageError", "VideoInfo", "VideoReader", "VideoWriter", "VidtoonError", "__version__",
    "extract_frames", "probe", "read_frames", "restyle", "stitch", "transcode",
]
