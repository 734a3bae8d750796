#!/usr/bin/env python
"""Benchmark training speed: steps/s and images/s per trainer family × size × precision, on this machine.

Each row builds the real trainer (`vidtoon.train`) with the settings `vidtoon train` uses by default
(CycleGAN: ResNet-6 generators with 32 base channels and resize-conv upsampling, or a 6-level U-Net;
3-layer PatchGANs; CAAE: z_dim 50, 32 base channels, in its adversarial phase), feeds it batches that
the real data path makes (random resized crops, flips and colour jitter of 300×400 images held in
memory), runs `--warmup` steps, then times `--steps` steps. "compute" is the optimiser step, "data"
the batch preparation measured on its own (in a run it overlaps the step in a background thread).

Run from the repository root:

    .venv/bin/python scripts/bench_train.py                       # CPU: 128 and 192 px, fp32 and bf16
    .venv/bin/python scripts/bench_train.py --sizes 256 --batch-size 8 --precisions fp16 bf16   # a GPU

notes: docs/benchmarks.md#bench_train (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import time

import torch

from vidtoon.device import resolve_device
from vidtoon.train.caae import CAAETrainer
from vidtoon.train.config import AugmentConfig, CAAEConfig, CycleGANConfig
from vidtoon.train.cyclegan import CycleGANTrainer
from vidtoon.train.data import EpochOrder, ImageBank, sample_batch

FAMILIES = ("cyclegan_resnet", "cyclegan_unet", "caae")


def make_trainer(family: str, size: int, batch_size: int, device: torch.device, precision: str):
    common = {"size": size, "batch_size": batch_size, "device": str(device), "precision": precision}
    if family == "caae":
        config = CAAEConfig(data="-", label_column="-", warmup_steps=0, **common)
        return CAAETrainer(config, device=device, precision=precision, labels=("a", "b")), config
    generator = "unet" if family == "cyclegan_unet" else "resnet"
    config = CycleGANConfig(a="-", b="-", generator=generator, num_downs=6, **common)
    return CycleGANTrainer(config, device=device, precision=precision), config


def batch_maker(family: str, config, bank: ImageBank):
    order = EpochOrder(len(bank), 0, 0)

    def make(step: int) -> dict[str, torch.Tensor]:
        kwargs = {"size": config.size, "batch_size": config.batch_size, "augment": AugmentConfig(), "seed": 0}
        x, labels = sample_batch(bank, order, step, stream=0, **kwargs)
        if family == "caae":
            return {"x": x, "label": labels}
        return {"a": x, "b": sample_batch(bank, order, step + 10_000, stream=1, **kwargs)[0]}

    return make


def bench(
    family: str, size: int, batch_size: int, precision: str, device: torch.device, warmup: int, steps: int, bank: ImageBank
):
    trainer, config = make_trainer(family, size, batch_size, device, precision)
    make = batch_maker(family, config, bank)
    started = time.perf_counter()
    batches = [make(i) for i in range(warmup + steps)]
    data_s = (time.perf_counter() - started) / len(batches)
    for i in range(warmup):
        trainer.train_step(batches[i], i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for i in range(warmup, warmup + steps):
        trainer.train_step(batches[i], i)  # returns floats: the step is finished when it returns
    step_s = (time.perf_counter() - started) / steps
    return step_s, data_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--sizes", nargs="+", type=int, default=[128, 192])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    generator = torch.Generator().manual_seed(0)
    bank = ImageBank(
        [torch.randint(0, 256, (3, 300, 400), dtype=torch.uint8, generator=generator) for _ in range(16)],
        [f"{i}" for i in range(16)],
        torch.arange(16) % 2,
        ("a", "b"),
    )
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"device: {name}; batch {args.batch_size}; {args.warmup} warm-up + {args.steps} timed steps", flush=True)
    print(f"{'family':<16} {'size':>5} {'precision':>9} {'s/step':>8} {'steps/s':>8} {'images/s':>9} {'data ms/img':>12}")
    for family in args.families:
        for size in args.sizes:
            for precision in args.precisions:
                step_s, data_s = bench(family, size, args.batch_size, precision, device, args.warmup, args.steps, bank)
                images = args.batch_size * (2 if family.startswith("cyclegan") else 1)  # CycleGAN: one A and one B image each
                print(
                    f"{family:<16} {size:>5} {precision:>9} {step_s:>8.3f} {1 / step_s:>8.2f} {images / step_s:>9.2f} "
                    f"{1000 * data_s / images:>12.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
