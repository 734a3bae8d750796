"""`stabilize`: blind temporal consistency for any per-frame-processed video or frame folder.

Given the processed frames (colourised, enhanced, stylised by any tool) and the original they
came from, the flow-guided temporal stage removes the flicker the per-frame processing added:
flow is computed on the original, the processed frames are blended along it.

It is a restyle whose translator is the identity and whose reader pairs each processed frame with its
original: videos go through the restyle video loop (segments, `--resume`, the processed video's timing
and sound), folders through the same `FrameRestyler`.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from vidtoon.device import resolve_device
from vidtoon.errors import UsageError
from vidtoon.files import check_output
from vidtoon.io.aligned import check_size, common_frame_count, first_frame_size, guided_frames
from vidtoon.io.formats import FORMATS, check_encoding, check_picture_flags, check_quality_flags
from vidtoon.io.images import check_output_folder, list_images, write_image_folder
from vidtoon.io.paths import IMAGE_SUFFIXES
from vidtoon.io.probe import VideoInfo, probe
from vidtoon.io.writer import EncodeOptions
from vidtoon.models.translator import IdentityTranslator
from vidtoon.parsing import parse_rate
from vidtoon.progress import NoProgress, Progress
from vidtoon.restyle.check import still_names
from vidtoon.restyle.frames import FrameRestyler
from vidtoon.restyle.options import RestyleOptions, temporal_stage
from vidtoon.restyle.video import restyle_video
from vidtoon.settings import DEFAULT_STRENGTH
from vidtoon.streaming import prefetch

PRESET = "medium"  # x264's preset of a video output when none is given (with CRF 18 unless one is given)


def default_stabilize_output(processed: Path) -> Path:
    """out.mp4 -> out.stable.mp4; frames/ -> frames.stable/."""
    if processed.is_dir():
        return processed.resolve().with_name(processed.resolve().name + ".stable")
    suffix = processed.suffix.lower() if processed.suffix.lower() in (".mp4", ".mkv", ".mov", ".webm") else ".mp4"
    return processed.with_name(f"{processed.stem}.stable{suffix}")


def stabilize(
    processed: str | Path,
    source: str | Path,
    output: str | Path | None = None,
    *,
    strength: float = DEFAULT_STRENGTH,
    flow: str = "dis",
    flow_preset: str = "fast",
    flow_weights: str | None = None,
    device: str = "auto",
    truncate: bool = False,
    options: EncodeOptions = EncodeOptions(),
    fps: str | float | Fraction | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Remove per-frame flicker from `processed` using the motion of `source` (videos or frame folders).

    The output is a video when its suffix is a video type (.mp4, .mkv, …): from a processed video it
    keeps that video's timestamps, sound and metadata; from a folder made from a source video it keeps the
    source's (frame i is shown when the source's frame i was), unless `fps` is given; from a folder made from
    a folder it plays at `fps` (default 25). A video is
    written in resumable segments (`resume` continues an interrupted run with the same settings). Any
    other output but a picture's name (out.png: a UsageError) is a folder of PNGs (named after the processed images, or 000000.png … from a video),
    appearing whole when done. The source may differ from the processed frames in size but not in
    aspect ratio: it is resized to them for the flow. `fps` for a processed video (it keeps its own timing) or
    a folder output (PNGs have no rate) is a UsageError, not ignored.

    `options` set a video output's encoder (x264 at `PRESET` when they give no preset); given for a folder of
    pictures, they are refused (`UsageError`: they would change nothing).
    """
    progress = progress or NoProgress()
    # the blend's settings are checked as restyle's are (a bad value: one UsageError naming the flag)
    settings = RestyleOptions(
        consistency="flow",
        strength=strength,
        flow=flow,
        flow_preset=flow_preset,
        flow_weights=flow_weights,
        device=device,
        encode=options,
    )
    processed, source = Path(processed), Path(source)
    # a folder of frames made from a video plays as that video: its timestamps and its sound
    timed_by_source = fps is None and processed.is_dir() and not source.is_dir()
    asked_fps = fps
    fps = parse_rate(25 if fps is None else fps, flag="--fps")
    output = Path(output) if output is not None else default_stabilize_output(processed)
    to_folder = output.suffix.lower() not in FORMATS
    if to_folder and output.suffix.lower() in IMAGE_SUFFIXES:  # a folder named out.png is not what anyone meant
        raise UsageError(
            f"-o {output}: stabilize writes a video or a folder of PNGs, not one picture",
            hint=f"give a video name ({', '.join(sorted(FORMATS))}) or a folder name with -o",
        )
    if asked_fps is not None:  # a rate that would not be used is refused, not silently ignored
        if to_folder:
            raise UsageError(
                f"--fps sets the rate of a video, but {output} is a folder of PNGs (no frame rate)",
                hint="give a video name such as out.mp4 with -o, or leave out --fps",
            )
        if processed.exists() and not processed.is_dir():
            raise UsageError(
                f"--fps sets the rate of a video made from a frame folder; {processed} is a video and keeps its own timing",
                hint="leave out --fps (to change a video's rate, stitch its frames: vidtoon frames, then vidtoon stitch --fps)",
            )
    if to_folder:  # before any frame is read
        check_picture_flags(output, options, what="a folder of pictures")  # the encoder's flags would change nothing
        if resume:  # a folder of PNGs is written whole or not at all: nothing to resume
            raise UsageError(
                f"--resume goes with a video output; {output} is a folder of PNGs, written whole or not at all",
                hint="leave it out, or give a video name such as out.mp4 with -o",
            )
        check_output_folder(output, inputs=(processed, source), force=force)
    else:
        check_output(output, inputs=(processed, source), force=force)
        check_encoding(output, options)  # --pix-fmt for the output's encoder, before a parts folder exists
        check_quality_flags(output, options)  # a --crf or --preset the encoder has not (GIF, VP9) would change nothing
        if options.preset is None:
            settings = replace(settings, encode=options.or_preset(PRESET))
    total, counts = common_frame_count({"processed": processed, "source": source}, truncate=truncate)
    size, source_size = first_frame_size(processed), first_frame_size(source)
    check_size("source", source, source_size, processed, size, base_role="processed video")
    torch_device = resolve_device(device)
    restyler = FrameRestyler(IdentityTranslator(torch_device), temporal_stage(settings, torch_device))

    def open_frames(start: Fraction) -> closing:
        return closing(
            guided_frames(
                processed,
                source,
                total,
                native=size,
                guide_native=source_size,
                fps=fps,
                start=start,
                timed_by_guide=timed_by_source,
            )
        )

    if to_folder:  # a folder of PNGs, named after the processed files when it is a folder
        names = still_names(list_images(processed), processed) if processed.is_dir() else None  # no two alike
        progress.start(total, processed.name)

        def stabilized():
            with open_frames(Fraction(0)) as frames:
                for frame in prefetch(frames, depth=8):
                    yield names[frame.index] if names else f"{frame.index:06d}.png", restyler([frame.rgb], None, [frame.guide])[0]

        return write_image_folder(output, stabilized(), inputs=(processed, source), force=force, progress=progress)
    job_key = {"stabilize": {"source": str(source.resolve()), "frames": total}}
    timing = processed  # the video whose timestamps, sound and metadata the output keeps (a folder: none)
    if timed_by_source:
        timing, job_key["stabilize"]["processed"] = source, str(processed.resolve())
        info = probe(source)
        if total < counts["source"] and info.fps:  # --truncate: the sound ends with the last frame used
            settings = replace(settings, end=Fraction(total) / info.fps)
    else:
        info = _folder_info(processed, size, total, fps) if processed.is_dir() else probe(processed)
    return restyle_video(
        timing,
        output,
        restyler,
        settings,
        info=replace(info, frame_count=total),
        resume=resume,
        force=force,
        progress=progress,
        job_key=job_key,
        open_frames=open_frames,
        inputs=(processed, source),
    )


def _folder_info(folder: Path, size: tuple[int, int], frames: int, fps: Fraction) -> VideoInfo:
    """What the video loop needs to know of a frame folder played at `fps`."""
    return VideoInfo(
        path=folder,
        container="folder",
        codec="png",
        width=size[0],
        height=size[1],
        pix_fmt="rgb24",
        fps=fps,
        variable_fps=False,
        rotation=0,
        duration=frames / fps,
        frame_count=frames,
        frame_count_exact=True,
        time_base=1 / fps,
        start_time=Fraction(0),
        is_image=False,
    )
