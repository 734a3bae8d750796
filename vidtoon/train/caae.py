"""CAAE training (after Zhang, Song & Qi, CVPR 2017): one generator renders every labelled style.

The encoder maps a frame x to a latent grid z; the decoder renders z under a label. Losses:
- reconstruction: λ_l1·|G(x, l) - x| + λ_tv·TV(G(x, l)), alone during the `warmup_steps` autoencoder phase;
- then adversarial (LSGAN): D_z tells z from samples of the uniform prior on [-1, 1] (so every z the
  decoder meets looks alike whatever the style it came from); D_img tells real (x, l) pairs from
  reconstructions (G(x, l), l) and label swaps (G(x, l'), l'), which teaches the decoder to render
  any z in any style.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vidtoon.errors import UsageError
from vidtoon.models.catalog import build_model
from vidtoon.train.augment import center_crop
from vidtoon.train.base import TRAINERS, Trainer, TrainerKind, set_requires_grad
from vidtoon.train.config import CAAEConfig
from vidtoon.train.data import EpochOrder, TrainData, load_labelled, sample_batch
from vidtoon.train.losses import l1_loss, lsgan_loss, total_variation

MAX_SAMPLE_LABELS = 6


class CAAETrainer(Trainer):
    """Holds the CAAE generator, D_z, D_img and two Adam optimisers.

    Batches: {"x": N×3×H×W in [-1, 1], "label": N int64}.

    Args:
        labels: the style names, in label-index order (at least two).
    """

    kind = "caae"

    def __init__(self, config: CAAEConfig, *, device: torch.device, precision: str = "fp32", labels: tuple[str, ...] = ()):
        super().__init__(config, device=device, precision=precision)
        if len(labels) < 2:
            raise UsageError(f"a CAAE needs at least two style labels, got {list(labels)}")
        self.labels = tuple(labels)
        n = len(labels)
        torch.manual_seed(config.seed)
        self.generator_kwargs = {"n_styles": n, "z_dim": config.z_dim, "ngf": config.ngf}
        self.g = self.prepare(build_model("caae", **self.generator_kwargs), normal_init=False)
        self.d_z = self.prepare(build_model("caae_latent_discriminator", z_dim=config.z_dim, ndf=config.ndf_z), normal_init=False)
        self.d_img = self.prepare(
            build_model("caae_image_discriminator", n_styles=n, ndf=config.ndf, n_layers=config.d_layers), normal_init=False
        )
        self.models = {"g": self.g, "d_z": self.d_z, "d_img": self.d_img}
        self.optimizers = {"g": self.adam([self.g]), "d": self.adam([self.d_z, self.d_img])}
        self.random = torch.Generator().manual_seed(config.seed * 2 + 3)  # prior samples and swapped labels

    def other_labels(self, label: torch.Tensor) -> torch.Tensor:
        """A random label different from each of `label` (N int64 -> N int64)."""
        shift = torch.randint(1, len(self.labels), label.shape, generator=self.random)
        return (label.cpu() + shift) % len(self.labels)

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        config: CAAEConfig = self.config
        x, label = self.to_device(batch["x"]), batch["label"].to(self.device)
        adversarial = step >= config.warmup_steps
        discriminators = [self.d_z, self.d_img]
        zero = torch.zeros((), device=self.device)
        adv_z = adv_img = d_z = d_img = zero
        if adversarial:
            other = self.other_labels(label).to(self.device)
            set_requires_grad(discriminators, False)
        with self.autocast():
            z = self.g.encode(x)
            rec = self.g.decode(z, label)
            l1, tv = l1_loss(rec, x), total_variation(rec)
            loss = config.lambda_l1 * l1 + config.lambda_tv * tv
            if adversarial:
                swap = self.g.decode(z, other)
                adv_z = lsgan_loss(self.d_z(z), True)
                adv_img = 0.5 * (lsgan_loss(self.d_img(rec, label), True) + lsgan_loss(self.d_img(swap, other), True))
                loss = loss + config.lambda_z * adv_z + config.lambda_img * adv_img
        self.minimise(loss, self.optimizers["g"])
        if adversarial:
            set_requires_grad(discriminators, True)
            prior = (torch.rand(z.shape, generator=self.random) * 2 - 1).to(self.device, dtype=z.dtype)
            with self.autocast():
                d_z = 0.5 * (lsgan_loss(self.d_z(prior), True) + lsgan_loss(self.d_z(z.detach()), False))
                fakes = 0.5 * (
                    lsgan_loss(self.d_img(rec.detach(), label), False) + lsgan_loss(self.d_img(swap.detach(), other), False)
                )
                d_img = 0.5 * (lsgan_loss(self.d_img(x, label), True) + fakes)
            self.minimise(d_z + d_img, self.optimizers["d"])
        self.scaler.update()
        losses = {"l1": l1, "tv": tv, "g_z": adv_z, "g_img": adv_img, "d_z": d_z, "d_img": d_img}
        return {name: float(value.detach()) for name, value in losses.items()}

    @torch.no_grad()
    def render(self, x: torch.Tensor, label: int) -> torch.Tensor:
        """x N×3×H×W in [-1, 1] rendered in style `label` (an index): N×3×H×W."""
        x = self.to_device(x)
        with self.autocast():
            return self.g(x, torch.full((x.shape[0],), label, dtype=torch.long, device=self.device)).float()

    @torch.no_grad()
    def sample_rows(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Rows: inputs, reconstructions (own label), then the inputs rendered in each style."""
        x, label = self.to_device(batch["x"]), batch["label"].to(self.device)
        with self.autocast():
            rows = [x, self.g(x, label)]
        rows += [self.render(x, k) for k in range(min(len(self.labels), MAX_SAMPLE_LABELS))]
        return [row.float() for row in rows]

    def exported_generator(self, direction: str = "a2b") -> tuple[nn.Module, str, dict[str, Any], tuple[str, ...]]:
        return self.g, "caae", dict(self.generator_kwargs), self.labels

    def extra_state(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "random": self.random.get_state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if tuple(state["labels"]) != self.labels:
            raise UsageError(
                f"the data's labels {list(self.labels)} differ from the run's {state['labels']}",
                hint="resume with the data the run started with, or start a new run",
            )
        self.random.set_state(state["random"])


def caae_data(config: CAAEConfig, device: torch.device | None = None) -> TrainData:
    """Labelled frames from `config.data`/manifest.csv (held on `device`, None: the CPU); batches {"x", "label"}."""
    if not config.data:
        raise UsageError(
            "no training frames given", hint="pass --data FRAMES (a folder with manifest.csv, from `vidtoon frames --tag`)"
        )
    bank = load_labelled(config.data, config.label_column, load_size=config.resolved_load_size)
    held = bank.to(device)  # what the batches are cut from
    order = EpochOrder(len(bank), config.seed, 0)

    def make(step: int) -> dict[str, torch.Tensor]:
        x, label = sample_batch(
            held, order, step, size=config.size, batch_size=config.batch_size, augment=config.augment, seed=config.seed, stream=0
        )
        return {"x": x, "label": label}

    per_label = [(bank.labels == k).nonzero().flatten().tolist() for k in range(len(bank.label_names))]
    picks = [
        per_label[i % len(per_label)][i // len(per_label)]
        for i in range(4)
        if i // len(per_label) < len(per_label[i % len(per_label)])
    ]
    sample = {"x": torch.stack([center_crop(bank.images[i], config.size) for i in picks]), "label": bank.labels[picks]}
    summary = ", ".join(f"{name}: {len(items)}" for name, items in zip(bank.label_names, per_label))
    return TrainData(make, sample, f"{len(bank)} frames ({summary})", labels=bank.label_names)


TRAINERS.add("caae", TrainerKind(CAAEConfig, CAAETrainer, caae_data))
