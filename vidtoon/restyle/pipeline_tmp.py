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
from vidtoon.faces import BoxTrack, crop_inside, cut, detect_faces, face_detector, face_square, match_tracks, paste
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
        faces: translate only the faces: each detected face's square crop (`face_margin` × the face's
            size added on every side) at `face_size`×`face_size`, pasted back through a feathered disc;
            every other pixel stays the source's. In a video each face is a smoothed box track with its
            own temporal stage (see `FaceRestyler`); `height` is not used (the crops are `face_size`).
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
    faces: bool = False
    face_size: int = 256
    face_margin: float = 0.4
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

    def reset(self) -> None:
        """Forget the past (a seek, a segment start, a new photo)."""
        self.temporal.reset()

    @torch.inference_mode()
    def __call__(self, frames_u8: list[np.ndarray], times: list[Fraction] | None = None) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8 (same size) -> N restyled frames of the same size (`times` unused)."""
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


class _FaceTrack:
    """One face over time: its smoothed box and its own translate + temporal stages."""

    def __init__(self, box: BoxTrack, restyler: FrameRestyler):
        self.box, self.restyler = box, restyler


class FaceRestyler:
    """uint8 RGB frames in and out, only the faces restyled; every pixel outside their feathered discs is the source's.

    Per frame: detect the faces (OpenCV's Haar cascade), follow each as a `BoxTrack` (One-Euro-smoothed square),
    cut its square at `face_size`×`face_size`, translate it with the track's own `FrameRestyler` (so the temporal
    stage sees only that face's crops, flow computed on the input crops), and paste it back with `paste`.
    A detection that continues no track starts a fresh one (fresh temporal state). Only faces detected in a frame
    are painted: a frame with none is passed through unchanged and counted (`frames_without_face`). A track
    missing for up to `hold` frames keeps its state (box filter, temporal stage), so a detector's dropout does
    not restart it; missing longer, it ends.

    Args:
        translator: the model, on its device.
        make_temporal: makes a new temporal stage for each face track.
        face_size: side of the crop the model sees (px). margin: added around the face box, × its size, each side.
        feather: width of the paste-back's soft edge as a fraction of the disc's radius.
        hold: frames a track survives without a detection (not painted meanwhile).
    """

    def __init__(self, translator: Translator, make_temporal, *, face_size: int = 256, margin: float = 0.4,
                 feather: float = 0.3, hold: int = 2, max_side: int | None = None, tile: int = 512, overlap: int = 32):
        if face_size < 32:
            raise UsageError(f"--face-size must be at least 32 px, got {face_size}", hint="256 suits most face models")
        if margin < 0:
            raise UsageError(f"face margin must be 0 or more, got {margin}")
        self.translator = translator
        self.make_temporal = make_temporal
        self.face_size, self.margin, self.feather, self.hold = face_size, margin, feather, hold
        self._restyler_args = {"max_side": max_side, "tile": tile, "overlap": overlap}
        self.detector = face_detector()
        self.tracks: list[_FaceTrack] = []
        self.frames_seen = 0
        self.frames_without_face = 0
        self.faces_translated = 0
        self.tracks_started = 0

    def reset(self) -> None:
        """Forget every track (a seek, a segment start, a new photo)."""
        self.tracks = []

    def __call__(self, frames_u8: list[np.ndarray], times: list[Fraction] | None = None) -> list[np.ndarray]:
        """frames_u8: N frames H×W×3 uint8, times: their times in seconds (None: one photo each, no smoothing)."""
        out = []
        for i, rgb in enumerate(frames_u8):
            if times is None:
                self.reset()
            out.append(self._frame(rgb, float(times[i]) if times is not None else 0.0))
        return out

    def _frame(self, rgb: np.ndarray, time: float) -> np.ndarray:
        self.frames_seen += 1
        height, width = rgb.shape[:2]
        squares = [face_square(face, margin=self.margin) for face in detect_faces(rgb, self.detector)]
        matched, new = match_tracks([track.box for track in self.tracks], squares)
        seen = set()
        for i, j in matched:
            self.tracks[i].box.update(squares[j], time)
            seen.add(i)
        for i, track in enumerate(self.tracks):
            if i not in seen:
                track.box.missed += 1
        self.tracks = [track for track in self.tracks if track.box.missed <= self.hold]
        for j in new:
            restyler = FrameRestyler(self.translator, self.make_temporal(), **self._restyler_args)
            self.tracks.append(_FaceTrack(BoxTrack(squares[j], time), restyler))
            self.tracks_started += 1
        visible = [track for track in self.tracks if track.box.missed == 0]
        if not visible:
            self.frames_without_face += 1
            return rgb
        result = rgb
        for track in visible:
            crop = crop_inside(track.box.square, (width, height))
            face = track.restyler([cut(rgb, crop, self.face_size)])[0]
            result = paste(result, face, crop, feather=self.feather)
            self.faces_translated += 1
        return result


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
    def make_temporal() -> TemporalStage:
        return make_temporal_stage(options.consistency, strength=options.strength, flow=options.flow,
                                   flow_preset=options.flow_preset, flow_weights=options.flow_weights, device=translator.device)

    restyler: FrameRestyler | FaceRestyler
    if options.faces:
        restyler = FaceRestyler(translator, make_temporal, face_size=options.face_size, margin=options.face_margin,
                                max_side=options.max_side, tile=options.tile, overlap=options.overlap)
    else:
        restyler = FrameRestyler(translator, make_temporal(), process_height=options.height,
                                 max_side=options.max_side, tile=options.tile, overlap=options.overlap)
    if source.is_dir():
        return _restyle_folder(source, output, restyler, force=force, progress=progress)
    info = probe(source)
    if info.is_image:
        return _restyle_image(source, output, restyler, force=force)
    return _restyle_video(source, output, restyler, options, resume=resume, force=force, progress=progress, job_key=job_key or {})


def _restyle_image(source: Path, output: Path, restyler: FrameRestyler | FaceRestyler, *, force: bool) -> Path:
    check_output(output, inputs=(source,), force=force)
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(f"output {output} of an image must be an image file", hint="use .png or .jpg")
    rgb = read_image(source)
    restyler.reset()
    restyled = restyler([rgb])[0]
    if isinstance(restyler, FaceRestyler) and restyler.frames_without_face:
        raise InputError("no face found in this image", path=source,
                         hint="drop --faces to restyle the whole picture, or use one with a clear, frontal face")
    staged = AtomicFile(output)
    try:
        write_image(staged.path, restyled)
    except BaseException:
        staged.abort()
        raise
    return staged.commit()


def _restyle_folder(source: Path, output: Path, restyler: FrameRestyler | FaceRestyler, *, force: bool, progress: Progress) -> Path:
    files = list_images(source)
    progress.start(len(files), source.name)

    def restyled():
        for path in files:
            restyler.reset()  # a folder of photos: no frame follows another
            yield f"{path.stem}.png", restyler([read_image(path)])[0]

    result = write_image_folder(output, restyled(), inputs=(source,), force=force, progress=progress)
    _warn_faceless(restyler, "images")
    return result


def _warn_faceless(restyler: FrameRestyler | FaceRestyler, what: str) -> None:
    """In --faces mode, say how many frames (or images) had no face and were left as they were."""
    if isinstance(restyler, FaceRestyler) and restyler.frames_without_face:
        log.warning("%d of %d %s had no face and were left unchanged", restyler.frames_without_face, restyler.frames_seen, what)


def _restyle_video(source: Path, output: Path, restyler: FrameRestyler | FaceRestyler, options: RestyleOptions, *, resume: bool,
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
                restyler.reset()
                for times, frames in _batches(prefetch(reader, depth=2 * batch_size + 2), batch_size):
                    for time, rgb in zip(times, restyler(frames, times)):
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
    _warn_faceless(restyler, "frames")
    audio = AudioSource(source, origin=options.start or Fraction(0), end=options.end)
    result = join_segments(job, output, fps=fps, time_base=time_base, audio=audio, metadata=info.metadata, inputs=(source,), force=force)
    job.remove()
    return result


def _restyle_video_direct(source: Path, output: Path, restyler: FrameRestyler | FaceRestyler, options: RestyleOptions, *, force: bool,
                          progress: Progress) -> Path:
    """For outputs that cannot be joined from segments (GIF): one writer, no resume."""
    with VideoReader(source, start=options.start, end=options.end) as reader:
        info = reader.info
        with VideoWriter(output, fps=info.fps or Fraction(25), time_base=info.time_base, options=options.encode,
                         audio=AudioSource(source, origin=reader.start, end=options.end), metadata=info.metadata,
                         inputs=(source,), force=force) as writer:
            progress.start(_expected_frames(info, options.start, options.end), source.name)
            restyler.reset()
            for times, frames in _batches(prefetch(reader), options.batch_size or 1):
                for time, rgb in zip(times, restyler(frames, times)):
                    writer.write(rgb, time)
                progress.advance(len(frames))
    _warn_faceless(restyler, "frames")
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
