"""CycleGAN training (Zhu et al. 2017): two generators, two PatchGANs, LSGAN, cycle and identity losses.

G_ab turns domain A (photos) into B (the style); G_ba goes back. D_a judges A images, D_b B images.
Per step: the generators minimise the LSGAN loss against both discriminators, λ·(|G_ba(G_ab(a)) - a| +
|G_ab(G_ba(b)) - b|) and 0.5λ·(|G_ab(b) - b| + |G_ba(a) - a|); then each discriminator minimises its
LSGAN loss on real images and on fakes drawn from a 50-image history pool.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vidtoon.errors import UsageError
from vidtoon.models.catalog import build_model
from vidtoon.train.base import TRAINERS, Trainer, TrainerKind, set_requires_grad
from vidtoon.train.config import CycleGANConfig
from vidtoon.train.data import EpochOrder, TrainData, fixed_samples, load_domain, sample_batch
from vidtoon.train.losses import l1_loss, lsgan_loss
from vidtoon.train.pool import ImagePool

DIRECTIONS = ("a2b", "b2a")


class CycleGANTrainer(Trainer):
    """Holds G_ab, G_ba, D_a, D_b, their two Adam optimisers and two image pools.

    Batches: {"a": N×3×H×W, "b": N×3×H×W} in [-1, 1].
    """

    kind = "cyclegan"

    def __init__(self, config: CycleGANConfig, *, device: torch.device, precision: str = "fp32"):
        super().__init__(config, device=device, precision=precision)
        family, kwargs = config.generator_family()
        torch.manual_seed(config.seed)
        self.g_ab = self.prepare(build_model(family, **kwargs))
        self.g_ba = self.prepare(build_model(family, **kwargs))
        self.d_a = self.prepare(build_model("patchgan", **config.discriminator_kwargs()))
        self.d_b = self.prepare(build_model("patchgan", **config.discriminator_kwargs()))
        self.models = {"g_ab": self.g_ab, "g_ba": self.g_ba, "d_a": self.d_a, "d_b": self.d_b}
        self.optimizers = {"g": self.adam([self.g_ab, self.g_ba]), "d": self.adam([self.d_a, self.d_b])}
        self.pool_a = ImagePool(config.pool_size, seed=config.seed * 2 + 1)
        self.pool_b = ImagePool(config.pool_size, seed=config.seed * 2 + 2)

    def train_step(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One optimisation step of the generators, then of the discriminators; returns the losses."""
        config: CycleGANConfig = self.config
        real_a, real_b = self.to_device(batch["a"]), self.to_device(batch["b"])
        discriminators = [self.d_a, self.d_b]
        set_requires_grad(discriminators, False)
        with self.autocast():
            fake_b = self.g_ab(real_a)
            fake_a = self.g_ba(real_b)
            rec_a = self.g_ba(fake_b)
            rec_b = self.g_ab(fake_a)
            adv_ab = lsgan_loss(self.d_b(fake_b), True)
            adv_ba = lsgan_loss(self.d_a(fake_a), True)
            cycle = (l1_loss(rec_a, real_a) + l1_loss(rec_b, real_b)) * config.lambda_cycle
            identity = torch.zeros((), device=self.device)
            if config.lambda_identity > 0:
                identity = (l1_loss(self.g_ab(real_b), real_b) + l1_loss(self.g_ba(real_a), real_a)) * (
                    config.lambda_cycle * config.lambda_identity
                )
        self.minimise(adv_ab + adv_ba + cycle + identity, self.optimizers["g"])
        set_requires_grad(discriminators, True)
        old_b = self.pool_b.query(fake_b.detach().float())
        old_a = self.pool_a.query(fake_a.detach().float())
        with self.autocast():
            d_b = 0.5 * (lsgan_loss(self.d_b(real_b), True) + lsgan_loss(self.d_b(old_b), False))
            d_a = 0.5 * (lsgan_loss(self.d_a(real_a), True) + lsgan_loss(self.d_a(old_a), False))
        self.minimise(d_a + d_b, self.optimizers["d"])
        self.scaler.update()
        losses = {"g_ab": adv_ab, "g_ba": adv_ba, "cycle": cycle, "identity": identity, "d_a": d_a, "d_b": d_b}
        return {name: float(value.detach()) for name, value in losses.items()}

    @torch.no_grad()
    def sample_rows(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Rows: A, G_ab(A), G_ba(G_ab(A)), B, G_ba(B), G_ab(G_ba(B))."""
        real_a, real_b = self.to_device(batch["a"]), self.to_device(batch["b"])
        with self.autocast():
            fake_b, fake_a = self.g_ab(real_a), self.g_ba(real_b)
            rows = [real_a, fake_b, self.g_ba(fake_b), real_b, fake_a, self.g_ab(fake_a)]
        return [row.float() for row in rows]

    def exported_generator(self, direction: str = "a2b") -> tuple[nn.Module, str, dict[str, Any], tuple[str, ...]]:
        if direction not in DIRECTIONS:
            raise UsageError(f"unknown direction {direction!r}", hint="a2b: photos -> style (the usual); b2a: style -> photos")
        family, kwargs = self.config.generator_family()
        return (self.g_ab if direction == "a2b" else self.g_ba), family, kwargs, ()

    def extra_state(self) -> dict[str, Any]:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.pool_a.load_state_dict(state["pool_a"], self.device)
        self.pool_b.load_state_dict(state["pool_b"], self.device)


def cyclegan_data(config: CycleGANConfig, device: torch.device | None = None) -> TrainData:
    """Both domains loaded (held on `device`, None: the CPU); batches {"a", "b"} drawn independently (unpaired), each
    from its own seeded stream."""
    for key, flag in (("a", "--a PHOTOS"), ("b", "--b STYLE")):
        if not getattr(config, key):
            raise UsageError(f"no domain {key.upper()} given", hint=f"pass {flag} (a folder of images and/or videos, or a video)")
    load = {"load_size": config.resolved_load_size, "fps": config.fps, "max_frames": config.max_frames}
    bank_a, bank_b = load_domain(config.a, **load).to(device), load_domain(config.b, **load).to(device)
    orders = (EpochOrder(len(bank_a), config.seed, 0), EpochOrder(len(bank_b), config.seed, 1))
    common = {"size": config.size, "batch_size": config.batch_size, "augment": config.augment, "seed": config.seed}

    def make(step: int) -> dict[str, torch.Tensor]:
        x_a, _ = sample_batch(bank_a, orders[0], step, stream=0, **common)
        x_b, _ = sample_batch(bank_b, orders[1], step, stream=1, **common)
        return {"a": x_a, "b": x_b}

    sample = {"a": fixed_samples(bank_a, config.size)[0], "b": fixed_samples(bank_b, config.size)[0]}
    return TrainData(make, sample, f"A: {len(bank_a)} images, B: {len(bank_b)} images")


TRAINERS.add("cyclegan", TrainerKind(CycleGANConfig, CycleGANTrainer, cyclegan_data))
