"""A training checkpoint: the trainer's state, the step and every RNG state, in plain tensors and values.

Written with `torch.save` (atomically) and read with `torch.load(weights_only=True)`: nothing in a
checkpoint can run code. Restoring the RNG states is what makes a resumed run continue exactly.
"""

from __future__ import annotations

import io
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidtoon.errors import InputError
from vidtoon.files import write_atomic
from vidtoon.train.base import Trainer

FORMAT = "vidtoon-train/1"


def rng_state() -> dict[str, Any]:
    """python, numpy and torch (CPU and CUDA) global RNG states as plain values and tensors."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint, loaded with `weights_only=True` (never runs code from the file)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("training checkpoint not found", path=path, hint="give a run folder made by `vidtoon train`")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise InputError(
            f"training checkpoint is unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            path=path,
            hint="use an earlier checkpoints/step_*.pt (copy it over latest.pt)",
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError("not a vidtoon training checkpoint", path=path, hint="give a run folder made by `vidtoon train`")
    return state


def save_training_checkpoint(path: Path, trainer: Trainer, step: int) -> Path:
    state = {"format": FORMAT, "kind": trainer.kind, "step": step, "trainer": trainer.state_dict(), "rng": rng_state()}
    buffer = io.BytesIO()
    torch.save(state, buffer)  # in memory, then Python's write: a full disk comes back as ENOSPC, not torch's RuntimeError
    return write_atomic(path, lambda staged: staged.write_bytes(buffer.getbuffer()), resumable=True)
