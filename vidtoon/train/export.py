"""`vidtoon export RUN`: a training run becomes an installable style.

Writes, in the output folder:

    NAME.safetensors      the generator (fp16 weights) with its model card (family, kwargs, labels, data, steps)
    NAME.yaml             a style card (`vidtoon.styles`): checkpoint, sha256, preview, data
    NAME.preview.png      the run's latest sample grid
    onnx/NAME.onnx        with --onnx (a CAAE: onnx/NAME.LABEL.onnx per label), each with its sidecar YAML

Either every file appears or none does: everything is written into a hidden folder inside the output folder (the
ONNX graphs first, the step most likely to fail) and moved into place only when all of it is written.

Put the folder in `$VIDTOON_STYLES` (or copy it to ~/.local/share/vidtoon/styles) and restyle with
`--to NAME`, or give the checkpoint directly: `--model NAME.safetensors`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import torch
import yaml
from torch import nn

from vidtoon.checks import choice
from vidtoon.errors import OutputError, UsageError
from vidtoon.files import write_atomic
from vidtoon.io.paths import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from vidtoon.models.checkpoint import ModelCard, save_checkpoint
from vidtoon.train.config import load_config
from vidtoon.train.provenance import get_provenance
from vidtoon.train.run import CHECKPOINT, CONFIG, get_kind
from vidtoon.train.state import read_checkpoint


@dataclass(frozen=True)
class ExportResult:
    name: str
    checkpoint: Path
    card: Path
    preview: Path | None
    onnx: list[Path]
    sha256: str
    styles: tuple[str, ...] = ()


class FixedLabel(nn.Module):
    """A conditional generator with its label fixed: forward(x) = generator(x, label). For ONNX export."""

    def __init__(self, generator: nn.Module, label: int):
        super().__init__()
        self.generator = generator
        self.label = label

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        label = torch.full((x.shape[0],), self.label, dtype=torch.long, device=x.device)
        return self.generator(x, label)


DIRECTIONS = ("a2b", "b2a")
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


@dataclass(frozen=True)
class ExportOptions:
    """What `export_run` is asked for, checked before the run is read (a bad value raises `UsageError` naming the flag).

    Attributes:
        name: the style's name (letters, digits, '_', '-', '.'); None = the run folder's name.
        direction: "a2b" (photos -> style) or "b2a" (CycleGAN only).
        provenance: a preset of `vidtoon.train.provenance` or None.
    """

    name: str | None = None
    direction: str = "a2b"
    provenance: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None and not (isinstance(self.name, str) and re.fullmatch(_NAME, self.name)):
            raise UsageError(f"style name {self.name!r} must be letters, digits, '_', '-' or '.'", hint="pass --name")
        choice("--direction", self.direction, DIRECTIONS)
        if self.provenance is not None:
            get_provenance(self.provenance)


def export_run(
    run_dir: str | Path,
    output_dir: str | Path,
    *,
    name: str | None = None,
    direction: str = "a2b",
    onnx: bool = False,
    licence: str = "",
    credits: str | None = None,
    data: str | None = None,
    provenance: str | None = None,
    force: bool = False,
) -> ExportResult:
    """Export the latest checkpoint of `run_dir` as the style `name` (default: the run folder's name) into `output_dir`.

    Args:
        direction: CycleGAN only: "a2b" exports the photos -> style generator, "b2a" the reverse.
        onnx: also write ONNX graphs (dynamic batch, height and width).
        licence, credits, data: what the model card and the style card say about the training data's
            terms, whom to credit, and the data itself, kept as given (default: the last component of each of the run's
            data paths, "photos/ (412 images)": a card is shared with the weights, the machine's paths are not; the
            run's config.yaml keeps them whole). `vidtoon styles` shows the licence.
        provenance: a preset of `vidtoon.train.provenance` ("pixar", "anime") giving data, licence, credits and the
            style's restyle defaults (e.g. `faces: true`); explicit `licence`, `credits`, `data` win over it.

    The style card also records how the style was trained: trainer, steps, resolution, checkpoint size, date, and
    (cartoon runs) the look measures of the last held-out sheet.

    Raises:
        InputError: not a run folder; OutputError: the files exist (without `force`); UsageError: a bad name.
    """
    ExportOptions(name=name, direction=direction, provenance=provenance)
    run_dir, output_dir = Path(run_dir), Path(output_dir)
    state = read_checkpoint(run_dir / CHECKPOINT)
    spec = get_kind(state["kind"])
    config = load_config(spec.config, run_dir / CONFIG)
    name = name or run_dir.resolve().name
    if not re.fullmatch(_NAME, name):
        raise UsageError(f"style name {name!r} must be letters, digits, '_', '-' or '.'", hint="pass --name")
    labels = tuple(state["trainer"]["extra"].get("labels", ()))
    trainer = spec.trainer(config, device=torch.device("cpu"), precision="fp32", **({"labels": labels} if labels else {}))
    trainer.load_state_dict(state["trainer"])
    model, family, kwargs, styles = trainer.exported_generator(direction)
    model = model.to(memory_format=torch.contiguous_format).float().eval()

    checkpoint, card_path, preview = (
        output_dir / f"{name}.safetensors",
        output_dir / f"{name}.yaml",
        output_dir / f"{name}.preview.png",
    )
    onnx_dir = output_dir / "onnx"
    graphs = [onnx_dir / f"{stem}{suffix}" for stem in onnx_stems(name, styles) for suffix in (".onnx", ".yaml")]
    targets = [checkpoint, card_path, preview] + (graphs if onnx else [])  # other styles' graphs in onnx/ stay
    existing = [p.relative_to(output_dir).as_posix() for p in targets if p.exists()]
    if existing and not force:
        raise OutputError(
            f"already holds {', '.join(existing)}", path=output_dir, hint="pass --force to replace, or another --name/-o"
        )

    defaults: dict = {}
    if provenance is not None:
        preset = get_provenance(provenance)
        data = preset.data if data is None else data
        licence = licence or preset.licence
        credits = preset.credits if credits is None else credits
        defaults = dict(preset.defaults)
    if data is None:  # the card goes out with the weights: no path of this machine (config.yaml keeps them whole)
        data = (
            f"A: {shared_data_name(config.a)}; B: {shared_data_name(config.b)}"
            if state["kind"] in ("cyclegan", "cartoon")
            else f"{shared_data_name(config.data)} (labels from column {config.label_column!r})"
        )
    credits = credits if credits is not None else f"trained with vidtoon from the run {run_dir.resolve().name}"
    notes = {
        "trainer": state["kind"],
        "steps": int(state["step"]),
        "size": config.size,
        "seed": config.seed,
        "exported": date.today().isoformat(),
        "credits": credits,
        **({"direction": direction} if state["kind"] == "cyclegan" else {}),
    }
    card = ModelCard(
        family=family,
        kwargs=kwargs,
        size_multiple=int(getattr(model, "size_multiple", 4)),
        styles=styles,
        name=name,
        data=data,
        licence=licence,
        notes=notes,
        height=defaults.pop("height", None),
    )
    samples = sorted((run_dir / "samples").glob("step_*.png"))
    created = [folder for folder in (output_dir, *output_dir.parents) if not folder.exists()]
    output_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=output_dir, prefix=f".{name}.export-"))
    try:
        onnx_files = export_onnx(model, styles, stage / "onnx", name, card.size_multiple, config.size) if onnx else []
        sha256 = save_checkpoint(model, stage / checkpoint.name, card, half=True)
        if samples:
            shutil.copyfile(samples[-1], stage / preview.name)
        shown = preview.name if samples else None
        style_card = _style_card(state, config, name, family, styles, notes, defaults, stage / checkpoint.name, sha256, shown)
        write_atomic(stage / card_path.name, lambda staged: staged.write_text(yaml.safe_dump(style_card, sort_keys=False)))
        if onnx:  # in place: the graphs, then the weights and the preview, the card that names them last
            onnx_dir.mkdir(exist_ok=True)
            for item in sorted((stage / "onnx").iterdir()):
                os.replace(item, onnx_dir / item.name)
        for target in (checkpoint, preview, card_path):
            if (stage / target.name).exists():
                os.replace(stage / target.name, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        for folder in created:  # the folders this call made, innermost first, when nothing else is in them
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(stage, ignore_errors=True)
    onnx_files = [onnx_dir / path.name for path in onnx_files]
    return ExportResult(name, checkpoint, card_path, preview if samples else None, onnx_files, sha256, styles)


def shared_data_name(path: str) -> str:
    """A run's training data as a shared card shows it: the last path component only ("photos/ (412 images)" for a
    folder, with what it holds when it is still there; "film.mp4" for a video), never the full path of the machine
    it was trained on."""
    where = Path(path)
    name = where.name or where.resolve().name
    if not where.is_dir():
        return name
    files = [item.suffix.lower() for item in where.iterdir() if item.is_file()]
    images, videos = sum(s in IMAGE_SUFFIXES for s in files), sum(s in VIDEO_SUFFIXES for s in files)
    held = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((images, "image"), (videos, "video")) if n]
    return f"{name}/ ({', '.join(held)})" if held else f"{name}/"


def _style_card(state, config, name, family, styles, notes, defaults, checkpoint: Path, sha256: str, preview) -> dict:
    """The style card's fields (NAME.yaml) for the weights written at `checkpoint` (and the preview's name, or None)."""
    description = {
        "cyclegan": f"CycleGAN ({family}) trained {notes['steps']} steps at {config.size} px",
        "cartoon": f"one-way cartoon generator ({family}) trained {notes['steps']} steps on {config.size} px crops",
    }.get(
        state["kind"],
        f"CAAE trained {notes['steps']} steps at {config.size} px; styles: {', '.join(styles)} (choose with --to-label)",
    )
    training = {
        "trainer": state["kind"],
        "steps": notes["steps"],
        "resolution": config.size,
        "size_mb": round(checkpoint.stat().st_size / 1e6, 2),
        "date": notes["exported"],
        **({"init_from": config.init_from} if getattr(config, "init_from", "") else {}),
        **look_of(state),
    }
    return {
        "name": name,
        "description": description,
        "checkpoint": checkpoint.name,
        "sha256": sha256,
        **({"preview": preview} if preview else {}),
        # data, licence, credits and the processing height live in the weights' own card (read from there)
        **({"defaults": defaults} if defaults else {}),
        "training": training,
    }


def look_of(state: dict) -> dict:
    """The look measures of a cartoon run's last held-out sheet ({} when it has none)."""
    quality = state["trainer"]["extra"].get("quality")
    if quality is None or len(quality) == 0:
        return {}
    step, cast, checker, *rest = (float(v) for v in quality[-1])
    look = {"step": int(step), "colour_cast_lab": round(cast, 2), "checkerboard": round(checker, 2)}
    blotch, distance = (rest + [float("nan")] * 2)[:2]  # sheets from before a measure have none (NaN)
    if blotch == blotch:
        look["blotches"] = round(blotch, 4)
    if distance == distance:
        look["distance_to_target"] = round(distance, 2)
    return {"look": look}


@contextlib.contextmanager
def _atanh_symbolic():
    """While exporting, write `torch.atanh` (the CycleGAN skip connection's) as ONNX's own Atanh (opset 9 on).

    The TorchScript exporter has no symbolic for aten::atanh although ONNX has the operator; the mapping is
    registered for the export only and removed after it.
    """
    torch.onnx.register_custom_op_symbolic("aten::atanh", lambda g, x: g.op("Atanh", x), 9)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::atanh", 9)


def onnx_stems(name: str, styles: tuple[str, ...]) -> list[str]:
    """The file stems of a style's ONNX graphs: NAME, or NAME.LABEL per label of a conditional model."""
    return [f"{name}.{label}" for label in styles] if styles else [name]


def export_onnx(model: nn.Module, styles: tuple[str, ...], folder: Path, name: str, size_multiple: int, size: int) -> list[Path]:
    """ONNX graphs (N×3×H×W in [-1, 1] -> same; batch, height and width dynamic), each with its sidecar YAML.

    A conditional model gives one graph per label (NAME.LABEL.onnx) with the label built in.

    Raises:
        UsageError: the model holds an operation the exporter cannot write (one line, naming it).
    """
    folder.mkdir(parents=True, exist_ok=True)
    modules = [FixedLabel(model, k).eval() for k in range(len(styles))] if styles else [model]
    graphs = list(zip(onnx_stems(name, styles), modules, strict=True))
    sidecar = {
        "layout": "nchw",
        "value_range": [-1.0, 1.0],
        "channel_order": "rgb",
        "fixed_size": None,
        "size_multiple": size_multiple,
        "input_name": "image",
        "output_name": "stylised",
    }
    written = []
    axes = {0: "batch", 2: "height", 3: "width"}
    for stem, module in graphs:
        target = folder / f"{stem}.onnx"
        example = torch.zeros(1, 3, size, size)
        with warnings.catch_warnings(), _atanh_symbolic():  # (the exporter's deprecation and shape-inference notes)
            warnings.simplefilter("ignore")
            try:
                write_atomic(
                    target,
                    lambda staged, module=module, example=example: torch.onnx.export(
                        module,
                        (example,),
                        str(staged),
                        dynamo=False,
                        opset_version=17,
                        input_names=["image"],
                        output_names=["stylised"],
                        dynamic_axes={"image": axes, "stylised": axes},
                    ),
                )
            except torch.onnx.errors.OnnxExporterError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UsageError(f"this model cannot be exported to ONNX: {reason}", hint="export without --onnx") from None
        write_atomic(folder / f"{stem}.yaml", lambda staged: staged.write_text(yaml.safe_dump(sidecar, sort_keys=False)))
        written.append(target)
    return written
