"""`VideoReader`: decoded RGB frames with exact timestamps, streamed one at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vidtoon.errors import DecodeError, UsageError
from vidtoon.io.open import open_input
from vidtoon.io.probe import VideoInfo, probe

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    Attributes:
        index: position among the frames this reader yielded (0 = first).
        time: seconds from the reader's time zero (the input's start, or `start` when given).
        rgb: H×W×3 uint8, rotation already applied.
    """

    index: int
    time: Fraction
    rgb: np.ndarray


class VideoReader:
    """Streams the frames of a video, GIF or image; holds one frame at a time, never the video.

    Args:
        path: the input file.
        start: first second to read (seconds from the input's start); frames before are skipped.
        end: second to stop at (exclusive).

    Use as a context manager or call `close()`. Iterating yields `Frame`s in display order.

    Raises:
        InputError: the file is unusable (see `probe`).
        DecodeError: a frame failed to decode; names its index and timestamp.
    """

    def __init__(
        self, path: str | Path, *, start: Fraction | None = None, end: Fraction | None = None, info: VideoInfo | None = None
    ):
        self.path = Path(path)
        self.info: VideoInfo = info if info is not None else probe(self.path)  # `info`: the caller probed it already
        if start is not None and end is not None and end <= start:
            raise UsageError(f"--end ({float(end):g}s) must be after --start ({float(start):g}s)")
        if start is not None and self.info.duration is not None and start >= self.info.duration:
            raise UsageError(
                f"--start {float(start):g}s is past the end of the video ({float(self.info.duration):.3f}s)",
                hint=f"the input is {self.path}",
            )
        self.start = start or Fraction(0)
        self.end = end
        # Absolute stream time (seconds) that becomes time zero of every frame (and the output).
        self.origin = self.info.start_time + self.start
        self._container = open_input(self.path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._time_base = Fraction(self._stream.time_base) if self._stream.time_base else Fraction(1, 1_000_000)
        self._reformatter = VideoReformatter()  # one swscale context for the whole video

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def __iter__(self) -> Iterator[Frame]:
        for index, time, frame in self.decoded():
            yield Frame(index=index, time=time, rgb=self.rgb(frame))

    def rgb(self, frame: av.VideoFrame) -> np.ndarray:
        """A decoded frame as H×W×3 uint8 RGB, display rotation applied (what iterating yields)."""
        return _to_rgb(frame, self._reformatter)

    def decoded(self) -> Iterator[tuple[int, Fraction, av.VideoFrame]]:
        """(index, time, decoded frame) as FFmpeg gives it: no RGB conversion, no rotation applied.

        For plain transcodes; everything else wants the `Frame`s that iterating the reader yields.
        """
        if self.start:
            self._seek(self.origin)
        index = 0
        packets = 0
        last_time: Fraction | None = None
        step = 1 / self.info.fps if self.info.fps else Fraction(1, 25)
        timestamps = _BestEffortTimestamps(prefer_dts=self.info.container == "avi")
        try:
            for packet in self._container.demux(self._stream):
                packets += packet.size > 0
                for frame in packet.decode():
                    ts = timestamps.guess(frame)
                    if ts is not None:
                        time = ts * self._time_base - self.origin
                    if ts is None or (last_time is not None and time <= last_time):
                        # no usable timestamp: continue from the previous frame
                        time = last_time + step if last_time is not None else Fraction(0)
                    if time < 0 and self.start:
                        continue  # decoded from the keyframe before --start
                    if self.end is not None and time >= self.end - self.start:
                        return
                    last_time = time
                    yield index, time, frame
                    index += 1
        except av.FFmpegError as exc:
            at = last_time + step if last_time is not None else Fraction(0)
            raise DecodeError(
                f"cannot decode frame {index} (at {float(at):.3f}s): {exc.strerror or exc}",
                path=self.path,
                hint="the file is damaged there; re-encode it, or use --end to stop before that point",
            ) from None
        declared = self.info.frame_count if self.info.frame_count_exact else None
        if declared and not self.start and self.end is None and packets < declared:
            at = last_time + step if last_time is not None else Fraction(0)
            raise DecodeError(
                f"file ends after {packets} of its {declared} frames (at {float(at):.3f}s): it is truncated",
                path=self.path,
                hint="copy or download the file again, or use --end to take only the part before the cut",
            )

    def _seek(self, absolute_seconds: Fraction) -> None:
        target = int(absolute_seconds / self._time_base)
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError:
            log.debug("seek failed in %s; decoding from the start", self.path)


class _BestEffortTimestamps:
    """FFmpeg's best-effort timestamp: trust pts unless it goes backwards more often than dts.

    Some files carry reordered, repeating pts while their dts are right. AVI stores no
    timestamps at all, only frame positions (the dts): there, dts is always preferred.
    """

    def __init__(self, *, prefer_dts: bool = False):
        self.prefer_dts = prefer_dts
        self.faulty_pts = self.faulty_dts = 0
        self.last_pts = self.last_dts = None

    def guess(self, frame: av.VideoFrame) -> int | None:
        pts, dts = frame.pts, frame.dts
        if self.prefer_dts and dts is not None:
            return dts
        if dts is not None:
            self.faulty_dts += self.last_dts is not None and dts <= self.last_dts
            self.last_dts = dts
        if pts is not None:
            self.faulty_pts += self.last_pts is not None and pts <= self.last_pts
            self.last_pts = pts
        if pts is not None and (self.faulty_pts <= self.faulty_dts or dts is None):
            return pts
        return dts


def _to_rgb(frame: av.VideoFrame, reformatter: VideoReformatter) -> np.ndarray:
    """H×W×3 uint8 RGB of any pixel format (10-bit, alpha, palette), display rotation applied."""
    rgb = reformatter.reformat(frame, format="rgb24").to_ndarray()
    turns = (int(frame.rotation or 0) // 90) % 4
    if turns:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=turns))
    return rgb


def read_frames(path: str | Path, **kwargs) -> Iterator[Frame]:
    """Yield the frames of `path` (see `VideoReader` for arguments), closing the file at the end."""
    with VideoReader(path, **kwargs) as reader:
        yield from reader
