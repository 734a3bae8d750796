"""One-way cartoon training (after White-box Cartoonization, Wang & Yu 2020), with losses against representations
computed by code instead of a pretrained VGG (see `vidtoon.train.views`).

G turns photos into the style; there is no way back and no cycle. Per step, on random crops of photos `a` and
style frames `b` (both N×3×size×size in [-1, 1]):
- initialisation (`init_steps`): G learns to reproduce the anchor (an edge-preserving abstraction of `a`, or a
  look made by code: the film or anime target of `vidtoon.train.look_targets`), L1, plus λ_fine·L1 of the fine
  detail (`losses.fine_detail`: the texture the look removes) and λ_anchor_cast·|Δ mean (a, b)| from the anchor's
  mean (Lab units);
- then G minimises λ_content·L1 at 1/4 resolution, λ_detail·L1 at full resolution and λ_fine·L1 of the fine detail
  to the anchor,
  λ_surface·LSGAN(D_s(surface(G(a)))) + λ_texture·LSGAN(D_t(texture(G(a)))), λ_colour·|moments(G(a)) - moments(B)|
  (spread of lightness and chroma, the batch mean against a running mean over style batches),
  λ_hue·max(0, |Δ mean (a, b)| - margin) (no colour cast) and λ_tv·TV(G(a)); the adversarial weights ramp in
  linearly over `adv_ramp` steps after the initialisation;
  D_s and D_t minimise their LSGAN losses on the views of `b` (real) and of G(a) (fake).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidtoon.errors import UsageError
from vidtoon.models.catalog import build_model
from vidtoon.models.checkpoint import load_checkpoint
from vidtoon.parsing import setting_word
from vidtoon.train.augment import center_crop, random_flip, random_tint, to_unit
from vidtoon.train.base import TRAINERS, Trainer, TrainerKind, set_requires_grad
from vidtoon.train.cartoon_config import CartoonConfig
from vidtoon.train.data import EpochOrder, ImageBank, TrainData, load_domain, step_generator
from vidtoon.train.init_from import init_checkpoint
from vidtoon.train.look_targets import LOOK_TARGETS, hwc, look_targets, map_images, read_targets
from vidtoon.train.losses import fine_detail, l1_loss, lsgan_loss, total_variation
from vidtoon.train.palette import fit_palette
from vidtoon.train.quality import blotches, checkerboard, colour_cast, look_report, target_distance
from vidtoon.train.views import anchor, colour_moments, random_grey_weights, surface_view, texture_view

TEXTURE_STREAM = 7
# a held-out sheet's look measures: step, mean cast, mean checkerboard, mean blotch fraction, mean distance to the target
QUALITY_COLUMNS = 5
# settings a checkpoint records, and what runs saved before each option had (their state dicts are the same, so only
# this record tells them apart): the generator's normalisation, its long skips, and the anchor it was pulled towards
SAVED_BEFORE_OPTION = {"norm": "instance", "long_skips": False, "anchor": "guided"}


class CartoonTrainer(Trainer):
    """Holds G, D_surface, D_texture, two Adam optimisers, the style domain's running colour moments and the
    look measures of every held-out sheet (`quality`: rows of step, mean cast, mean checkerboard, mean blotch fraction,
    mean distance to the target in grey levels; checkpoints written before a measure lack its column: NaN).

    Batches: {"a": N×3×H×W} in [-1, 1], "b" (N×3×H×W) from step `adversarial_start` on, and "a_target" (the look
    target of the same crops) unless the run's `anchor` is "guided" (made from each crop here).
    """

    kind = "cartoon"

    def __init__(self, config: CartoonConfig, *, device: torch.device, precision: str = "fp32"):
        super().__init__(config, device=device, precision=precision)
        family, kwargs = config.generator_family()
        torch.manual_seed(config.seed)
        # N(0, 0.02) suits normalised networks; without normalisation it shrinks the signal layer by layer (see `prepare`)
        self.g = self.prepare(build_model(family, **kwargs), normal_init=config.norm != "none")
        self.d_surface = self.prepare(build_model("patchgan", **config.discriminator_kwargs()))
        self.d_texture = self.prepare(build_model("patchgan", **config.discriminator_kwargs()))
        self.models = {"g": self.g, "d_surface": self.d_surface, "d_texture": self.d_texture}
        self.optimizers = {"g": self.adam([self.g]), "d": self.adam([self.d_surface, self.d_texture])}
        run = torch.compile if config.compile else (lambda module: module)
        self.run_g, self.run_ds, self.run_dt = run(self.g), run(self.d_surface), run(self.d_texture)
        self.style_moments = torch.zeros(4)
        self.style_batches = 0
        self.quality = torch.zeros(0, QUALITY_COLUMNS)
        self.step = 0

    def start_fresh(self) -> None:
        """Load the generator the run starts from (`init_from`), if any."""
        if self.config.init_from:
            family, kwargs = self.config.generator_family()
            start, _ = load_checkpoint(init_checkpoint(self.config.init_from, family, kwargs))
            self.g.load_state_dict(start.state_dict())

    def _update_style_moments(self, real_b: torch.Tensor) -> torch.Tensor:
        """Running mean of the style batches' colour moments (plain mean over the first 100 batches, then EMA 0.99)."""
        with torch.no_grad():
            current = colour_moments(real_b).mean(0).cpu()
        self.style_batches += 1
        rate = max(1 / self.style_batches, 0.01)
        self.style_moments = self.style_moments * (1 - rate) + current * rate
        return self.style_moments.to(self.device)

    def _fine_error(self, fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """L1 between the fine detail of G's output and of its target (a scalar; 0, not computed, when `lambda_fine` is 0)."""
        if not self.config.lambda_fine:
            return torch.zeros((), device=self.device)
        return l1_loss(fine_detail(fake), fine_detail(target))

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One step of G, then (after the initialisation) of both discriminators; returns the losses."""
        config: CartoonConfig = self.config
        self.step = step + 1
        real_a = self.to_device(batch["a"])
        target = self.to_device(batch["a_target"]) if "a_target" in batch else self.anchor(real_a)
        if step < config.adversarial_start:
            with self.autocast():
                fake = self.run_g(real_a)
                detail = l1_loss(fake, target)
            fine = self._fine_error(fake, target)
            cast = torch.zeros((), device=self.device)
            if config.lambda_anchor_cast:  # the mean hue kept as a goal of its own (no margin: the target has it)
                cast = colour_cast(target, fake.float()).mean()
            self.minimise(detail + config.lambda_fine * fine + config.lambda_anchor_cast * cast, self.optimizers["g"])
            self.scaler.update()
            return {
                "content": 0.0,
                "detail": float(detail.detach()),
                "fine": float(fine.detach()),
                "surface": 0.0,
                "texture": 0.0,
                "colour": 0.0,
                "hue": float(cast.detach()),
                "tv": 0.0,
                "d_surface": 0.0,
                "d_texture": 0.0,
            }
        real_b = self.to_device(batch["b"])  # a batch carries B only from the adversarial phase on
        style_moments = self._update_style_moments(real_b)
        ramp = adversarial_ramp(step, init_steps=config.init_steps, ramp=config.adv_ramp)
        weights = random_grey_weights(real_a.shape[0] + real_b.shape[0], step_generator(config.seed, TEXTURE_STREAM, step)).to(
            self.device
        )
        w_fake, w_real = weights[: real_a.shape[0]], weights[real_a.shape[0] :]
        discriminators = [self.d_surface, self.d_texture]
        set_requires_grad(discriminators, False)
        with self.autocast():
            fake = self.run_g(real_a)
            surface = lsgan_loss(self.run_ds(surface_view(fake)), True)
            texture = lsgan_loss(self.run_dt(texture_view(fake, w_fake)), True)
        fake32 = fake.float()
        content = l1_loss(F.avg_pool2d(fake32, 4), F.avg_pool2d(target, 4))
        detail = l1_loss(fake32, target)
        fine = self._fine_error(fake32, target)
        colour = (colour_moments(fake32).mean(0) - style_moments).abs().mean()
        hue = F.relu(colour_cast(real_a, fake32) - config.hue_margin).mean()
        tv = total_variation(fake32)
        loss = (
            config.lambda_content * content
            + config.lambda_detail * detail
            + config.lambda_fine * fine
            + ramp * config.lambda_surface * surface
            + ramp * config.lambda_texture * texture
            + config.lambda_colour * colour
            + config.lambda_hue * hue
            + config.lambda_tv * tv
        )
        self.minimise(loss, self.optimizers["g"])
        set_requires_grad(discriminators, True)
        fake = fake.detach()
        with self.autocast():
            d_surface = 0.5 * (
                lsgan_loss(self.run_ds(surface_view(real_b)), True) + lsgan_loss(self.run_ds(surface_view(fake)), False)
            )
            d_texture = 0.5 * (
                lsgan_loss(self.run_dt(texture_view(real_b, w_real)), True)
                + lsgan_loss(self.run_dt(texture_view(fake, w_fake)), False)
            )
        self.minimise(d_surface + d_texture, self.optimizers["d"])
        self.scaler.update()
        losses = {
            "content": content,
            "detail": detail,
            "fine": fine,
            "surface": surface,
            "texture": texture,
            "colour": colour,
            "hue": hue,
            "tv": tv,
            "d_surface": d_surface,
            "d_texture": d_texture,
        }
        return {name: float(value.detach()) for name, value in losses.items()}

    def anchor(self, x: torch.Tensor) -> torch.Tensor:
        """The run's "guided" anchor of N×3×H×W photos `x` (its `anchor_*` settings). A code-made look ("film",
        "anime") comes with the batch (`a_target`, `held_target`: computed once per photo by `cartoon_data`)."""
        config: CartoonConfig = self.config
        return anchor(x, radius=config.anchor_radius, eps=config.anchor_eps, passes=config.anchor_passes)

    @torch.no_grad()
    def sample_rows(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Rows: held-out photos, their anchors, G(photo), and a caption row with each output's colour cast,
        checkerboard score and blotch fraction (see `vidtoon.train.quality`). Records the batch means in `quality`,
        with the mean distance of G(photo) from its target (grey levels: what the anchor phase drives down)."""
        held = self.to_device(batch["held"])
        with self.autocast():
            out = self.g(held).float()
        held = held.float()
        target = self.to_device(batch["held_target"]).float() if "held_target" in batch else self.anchor(held)
        report = look_report(held, out)
        row = [float(self.step), report["cast_mean"], report["checker_mean"], report["blotch_mean"], target_distance(out, target)]
        self.quality = torch.cat([self.quality, torch.tensor([row])])
        captions = caption_row(
            colour_cast(held, out).tolist(), checkerboard(out, 4).tolist(), blotches(held, out).tolist(), out.shape[-1]
        )
        return [held, target, out, captions.to(out.device)]

    def exported_generator(self, direction: str = "a2b") -> tuple[nn.Module, str, dict[str, Any], tuple[str, ...]]:
        if direction != "a2b":
            raise UsageError(f"a cartoon run has one direction (a2b), not {direction!r}")
        family, kwargs = self.config.generator_family()
        return self.g, family, kwargs, ()

    def extra_state(self) -> dict[str, Any]:
        return {
            "style_moments": self.style_moments.clone(),
            "style_batches": self.style_batches,
            "quality": self.quality.clone(),
            "step": self.step,
            **{key: getattr(self.config, key) for key in SAVED_BEFORE_OPTION},
        }

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.style_moments = state["style_moments"].float().cpu()
        self.style_batches = int(state["style_batches"])
        for key, before in SAVED_BEFORE_OPTION.items():  # a setting the checkpoint was trained with must not change
            saved, wanted = state.get(key, before), getattr(self.config, key)
            if saved != wanted:
                raise UsageError(
                    f"this run was trained with {key}: {setting_word(saved)}, its config.yaml says {key}: {setting_word(wanted)}",
                    hint=f"add `{key}: {setting_word(saved)}` to the run's config.yaml to resume it, or start a new run (-o NEW)",
                )
        quality = state["quality"].float().cpu()
        missing = torch.full((len(quality), QUALITY_COLUMNS - quality.shape[1]), float("nan"))  # measures added since
        self.quality = torch.cat([quality, missing], 1)
        self.step = int(state["step"])


def adversarial_ramp(step: int, *, init_steps: int, ramp: int) -> float:
    """Factor of the adversarial weights at (0-based) `step`: (step - init_steps + 1) / ramp, at most 1 (1 when ramp is 0)."""
    return min(1.0, (step - init_steps + 1) / ramp) if ramp else 1.0


def caption_row(casts: list[float], checkers: list[float], blots: list[float], size: int) -> torch.Tensor:
    """One white tile per image with its measures written on it: N×3×(size/4)×size in [-1, 1] (at least 24 px high)."""
    height = max(24, size // 4 // 4 * 4)
    tiles = []
    scale = max(0.3, size / 400)
    for cast, checker, blot in zip(casts, checkers, blots):
        tile = np.full((height, size, 3), 255, np.uint8)
        text = f"blot {100 * blot:.2f}%"
        cv2.putText(tile, text, (size // 2, height // 2 - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(tile, f"cast {cast:.1f}", (3, height // 2 - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(tile, f"grid {checker:.1f}", (3, height - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(torch.from_numpy(tile).permute(2, 0, 1))
    return to_unit(torch.stack(tiles))


def random_crop(image_u8: torch.Tensor, size: int, *, zoom: tuple[float, float], generator: torch.Generator) -> torch.Tensor:
    """A square of size/zoom source pixels (zoom drawn from `zoom`, at most the shorter side), resized to size×size.

    3×H×W uint8 -> 3×size×size float in [-1, 1]. Crops keep the source's scale up to the zoom: fine detail stays.
    """
    _, h, w = image_u8.shape
    z = zoom[0] + (zoom[1] - zoom[0]) * float(torch.rand((), generator=generator))
    side = min(h, w, max(1, round(size / z)))
    y0 = int(torch.randint(0, h - side + 1, (), generator=generator))
    x0 = int(torch.randint(0, w - side + 1, (), generator=generator))
    crop = to_unit(image_u8[:, y0 : y0 + side, x0 : x0 + side])[None]
    if side != size:
        crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)
    return crop[0].clamp_(-1, 1)


def split_holdout(bank: ImageBank, count: int) -> tuple[ImageBank, list[int]]:
    """(the bank without `count` evenly spread images, their indices). At most half the images are held out (a few
    photos are still mostly trained on: 4 with the default 8 held out train on 2, not 1)."""
    count = min(count, len(bank) // 2)
    held = sorted({round((i + 0.5) * len(bank) / count) for i in range(count)} - {len(bank)}) if count > 0 else []
    keep = [i for i in range(len(bank)) if i not in set(held)]
    return ImageBank([bank.images[i] for i in keep], [bank.names[i] for i in keep]), held


def cartoon_data(config: CartoonConfig, device: torch.device | None = None) -> TrainData:
    """Crops of A (minus the held-out images) and, once the adversarial phase starts (`adversarial_start`), of B,
    drawn independently per step from images held on `device` (None: the CPU); the sample batch is the held-out A.
    Without B (the style's frames) a run learns its targets only."""
    for key, flag, needed in (("a", "--a PHOTOS", True), ("b", "--b STYLE", config.palette)):
        if not getattr(config, key) and needed:
            what = "" if key == "a" else " (the palette is fitted to it)"
            raise UsageError(
                f"no domain {key.upper()} given{what}", hint=f"pass {flag} (a folder of images and/or videos, or a video)"
            )
    load = {"load_size": config.resolved_load_size, "fps": config.fps, "max_frames": config.max_frames}
    full_a = load_domain(config.a, **load)
    bank_b = load_domain(config.b, **load) if config.b else ImageBank([], [])
    coded, palette_note = photo_targets(config, full_a, bank_b)
    if coded is not None:  # each photo and its target travel as one 6-channel image, so they are cropped alike
        full_a = ImageBank([torch.cat(pair) for pair in zip(full_a.images, coded)], full_a.names)
    bank_a, held = split_holdout(full_a, config.holdout)
    bank_a, bank_b = bank_a.to(device), bank_b.to(device)
    orders = (EpochOrder(len(bank_a), config.seed, 0), EpochOrder(len(bank_b), config.seed, 1))

    def crops(bank: ImageBank, order: EpochOrder, step: int, stream: int) -> torch.Tensor:
        generator = step_generator(config.seed, stream, step)
        x = torch.stack(
            [
                random_crop(bank.images[i], config.size, zoom=config.zoom, generator=generator)
                for i in order.indices(step, config.batch_size)
            ]
        )
        return random_flip(x, generator=generator) if config.augment.flip else x

    def make(step: int) -> dict[str, torch.Tensor]:
        a = crops(bank_a, orders[0], step, 0)
        if config.augment.tint:  # the photo and its target alike (6 channels): the tint is the shot's, kept
            a = random_tint(a, amount=config.augment.tint, generator=step_generator(config.seed, 2, step))
        batch = {"a": a[:, :3]} | ({"a_target": a[:, 3:]} if coded is not None else {})
        # the anchor phase never looks at B (its crops cost a third of a batch); B's draws depend on the step alone
        return batch | ({"b": crops(bank_b, orders[1], step, 1)} if step >= config.adversarial_start else {})

    shown = held or [0]
    held_images = torch.stack([center_crop(full_a.images[i], config.resolved_sample_size) for i in shown])
    sample = {"held": held_images[:, :3]} | ({"held_target": held_images[:, 3:]} if coded is not None else {})
    style = f"{len(bank_b)} images" if config.b else "none (the targets only, no adversarial phase)"
    return TrainData(make, sample, f"A: {len(bank_a)} images (+{len(held)} held out), B: {style}{palette_note}")


def photo_targets(config: CartoonConfig, photos: ImageBank, style: ImageBank | None) -> tuple[list[torch.Tensor] | None, str]:
    """(each photo's target, 3×H×W uint8 at its size, or None for the "guided" anchor; a note on the palette) as the
    run's `anchor` makes them: a code-made look, or read from `targets`; with `palette`, given `style`'s palette
    (fitted on every photo, held-out ones too; `style` is read only then)."""
    if config.anchor in LOOK_TARGETS:
        targets = look_targets(photos.images, config.anchor)
    elif config.anchor == "images":
        targets = read_targets(config.targets, photos.images, photos.names)
    else:
        return None, ""
    if not config.palette:
        return targets, ""
    fitted = fit_palette([hwc(t) for t in targets], [hwc(b) for b in style.images])
    return map_images(targets, fitted.apply), f"; B's palette: {fitted.describe()}"


def check_cartoon(config: CartoonConfig) -> None:
    """What a new cartoon run names, checked before its data loads: the generator it starts from."""
    if config.init_from:
        init_checkpoint(config.init_from, *config.generator_family())


TRAINERS.add("cartoon", TrainerKind(CartoonConfig, CartoonTrainer, cartoon_data, check_cartoon))
