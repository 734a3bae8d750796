"""`transcode`: decode a video and encode it again, keeping timing, audio, subtitles and metadata."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from vidtoon.io.audio import AudioSource
from vidtoon.io.reader import VideoReader, warn_alpha
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.progress import NoProgress, Progress
from vidtoon.streaming import prefetch


def transcode(
    source: str | Path,
    output: str | Path,
    *,
    start: Fraction | None = None,
    end: Fraction | None = None,
    options: EncodeOptions = EncodeOptions(),
    force: bool = False,
    progress: Progress | None = None,
    on_corrupt: str = "stop",
) -> Path:
    """Re-encode `source` into `output` frame for frame (the I/O half of every restyle).

    Each frame keeps its timestamp (constant and variable rates survive), the audio and
    subtitle streams are copied (or re-encoded if the container needs it), and the container
    metadata is kept. `start`/`end` cut the video and its audio together. `on_corrupt`: see `VideoReader`. A
    transparent source is said once (`warn_alpha`): the output is opaque.
    """
    progress = progress or NoProgress()
    with VideoReader(source, start=start, end=end, on_corrupt=on_corrupt) as reader:
        info = reader.info
        warn_alpha(info)
        with VideoWriter(
            output,
            fps=info.fps or Fraction(25),
            time_base=info.time_base,
            options=options,
            audio=AudioSource(Path(source), origin=reader.start, end=end),
            metadata=info.metadata,
            inputs=(source,),
            force=force,
        ) as writer:
            progress.start(_expected_frames(info.frame_count, info.fps, start, end), f"{Path(source).name}")
            if info.rotation == 0:
                # Nothing touches the pixels: encode the decoded frames as they are where possible,
                # skipping the RGB round trip (about a third of the work at 1080p).
                for _, time, frame in prefetch(reader.decoded()):
                    if writer.can_pass_through(frame):
                        writer.write_frame(frame, time)
                    else:
                        writer.write(reader.rgb(frame), time)
                    progress.advance()
            else:
                for frame in prefetch(reader):
                    writer.write(frame.rgb, frame.time)
                    progress.advance()
    return writer.path


def _expected_frames(count: int | None, fps: Fraction | None, start: Fraction | None, end: Fraction | None) -> int | None:
    if count is None or fps is None:
        return count
    first = round((start or 0) * fps)
    last = min(count, round(end * fps)) if end is not None else count
    return max(0, last - first)
