"""The only code that touches containers and codecs: probe, read, write, transcode."""

from vidtoon.io.audio import AudioSource
from vidtoon.io.probe import StreamInfo, VideoInfo, probe
from vidtoon.io.reader import Frame, VideoReader, read_frames
from vidtoon.io.transcode import transcode
from vidtoon.io.writer import EncodeOptions, VideoWriter

__all__ = [
    "AudioSource", "EncodeOptions", "Frame", "StreamInfo", "VideoInfo", "VideoReader", "VideoWriter",
    "probe", "read_frames", "transcode",
]
