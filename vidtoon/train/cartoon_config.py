"""Configuration of `vidtoon train cartoon` (defaults < YAML file < flags, as every trainer's; see `train.config`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vidtoon.errors import UsageError
from vidtoon.train.config import RunConfig, _patches_fit, _positive

GENERATOR_NORMS = ("none", "group", "instance")
ANCHORS = ("guided", "film", "anime", "images")  # "film", "anime": vidtoon.train.look_targets.LOOK_TARGETS


@dataclass(frozen=True)
class CartoonConfig(RunConfig):
    """`vidtoon train cartoon`: one generator photos -> style, two discriminators (surface, texture), no cycle.

    Trained on small random crops of frames kept at full resolution (`load_size` is their shorter side), so
    the generator learns the local look (shading, edges, colour) at the scale it will meet in a film.

    Attributes:
        a, b: photos and the style: a folder of images and/or videos, or one video.
        zoom: (min, max) scale of a crop: a crop of size/zoom source pixels is resized to `size`.
        holdout: A images left out of training (spread evenly) for the sample sheets and the look measures.
        sample_size: side of the held-out sheet's cells (0: the largest multiple of 16 up to 256 that `load_size` allows).
        ngf, n_blocks: the generator (`cyclegan_resnet`, resize + conv upsampling). The defaults (16, 4) restyle a
            640×360 frame in 0.21-0.23 s on 2 CPU cores (ngf 32: 0.64-0.78 s; a shipped style must stay under 0.5 s).
        norm: the generator's normalisation, "none" (default), "group" (layer norm) or "instance" (runs made before
            the option; it learns colour "droplets" on whole frames when trained on crops: docs/training-notes.md).
        skip: the generator adds its input before the final tanh (learns the change from the photo, starts as the
            identity and keeps its detail; see `cyclegan_resnet`). Default since 2026-11-30 (docs/training-notes.md).
        long_skips: the generator adds its stem's and first downsampling's features back on the way up (a U-Net's skips;
            see `cyclegan_resnet`): without them it cannot remove texture, only keep it (docs/training-notes.md,
            2026-11-30 20:35). Default since then; runs saved before it have none.
        ndf, d_layers: the two PatchGAN discriminators.
        anchor: what G is pulled towards. "film" (default since 2026-11-30 evening): the film-look target of each
            photo (`vidtoon.train.film_target`: flat surfaces, smooth shading, regions moved apart in colour, the
            photo's mean hue kept), computed once per photo when the data is loaded and cropped with it (docs/training-notes.md);
            "anime": the cel-anime target of each face photo (`vidtoon.train.anime_target`: a high key, a few soft
            tones, ink lines; the `anime` recipe), the same way; "images": each photo's target read from `targets`
            (made by any tool: the run distils that look into a fast generator; the GPU recipe carries its code-made
            targets so, as the GPU machine's OpenCV lacks the smoother they need); "guided": a self-guided filter of
            each crop (`anchor_*` below; runs saved before the option).
        targets: with anchor "images", the folder holding each A photo's target under the photo's file name (any size
            of the photo's aspect ratio: it is resized to the photo as loaded).
        palette: a code-made anchor's targets take domain B's palette (`vidtoon.train.palette`: lightness and chroma
            curves and chroma gains by hue, fitted from the targets to B's images when the data is loaded; the mean
            hue of each target stays its photo's). The `pixar` recipe's since 2026-12-01: the film's bright key and
            vivid yellow-greens, which no code-made look knows.
        anchor_radius, anchor_eps, anchor_passes: the "guided" anchor's self-guided filter (radius in pixels of the crops,
            which keep the frames' scale; larger eps and more passes flatten more texture while edges stay). The
            defaults (2, 0.01, 1) barely smooth a 288-px frame; (4, 0.02, 2) removes fur, grass and gravel texture
            and keeps outlines (docs/training-notes.md, 2026-11-30 11:40).
        init_steps: anchor-reconstruction steps before the adversarial phase (which needs `b`: without it a run
            learns its targets only).
        adv_ramp: steps over which the adversarial weights grow linearly from 0 after `init_steps` (0: at once).
        lambda_content: L1 to the anchor at 1/4 resolution (layout and tone); lambda_detail: L1 at full resolution.
        lambda_fine: L1 between the fine detail (x minus a Gaussian blur of σ 1.5 px) of G(a) and of its target, in
            both phases: weighs the texture the look removes (and the crispness of its edges) above the rest of the L1,
            where a small generator otherwise keeps a third of the texture its target removed (0: off, every run
            before 2026-12-01).
        lambda_surface, lambda_texture: adversarial weights of the surface and texture views.
        lambda_colour: L1 between the batch's colour moments and the style domain's (running mean).
        lambda_hue: penalty on a shift of the mean (a, b) beyond `hue_margin` Lab units (a colour cast).
        lambda_anchor_cast: in the initialisation, a penalty per Lab unit on the distance between the mean (a, b) of
            G(a) and of its target (no margin: the target has the photo's mean hue). L1 weighs a cast no more than any
            other error of the same size; this makes keeping the mean hue a goal of its own (the recipes' 0.03: a 1.5-unit
            cast costs about what the L1 of a well-trained generator does; docs/training-notes.md, 2026-11-30 night).
        lambda_tv: total variation of the output.
        compile: wrap the networks in `torch.compile` (pays on a GPU for runs longer than its compile time).
        init_from: the generator a fresh run starts from: an installed style's name (`pixar`) or a `.safetensors` file
            of `vidtoon export`, of this run's architecture (`vidtoon.train.init_from`); "" (default): random weights.
            Fine-tunes a trained look instead of learning it again; a resumed run continues from its own checkpoint.
    """

    a: str = ""
    b: str = ""
    targets: str = ""
    size: int = 96
    load_size: int = 288
    zoom: tuple[float, float] = (0.8, 1.25)
    holdout: int = 8
    sample_size: int = 0
    batch_size: int = 8
    lr: float = 2e-4
    ngf: int = 16
    n_blocks: int = 4
    norm: str = "none"
    skip: bool = True
    long_skips: bool = True
    ndf: int = 32
    d_layers: int = 3
    anchor: str = "film"
    anchor_radius: int = 2
    anchor_eps: float = 0.01
    anchor_passes: int = 1
    palette: bool = False
    init_steps: int = 500
    adv_ramp: int = 0
    lambda_content: float = 10.0
    lambda_detail: float = 1.0
    lambda_fine: float = 0.0
    lambda_surface: float = 1.0
    lambda_texture: float = 1.0
    lambda_colour: float = 0.05
    lambda_hue: float = 0.5
    lambda_anchor_cast: float = 0.0
    hue_margin: float = 3.0
    lambda_tv: float = 0.5
    compile: bool = False
    init_from: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive(self, "ngf", "ndf", "d_layers", "n_blocks", "anchor_radius", "anchor_passes")
        _patches_fit(self)
        if self.anchor_eps <= 0:
            raise UsageError(f"anchor_eps must be > 0, got {self.anchor_eps}")
        if self.anchor not in ANCHORS:
            raise UsageError(f"anchor must be one of {', '.join(ANCHORS)}, got {self.anchor!r}")
        if (self.anchor == "images") != bool(self.targets):
            raise UsageError(
                "anchor images and targets go together: each photo's target is read from the targets folder",
                hint="pass --targets DIR (a folder of each photo's target, under the photo's file name)",
            )
        if self.palette and self.anchor == "guided":
            raise UsageError("palette needs targets (film, anime or images): the guided anchor is made on each crop")
        if self.norm not in GENERATOR_NORMS:
            raise UsageError(f"norm must be one of {', '.join(GENERATOR_NORMS)}, got {self.norm!r}")
        low, high = self.zoom
        if not 0 < low <= high:
            raise UsageError(f"zoom must be [low, high] with 0 < low <= high, got {[low, high]}")
        object.__setattr__(self, "zoom", (float(low), float(high)))
        weights = (
            "lambda_content",
            "lambda_detail",
            "lambda_fine",
            "lambda_surface",
            "lambda_texture",
            "lambda_colour",
            "lambda_hue",
            "lambda_anchor_cast",
            "lambda_tv",
        )
        if (
            min(getattr(self, k) for k in weights) < 0
            or self.hue_margin < 0
            or self.init_steps < 0
            or self.holdout < 0
            or self.adv_ramp < 0
        ):
            raise UsageError("the lambda_* weights, hue_margin, init_steps, adv_ramp and holdout must be >= 0")
        if self.sample_size % 16 or self.sample_size < 0:
            raise UsageError(f"sample_size must be a multiple of 16 (or 0), got {self.sample_size}")

    @property
    def adversarial_start(self) -> float:
        """The step the adversarial phase starts at: `init_steps`, or never (inf) without a style domain `b`: such a
        run learns its targets only."""
        return self.init_steps if self.b else math.inf

    @property
    def resolved_load_size(self) -> int:
        return self.load_size or self.size * 3

    @property
    def resolved_sample_size(self) -> int:
        return self.sample_size or max(16, min(256, self.resolved_load_size) // 16 * 16)

    def generator_family(self) -> tuple[str, dict[str, Any]]:
        """(registry family, constructor kwargs) of the generator."""
        return "cyclegan_resnet", {
            "ngf": self.ngf,
            "n_blocks": self.n_blocks,
            "upsample": "resize",
            "norm": self.norm,
            "skip": self.skip,
            "long_skips": self.long_skips,
        }

    def discriminator_kwargs(self) -> dict[str, Any]:
        return {"ndf": self.ndf, "n_layers": self.d_layers}
