"""The training loop around every trainer: a run folder, checkpoints, exact resume, Ctrl-C, metrics, samples.

A run folder holds:

    config.yaml               the resolved configuration (defaults < file < flags)
    checkpoints/latest.pt     models, optimisers, scaler, pools, step and RNG states (plain tensors)
    checkpoints/step_NNNNNN.pt  kept every `save_every` steps
    metrics.csv               step, lr, losses, step_ms, data_ms, images_per_s (every `log_every` steps)
    tensorboard/              the same metrics, when the tensorboard package is installed
    samples/step_NNNNNN.png   inputs, translations, reconstructions (every `sample_every` steps)
    loss_curve.png            the losses so far

Checkpoints are written with `torch.save` and read with `torch.load(weights_only=True)`: nothing
in them can run code. Batches depend only on (seed, step) (see `vidtoon.train.data`), so resuming
restores the models, optimisers, pools and RNG states and continues with the very next batch.
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from vidtoon.device import resolve_device, resolve_precision
from vidtoon.errors import InputError, Interrupted, UsageError
from vidtoon.interrupts import stop_signals
from vidtoon.locking import OutputLock, check_unlocked
from vidtoon.train import caae, cartoon, cyclegan  # noqa: F401  (registers the trainers)
from vidtoon.train.base import TRAINERS, Trainer, TrainerKind
from vidtoon.train.config import (
    RUN_CONTROL_KEYS,
    RunConfig,
    changed_keys,
    load_config,
    save_config,
    with_absolute_data_paths,
)
from vidtoon.train.data import TrainData, batches
from vidtoon.train.report import MetricsLog, image_grid, plot_curves, write_png
from vidtoon.train.state import read_checkpoint, save_training_checkpoint, set_rng_state

log = logging.getLogger(__name__)

CHECKPOINT = Path("checkpoints") / "latest.pt"
CONFIG = "config.yaml"
RUN_ENTRIES = ("checkpoints", "samples", "tensorboard", "metrics.csv", "loss_curve.png", CONFIG)


class TrainProgress(Protocol):
    """Progress of a training run (the CLI shows a bar with it/s and the losses)."""

    def start(self, total: int | None, description: str, completed: int = 0) -> None: ...

    def advance(self, steps: int = 1) -> None: ...

    def metrics(self, values: dict[str, float]) -> None: ...


class NoTrainProgress:
    def start(self, total: int | None, description: str, completed: int = 0) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass

    def metrics(self, values: dict[str, float]) -> None:
        pass


def get_kind(name: str) -> TrainerKind:
    """The registered trainer `name` (see `TRAINERS`)."""
    return TRAINERS.get(name)


@dataclass(frozen=True)
class TrainResult:
    """How a run ended.

    Attributes:
        step: steps done in total (including those of earlier, resumed runs).
        finished: all `steps` were done; False: stopped early (Ctrl-C, or `time_limit`) with a checkpoint to resume from.
        checkpoint: the latest checkpoint.
        steps_per_second: optimiser steps per second in this session (after the first step).
        step_ms, data_ms: mean milliseconds per step spent computing / waiting for the batch.
        losses: the losses of the last step.
        stopped_by: the signal that stopped the run early, if one did.
        out_of_time: the run stopped early at its `time_limit`.
    """

    run_dir: Path
    step: int
    finished: bool
    checkpoint: Path
    steps_per_second: float
    step_ms: float
    data_ms: float
    losses: dict[str, float]
    stopped_by: int | None = None
    out_of_time: bool = False


def resolve_run_config(
    kind: str,
    run_dir: str | Path,
    *,
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
) -> RunConfig:
    """The configuration of a run: defaults < `config_file` < `overrides`; on `resume`, the run's own
    `config.yaml` takes the file's place and only run-control keys (steps, save_every, ...) may change."""
    cls = get_kind(kind).config
    if not resume:
        return load_config(cls, config_file, overrides)
    run_dir = Path(run_dir)
    saved = run_dir / CONFIG
    if saved.is_file() and not (run_dir / CHECKPOINT).is_file():  # it stopped before its first checkpoint
        raise InputError(
            "this run saved no checkpoint before it stopped: nothing to resume",
            path=run_dir,
            hint=f"start it again with --force (replaces {run_dir}), or choose another folder with -o",
        )
    if not (run_dir / CHECKPOINT).is_file() or not saved.is_file():
        raise InputError(
            "no run to resume here (no checkpoints/latest.pt and config.yaml)",
            path=run_dir,
            hint="start a run without --resume, or give the folder of an earlier run with -o",
        )
    if config_file is not None:
        raise UsageError(
            "--config does not go with --resume: a resumed run keeps its saved config.yaml",
            hint=f"change run-control settings with flags ({', '.join(sorted(RUN_CONTROL_KEYS))})",
        )
    try:
        recorded = load_config(cls, saved)
    except InputError:
        other = _kind_of(saved)
        if other is not None and other != kind:  # another trainer's keys, not a damaged file
            raise UsageError(
                f"{run_dir} is a {other} run, not {kind}",
                hint=f"resume it with `vidtoon train {other} -o {shlex.quote(str(run_dir))} --resume`",
            ) from None
        raise
    config = load_config(cls, saved, overrides)
    refuse_changes(recorded, config)
    return config


def _kind_of(saved: Path) -> str | None:
    """The trainer whose configuration the saved `config.yaml` is (None: none of them)."""
    for name in TRAINERS.names():
        try:
            load_config(get_kind(name).config, saved)
        except (InputError, UsageError):
            continue
        return name
    return None


def refuse_changes(saved: RunConfig, config: RunConfig) -> None:
    """A resumed run may change only the run-control keys of its saved config (`--a photos/` names the folder saved
    as its absolute path)."""
    saved, config = with_absolute_data_paths(saved), with_absolute_data_paths(config)
    changed = [key for key in changed_keys(saved, config) if key not in RUN_CONTROL_KEYS]
    if changed:
        raise UsageError(
            f"a resumed run cannot change {', '.join(changed)}",
            hint=f"only {', '.join(sorted(RUN_CONTROL_KEYS))} may change; start a new run (-o NEW) for the rest",
        )


@contextmanager
def stop_on_sigint():
    """Within the block, Ctrl-C (or SIGTERM, or SIGHUP: the terminal closed) sets the returned event instead of
    raising; the event's `signum` says which signal it was. A second signal raises `Interrupted` at once. SIGHUP
    ignored (`nohup`) stays ignored: the run goes on."""
    stop = threading.Event()
    stop.signum = None
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.is_set():
            raise Interrupted(signum)
        stop.signum = signum
        stop.set()

    previous = {s: signal.signal(s, handler) for s in stop_signals()}
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def existing_run_entries(run_dir: Path, *, resume: bool, force: bool) -> list[Path]:
    """What a new run would replace in `run_dir` (refused without `force`); nothing is changed yet."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"run folder {run_dir} is a file", hint="choose another with -o")
    if resume:
        return []
    existing = [run_dir / name for name in RUN_ENTRIES if (run_dir / name).exists()]
    if existing and not force and not (run_dir / CHECKPOINT).is_file():  # a run that failed before its first checkpoint
        raise UsageError(
            f"{run_dir} holds a run that saved no checkpoint ({', '.join(p.name for p in existing)}): nothing to resume",
            hint="replace it with --force, or choose another folder with -o",
        )
    if existing and not force:
        raise UsageError(
            f"{run_dir} already holds a run ({', '.join(p.name for p in existing)})",
            hint="continue it with --resume, replace it with --force, or choose another folder with -o",
        )
    return existing


def _remove(paths: list[Path]) -> None:
    for path in paths:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def train(
    kind: str,
    config: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: TrainProgress | None = None,
) -> TrainResult:
    """Train `kind` ("cyclegan", "cartoon" or "caae") with `config` into `run_dir` until `config.steps`, Ctrl-C or
    `config.time_limit`.

    Ctrl-C finishes the current step, saves a checkpoint and returns with `finished=False`; so does the time limit,
    which also writes a sample sheet (the look measures of where the run stopped); `resume`
    continues from `run_dir/checkpoints/latest.pt` exactly where it stopped.

    Raises:
        InputError: unusable data or checkpoint; UsageError: a bad setting, or a run already in `run_dir`.
    """
    spec = get_kind(kind)
    if not isinstance(config, spec.config):
        raise UsageError(f"a {kind} run needs a {spec.config.__name__}, got {type(config).__name__}")
    progress = progress or NoTrainProgress()
    run_dir = Path(run_dir)
    check_unlocked(run_dir, folder=True)  # another training writing this run folder: refused before any work
    replaced = existing_run_entries(run_dir, resume=resume, force=force)
    checkpoint_path = run_dir / CHECKPOINT
    state = read_checkpoint(checkpoint_path) if resume else None
    if state is not None and state["kind"] != kind:
        raise UsageError(
            f"{run_dir} is a {state['kind']} run, not {kind}", hint=f"resume it with `vidtoon train {state['kind']}`"
        )
    if state is not None:
        refuse_changes(load_config(spec.config, run_dir / CONFIG), config)
        if int(state["step"]) >= config.steps:  # before the data loads: there is nothing to train
            raise UsageError(
                f"{run_dir} has already reached step {int(state['step'])} of its {config.steps}: nothing to resume",
                hint=f"train on with --resume --steps N (more than {int(state['step'])}), or make it a style: "
                f"vidtoon export {shlex.quote(str(run_dir))}",
            )
    elif spec.check is not None:
        spec.check(config)  # what a new run names is checked before its data loads
    device = resolve_device(config.device)
    precision = resolve_precision(None if config.precision == "auto" else config.precision, device)  # warns if emulated
    data = spec.data(config, device if config.data_on_device else None)  # (after the cheap checks: it may take minutes)
    trainer = spec.trainer(config, device=device, precision=precision, **({"labels": data.labels} if data.labels else {}))
    make = data.make
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed training size: let cuDNN pick its fastest kernels once
        if not config.data_on_device:
            make = _pinned(data.make)  # page-locked batches copy to the GPU asynchronously
    start = 0
    if state is not None:
        trainer.load_state_dict(state["trainer"])
        set_rng_state(state["rng"])
        start = int(state["step"])
    else:
        trainer.start_fresh()
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = OutputLock(run_dir, folder=True).acquire()  # one training per run folder, until this one ends
    try:
        _remove(replaced)  # only now that the data and the models are ready (and the folder is ours)
        save_config(with_absolute_data_paths(config), run_dir / CONFIG)  # `--resume` finds the data from any directory
        log.info("%s: %s; %s, %s; step %d of %d", kind, data.summary, device, precision, start, config.steps)
        metrics = MetricsLog(run_dir, resume_step=start)
    except BaseException:
        lock.release()
        raise
    progress.start(config.steps, f"{kind} {run_dir.name}", completed=start)
    step, saved_step = start, start
    losses: dict[str, float] = {}
    step_s, data_s, timed = 0.0, 0.0, 0
    window: list[tuple[float, float]] = []
    deadline = time.monotonic() + config.time_limit if config.time_limit else math.inf
    out_of_time = False
    threads = torch.get_num_threads()
    if device.type == "cuda" and config.workers > 1 and not config.data_on_device:
        # the batch threads crop on the CPU while the GPU trains: each gets its share of the cores (each with torch's
        # default intra-op pool, 8 threads on 16 cores would run 128)
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // config.workers))
    try:
        with stop_on_sigint() as stop:
            stream = batches(make, start, config.steps, config.workers)
            while step < config.steps and not stop.is_set():
                if time.monotonic() >= deadline:
                    out_of_time = True
                    break
                waited = time.perf_counter()
                batch = next(stream)
                began = time.perf_counter()
                lr = trainer.set_step(step)
                losses = trainer.train_step(batch, step)
                ended = time.perf_counter()
                step += 1
                if step > start + 1:  # the first step pays for warm-up
                    step_s, data_s, timed = step_s + ended - began, data_s + began - waited, timed + 1
                window.append((ended - began, began - waited))
                progress.advance(1)
                progress.metrics(losses)
                if step % config.log_every == 0 or step == config.steps:
                    compute, wait = (sum(w[i] for w in window) / len(window) for i in (0, 1))
                    metrics.write(
                        step,
                        {
                            "lr": lr,
                            **losses,
                            "step_ms": 1000 * compute,
                            "data_ms": 1000 * wait,
                            "images_per_s": config.batch_size / max(compute + wait, 1e-9),
                        },
                    )
                    window.clear()
                if step % config.sample_every == 0 or step == config.steps:
                    write_samples(trainer, data, run_dir, step, metrics)
                if step % config.save_every == 0:
                    save_training_checkpoint(checkpoint_path, trainer, step)
                    saved_step = step
                    shutil.copyfile(checkpoint_path, run_dir / "checkpoints" / f"step_{step:06d}.pt")
            stream.close()
            if out_of_time and step > start and step % config.sample_every:
                write_samples(trainer, data, run_dir, step, metrics)
            if step != saved_step or not checkpoint_path.exists():
                save_training_checkpoint(checkpoint_path, trainer, step)
    except Interrupted as exc:  # a second Ctrl-C: no checkpoint of this step; say what the folder holds, and what to do
        if checkpoint_path.exists():
            unsaved = "" if step == saved_step else " without saving it"
            raise Interrupted(
                exc.signum, kept=f"stopped at step {step}{unsaved}; the checkpoint of step {saved_step} is kept"
            ) from None
        raise Interrupted(
            exc.signum, kept=f"stopped at step {step}, before the run's first checkpoint: {run_dir} has none", again="--force"
        ) from None
    finally:
        torch.set_num_threads(threads)
        metrics.close()
        lock.release()
    return TrainResult(
        run_dir=run_dir,
        step=step,
        finished=step >= config.steps,
        checkpoint=checkpoint_path,
        steps_per_second=timed / (step_s + data_s) if timed else 0.0,
        step_ms=1000 * step_s / timed if timed else 0.0,
        data_ms=1000 * data_s / timed if timed else 0.0,
        losses=losses,
        stopped_by=stop.signum,
        out_of_time=out_of_time,
    )


def _pinned(make: Callable[[int], dict[str, torch.Tensor]]) -> Callable[[int], dict[str, torch.Tensor]]:
    def pinned(step: int) -> dict[str, torch.Tensor]:
        # contiguous first: a channel slice pinned as it is keeps its strides, and its copy to the GPU is then staged
        # through pageable memory (synchronously)
        return {name: tensor.contiguous().pin_memory() for name, tensor in make(step).items()}

    return pinned


def write_samples(trainer: Trainer, data: TrainData, run_dir: Path, step: int, metrics: MetricsLog) -> None:
    """samples/step_NNNNNN.png (the trainer's rows for the fixed sample batch) and loss_curve.png."""
    trainer.train(False)
    try:
        rows = trainer.sample_rows(data.sample)
    finally:
        trainer.train(True)
    write_png(run_dir / "samples" / f"step_{step:06d}.png", image_grid(rows))
    losses = {k: v for k, v in metrics.history.items() if k not in ("lr", "step_ms", "data_ms", "images_per_s")}
    write_png(run_dir / "loss_curve.png", plot_curves(losses))
