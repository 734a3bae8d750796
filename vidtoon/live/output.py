"""`LiveWriter`: restyled frames and the input's sound out to a file or a network stream, as they come.

H.264 tuned for zero latency (no B-frames, no look-ahead), a keyframe every two seconds so a viewer joining a
stream sees a picture soon. The sound's packets are copied unchanged when the container takes their codec, else
re-encoded to AAC; they are muxed just before the first video frame at or after their time, so the output stays
interleaved while the picture lags the sound by the restyler's latency. A file is written under a temporary name
and renamed when closed (a stop by Ctrl-C closes it properly too); a failed run leaves nothing under the name.
"""

from __future__ import annotations

import collections
import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vidtoon.errors import EncodeError, OutputError
from vidtoon.files import AtomicFile, check_output
from vidtoon.io.paths import ffmpeg_path
from vidtoon.io.writer import padded_size, warn_padding
from vidtoon.live.options import LiveOptions, output_muxer
from vidtoon.live.virtualcam import check_virtual_camera, is_virtual_camera

log = logging.getLogger(__name__)

_TIME_BASE = Fraction(1, 90_000)
# Sound codecs each muxer takes unchanged (others are re-encoded to AAC).
_AUDIO_COPY = {
    "mpegts": {"aac", "mp2", "mp3", "ac3", "eac3", "opus"},
    "rtp_mpegts": {"aac", "mp2", "mp3", "ac3", "eac3", "opus"},
    "flv": {"aac", "mp3"},
    "mp4": {"aac", "mp3", "ac3", "eac3", "opus", "flac", "mp2", "alac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le"},
    "matroska": None,  # anything
}


def check_live_output(output: str, *, inputs: tuple[str, ...] = (), force: bool = False) -> None:
    """Cheap checks of OUTPUT before anything opens: a kind live can write (a virtual camera: pyvirtualcam installed);
    for a file, may be written (not an input, not existing without `force`, its folder writable).

    Raises:
        UsageError, OutputError: what is wrong, naming the output.
    """
    if is_virtual_camera(output):
        check_virtual_camera(output)
        return
    _, is_stream = output_muxer(output)
    if not is_stream:
        check_output(Path(output), inputs=tuple(Path(i) for i in inputs if "://" not in i), force=force)


class LiveWriter:
    """Encodes frames at their times (seconds from the input's first frame) into `output`.

    Args:
        output: a file (.ts .mkv .mp4 .flv .mov) or a stream URL (udp://, srt://, tcp://, rtp://: MPEG-TS; rtmp://: FLV).
        fps: the input's frame rate (the encoder's nominal rate, and the step that fills dropped frames).
        options: the live settings (crf, preset).
        audio: the input's sound stream to carry (None: no sound).
        force: replace an existing file.
    """

    def __init__(
        self,
        output: str,
        *,
        fps: Fraction,
        options: LiveOptions,
        audio: av.audio.stream.AudioStream | None = None,
        inputs: tuple[str, ...] = (),
        force: bool = False,
    ):
        self.output = output
        self.muxer, self.is_stream = output_muxer(output)
        self.fps = Fraction(fps)
        self.options = options
        self._audio_in = audio
        self._file: AtomicFile | None = None
        if not self.is_stream:
            check_live_output(output, inputs=inputs, force=force)
            self._file = AtomicFile(Path(output))
        self._container: av.container.OutputContainer | None = None
        self._video = None
        self._audio_out = None
        self._audio_copy = False
        self._audio_offset = 0  # ticks of the sound's time base subtracted from its packets (the input's origin)
        self._resampler: av.AudioResampler | None = None
        self._sound: collections.deque[tuple[Fraction, av.Packet]] = collections.deque()  # fed by the input thread
        self._last_pts = -1
        self._last_frame: av.VideoFrame | None = None  # in the encoder's format: what `repeat` sends again
        self.frames_written = 0
        self.sound_refused = 0  # sound packets the muxer refused (said once, counted at the close)
        self.closed = False

    def add_sound(self, packet: av.Packet, time: Fraction) -> None:
        """Queue a sound packet at `time` (s, output clock); thread-safe (the input's thread calls it)."""
        self._sound.append((time, packet))

    def write(self, rgb: np.ndarray, time: Fraction) -> None:
        """Encode one H×W×3 uint8 RGB frame at `time`, after the sound up to it. All frames must have the first one's size
        (the live loop fits a resized input's pictures into it); an odd size is padded to even (said once)."""
        if self._container is None:
            self._open(rgb.shape[1], rgb.shape[0])
        self._mux_sound_until(time)
        pts = max(round(time / _TIME_BASE), self._last_pts + 1)
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(self._pad(rgb), format="rgb24").reformat(format="yuv420p", dst_colorspace="ITU709")
        frame.pts, frame.time_base = pts, _TIME_BASE
        self._encode(frame)
        self._last_frame = frame
        self.frames_written += 1

    def repeat(self, time: Fraction) -> None:
        """Encode the last frame written again at `time` (a dropped input frame's place), without converting it again
        (2.0 instead of 4.5 ms of CPU at 640×360).

        Raises:
            EncodeError: no frame was written yet.
        """
        if self._last_frame is None:
            raise EncodeError(f"{self.output}: nothing to repeat before the first frame")
        self._mux_sound_until(time)
        self._last_pts = max(round(time / _TIME_BASE), self._last_pts + 1)
        self._last_frame.pts = self._last_pts
        self._encode(self._last_frame)
        self.frames_written += 1

    def close(self) -> str | None:
        """Flush the encoder and the sound up to the last picture, finish the container (rename a file into place).
        Returns the output, or None when no frame was written (nothing is left behind)."""
        if self.closed:
            return self.output
        if self._container is None:
            self.abort()
            return None
        try:
            self._encode(None)
            self._mux_sound_until(Fraction(self._last_pts + 1) * _TIME_BASE + 1 / self.fps)
            if self._resampler is not None:
                self._encode_sound(None)
            self._container.close()
        except av.FFmpegError as exc:
            self.abort()
            raise EncodeError(f"{self.output}: finishing the output failed ({exc.strerror or exc})") from None
        self.closed = True
        if self._file is not None:
            self._file.commit()
        if self.sound_refused > 1:
            log.warning("%s: %d sound packets were refused in all: the sound has gaps", self.output, self.sound_refused)
        return self.output

    def abort(self) -> None:
        """Stop; a file's temporary is removed (nothing under its name)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._container is not None:
                self._container.close()
        except Exception:  # noqa: BLE001 - already failing; the cleanup must go on
            pass
        if self._file is not None:
            self._file.abort()

    # -- internals ---------------------------------------------------------------------------

    def _open(self, width: int, height: int) -> None:
        target = ffmpeg_path(self._file.path) if self._file is not None else _with_packet_size(self.output)
        try:
            self._container = av.open(target, mode="w", format=self.muxer)
            stream = self._container.add_stream("libx264", rate=self.fps)
            stream.width, stream.height = padded_size(width, height, "yuv420p")
            stream.pix_fmt = "yuv420p"
            stream.time_base = stream.codec_context.time_base = _TIME_BASE
            settings = {
                "preset": self.options.preset,
                "tune": "zerolatency",  # no B-frames, no look-ahead, sliced threads: a packet out for each frame in
                "crf": str(self.options.crf),
                "g": str(max(1, round(2 * self.fps))),
            }
            if self.options.encoder_threads:
                settings["threads"] = str(self.options.encoder_threads)
            stream.options = settings
            cc = stream.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1  # BT.709, limited range
            self._video = stream
            if self._audio_in is not None:
                self._add_sound_stream(self._audio_in)
            self._container.start_encoding()  # a stream connects here: a receiver not there fails now, in one line
        except av.FFmpegError as exc:
            self.abort()
            if isinstance(exc, av.ProtocolNotFoundError):
                scheme = self.output.split("://", 1)[0]
                raise OutputError(
                    f"{self.output}: this FFmpeg cannot send {scheme}:// (built without it)",
                    hint="send udp://, tcp:// or rtmp:// instead",
                ) from None
            hint = "check the receiver is running and listening at that address" if self.is_stream else None
            raise OutputError(f"{self.output}: cannot be opened for writing ({exc.strerror or exc})", hint=hint) from None
        warn_padding(self.output, width, height, "yuv420p", hint="live encodes yuv420p only: send an even size to keep it")

    def _add_sound_stream(self, source: av.audio.stream.AudioStream) -> None:
        codec = source.codec_context.codec.canonical_name if source.codec_context.codec else source.codec_context.name
        allowed = _AUDIO_COPY.get(self.muxer, set())
        if allowed is None or codec in allowed:
            self._audio_out = self._container.add_stream_from_template(source)
            self._audio_copy = True
            return
        rate = source.codec_context.sample_rate or 48_000
        layout = source.codec_context.layout.name if source.codec_context.layout else "stereo"
        self._audio_out = self._container.add_stream("aac", rate=rate, layout=layout)
        self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        log.warning("%s: %s sound cannot go into %s unchanged; re-encoding it to AAC", self.output, codec, self.muxer)

    def _pad(self, rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        if width % 2 or height % 2:
            return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        return rgb

    def _encode(self, frame: av.VideoFrame | None) -> None:
        try:
            for packet in self._video.encode(frame):
                self._container.mux(packet)
        except av.FFmpegError as exc:
            raise EncodeError(f"{self.output}: sending failed ({exc.strerror or exc})") from None

    def _mux_sound_until(self, time: Fraction) -> None:
        while self._sound and self._sound[0][0] <= time:
            at, packet = self._sound.popleft()
            if self._audio_out is None:
                continue
            try:
                if self._audio_copy:
                    shift = packet.pts - round(at / packet.time_base)  # the input's origin, in this packet's ticks
                    packet.pts -= shift
                    if packet.dts is not None:
                        packet.dts -= shift
                    packet.stream = self._audio_out
                    self._container.mux(packet)
                else:
                    for decoded in self._audio_in.codec_context.decode(packet):
                        decoded.pts = round(at * decoded.sample_rate)
                        decoded.time_base = Fraction(1, decoded.sample_rate)
                        self._encode_sound(decoded)
            except av.FFmpegError as exc:
                self.sound_refused += 1
                if self.sound_refused == 1:  # once: a sender that restarts has every later packet refused
                    log.warning("%s: a sound packet at %.3f s was refused (%s)", self.output, float(at), exc.strerror or exc)

    def _encode_sound(self, frame: av.AudioFrame | None) -> None:
        for resampled in self._resampler.resample(frame):
            for packet in self._audio_out.encode(resampled):
                self._container.mux(packet)
        if frame is None:
            for packet in self._audio_out.encode(None):
                self._container.mux(packet)


def _with_packet_size(url: str) -> str:
    """UDP/RTP URLs with 1316-byte packets (7 TS packets: no IP fragmentation), unless the user chose a size."""
    if not url.startswith(("udp://", "rtp://")) or "pkt_size=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "pkt_size=1316"
