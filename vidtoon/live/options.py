"""`LiveOptions`: what `vidtoon live` was asked for, checked in one place before anything opens or loads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidtoon.checks import number_in, whole_number
from vidtoon.errors import UsageError
from vidtoon.io.formats import PRESETS, check_crf_scale

# Stream outputs and the container each one carries.
STREAM_MUXERS = {"udp": "mpegts", "srt": "mpegts", "rtp": "rtp_mpegts", "tcp": "mpegts", "rtmp": "flv", "rtmps": "flv"}
# File outputs a live recording can be: containers that need no seek back to finish (a crash leaves a playable file).
FILE_MUXERS = {".ts": "mpegts", ".mkv": "matroska", ".mp4": "mp4", ".flv": "flv", ".mov": "mov"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class LiveOptions:
    """Settings of one live run (the style comes separately, as a translator).

    Attributes:
        realtime: a file input is played at its own frame rate (as a camera would deliver it), not as fast as it decodes.
        open_timeout: seconds to wait for the input to start sending before giving up (one line).
        read_timeout: seconds without a packet after which a started input counts as ended.
        preview: serve the preview page; host/port: where (port 0: any free port, printed).
        mix: share of the restyled picture in the output (1: all restyled, 0: the input); the preview's slider.
        fill_gaps: where input frames were dropped (the model was busy), repeat the last output at their times so the
            output keeps the input's frame rate and length.
        crf, preset: the H.264 encoder's quality and speed (tuned for zero latency).
        encoder_threads: the H.264 encoder's threads (0: x264's own choice, 1.5 per core, sliced).
        model_threads: torch's threads for the run (None: leave torch's setting). 1 leaves the other core of two to
            the temporal stage, the encoder and the input beside the model; on a shared busy machine it was slower
            (the run gets a smaller share of the cores: docs/benchmarks.md#bench_live), hence not the default.
        flow_max_side: the temporal stage's flow and trust mask are estimated at most this long (px), then scaled
            up (None: the stage's own, 640, as `vidtoon restyle`); only the warp and blend run at full size.
        stale_after: when the model is free and the newest frame is older than this share of the frame interval,
            wait for the next frame (due within the interval) instead; the skipped one counts as dropped (None: take
            whatever is newest).
        max_frames: stop after this many input frames (None: until the input ends or a signal).
    """

    realtime: bool = False
    open_timeout: float = 10.0
    read_timeout: float = 5.0
    preview: bool = False
    host: str = "127.0.0.1"
    port: int = 8765
    mix: float = 1.0
    fill_gaps: bool = True
    crf: int = 23
    preset: str = "veryfast"
    encoder_threads: int = 1
    model_threads: int | None = None
    flow_max_side: int | None = 320
    stale_after: float | None = 0.5
    max_frames: int | None = None

    def __post_init__(self) -> None:
        number_in("--open-timeout", self.open_timeout, 0.1, 3600)
        number_in("--read-timeout", self.read_timeout, 0.1, 3600)
        number_in("--mix", self.mix, 0.0, 1.0)
        whole_number("--port", self.port, minimum=0, maximum=65535)
        whole_number("--crf", self.crf, minimum=0)
        check_crf_scale(self.crf, "libx264", "the live output")  # its own encoder, whatever the output
        if self.preset not in PRESETS:  # else x264 refuses it only once the first frame is restyled
            raise UsageError(f"--preset {self.preset!r}: unknown preset", hint=f"use one of {', '.join(PRESETS)}")
        whole_number("--max-frames", self.max_frames, optional=True)
        whole_number("--encoder-threads", self.encoder_threads, minimum=0, maximum=64)
        whole_number("--model-threads", self.model_threads, optional=True, maximum=1024)
        whole_number("--flow-size", self.flow_max_side, optional=True, minimum=16, maximum=16384)
        if self.stale_after is not None:
            number_in("--stale-after", self.stale_after, 0.0, 1.0)
        if not self.host:
            raise UsageError("--host must name an address, e.g. 127.0.0.1")

    @property
    def exposed(self) -> bool:
        """The preview is reachable from other machines (the user asked for it with --host)."""
        return self.host not in LOOPBACK


def output_muxer(output: str) -> tuple[str, bool]:
    """The muxer for `output` and whether it is a stream (URL) rather than a file.

    Raises:
        UsageError: an output of a kind live cannot write, with the kinds it can.
    """
    scheme = output.split("://", 1)[0].lower() if "://" in output else None
    if scheme is not None:
        if scheme not in STREAM_MUXERS:
            raise UsageError(
                f"live cannot send to {scheme}:// ({output})", hint=f"use one of {', '.join(s + '://' for s in STREAM_MUXERS)}"
            )
        return STREAM_MUXERS[scheme], True
    suffix = Path(output).suffix.lower()
    if suffix not in FILE_MUXERS:
        raise UsageError(
            f"live cannot record to a {suffix or 'suffix-less'} file ({output})", hint=f"use {', '.join(FILE_MUXERS)}"
        )
    return FILE_MUXERS[suffix], False
