"""Audio and subtitle streams carried from a source file into an output, in step with its video.

Packets are copied unchanged when the output container accepts the codec; otherwise the audio is
re-encoded (AAC, or Opus for WebM) with a warning and unsupported subtitles are dropped with a
warning. Packets are pulled lazily, just ahead of the video being written, so memory stays
constant and the output is properly interleaved however long the film.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from vidtoon.errors import EncodeError, InputError
from vidtoon.io.formats import OutputFormat
from vidtoon.io.paths import FFMPEG_READ_OPTIONS, ffmpeg_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioSource:
    """Where an output's sound comes from.

    Attributes:
        path: a file with audio (a video, or an audio-only file); subtitles are taken too.
        origin: source time (seconds, from the file's first timestamp) that becomes output time 0.
        end: source time (seconds, same clock) after which nothing is taken; None = to the end.
        required: the file must have an audio stream (a soundtrack the user asked for).
    """

    path: Path
    origin: Fraction = Fraction(0)
    end: Fraction | None = None
    required: bool = False


class _Track:
    """One source stream and the output stream it feeds."""

    def __init__(self, source_stream, output_stream, *, copy: bool, offset: Fraction):
        self.source = source_stream
        self.output = output_stream
        self.copy = copy
        self.time_base = Fraction(source_stream.time_base)
        self.offset_ticks = round(offset / self.time_base)
        self.resampler = None
        if not copy:
            cc = output_stream.codec_context
            self.resampler = av.AudioResampler(format=cc.format.name, layout=cc.layout.name, rate=cc.sample_rate)
        self.failed_packets = 0
        self.last_dts: int | None = None  # of the last packet copied, in the source's time base


class AudioPassthrough:
    """Feeds a source's audio and subtitle streams into `output` as the video advances.

    Call `add_streams()` before the output's header is written, `feed_until(t)` before writing a
    video frame at output time t, and `finish(video_end)` after the last frame.
    """

    def __init__(self, source: AudioSource, output: av.container.OutputContainer, fmt: OutputFormat, output_path: Path):
        self.source = source
        self._output = output
        self._fmt = fmt
        self._output_path = output_path
        try:
            self._input = av.open(ffmpeg_path(source.path), options=FFMPEG_READ_OPTIONS, metadata_errors="replace")
        except av.FFmpegError as exc:
            raise InputError(
                f"cannot read its audio ({exc.strerror})", path=source.path, hint="give a file with a readable audio track"
            ) from None
        if source.required and not self._input.streams.audio:
            self._input.close()
            raise InputError("has no audio stream", path=source.path, hint="give an audio or video file with sound")
        self._start = Fraction(self._input.start_time, av.time_base) if self._input.start_time is not None else Fraction(0)
        self._tracks: dict[int, _Track] = {}
        self._packets: Iterator[av.Packet] | None = None
        self._pending: av.Packet | None = None
        self._done = False

    @property
    def has_streams(self) -> bool:
        return bool(self._tracks)

    def add_streams(self) -> None:
        """Create the output streams (copied or re-encoded) for every usable source stream."""
        offset = self._start + self.source.origin
        for stream in self._input.streams.audio:
            codec = stream.codec_context.codec.canonical_name if stream.codec_context.codec else stream.codec_context.name
            if self._fmt.audio_codec is None:
                log.warning(
                    "%s: the %s format has no sound; audio stream %d (%s) left out",
                    self._output_path,
                    self._fmt.muxer,
                    stream.index,
                    codec,
                )
                continue
            if self._fmt.audio_copy is None or codec in self._fmt.audio_copy:
                out = self._output.add_stream_from_template(stream)
                track = _Track(stream, out, copy=True, offset=offset)
            else:
                out = self._add_encoder(stream)
                log.warning(
                    "%s: %s audio cannot go into %s unchanged; re-encoding audio stream %d to %s",
                    self._output_path,
                    codec,
                    self._output_path.suffix,
                    stream.index,
                    self._fmt.audio_codec,
                )
                track = _Track(stream, out, copy=False, offset=offset)
            _copy_stream_metadata(stream, out)
            self._tracks[stream.index] = track
        for stream in self._input.streams.subtitles:
            codec = stream.codec_context.codec.canonical_name if stream.codec_context.codec else stream.codec_context.name
            if codec not in self._fmt.subtitle_copy:
                log.warning(
                    "%s: %s subtitles cannot go into %s; subtitle stream %d left out (use .mkv to keep it)",
                    self._output_path,
                    codec,
                    self._output_path.suffix,
                    stream.index,
                )
                continue
            out = self._output.add_stream_from_template(stream)
            _copy_stream_metadata(stream, out)
            self._tracks[stream.index] = _Track(stream, out, copy=True, offset=offset)
        if self._tracks:
            self._packets = self._input.demux([t.source for t in self._tracks.values()])
        else:
            self._done = True

    def _add_encoder(self, stream) -> av.audio.stream.AudioStream:
        codec = av.Codec(self._fmt.audio_codec, "w")
        rates = codec.audio_rates or ()
        rate = stream.codec_context.sample_rate
        if rates and rate not in rates:
            rate = min(rates, key=lambda r: (abs(r - rate), -r))
        layout = stream.codec_context.layout.name if stream.codec_context.layout else "stereo"
        out = self._output.add_stream(self._fmt.audio_codec, rate=rate, layout=layout)
        out.codec_context.format = codec.audio_formats[0].name
        out.bit_rate = 64_000 * max(1, min(stream.codec_context.channels or 2, 8))
        return out

    def feed_until(self, time: Fraction) -> None:
        """Mux every source packet whose output time is at most `time` seconds.

        Raises:
            EncodeError: the output refuses the sound (the muxer or the audio encoder failed).
        """
        try:
            self._feed_until(time)
        except av.FFmpegError as exc:
            raise EncodeError(f"writing failed along with the sound ({exc.strerror or exc})", path=self._output_path) from None

    def _feed_until(self, time: Fraction) -> None:
        while not self._done:
            packet = self._pending or self._next_packet()
            if packet is None:
                return
            track = self._tracks[packet.stream.index]
            packet_time = (packet.pts - track.offset_ticks) * track.time_base
            if packet_time > time:
                self._pending = packet
                return
            self._pending = None
            self._mux(track, packet)

    def finish(self) -> None:
        """Mux what is left up to the source's end (or `end`), then flush the audio encoders."""
        self.feed_until(Fraction(10**12))
        try:
            for track in self._tracks.values():
                if not track.copy:
                    self._encode(track, None)
        except av.FFmpegError as exc:
            raise EncodeError(f"writing failed along with the sound ({exc.strerror or exc})", path=self._output_path) from None
        self._input.close()

    def close(self) -> None:
        self._input.close()

    def _next_packet(self) -> av.Packet | None:
        """The next packet with a timestamp, or None at the end (or past `end`)."""
        assert self._packets is not None
        for packet in self._packets:
            if packet.pts is None or packet.size == 0:
                continue
            if packet.dts is None and self._tracks[packet.stream.index].copy:
                continue
            if self.source.end is not None:
                track = self._tracks[packet.stream.index]
                if packet.pts * track.time_base - self._start >= self.source.end:
                    continue  # past the end for this stream; others may still be before it
            return packet
        self._done = True
        return None

    def _mux(self, track: _Track, packet: av.Packet) -> None:
        if self.source.origin > 0 and packet.pts + (packet.duration or 0) - track.offset_ticks <= 0:
            return  # wholly before a cut's start; without a cut, priming packets (pts < 0) are kept
        if track.copy:
            packet.pts -= track.offset_ticks
            packet.dts -= track.offset_ticks
            if packet.pts < 0 and track.source.type == "subtitle":
                # a cue still showing at a cut's start shows from the start on: a negative time made MP4 show every
                # later cue early by as much, and Matroska start the whole film that much late
                if packet.duration:
                    packet.duration += packet.pts
                packet.pts = packet.dts = 0
            if track.last_dts is not None and packet.dts <= track.last_dts:
                # Damaged or coarse source timestamps (repeated dts): MP4 refuses a dts that does not grow,
                # so nudge it one tick on, as the ffmpeg command line does.
                packet.dts = track.last_dts + 1
                packet.pts = max(packet.pts, packet.dts)
            track.last_dts = packet.dts
            packet.stream = track.output
            self._output.mux(packet)
            return
        try:
            frames = track.source.codec_context.decode(packet)
        except av.FFmpegError as exc:
            track.failed_packets += 1
            if track.failed_packets == 1:
                log.warning(
                    "%s: audio stream %d fails to decode at %.3fs (%s); skipping the damaged audio packets, video goes on",
                    self.source.path,
                    track.source.index,
                    float(packet.pts * track.time_base),
                    exc.strerror,
                )
            return
        for frame in frames:
            if frame.pts is not None:  # keep the source clock, so a skipped packet leaves a gap, not a drift
                frame.pts -= track.offset_ticks
                frame.time_base = track.source.time_base
            self._encode(track, frame)

    def _encode(self, track: _Track, frame: av.AudioFrame | None) -> None:
        assert track.resampler is not None
        for resampled in track.resampler.resample(frame):
            for packet in track.output.encode(resampled):
                self._output.mux(packet)
        if frame is None:
            for packet in track.output.encode(None):
                self._output.mux(packet)


def _copy_stream_metadata(source, output) -> None:
    for key in ("language", "title", "handler_name"):
        if key in source.metadata:
            output.metadata[key] = source.metadata[key]
    output.disposition = source.disposition
