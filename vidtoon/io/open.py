"""Opening an input container, with one clear error for every way a file can be unusable."""

from __future__ import annotations

from pathlib import Path

import av

from vidtoon.errors import InputError

_WHAT_TO_DO = "give a video (mp4, mkv, webm, avi, mov), a GIF or an image"


def check_input_file(path: Path) -> None:
    """Raise InputError unless `path` is an existing, non-empty regular file."""
    if not path.exists():
        raise InputError("file not found", path=path, hint="check the path and the spelling")
    if path.is_dir():
        raise InputError(
            "is a folder, not a video file", path=path,
            hint="give a video file (to make a video from a folder of frames, use `vidtoon stitch`)",
        )
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", path=path, hint="the copy or download is incomplete: get the file again")


def open_input(path: Path) -> av.container.InputContainer:
    """Open `path` for decoding; it must hold a video stream (an image counts as one).

    Raises:
        InputError: with what is wrong and what to do.
    """
    check_input_file(path)
    try:
        container = av.open(str(path), mode="r", metadata_errors="replace")
    except av.FFmpegError as exc:
        raise InputError(
            f"not a video or image FFmpeg can read, or the file is damaged/truncated ({exc.strerror})",
            path=path, hint=_WHAT_TO_DO,
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
    return container
