"""`VideoReader`: decoded RGB frames with exact timestamps, streamed one at a time."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vidtoon.checks import seconds
from vidtoon.errors import DecodeError, UsageError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.open import open_input
from vidtoon.io.probe import VideoInfo, probe
from vidtoon.settings import ON_CORRUPT_MODES

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
        info: the input's `probe`, when the caller has it already.
        on_corrupt: "stop" raises `DecodeError` at a frame that fails to decode; "conceal" repeats the
            previous good frame at the failed frame's own time (timestamps, and so audio sync, kept) and
            records that time in `concealed`. Only frames the decoder raises on, or drops after such an
            error, count: FFmpeg's decoders hide much damage themselves (smeared blocks, no error).

    Use as a context manager or call `close()`. Iterating yields `Frame`s in display order.

    Raises:
        InputError: the file is unusable (see `probe`).
        DecodeError: a frame failed to decode (with on_corrupt="stop"), the file cannot be read past a
            point, or no frame at all decoded; names the frame's index and timestamp.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start: Fraction | None = None,
        end: Fraction | None = None,
        info: VideoInfo | None = None,
        on_corrupt: str = "stop",
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ):
        if on_corrupt not in ON_CORRUPT_MODES:
            raise UsageError(f"--on-corrupt must be one of {', '.join(ON_CORRUPT_MODES)}, got {on_corrupt!r}")
        start, end = seconds("--start", start), seconds("--end", end)  # a float or an int too; a string is refused
        self.on_corrupt = on_corrupt
        self.concealed: list[Fraction] = []  # input times (s) of the frames concealed so far (repeats of the previous good one)
        self.path = Path(path)
        # `info`: the caller probed it already (with the same `max_pixels`)
        self.info: VideoInfo = info if info is not None else probe(self.path, max_pixels=max_pixels)
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
        self._container = open_input(self.path, max_pixels=max_pixels)
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
        return frame_to_rgb(frame, self._reformatter)

    def decoded(self) -> Iterator[tuple[int, Fraction, av.VideoFrame]]:
        """(index, time, decoded frame) as FFmpeg gives it: no RGB conversion, no rotation applied.

        For plain transcodes; everything else wants the `Frame`s that iterating the reader yields.
        With `on_corrupt="conceal"`, a frame the decoder fails on comes out as the previous good frame
        at its own time (see `concealed`).
        """
        if self.start:
            self._seek(self.origin)
        self.concealed = []
        index = 0
        packets = 0
        last_time: Fraction | None = None
        previous: av.VideoFrame | None = None  # the last good frame: what a concealed frame repeats
        step = 1 / self.info.fps if self.info.fps else Fraction(1, 25)
        timestamps = BestEffortTimestamps(prefer_dts=self.info.container == "avi")
        lost = _LostFrames()
        gaps: list[tuple[Fraction, int]] = []  # (time of the frame before, frames missing) where a constant rate jumps
        try:
            for packet in self._container.demux(self._stream):
                packets += packet.size > 0
                if timestamps.prefer_dts and packet.size > 0 and packet.dts is not None:
                    # AVI counts frame slots, and a slot may be empty (a frame shown twice): a packet's dts is its slot
                    packets = max(packets, packet.dts + 1)
                lost.sent(packet)
                try:
                    frames = packet.decode()
                except av.FFmpegError as exc:
                    if self.on_corrupt == "stop":
                        at = self._time_of(lost.first_pending(), last_time, step)
                        raise DecodeError(
                            f"decode error at frame {index} ({float(self.start + at):.3f} s): {exc.strerror or exc}",
                            path=self.path,
                            hint="use --on-corrupt conceal to repeat the previous good frame there, or re-encode the file",
                        ) from None
                    lost.failed()
                    continue
                for frame in frames:
                    ts = timestamps.guess(frame)
                    if ts is not None:
                        time = ts * self._time_base - self.origin
                    if ts is None or (last_time is not None and time <= last_time):
                        # no usable timestamp: continue from the previous frame
                        time = last_time + step if last_time is not None else Fraction(0)
                    shows = [(self._time_of(key, None, step), None) for key in lost.before(_key(frame))]
                    for when, picture in [*shows, (time, frame)]:
                        if picture is None and ((last_time is not None and when <= last_time) or when >= time):
                            continue  # a lost frame whose time cannot be placed between its neighbours
                        if when < 0 and self.start:
                            continue  # decoded from the keyframe before --start
                        if self.end is not None and when >= self.end - self.start:
                            self._report(lost, gaps, last_time)
                            return
                        if picture is None:
                            picture = previous if previous is not None else frame  # lost before the first good one
                            self.concealed.append(self.start + when)
                        elif last_time is not None and when - last_time > Fraction(3, 2) * step and not self.info.variable_fps:
                            gaps.append((self.start + last_time, round((when - last_time) / step) - 1))
                        last_time = when
                        yield index, when, picture
                        index += 1
                    previous = frame
        except av.FFmpegError as exc:
            at = last_time + step if last_time is not None else Fraction(0)
            raise DecodeError(
                f"cannot read the file past frame {index} ({float(self.start + at):.3f} s): {exc.strerror or exc}",
                path=self.path,
                hint="the file is damaged there; re-encode it, or use --end to stop before that point",
            ) from None
        for key in lost.remaining():  # lost at the very end (the decoder's flush failed)
            when = self._time_of(key, None, step)
            past_end = self.end is not None and when >= self.end - self.start
            if previous is None or past_end or (last_time is not None and when <= last_time) or (when < 0 and self.start):
                continue
            self.concealed.append(self.start + when)
            last_time = when
            yield index, when, previous
            index += 1
        if index == 0 and not self.start and self.end is None:  # (a cut may hold no frame: a resumed job's finished tail)
            raise DecodeError(
                "no frame could be decoded",
                path=self.path,
                hint="the file is damaged or truncated; check that it plays",
            )
        self._report(lost, gaps, last_time)
        declared = self.info.frame_count if self.info.frame_count_exact else None
        # here the stream itself ended (an `end` within the video returned above): every declared frame is due,
        # `end` or not (a file cut while a run reads it, after its index was read, ends early without an error)
        at = self.start + (last_time + step if last_time is not None else Fraction(0))  # from the input's start
        if not self.start:
            reached, cut = packets, bool(declared) and packets < declared
        else:
            # read from --start (or a resumed segment): the packets before it were never counted, so the time the
            # frames reach is held against the declared length instead, one frame's margin allowed (at a constant
            # rate only: a variable rate's last frame may last any time)
            constant = bool(declared) and self.info.fps is not None and not self.info.variable_fps
            reached = round(at / step)
            cut = constant and at + step <= min(self.info.duration or declared * step, declared * step)
        if cut:
            raise DecodeError(
                f"file ends after {reached} of its {declared} frames (at {float(at):.3f}s): it is truncated",
                path=self.path,
                hint="copy or download the file again, or use --end to take only the part before the cut",
            )

    def _report(self, lost: _LostFrames, gaps: list[tuple[Fraction, int]], last_time: Fraction | None) -> None:
        """One warning line each (short: one line under the CLI's log handler) for what decoding could not show."""
        if self.concealed:
            log.warning(concealed_summary(self.concealed))
        if lost.errors and not self.concealed:
            log.warning("%d frames failed to decode and could not be placed in time; they are missing", lost.errors)
        if gaps:
            missing = sum(count for _, count in gaps)
            log.warning("about %d frames missing (first after %.3f s): the file is damaged there", missing, float(gaps[0][0]))
        duration, step = self.info.duration, 1 / self.info.fps if self.info.fps else None
        to_the_end = self.end is None and last_time is not None  # from the start, or from --start / a resumed segment
        reached = self.start + last_time + step if to_the_end and step else None  # seconds from the input's start
        if reached and duration and not self.info.frame_count_exact and reached < duration * 9 / 10 - 2 * step:
            # a damaged cluster can stop the Matroska/WebM demuxer early without an error (a container's
            # duration may also count a longer soundtrack: hence a warning with a wide margin, not an error)
            log.warning(
                "the video stops at %.3f s of the %.3f s the file declares: it may be damaged or cut there",
                float(reached),
                float(duration),
            )

    def _time_of(self, key: int | None, last_time: Fraction | None, step: Fraction) -> Fraction:
        """Seconds from time zero of the timestamp `key`; without one, one step after `last_time`."""
        if key is not None:
            return key * self._time_base - self.origin
        return last_time + step if last_time is not None else Fraction(0)

    def _seek(self, absolute_seconds: Fraction) -> None:
        target = int(absolute_seconds / self._time_base)
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError:
            log.debug("seek failed in %s; decoding from the start", self.path)


def concealed_summary(times: list[Fraction]) -> str:
    """e.g. "concealed 3 frames that failed to decode (first at 6.120 s)"."""
    frames = "1 frame" if len(times) == 1 else f"{len(times)} frames"
    return f"concealed {frames} that failed to decode (first at {float(min(times)):.3f} s)"


class BestEffortTimestamps:
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


class _LostFrames:
    """Frames the decoder lost: timestamps of packets sent whose frames never came out.

    A frame that comes out shows that every frame to be shown before it is out (decoders emit in display order).
    Once a decode error has happened, the timestamps sent earlier than it that never came out are lost frames;
    without an error, frames a decoder leaves out on purpose (leading pictures after a seek) are forgotten.
    """

    def __init__(self):
        self.pending: list[int] = []  # a heap of timestamps (stream ticks) sent, not yet out
        self.errors = 0  # decode errors raised so far
        self._owed = 0  # errors not yet matched to a lost frame

    def sent(self, packet: av.Packet) -> None:
        key = packet.pts if packet.pts is not None else packet.dts
        if packet.size > 0 and key is not None:
            heapq.heappush(self.pending, key)

    def failed(self) -> None:
        self.errors += 1
        self._owed += 1

    def first_pending(self) -> int | None:
        return self.pending[0] if self.pending else None

    def before(self, key: int | None) -> list[int]:
        """Timestamps (in order) of the lost frames shown before the frame with timestamp `key` that just came out."""
        if key is None:
            return []
        lost = []
        while self.pending and self.pending[0] <= key:
            earlier = heapq.heappop(self.pending)
            if earlier < key:
                lost.append(earlier)
        if not self._owed:
            return []
        if lost:
            self._owed = 0
        return lost

    def remaining(self) -> list[int]:
        """At the end: the timestamps still owed a frame, when an error explains them."""
        left, self.pending = sorted(self.pending), []
        return left if self._owed else []


def _key(frame: av.VideoFrame) -> int | None:
    """The timestamp a frame carries from its packet (pts, else dts)."""
    return frame.pts if frame.pts is not None else frame.dts


def warn_alpha(info: VideoInfo) -> None:
    """Warn, naming the file, when a video's transparency (`VideoInfo.alpha`) is about to be lost: its frames are
    read as RGB (`frame_to_rgb`), and no video vidtoon writes has an alpha channel."""
    if info.alpha and not info.is_image:
        log.warning(
            "%s: its alpha channel (transparency) is dropped: the output is opaque, showing the colours stored "
            "under the transparent parts; vidtoon keeps transparency only in pictures (.png, .webp, .tiff)",
            info.path,
        )


def frame_to_rgb(frame: av.VideoFrame, reformatter: VideoReformatter) -> np.ndarray:
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
