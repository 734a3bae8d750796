"""`restyle`: a film (or an image, or a folder of images) turned into a restyled one.

The data path is one straight line, each stage overlapping the others:

    decode thread -> batches on the device -> translate -> temporal stage -> encode thread

The video is encoded in segments (see `vidtoon.io.segments`) so an interrupted run resumes from
the last finished segment; the segments are joined with the source's sound at the end.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vidtoon.device import resolve_device, resolve_precision
from vidtoon.errors import InputError, UsageError
from vidtoon.io.audio import AudioSource
from vidtoon.io.formats import output_format
from vidtoon.io.images import IMAGE_SUFFIXES, list_images, read_image, write_image, write_image_folder
from vidtoon.io.output import AtomicFile, check_output
from vidtoon.io.probe import probe
from vidtoon.io.reader import VideoReader
from vidtoon.io.segments import SegmentedJob, join_segments
from vidtoon.io.writer import EncodeOptions, VideoWriter
from vidtoon.models.norm_stats import SharedNormStats, per_sample_norm_layers
from vidtoon.models.translator import Translator
from vidtoon.progress import NoProgress, Progress
from vidtoon.settings import DEFAULT_STRENGTH
from vidtoon.streaming import BackgroundSink, prefetch
from vidtoon.temporal import TemporalStage, make_temporal_stage
from vidtoon.tiling import pad_to_multiple, translate_tiled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestyleOptions:
    """How to restyle.

    Attributes:
        device: "auto", "cpu", "cuda" or "cuda:N".
        precision: "auto", "fp32", "bf16" or "fp16" (autocast).
        height: processing height in pixels (width follows the aspect ratio); None = the source's.
            The output keeps the source's size.
        max_side: frames whose longer processing side exceeds this are translated in tiles.
        tile: tile side for tiled inference; overlap: pixels tiles share (feathered).
        batch_size: frames per model call; None = 1 on CPU, 8 on a GPU.
        start, end: seconds of the source to restyle (the output starts at `start`).
        consistency, strength: the temporal stage (see `vidtoon.temporal`): "flow" blends each
            frame with the previous output along the optical flow; "none" is per frame.
        flow, flow_preset, flow_weights: the flow backend of the temporal stage.
        warmup_seconds: on resume, frames decoded and blended (not written) before the resume
            point, so the temporal state at the join is what an uninterrupted run would have.
        label: style label of a multi-style (CAAE) model.
        segment_seconds: length of the resumable segments.
        compile: `torch.compile` the generator (pays off on long films, costs ~20 s up front).
        encode: encoder settings.
    """

    device: str = "auto"
    precision: str = "auto"
    height: int | None = None
    max_side: int | None = None
    tile: int = 512
    overlap: int = 32
    batch_size: int | None = None
    start: Fraction | None = None
    end: Fraction | None = None
    consistency: str = "flow"
    strength: float = DEFAULT_STRENGTH
    flow: str = "dis"
    flow_preset: str = "fast"
    flow_weights: str | None = None
    warmup_seconds: Fraction = Fraction(1)
    label: str | None = None
    segment_seconds: int = 30
    compile: bool = False
    encode: EncodeOptions = field(default_factory=EncodeOptions)


class FrameRestyler:
    """uint8 RGB frames in, restyled uint8 RGB frames out (translate + temporal stages).

    Args:
        translator: the model, on its device.
        temporal: the temporal stage (stateful; reset on seeks and segment starts).
        process_height: height to translate at (None: the frames' own).
    """

    def __init__(self, translator: Translator, temporal: TemporalStage, *, process_height: int | None = None,
                 max_side: int | None = None, tile: int = 512, overlap: int = 32):
        self.translator = translator
        self.temporal = temporal
        self.process_height = process_height
        self.max_side = max_side
        self.tile = tile
        self.overlap = overlap
        self._tiled_after_oom: int | None = None

    def process_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the model sees for frames of `height`×`width`."""
        if self.process_height is None or self.process_height == height:
            return height, width
        multiple = self.translator.size_multiple
        new_h = self.process_height
        new_w = max(multiple, round(width * new_h / height / 2) * 2)
        return new_h, new_w

    @torch.inference_mode()
    def __call__(self, frames_u8: list[np.ndarray]) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8 (same size) -> N restyled frames of the same size."""
        device = self.translator.device
        batch = torch.from_numpy(np.stack(frames_u8)).to(device, non_blocking=True)
        x = batch.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # N×3×H×W in [-1, 1]
        height, width = x.shape[-2:]
        ph, pw = self.process_size(height, width)
        source = x if (ph, pw) == (height, width) else F.interpolate(x, size=(ph, pw), mode="bilinear", antialias=True, align_corners=False)
        translated = self._translate(source)
        y = self.temporal(source, translated)
        if (ph, pw) != (height, width):
            y = F.interpolate(y, size=(height, width), mode="bicubic", align_corners=False).clamp_(-1, 1)
        out = y.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        return list(out)

    def _translate(self, x: torch.Tensor) -> torch.Tensor:
        translator = self.translator
        if translator.fixed_size is not None:
            return translate_tiled(x, translator, tile=translator.fixed_size, overlap=self.overlap)
        side = self._tiled_after_oom or self.max_side
        if side is not None and max(x.shape[-2:]) > side:
            return self._translate_in_tiles(x, side)
        try:
            padded, (h, w) = pad_to_multiple(x, translator.size_multiple)
            return translator(padded)[..., :h, :w]
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            self._tiled_after_oom = max(translator.size_multiple * 2, (self._tiled_after_oom or max(x.shape[-2:])) // 2)
            log.warning("the GPU ran out of memory: translating in %d px tiles from now on", self._tiled_after_oom)
            return self._translate(x)


    def _translate_in_tiles(self, x: torch.Tensor, side: int) -> torch.Tensor:
        """Tiles of at most side×side; per-sample norm layers use each frame's whole-frame statistics, recorded
        on the frame downscaled to at most twice the tile side (4× a tile's memory)."""
        translator = self.translator
        multiple = translator.size_multiple
        tile = max(multiple, side // multiple * multiple)
        model = getattr(translator, "model", None)
        if model is None or not per_sample_norm_layers(model):
            return translate_tiled(x, translator, tile=(tile, tile), overlap=self.overlap, multiple=multiple)
        outputs = []
        for frame in x.split(1):
            height, width = frame.shape[-2:]
            scale = min(1.0, 2 * tile / max(height, width))  # statistics at up to twice the tile side
            small = F.interpolate(frame, scale_factor=scale, mode="area") if scale < 1 else frame
            with SharedNormStats(model) as stats:
                stats.record()
                padded, _ = pad_to_multiple(small, multiple)
                translator(padded)
                stats.reuse()
                outputs.append(translate_tiled(frame, translator, tile=(tile, tile), overlap=self.overlap, multiple=multiple))
        return torch.cat(outputs)


def default_output(source: Path, style: str) -> Path:
    """film.mp4 -> film.pixar.mp4; photo.jpg -> photo.pixar.png; frames/ -> frames.pixar/."""
    if source.is_dir():
        return source.resolve().with_name(f"{source.resolve().name}.{style}")
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return source.with_name(f"{source.stem}.{style}.png")
    suffix = source.suffix.lower() if source.suffix.lower() in (".mp4", ".mkv", ".mov", ".webm") else ".mp4"
    return source.with_name(f"{source.stem}.{style}{suffix}")


def restyle(
    source: str | Path,
    output: str | Path | None = None,
    *,
    translator: Translator,
    style_name: str = "restyled",
    options: RestyleOptions = RestyleOptions(),
    resume: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    job_key: dict | None = None,
) -> Path:
    """Restyle a video, an image or a folder of images with `translator`.

    Videos keep their frame count, timestamps, audio and subtitles; `resume` continues an
    interrupted run of the same output with the same settings (`job_key` identifies the model).

    Returns:
        The finished output (a video, an image, or a folder of images).
    """
    progress = progress or NoProgress()
    source = Path(source)
    output = Path(output) if output is not None else default_output(source, style_name)
    temporal = make_temporal_stage(options.consistency, strength=options.strength, flow=options.flow,
                                   flow_preset=options.flow_preset, flow_weights=options.flow_weights, device=translator.device)
    restyler = FrameRestyler(
        translator, temporal, process_height=options.height,
        max_side=options.max_side, tile=options.tile, overlap=options.overlap,
    )
    if source.is_dir():
        return _restyle_folder(source, output, restyler, force=force, progress=progress)
    info = probe(source)
    if info.is_image:
        return _restyle_image(source, output, restyler, force=force)
    return _restyle_video(source, output, restyler, options, resume=resume, force=force, progress=progress, job_key=job_key or {})


def _restyle_image(source: Path, output: Path, restyler: FrameRestyler, *, force: bool) -> Path:
    check_output(output, inputs=(source,), force=force)
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(f"output {output} of an image must be an image file", hint="use .png or .jpg")
    rgb = read_image(source)
    restyler.temporal.reset()
    staged = AtomicFile(output)
    try:
        write_image(staged.path, restyler([rgb])[0])
    except BaseException:
        staged.abort()
        raise
    return staged.commit()


def _restyle_folder(source: Path, output: Path, restyler: FrameRestyler, *, force: bool, progress: Progress) -> Path:
    files = list_images(source)
    progress.start(len(files), source.name)

    def restyled():
        for path in files:
            restyler.temporal.reset()  # a folder of photos: no frame follows another
            yield f"{path.stem}.png", restyler([read_image(path)])[0]

    return write_image_folder(output, restyled(), inputs=(source,), force=force, progress=progress)


def _restyle_video(source: Path, output: Path, restyler: FrameRestyler, options: RestyleOptions, *, resume: bool,
                   force: bool, progress: Progress, job_key: dict) -> Path:
    check_output(output, inputs=(source,), force=force)
    fmt = output_format(output)
    info = probe(source)
    fps = info.fps or Fraction(25)
    time_base = 1 / fps if fmt.constant_rate else info.time_base
    if fmt.muxer == "gif":
        return _restyle_video_direct(source, output, restyler, options, force=force, progress=progress)
    settings = {
        "source": str(source.resolve()), "source_size": source.stat().st_size, "model": job_key,
        "options": {k: (str(v) if isinstance(v, Fraction) else v) for k, v in asdict(options).items() if k not in ("device", "batch_size", "compile")},
        "format": fmt.muxer, "time_base": str(time_base),
    }
    if options.segment_seconds <= 0:
        raise UsageError(f"--segment-seconds must be above zero, got {options.segment_seconds}")
    job = SegmentedJob.open(output, settings, resume=resume, force=force)
    segment = Fraction(options.segment_seconds)
    first_segment = job.next_index
    resume_at = first_segment * segment
    warmup = min(resume_at, options.warmup_seconds) if options.consistency != "none" else Fraction(0)
    read_from = resume_at - warmup  # output time the reader starts at
    start = (options.start or Fraction(0)) + read_from
    expected = _expected_frames(info, options.start, options.end)
    progress.start(expected, source.name)
    if job.done:
        progress.advance(job.frame_count())
    batch_size = options.batch_size or (8 if restyler.translator.device.type == "cuda" else 1)

    with VideoReader(source, start=start, end=options.end) as reader:
        state = {"writer": None, "index": None}

        def write(item: tuple[int, Fraction, np.ndarray]) -> None:
            index, time, rgb = item
            if state["index"] != index:
                if state["writer"] is not None:
                    job.finish_segment(state["index"], state["writer"])
                state["writer"] = job.segment_writer(index, fps=fps, time_base=time_base, options=options.encode, video_codec=fmt.video_codec)
                state["index"] = index
            state["writer"].write(rgb, time)

        try:
            with BackgroundSink(write, depth=2 * batch_size + 4) as sink:
                restyler.temporal.reset()
                for times, frames in _batches(prefetch(reader, depth=2 * batch_size + 2), batch_size):
                    for time, rgb in zip(times, restyler(frames)):
                        absolute = time + read_from  # output time: from `options.start`
                        if absolute >= resume_at:  # earlier frames only warm the temporal stage up
                            sink.put((int(absolute // segment), absolute, rgb))
                            progress.advance()
            if state["writer"] is not None:
                job.finish_segment(state["index"], state["writer"])
        except BaseException:
            if state["writer"] is not None:
                state["writer"].abort()
            raise
    audio = AudioSource(source, origin=options.start or Fraction(0), end=options.end)
    result = join_segments(job, output, fps=fps, time_base=time_base, audio=audio, metadata=info.metadata, inputs=(source,), force=force)
    job.remove()
    return result


def _restyle_video_direct(source: Path, output: Path, restyler: FrameRestyler, options: RestyleOptions, *, force: bool,
                          progress: Progress) -> Path:
    """For outputs that cannot be joined from segments (GIF): one writer, no resume."""
    with VideoReader(source, start=options.start, end=options.end) as reader:
        info = reader.info
        with VideoWriter(output, fps=info.fps or Fraction(25), time_base=info.time_base, options=options.encode,
                         audio=AudioSource(source, origin=reader.start, end=options.end), metadata=info.metadata,
                         inputs=(source,), force=force) as writer:
            progress.start(_expected_frames(info, options.start, options.end), source.name)
            restyler.temporal.reset()
            for times, frames in _batches(prefetch(reader), options.batch_size or 1):
                for time, rgb in zip(times, restyler(frames)):
                    writer.write(rgb, time)
                progress.advance(len(frames))
    return writer.path


def _batches(frames, size: int):
    """Group frames into lists of `size` (the last may be shorter): yields (times, rgb arrays)."""
    times, images = [], []
    for frame in frames:
        times.append(frame.time)
        images.append(frame.rgb)
        if len(images) == size:
            yield times, images
            times, images = [], []
    if images:
        yield times, images


def _expected_frames(info, start: Fraction | None, end: Fraction | None) -> int | None:
    if info.frame_count is None or not info.fps:
        return info.frame_count
    first = math.floor((start or 0) * info.fps)
    last = min(info.frame_count, math.ceil(end * info.fps)) if end is not None else info.frame_count
    return max(0, last - first)


def load_translator(*, style: str | None = None, model: str | Path | None = None, device: str = "auto",
                    precision: str = "auto", label: str | None = None, compile: bool = False) -> tuple[Translator, str, dict, dict]:
    """The translator for `--to STYLE` or `--model FILE`.

    Returns:
        (translator, style name for file names, the style's default options, a key identifying the model for resume)
    """
    from vidtoon.models import load_checkpoint
    from vidtoon.models.checkpoint import file_sha256
    from vidtoon.models.translator import TorchTranslator
    from vidtoon.styles import find_style

    if (style is None) == (model is None):
        raise UsageError("give exactly one of --to STYLE or --model FILE")
    defaults: dict = {}
    if style is not None:
        card = find_style(style)
        path = card.checkpoint
        if not path.is_file():
            raise InputError(f"the {style!r} style's checkpoint is missing", path=path, hint=f"reinstall the style (card: {card.path})")
        if card.sha256 and file_sha256(path) != card.sha256:
            raise InputError(f"the {style!r} style's checkpoint does not match its card's sha256 (damaged or replaced)",
                             path=path, hint=f"reinstall the style (card: {card.path})")
        name, defaults = card.name, dict(card.defaults)
    else:
        path = Path(model)
        name = path.stem
    torch_device = resolve_device(device)
    key = {"file": str(Path(path).resolve()), "size": Path(path).stat().st_size if Path(path).exists() else None, "label": label}
    if Path(path).suffix.lower() == ".onnx":
        from vidtoon.models.onnx_model import OnnxTranslator

        return OnnxTranslator(path, device=torch_device), name, defaults, key
    module, model_card = load_checkpoint(path, device=torch_device)
    chosen_precision = resolve_precision(precision if precision != "auto" else defaults.get("precision"), torch_device)
    if compile:
        module = torch.compile(module)
    translator = TorchTranslator(module, model_card, device=torch_device, precision=chosen_precision, label=label or defaults.get("label"))
    return translator, name, defaults, key
