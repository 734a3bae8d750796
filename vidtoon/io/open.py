"""Opening an input container, with one clear error for every way a file can be unusable."""

from __future__ import annotations

from pathlib import Path

import av

from vidtoon.errors import InputError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS, check_image_file, check_pixels
from vidtoon.io.paths import FFMPEG_READ_OPTIONS, check_input_file, ffmpeg_path

_WHAT_TO_DO = "give a video (mp4, mkv, webm, avi, mov), a GIF or an image"


def open_input(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> av.container.InputContainer:
    """Open `path` for decoding; it must hold a video stream (an image counts as one) of at most `max_pixels` per frame.

    Raises:
        InputError: with what is wrong and what to do (an image over the budget: before anything is decoded).
    """
    check_input_file(path)
    check_image_file(path, max_pixels=max_pixels)  # a PNG header promising 30000x30000: refused with the numbers
    try:
        container = av.open(ffmpeg_path(path), mode="r", options=FFMPEG_READ_OPTIONS, metadata_errors="replace")
    except av.FFmpegError as exc:
        raise InputError(
            f"not a video or image FFmpeg can read, or the file is damaged/truncated ({exc.strerror})",
            path=path,
            hint=_WHAT_TO_DO,
        ) from None
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        container.close()
        found = f"only {', '.join(kinds)}" if kinds else "no streams"
        raise InputError(f"has no video stream ({found})", path=path, hint=_WHAT_TO_DO)
    stream = container.streams.video[0]
    if not stream.codec_context.width or not stream.codec_context.height:
        container.close()
        raise InputError("video stream has no picture size: the file is damaged or truncated", path=path, hint=_WHAT_TO_DO)
    try:
        check_pixels(
            stream.codec_context.width, stream.codec_context.height, path=path, max_pixels=max_pixels, what="video frame"
        )
    except InputError:
        container.close()
        raise
    _check_complete(container, path)
    return container


def _check_complete(container: av.container.InputContainer, path: Path) -> None:
    """Raise InputError when the container's own index points past the end of the file (a cut copy)."""
    size = path.stat().st_size
    for stream in container.streams:
        entries = stream.index_entries
        count = len(entries)
        tail = [entries[i] for i in range(max(0, count - 64), count)]  # sorted by time: the last bytes are here
        needed = max((entry.pos + entry.size for entry in tail if entry.pos >= 0), default=0)
        if needed > size:
            container.close()
            raise InputError(
                f"file is truncated: it has {size} of at least {needed} bytes",
                path=path,
                hint="copy or download the file again",
            )
