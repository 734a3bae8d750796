"""Training configuration: one frozen dataclass per trainer, loaded as defaults < YAML file < CLI overrides.

Unknown keys are refused wherever they come from (a file, `--set key=value`), so a typo never trains
silently with a default. The resolved configuration is written beside the checkpoints (`config.yaml`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from vidtoon.checks import device_name
from vidtoon.errors import InputError, UsageError
from vidtoon.parsing import parse_rate

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
GENERATORS = ("resnet", "unet")
# Keys a resumed run may change: they steer the run, not what is learnt.
RUN_CONTROL_KEYS = frozenset(
    {"steps", "time_limit", "save_every", "sample_every", "log_every", "device", "workers", "data_on_device"}
)


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation of every training image (see `vidtoon.train.augment`).

    Attributes:
        scale: (min, max) fraction of the image area a random resized crop keeps.
        ratio: (min, max) aspect ratio of the crop.
        flip: random horizontal flips.
        brightness, contrast, saturation: colour jitter, each factor drawn from [1 - v, 1 + v]; 0 turns it off.
        noise: standard deviation of added Gaussian noise, in [-1, 1] pixel units; 0 turns it off.
        tint: white-balance jitter: each RGB channel × a gain drawn from [e^-v, e^v], the three scaled to keep the
            luma; 0 turns it off. The cartoon trainer applies the same gains to a photo and its code-made target, so
            the generator learns to keep whatever tint a shot has (no colour cast on footage lit unlike the photos).
    """

    scale: tuple[float, float] = (0.6, 1.0)
    ratio: tuple[float, float] = (0.8, 1.25)
    flip: bool = True
    brightness: float = 0.1
    contrast: float = 0.1
    saturation: float = 0.1
    noise: float = 0.0
    tint: float = 0.0

    def __post_init__(self) -> None:
        for key in ("scale", "ratio"):
            low, high = getattr(self, key)
            if not 0 < low <= high or (key == "scale" and high > 1):
                raise UsageError(
                    f"augment.{key} must be [low, high] with 0 < low <= high{' <= 1' if key == 'scale' else ''}, got {[low, high]}"
                )
            object.__setattr__(self, key, (float(low), float(high)))
        for key in ("brightness", "contrast", "saturation"):
            if not 0 <= getattr(self, key) < 1:
                raise UsageError(f"augment.{key} must be in [0, 1), got {getattr(self, key)}")
        if self.noise < 0:
            raise UsageError(f"augment.noise must be >= 0, got {self.noise}")
        if not 0 <= self.tint <= 1:
            raise UsageError(f"augment.tint must be in [0, 1], got {self.tint}", hint="0.15 gives ±15 % channel gains")


@dataclass(frozen=True)
class RunConfig:
    """What every trainer shares: data sampling, resolution, optimiser, precision and the run's rhythm.

    Attributes:
        size: training crop side in pixels (128–192 on a CPU).
        load_size: shorter side images and video frames are resized to when loaded (0: size × 9/8).
        fps: frames per second sampled from videos given as data.
        max_frames: at most this many frames kept per video (evenly spread over it).
        batch_size: images per step.
        steps: optimiser steps in total (a resumed run continues to this).
        time_limit: seconds of training in one session, first step (and any compiling) included; 0: no limit. At the
            limit the run stops as after Ctrl-C (a checkpoint, and a sample sheet so its look is measured), to be
            resumed.
        decay_start: fraction of `steps` after which the learning rate decays linearly to zero.
        lr, beta1, beta2: Adam.
        seed: seeds data order, augmentation, initial weights, the image pool and the prior.
        device: "auto", "cpu", "cuda" or "cuda:N".
        precision: "auto" (bf16 on a CPU with native bf16 or a GPU that has it, else fp16 on a GPU, fp32 on a CPU),
            "fp32", "bf16", "fp16" (GPU only, with a gradient scaler).
        channels_last: convolutions in channels-last memory format.
        workers: background threads preparing batches (0: in the training thread).
        data_on_device: hold the training images on the training device and cut each batch there (a GPU run's
            batches then cost no CPU time; the images must fit in its memory: pixar's 1,190 frames take 0.8 GB).
        save_every, sample_every, log_every: steps between checkpoints, sample grids + loss curves, metric rows.
        augment: see `AugmentConfig`.
    """

    size: int = 128
    load_size: int = 0
    fps: str = "2"
    max_frames: int = 3000
    batch_size: int = 1
    steps: int = 10000
    time_limit: float = 0.0
    decay_start: float = 0.5
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool = True
    workers: int = 1
    data_on_device: bool = False
    save_every: int = 500
    sample_every: int = 250
    log_every: int = 10
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        _positive(self, "size", "batch_size", "steps", "save_every", "sample_every", "log_every", "max_frames")
        if not 0 <= self.time_limit < math.inf:
            raise UsageError(f"time_limit must be seconds >= 0 (0: no limit), got {self.time_limit}")
        if self.size % 16:
            raise UsageError(f"size must be a multiple of 16, got {self.size}")
        if self.load_size and self.load_size < self.size:
            raise UsageError(f"load_size ({self.load_size}) must be at least size ({self.size}), or 0")
        if not 0 <= self.decay_start <= 1:
            raise UsageError(f"decay_start must be a fraction in [0, 1], got {self.decay_start}")
        if self.lr <= 0 or not 0 <= self.beta1 < 1 or not 0 <= self.beta2 < 1:
            raise UsageError(f"lr must be > 0 and betas in [0, 1), got lr={self.lr} beta1={self.beta1} beta2={self.beta2}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"unknown precision {self.precision!r}", hint=f"use one of {', '.join(PRECISIONS)}")
        if self.workers < 0:
            raise UsageError(f"workers must be >= 0, got {self.workers}")
        _at_most(self, size=4096, load_size=16384, batch_size=4096, workers=64)
        if not 0 <= self.seed < 2**63:
            raise UsageError(f"seed must be a whole number from 0 to 2**63 - 1, got {self.seed}")
        if self.lr > 1:
            raise UsageError(f"lr must be at most 1, got {self.lr}", hint="Adam learning rates are around 1e-4 to 1e-3")
        parse_rate(self.fps, flag="--fps")
        device_name("--device", self.device)

    @property
    def resolved_load_size(self) -> int:
        return self.load_size or self.size * 9 // 8


@dataclass(frozen=True)
class CycleGANConfig(RunConfig):
    """`vidtoon train cyclegan`: two generators, two PatchGANs, LSGAN + cycle + identity losses.

    Attributes:
        a, b: domain A (photos) and B (the style): a folder of images and/or videos, or one video.
        generator: "resnet" (`cyclegan_resnet`) or "unet" (`cyclegan_unet`).
        ngf, n_blocks, upsample: ResNet generator (upsample "resize" avoids checkerboard artefacts).
        num_downs: U-Net levels (size must be a multiple of 2**num_downs).
        ndf, d_layers: PatchGAN discriminators.
        lambda_cycle: weight of the cycle losses (λ); lambda_identity: identity weight as a fraction of λ.
        pool_size: generated images remembered per discriminator (the image history pool; 0: none).
    """

    a: str = ""
    b: str = ""
    generator: str = "resnet"
    ngf: int = 32
    n_blocks: int = 6
    upsample: str = "resize"
    num_downs: int = 7
    ndf: int = 64
    d_layers: int = 3
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.generator not in GENERATORS:
            raise UsageError(f"unknown generator {self.generator!r}", hint=f"use one of {', '.join(GENERATORS)}")
        _positive(self, "ngf", "ndf", "d_layers")
        _patches_fit(self)
        if self.generator == "unet" and self.size % 2**self.num_downs:
            raise UsageError(
                f"a U-Net with num_downs={self.num_downs} needs size a multiple of {2**self.num_downs}, got {self.size}",
                hint="lower num_downs or change size",
            )
        if self.lambda_cycle < 0 or self.lambda_identity < 0 or self.pool_size < 0:
            raise UsageError("lambda_cycle, lambda_identity and pool_size must be >= 0")

    def generator_family(self) -> tuple[str, dict[str, Any]]:
        """(registry family, constructor kwargs) of both generators."""
        if self.generator == "resnet":
            return "cyclegan_resnet", {"ngf": self.ngf, "n_blocks": self.n_blocks, "upsample": self.upsample}
        return "cyclegan_unet", {"ngf": self.ngf, "num_downs": self.num_downs}

    def discriminator_kwargs(self) -> dict[str, Any]:
        return {"ndf": self.ndf, "n_layers": self.d_layers}


@dataclass(frozen=True)
class CAAEConfig(RunConfig):
    """`vidtoon train caae`: encoder, label-conditioned decoder, a latent and an image discriminator.

    Attributes:
        data: a folder of frames with a `manifest.csv` (written by `vidtoon frames --tag`).
        label_column: the manifest column whose values are the style labels.
        z_dim, ngf: the generator (`caae` family); ndf, d_layers: the image discriminator; ndf_z: the latent one.
        lambda_l1, lambda_tv: reconstruction weights (L1 and total variation).
        lambda_z, lambda_img: adversarial weights of the latent and image discriminators.
        warmup_steps: autoencoder-only steps before the adversarial phase starts.
    """

    data: str = ""
    label_column: str = ""
    z_dim: int = 50
    ngf: int = 32
    ndf: int = 32
    d_layers: int = 3
    ndf_z: int = 64
    lambda_l1: float = 1.0
    lambda_tv: float = 0.01
    lambda_z: float = 0.01
    lambda_img: float = 0.01
    warmup_steps: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive(self, "z_dim", "ngf", "ndf", "d_layers", "ndf_z")
        _patches_fit(self)
        if min(self.lambda_l1, self.lambda_tv, self.lambda_z, self.lambda_img) < 0 or self.warmup_steps < 0:
            raise UsageError("the lambda_* weights and warmup_steps must be >= 0")


C = TypeVar("C", bound=RunConfig)

# Keys naming data folders or files (cyclegan/cartoon `a`, `b`, cartoon `targets`, caae `data`): saved absolute in a
# run's config.yaml, so that `--resume` finds the data from any working directory.
DATA_PATH_KEYS = ("a", "b", "targets", "data")


def with_absolute_data_paths(config: C) -> C:
    """`config` with the relative paths of its `DATA_PATH_KEYS` made absolute (against the working directory, where
    they are read); empty ones unchanged."""
    paths = {key: getattr(config, key) for key in DATA_PATH_KEYS if hasattr(config, key)}
    return dataclasses.replace(config, **{key: os.path.abspath(path) for key, path in paths.items() if path})


def _at_most(config: Any, **limits: int) -> None:
    for key, limit in limits.items():
        if getattr(config, key) > limit:
            raise UsageError(f"{key} must be at most {limit}, got {getattr(config, key)}")


def _positive(config: Any, *keys: str) -> None:
    for key in keys:
        if getattr(config, key) < 1:
            raise UsageError(f"{key} must be >= 1, got {getattr(config, key)}")


def _patches_fit(config: Any) -> None:
    """The PatchGAN discriminators see `size`-px crops and halve them `d_layers` times: their last two 4×4 convolutions
    need at least 3×3 cells left (`size >> d_layers >= 3`), or the first step fails inside torch."""
    size, layers = config.size, config.d_layers
    if size >> layers < 3:
        fewest = -(-(3 << layers) // 16) * 16
        most = (size // 3).bit_length() - 1
        raise UsageError(
            f"size {size} is too small for discriminators with d_layers={layers} (they need size >= {fewest})",
            hint=f"pass --size {fewest} or more, or --set d_layers={most}",
        )


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """Plain YAML-able values (tuples become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return plain(dataclasses.asdict(config))


def save_config(config: RunConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(config_to_dict(config), sort_keys=False))


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping."""
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", path=path, hint="check the --config path")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(
            f"config file is not readable YAML ({str(exc).splitlines()[0]})", path=path, hint="fix its syntax"
        ) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError("config file must be a YAML mapping of keys to values", path=path)
    return raw


def load_config(cls: type[C], yaml_path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> C:
    """`cls`'s defaults, updated by the YAML file, then by `overrides` (CLI flags; `None` values are ignored).

    Override keys may be dotted (`augment.flip`); string values are converted to the field's type
    (`"false"`, `"0.5"`, `"[0.5, 1]"`).

    Raises:
        InputError: the file is unreadable or holds an unknown key.
        UsageError: an override has an unknown key or a value of the wrong type, or a value is out of range.
    """
    values = config_to_dict(cls())
    if yaml_path is not None:
        raw = read_yaml_mapping(yaml_path)
        try:
            _merge(cls, values, raw, prefix="")
        except UsageError as exc:
            raise InputError(exc.what, path=yaml_path, hint=exc.hint) from None
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        head, _, tail = key.replace("-", "_").partition(".")
        _merge(cls, values, {head: {tail: value}} if tail else {head: value}, prefix="")
    return _build(cls, values)


def _field_types(cls: type) -> dict[str, Any]:
    import typing

    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _merge(cls: type, values: dict[str, Any], raw: dict[str, Any], prefix: str) -> None:
    types = _field_types(cls)
    for key, value in raw.items():
        if key not in types:
            raise UsageError(
                f"unknown config key {prefix + str(key)!r}", hint=f"known keys: {', '.join(prefix + k for k in types)}"
            )
        kind = types[key]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise UsageError(f"config key {prefix + key!r} must be a mapping, got {value!r}")
            _merge(kind, values[key], value, prefix=f"{prefix}{key}.")
        else:
            values[key] = _coerce(value, kind, prefix + key)


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """`value` (from YAML or a CLI string) as the field type `kind` (bool, int, float, str or a 2-tuple of floats)."""
    if isinstance(value, str) and kind is not str:
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UsageError(f"config key {key!r}: cannot read {value!r}") from None
    expected = getattr(kind, "__name__", str(kind))
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        expected = "a finite number"
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif kind is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    else:  # tuple[float, float]
        expected = "a pair [low, high]"
        if (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        ):
            return [float(v) for v in value]
    raise UsageError(f"config key {key!r} must be {expected}, got {value!r}")


def _build(cls: type[C], values: dict[str, Any]) -> C:
    types = _field_types(cls)
    kwargs = {}
    for key, value in values.items():
        kind = types[key]
        if dataclasses.is_dataclass(kind):
            kwargs[key] = _build(kind, value)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return cls(**kwargs)


def changed_keys(old: RunConfig, new: RunConfig) -> list[str]:
    """Top-level keys whose values differ between two configs of the same class."""
    a, b = config_to_dict(old), config_to_dict(new)
    return [k for k in a if a[k] != b[k]]
