"""`VideoWriter`: RGB frames in, a finished video file out (or nothing, if anything fails)."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import PictureType
from av.video.reformatter import Interpolation, VideoReformatter

from vidtoon.errors import DiskFullError, EncodeError, UsageError
from vidtoon.files import AtomicFile, bytes_on_disk, check_output, is_disk_full
from vidtoon.io.audio import AudioPassthrough, AudioSource
from vidtoon.io.formats import EncodeOptions, OutputFormat, check_encoding
from vidtoon.io.paths import ffmpeg_path

log = logging.getLogger(__name__)

# Container metadata that describes the old file's muxer, not its content.
_MUXER_KEYS = {"encoder", "major_brand", "minor_version", "compatible_brands", "duration"}


def encoder_pix_fmt(options: EncodeOptions, codec: str) -> str:
    """The pixel format frames are encoded in: `options.pix_fmt`, else yuv420p (plays everywhere), pal8 for a GIF.
    `codec`: the container's encoder, unless `options.codec` names another."""
    return options.pix_fmt or ("pal8" if (options.codec or codec) == "gif" else "yuv420p")


def padded_size(width: int, height: int, pix_fmt: str) -> tuple[int, int]:
    """(width, height) a `pix_fmt` encoder can take: rounded up to even sizes for the subsampled formats."""
    if pix_fmt.startswith(("yuv420", "yuvj420", "nv12", "yuv422")):
        return width + width % 2, height + height % 2
    return width, height


def warn_padding(
    path: Path | str,
    width: int,
    height: int,
    pix_fmt: str,
    *,
    hint: str = "pass --pix-fmt yuv444p to keep the exact size",
) -> None:
    """Warn, naming `path`, when frames of `width`×`height` are padded to encode as `pix_fmt` (`padded_size`); `hint`:
    how to keep the exact size (`vidtoon live`, which has no --pix-fmt, says its own)."""
    padded = padded_size(width, height, pix_fmt)
    if padded != (width, height):
        log.warning(
            "%s: %dx%d is odd; padded to %dx%d (repeating the last row/column) because %s needs even sizes; %s",
            path,
            width,
            height,
            *padded,
            pix_fmt,
            hint,
        )


class VideoWriter:
    """Encodes RGB frames into `path`, keeping each frame's timestamp; source audio carried along.

    The file is written under a temporary name beside `path` and renamed when `close()` completes;
    on an exception inside the `with` block (or `abort()`), the temporary file is removed and
    nothing appears under `path`.

    Args:
        path: output file; its suffix picks the container (.mp4 .mkv .mov .webm .avi .gif).
        fps: nominal frame rate (also used for frames written without a time).
        time_base: timestamp unit; give the source's to keep its timestamps exactly.
        options: encoder settings.
        audio: audio and subtitle streams to carry over, or None.
        metadata: container metadata to keep (title, creation_time, ...).
        inputs: files that must not be overwritten.
        force: replace an existing output.
        lock: hold the output's lock while writing (False when a job owning the folder holds one).
        warn_padding: warn when an odd size is padded for the pixel format (`warn_padding`).
        reorder: let the encoder reorder frames (B-frames); never for a container that stores no timestamps (AVI),
            nor for the parts of one (False).
        final: `path` is the command's own output, recorded finished as it is moved into place (`AtomicFile.commit`).

    Raises:
        UsageError: a pixel format the encoder cannot take (`check_encoding`), before any file is made.
        DiskFullError: the disk (or a file size limit) ran out; the temporary file is removed.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fps: Fraction,
        time_base: Fraction | None = None,
        options: EncodeOptions = EncodeOptions(),
        audio: AudioSource | None = None,
        metadata: dict[str, str] | None = None,
        inputs: tuple[str | Path, ...] = (),
        force: bool = False,
        video_codec: str | None = None,
        lock: bool = True,
        warn_padding: bool = True,
        reorder: bool = True,
        final: bool = False,
    ):
        self.path = check_output(path, inputs=inputs, force=force)
        self._warn_padding = warn_padding  # False for the parts of a segmented output: it is said once, of the output
        # the suffix and the pixel format for its encoder, before any file is made
        self.format: OutputFormat = check_encoding(self.path, options, video_codec=video_codec)
        self._reorder = reorder and not self.format.constant_rate
        self._video_codec = video_codec  # overrides the container's default (segments of a .webm job are VP9)
        # (pts, dts) of every video packet as the encoder gave them, in order, in the writer's time base (segments
        # need them: a container such as NUT shifts them to make decode times non-negative)
        self.packet_times: list[tuple[int, int]] = []
        if fps <= 0:
            raise UsageError(f"frame rate must be above zero, got {fps}")
        self.fps = Fraction(fps)
        self.options = options
        if self.format.constant_rate or self.format.muxer == "gif":
            time_base = 1 / self.fps if self.format.constant_rate else Fraction(1, 100)
        self.time_base = Fraction(time_base) if time_base else 1 / self.fps
        self._audio_source = audio
        self._metadata = {k: v for k, v in (metadata or {}).items() if k.lower() not in _MUXER_KEYS}
        self._file = AtomicFile(self.path, lock=lock)
        self._final = final
        self._container: av.container.OutputContainer | None = None
        self._video = None
        self._audio: AudioPassthrough | None = None
        self._size: tuple[int, int] | None = None  # (width, height) of frames given
        self._last_pts = -1
        self._last_time = Fraction(0)
        self.frames_written = 0
        self._closed = False

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, rgb: np.ndarray, time: Fraction | None = None) -> None:
        """Encode one H×W×3 uint8 RGB frame shown at `time` seconds (None: right after the last).

        Every frame must have the size of the first.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise UsageError(f"frames must be H×W×3 uint8 RGB, got shape {rgb.shape} of {rgb.dtype}")
        if self._container is None:
            self._open(width=rgb.shape[1], height=rgb.shape[0])
        elif (rgb.shape[1], rgb.shape[0]) != self._size:
            raise UsageError(
                f"frame {self.frames_written} is {rgb.shape[1]}x{rgb.shape[0]}, the video is {self._size[0]}x{self._size[1]}"
            )
        frame = self._to_frame(rgb)
        self._encode_at(frame, time)

    def can_pass_through(self, frame: av.VideoFrame) -> bool:
        """Whether a decoded frame can be encoded as it is (`write_frame`): same pixel format as the
        output, an even size for subsampled formats, not a GIF."""
        codec = self.options.codec or self._video_codec or self.format.video_codec
        pix_fmt = encoder_pix_fmt(self.options, codec)
        even = not pix_fmt.startswith(("yuv420", "yuv422")) or (frame.width % 2 == 0 and frame.height % 2 == 0)
        return codec != "gif" and frame.format.name == pix_fmt and even and self._size in (None, (frame.width, frame.height))

    def write_frame(self, frame: av.VideoFrame, time: Fraction | None = None) -> None:
        """Encode a decoded frame without converting it through RGB (a plain transcode); see `can_pass_through`."""
        if not self.can_pass_through(frame):
            raise UsageError(f"a {frame.format.name} {frame.width}x{frame.height} frame cannot be passed through to this writer")
        if self._container is None:
            self._open(width=frame.width, height=frame.height, colour_of=frame)
        frame.pict_type = PictureType.NONE  # let the encoder choose frame types, not copy the source's
        self._encode_at(frame, time)

    def _encode_at(self, frame: av.VideoFrame, time: Fraction | None) -> None:
        if time is None:
            time = self._last_time + 1 / self.fps if self.frames_written else Fraction(0)
        pts = round(Fraction(time) / self.time_base)
        if pts <= self._last_pts:  # two source times in one output tick: keep order, nudge forward
            pts = self._last_pts + 1
        self._last_pts, self._last_time = pts, Fraction(time)
        if self._audio is not None:
            self._audio.feed_until(Fraction(time))
        frame.pts = pts
        frame.time_base = self.time_base
        self._encode(frame)
        self.frames_written += 1

    def close(self) -> Path | None:
        """Flush the encoder, finish the audio, and move the file to its final name."""
        if self._closed:
            return self.path
        if self._container is None:
            self.abort()
            raise EncodeError("no frames were written, so no video was made", path=self.path)
        try:
            self._encode(None)
            if self._audio is not None:
                self._audio.finish()
            self._container.close()
        except av.FFmpegError as exc:
            self._fail(exc, "writing failed")
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self._file.commit(final=self._final)

    def abort(self) -> None:
        """Stop writing and remove the temporary file; nothing appears under `path`."""
        if self._closed:
            return
        self._closed = True
        for closeable in (self._audio, self._container):
            try:
                if closeable is not None:
                    closeable.close()
            except Exception:  # noqa: BLE001 - already failing; the cleanup must go on
                pass
        self._file.abort()

    # -- internals ---------------------------------------------------------------------------

    def _open(self, *, width: int, height: int, colour_of: av.VideoFrame | None = None) -> None:
        fmt = self.format
        codec = self.options.codec or self._video_codec or fmt.video_codec
        pix_fmt = encoder_pix_fmt(self.options, codec)
        self._size = (width, height)
        enc_width, enc_height = padded_size(width, height, pix_fmt)
        if self._warn_padding:
            warn_padding(self.path, width, height, pix_fmt)
        self._pad = (enc_height - height, enc_width - width)
        self._pix_fmt = pix_fmt
        try:
            self._container = av.open(ffmpeg_path(self._file.path), mode="w", format=fmt.muxer, options=dict(fmt.options))
            stream = self._container.add_stream(codec, rate=self.fps)
            stream.width, stream.height, stream.pix_fmt = enc_width, enc_height, pix_fmt
            stream.time_base = self.time_base
            stream.codec_context.time_base = self.time_base
            stream.options = self._codec_options(codec)
            # frame threads, as the ffmpeg CLI uses: PyAV's default slice threads make every encode() wait
            stream.codec_context.thread_type = "AUTO"
            if pix_fmt.startswith("yuv"):
                cc = stream.codec_context
                if colour_of is None:
                    cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1  # BT.709, limited range
                else:  # frames passed through keep their source's matrix: tag it, as ffmpeg does
                    cc.colorspace, cc.color_range = int(colour_of.colorspace), int(colour_of.color_range)
                    cc.color_primaries, cc.color_trc = int(colour_of.color_primaries), int(colour_of.color_trc)
            self._video = stream
            self._container.metadata.update(self._metadata)
            if self._audio_source is not None:
                self._audio = AudioPassthrough(self._audio_source, self._container, fmt, self.path)
                self._audio.add_streams()
        except av.FFmpegError as exc:
            self._fail(exc, f"cannot start the {codec} encoder")
        if pix_fmt == "pal8":  # whatever the encoder (gif, png): `_to_frame` picks each frame's palette
            self._palette = _GifPalette(enc_width, enc_height)
        self._reformatter = VideoReformatter()  # one swscale context for the whole video
        self._rgb_frame: av.VideoFrame | None = None

    def _codec_options(self, codec: str) -> dict[str, str]:
        crf = self.options.crf
        if codec in ("libx264", "libx265"):
            preset, crf = self.options.x264_settings(codec)
            options = {"crf": str(crf), "preset": preset}
            if not self._reorder:
                options["bf"] = "0"  # AVI stores no timestamps: reordered frames would shift the picture
            return options
        if codec in ("libvpx-vp9", "libvpx"):
            return {"crf": str(31 if crf is None else crf), "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
        return {}

    def _to_frame(self, rgb: np.ndarray) -> av.VideoFrame:
        if any(self._pad):
            rgb = np.pad(rgb, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)), mode="edge")
        if self._pix_fmt == "pal8":
            return self._palette.apply(av.VideoFrame.from_ndarray(rgb, format="rgb24"))
        if not self._pix_fmt.startswith("yuv"):
            return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=self._pix_fmt)
        # The conversion makes a new frame, so one RGB frame can be refilled in place for every frame.
        if self._rgb_frame is None:
            self._rgb_frame = av.VideoFrame(rgb.shape[1], rgb.shape[0], "rgb24")
        plane = self._rgb_frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(rgb.shape[0], plane.line_size)
        np.copyto(rows[:, : rgb.shape[1] * 3].reshape(rgb.shape), rgb)
        # AREA with full-resolution chroma input: faster than the default bilinear and closer to exact BT.709
        return self._reformatter.reformat(
            self._rgb_frame,
            format=self._pix_fmt,
            dst_colorspace="ITU709",
            dst_color_range="MPEG",
            interpolation=Interpolation.AREA | Interpolation.FULL_CHR_H_INP,
        )

    def _encode(self, frame: av.VideoFrame | None) -> None:
        assert self._container is not None and self._video is not None
        try:
            for packet in self._video.encode(frame):
                self.packet_times.append((packet.pts, packet.dts))
                self._container.mux(packet)
        except av.FFmpegError as exc:
            where = (
                f"frame {self.frames_written}, {float(self._last_time):.3f} s" if frame is not None else "the end of the video"
            )
            self._fail(exc, f"encoding failed at {where}")

    def _fail(self, exc: av.FFmpegError, what: str):
        """Abort (removing the temporary file) and raise DiskFullError or EncodeError for `exc`."""
        written = bytes_on_disk(self._file.path)
        self.abort()
        if is_disk_full(exc):
            raise DiskFullError(self.path, written=written) from None
        raise EncodeError(f"{what} ({exc.strerror or exc})", path=self.path) from None


class _GifPalette:
    """Per-frame optimal 256-colour palette with dithering (FFmpeg's palettegen/paletteuse)."""

    def __init__(self, width: int, height: int):
        self._graph = av.filter.Graph()
        source = self._graph.add_buffer(width=width, height=height, format="rgb24", time_base=Fraction(1, 100))
        split = self._graph.add("split")
        palettegen = self._graph.add("palettegen", "stats_mode=single")
        paletteuse = self._graph.add("paletteuse", "new=1:dither=sierra2_4a")
        sink = self._graph.add("buffersink")
        source.link_to(split)
        split.link_to(paletteuse, 0, 0)
        split.link_to(palettegen, 1, 0)
        palettegen.link_to(paletteuse, 0, 1)
        paletteuse.link_to(sink)
        self._graph.configure()
        self._count = 0

    def apply(self, frame: av.VideoFrame) -> av.VideoFrame:
        frame.pts = self._count
        frame.time_base = Fraction(1, 100)
        self._count += 1
        self._graph.push(frame)
        return self._graph.pull()
