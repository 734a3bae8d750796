"""The one place a `torch.device` and a precision are chosen, from what the user asked for."""

from __future__ import annotations

import logging

import torch

from vidtoon.errors import UsageError

log = logging.getLogger(__name__)


def resolve_device(spec: str = "auto") -> torch.device:
    """ "auto" (a GPU if there is one), "cpu", "cuda" or "cuda:N" -> torch.device.

    Raises:
        UsageError: a GPU was asked for and none is available, or the spec is malformed.
    """
    if not isinstance(spec, str | None):
        raise UsageError(f"--device {spec!r}: unknown device", hint="use auto, cpu, cuda or cuda:N")
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(
                f"--device {spec} asks for a CUDA GPU, but this machine has none that PyTorch can use",
                hint="use --device cpu (or auto)",
            )
        try:
            device = torch.device(spec)
        except RuntimeError:
            raise UsageError(f"--device {spec}: unknown device", hint="use auto, cpu, cuda or cuda:N") from None
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {spec}: there are only {torch.cuda.device_count()} GPU(s)", hint="use cuda:0 … or auto")
        return device
    raise UsageError(f"--device {spec}: unknown device", hint="use auto, cpu, cuda or cuda:N")


PRECISIONS = ("fp32", "bf16", "fp16")


def check_precision(precision: str, device: torch.device) -> None:
    """UsageError unless `precision` is one of PRECISIONS and runs on `device` (fp16 autocast is CUDA only)."""
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}", hint=f"use one of {', '.join(PRECISIONS)} (or auto)")
    if precision == "fp16" and device.type != "cuda":
        raise UsageError("fp16 needs a CUDA GPU", hint="use --precision bf16 or fp32 on a CPU")


def resolve_precision(spec: str | None, device: torch.device) -> str:
    """ "auto"/None picks bf16 where the hardware does it natively (GPU, or a CPU with AVX-512 bf16), else fp32.

    An explicit choice is checked (`check_precision`) and kept, with a warning when the CPU only
    emulates bf16 (7–100× slower than fp32 on an AVX2-only CPU: scripts/bench_restyle.py, bench_train.py).
    """
    if spec not in (None, "auto"):
        check_precision(spec, device)
        if device.type == "cpu" and spec == "bf16" and not _cpu_has_native_bf16():
            log.warning("--precision bf16: this CPU has no native bf16, so it is emulated and much slower than fp32")
        return spec
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if _cpu_has_native_bf16() else "fp32"


def _cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
