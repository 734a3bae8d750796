"""The one place a `torch.device` and a precision are chosen, from what the user asked for."""

from __future__ import annotations

import logging

import torch

from vidtoon.errors import UsageError

log = logging.getLogger(__name__)


def resolve_device(spec: str = "auto") -> torch.device:
    """"auto" (a GPU if there is one), "cpu", "cuda" or "cuda:N" -> torch.device.

    Raises:
        UsageError: a GPU was asked for and none is available, or the spec is malformed.
    """
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {spec} asks for a CUDA GPU, but this machine has none that PyTorch can use", hint="use --device cpu (or auto)")
        device = torch.device(spec)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {spec}: there are only {torch.cuda.device_count()} GPU(s)", hint="use cuda:0 … or auto")
        return device
    raise UsageError(f"unknown device {spec!r}", hint="use auto, cpu, cuda or cuda:N")


def resolve_precision(spec: str | None, device: torch.device) -> str:
    """"auto"/None picks bf16 where the hardware does it natively (GPU, or a CPU with AVX-512 bf16), else fp32.

    An explicit choice is kept, with a warning when the CPU only emulates it (bf16 ran 7–100× slower
    than fp32 on an AVX2-only CPU: scripts/bench_restyle.py).
    """
    if spec not in (None, "auto"):
        if device.type == "cpu" and spec in ("bf16", "fp16") and not (spec == "bf16" and _cpu_has_native_bf16()):
            log.warning("--precision %s: this CPU has no native %s, so it is emulated and much slower than fp32", spec, spec)
        return spec
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if _cpu_has_native_bf16() else "fp32"


def _cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
