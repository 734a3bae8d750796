"""Cheap facts about a media path, without PyAV or OpenCV: which suffixes are pictures, and whether an input file is
there at all (checked first, so a typo answers at once)."""

from __future__ import annotations

import os
from pathlib import Path

from vidtoon.errors import InputError
from vidtoon.locking import overlong_name

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".exr"})
# the ones an RGB picture can be written as (.pgm holds grey only; OpenCV's OpenEXR codec is off by default)
WRITABLE_IMAGE_SUFFIXES = IMAGE_SUFFIXES - {".pgm", ".exr"}
# files taken for videos where a path could also be something else (a job list, a folder of training data)
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov", ".webm", ".avi", ".gif", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"})

# FFmpeg's image2 demuxer reads `img%03d.png` as a numbered sequence (img001.png, img002.png ...): a file is one file
FFMPEG_READ_OPTIONS = {"pattern_type": "none"}


def ffmpeg_path(path: str | Path) -> str:
    """A local file's name as FFmpeg must get it: absolute, so `a:b.mp4` or `file:x.mp4` is never taken for a
    protocol (`a:`, `file:`), whatever the current folder."""
    return os.path.abspath(path)


def check_input_file(path: Path) -> None:
    """Raise InputError unless `path` is an existing, non-empty regular file."""
    overlong = overlong_name(path)
    if overlong is not None:  # no such file can exist (and asking the system raises ENAMETOOLONG)
        raise InputError(f"file not found: {overlong}", path=path, hint="check the path")
    if not path.exists():
        raise InputError("file not found", path=path, hint="check the path and the spelling")
    if path.is_dir():
        raise InputError(
            "is a folder, not a video file",
            path=path,
            hint="give a video file (to make a video from a folder of frames, use `vidtoon stitch`)",
        )
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", path=path, hint="the copy or download is incomplete: get the file again")
