"""A live input: a camera, a network stream or a file played at its own rate, read on its own thread.

The reading thread demuxes the source, decodes its video into a `Mailbox` that keeps only the newest frame (a
frame the restyler has not taken when the next one arrives is dropped and counted: latency stays bounded however
slow the model), and hands the sound's packets, unchanged, to whoever writes the output. Times are seconds from the
first video frame (the output's zero).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vidtoon.errors import InputError
from vidtoon.io.paths import ffmpeg_path
from vidtoon.io.reader import BestEffortTimestamps, frame_to_rgb
from vidtoon.live.mailbox import Closed, Mailbox
from vidtoon.live.timing import FrameTimes

T = TypeVar("T")

log = logging.getLogger(__name__)

# FFmpeg's probe of a stream (avformat_find_stream_info) waits for 20 frames to estimate the frame rate where the
# time base says nothing of it (MPEG-TS, RTP: 1/90000): 0.8 s at 25 fps, decoded only when the probe ends, in one burst
# that the newest-frame hand-over drops but for its last; the output began with that picture held 0.8 s. Five frames
# give the same rates (23.976 to 60 fps, MPEG-TS) and shorten the hold to 0.2 s (measured over UDP, 2026-12-02).
_RATE_PROBE = {"fpsprobesize": "5"}

# URL schemes read as network streams, and the protocol options that suit a live reader.
_STREAM_OPTIONS = {
    "udp": {"fifo_size": "1000000", "overrun_nonfatal": "1", "buffer_size": "4194304"},
    "rtp": {"buffer_size": "4194304"},
    "rtsp": {"rtsp_transport": "tcp"},
    "rtmp": {},
    "srt": {},
    "tcp": {},
    "http": {},
    "https": {},
}


@dataclass(frozen=True)
class LiveFrame:
    """One decoded input frame: its index in the input (dropped ones count), time (s from the first frame), the
    monotonic clock when it arrived (a stream's packet received; a real-time file's frame due), its H×W×3 uint8 RGB
    picture, and the clock stamps of its way through the pipeline (`times`, filled on the way)."""

    index: int
    time: Fraction
    arrival: float
    rgb: np.ndarray
    times: FrameTimes


def describe_source(source: str) -> tuple[str, str | None, dict[str, str]]:
    """(what to open, its FFmpeg input format or None, protocol options) for a user's INPUT.

    `/dev/videoN` is a V4L2 camera; `avfoundation:0` / `dshow:video=NAME` name a camera on macOS / Windows; a URL is a
    network stream; anything else is a file that must exist.

    Raises:
        InputError: a file that does not exist.
    """
    if source.startswith("/dev/video"):
        return source, "v4l2", {}
    for device_format in ("avfoundation", "dshow"):
        if source.startswith(device_format + ":"):
            return source.split(":", 1)[1], device_format, {}
    if "://" in source:
        scheme = source.split("://", 1)[0].lower()
        return source, None, {**_RATE_PROBE, **_STREAM_OPTIONS.get(scheme, {})}
    if not Path(source).is_file():
        raise InputError(
            "does not exist",
            path=source,
            hint="give a camera (/dev/video0), a stream URL (udp://, rtmp://, srt://, rtsp://) or a file",
        )
    return ffmpeg_path(source), None, {}


def open_in_thread(opener: Callable[[], T]) -> T:
    """`opener()` on a daemon thread, waited for in short steps: FFmpeg waits for a stream's first data in C, where
    Python's signal handler cannot run, so Ctrl-C would otherwise wait out the whole open timeout. An open given up
    this way ends by its own timeout on its thread."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = opener()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as it is
            box["error"] = exc

    thread = threading.Thread(target=run, name="vidtoon-live-open", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
    if "error" in box:
        raise box["error"]
    return box["value"]


class LiveInput:
    """Opens `source` (see `describe_source`); `start()` runs the reading thread.

    Args:
        realtime: deliver a file's frames at their own times (as a camera would), not as fast as they decode.
        open_timeout: seconds to wait for the first data; read_timeout: seconds of silence that end a started input.
        max_frames: stop after this many video frames.

    Raises:
        InputError: the input cannot be opened, sends nothing within `open_timeout`, or has no video.
    """

    def __init__(
        self,
        source: str,
        *,
        realtime: bool = False,
        open_timeout: float = 10.0,
        read_timeout: float = 5.0,
        max_frames: int | None = None,
    ):
        self.source = source
        self.realtime = realtime
        self.read_timeout = read_timeout
        self.max_frames = max_frames
        target, input_format, options = describe_source(source)
        self.is_file = input_format is None and "://" not in source
        try:
            self.container = open_in_thread(
                lambda: av.open(
                    target, format=input_format, options=options, timeout=(open_timeout, read_timeout), metadata_errors="replace"
                )
            )
        except av.FFmpegError as exc:
            hint = "use udp://, tcp://, rtmp:// or rtsp://" if isinstance(exc, av.ProtocolNotFoundError) else _open_hint(source)
            raise InputError(f"{source}: {_open_failure(exc, open_timeout)}", hint=hint) from None
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{source}: has no video stream", hint="give a camera, stream or file with pictures")
        self.video = self.container.streams.video[0]
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        self.fps = Fraction(self.video.guessed_rate or self.video.average_rate or 25).limit_denominator(1001)
        # as coded (a display rotation, applied to the frames, is not known before the first one)
        self.width, self.height = self.video.codec_context.width, self.video.codec_context.height
        self.frames = Mailbox()
        self.frames_read = 0
        self.error: BaseException | None = None
        self._on_audio: Callable[[av.Packet, Fraction], None] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reformatter = VideoReformatter()

    @property
    def dropped(self) -> int:
        """Frames that arrived while the restyler was busy and were skipped."""
        return self.frames.dropped

    def start(self, on_audio: Callable[[av.Packet, Fraction], None] | None = None) -> None:
        """Start reading; `on_audio(packet, time)` gets each sound packet and its time (s, output clock)."""
        self._on_audio = on_audio if self.audio is not None else None
        self._thread = threading.Thread(target=self._read, name="vidtoon-live-input", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading (the mailbox closes; the restyler sees the end)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.container.close()

    def _read(self) -> None:
        origin: Fraction | None = None  # source time of the first video frame
        last: Fraction | None = None  # source time of the frame before
        step = 1 / self.fps
        # reordered or missing pts (an AVI's packed B-frames): FFmpeg's best effort, as `VideoReader` reads a file
        timestamps = BestEffortTimestamps(prefer_dts=self.container.format.name == "avi")
        pending_audio: list[av.Packet] = []  # sound before the first picture (kept if it starts with it)
        wall_start = time.monotonic()
        streams = [self.video] + ([self.audio] if self.audio is not None else [])
        try:
            for packet in self.container.demux(streams):
                received = time.monotonic()
                if self._stop.is_set():
                    break
                if packet.stream.type == "audio":
                    if packet.pts is None or self._on_audio is None:
                        continue
                    if origin is None:
                        pending_audio.append(packet)
                    else:
                        self._send_audio(packet, origin)
                    continue
                for frame in self.video.decode(packet):
                    ts = timestamps.guess(frame)
                    source_time = Fraction(ts) * self.video.time_base if ts is not None else None
                    if last is not None and (source_time is None or source_time <= last):
                        source_time = last + step  # no usable timestamp: one step after the frame before
                    if source_time is None:
                        continue
                    last = source_time
                    if origin is None:
                        origin = source_time
                        for early in pending_audio:
                            self._send_audio(early, origin)
                        pending_audio.clear()
                    at = source_time - origin
                    arrival = received
                    if self.realtime and self.is_file:  # due at its time, as a camera would deliver it
                        arrival = wall_start + float(at)
                        delay = arrival - time.monotonic()
                        if delay > 0 and self._stop.wait(delay):
                            return
                    rgb = frame_to_rgb(frame, self._reformatter)
                    ready = time.monotonic()
                    self.frames.put(LiveFrame(self.frames_read, at, arrival, rgb, FrameTimes(arrival, ready)))
                    self.frames_read += 1
                    if self.max_frames is not None and self.frames_read >= self.max_frames:
                        return
        except av.FFmpegError as exc:
            # FFmpeg's "Immediate exit requested" is its interrupt: `read_timeout` without a packet (how a UDP stream ends)
            reason = (
                f"nothing for {self.read_timeout:g} s, --read-timeout" if isinstance(exc, av.ExitError) else exc.strerror or exc
            )
            if not self._stop.is_set() and self.frames_read == 0:
                self.error = InputError(f"{self.source}: stopped before its first picture ({reason})")
            elif not self._stop.is_set():
                log.warning("%s: the input ended (%s) after %d frames", self.source, reason, self.frames_read)
        except Closed:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self.error = exc
        finally:
            self.frames.close()

    def _send_audio(self, packet: av.Packet, origin: Fraction) -> None:
        at = Fraction(packet.pts) * packet.time_base - origin
        if at + Fraction(packet.duration or 0) * packet.time_base <= 0:
            return  # wholly before the first picture
        self._on_audio(packet, at)


def _open_failure(exc: av.FFmpegError, open_timeout: float) -> str:
    text = exc.strerror or str(exc)
    if isinstance(exc, av.ProtocolNotFoundError):
        return "this FFmpeg cannot read that protocol (built without it)"
    if exc.errno in (98, 48) or "in use" in text.lower():
        return f"cannot listen: the port is in use ({text})"
    if isinstance(exc, av.ExitError) or "exit" in text.lower() or exc.errno == 110:
        return f"nothing arrived within {open_timeout:g} s"
    return f"cannot be opened ({text})"


def _open_hint(source: str) -> str:
    if source.startswith("/dev/video"):
        return "check the camera is plugged in and not used by another program (v4l2-ctl --list-devices)"
    if "://" in source:
        return "check the sender is running and the address is right (--open-timeout waits longer)"
    return "check the file is a readable video"
