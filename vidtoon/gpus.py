"""How many GPUs torch would see in this process, counted without importing torch (the batch process, `host.cpu_only`).

The batch process only hands devices out to its workers (`vidtoon.batch.local`); torch is theirs to import. A CUDA
build of torch sees the devices the CUDA driver reports (`cuDeviceGetCount`, which honours `CUDA_VISIBLE_DEVICES`),
so the driver library is asked directly, through ctypes: a millisecond, where importing torch takes seconds. What
kind of build torch is comes from its `torch/version.py`, read as text, not imported. Anything else (a ROCm or XPU
build, a system without `libcuda.so.1` where one could be elsewhere) is left to torch itself, as before.
"""

from __future__ import annotations

import ast
import ctypes
import sys
from importlib.util import find_spec
from pathlib import Path

CUDA_LIBRARY = "libcuda.so.1"  # the NVIDIA driver's library (Linux); without it no CUDA device is usable


def visible_gpus() -> int:
    """The CUDA devices torch would count here (`torch.cuda.device_count()` when CUDA is available, else 0)."""
    if "torch" in sys.modules:  # imported already: no cost in asking it
        return _torch_count()
    build = torch_build()
    if build is None or build == "cpu":
        return 0
    if build == "cuda" and sys.platform.startswith("linux"):
        return _driver_count()
    return _torch_count()


def torch_build() -> str | None:
    """ "cuda", "hip", "xpu" or "cpu": what the installed torch was built for, from its version file; None: no torch."""
    try:
        spec = find_spec("torch")  # finds the package, runs none of it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    values = {}
    try:
        tree = ast.parse((Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text())
    except (OSError, SyntaxError, StopIteration):
        return "unknown"
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            values[target.id] = value.value
    if not {"cuda", "hip"} <= set(values):
        return "unknown"
    return next((name for name in ("cuda", "hip", "xpu") if values.get(name)), "cpu")


def _driver_count() -> int:
    try:
        driver = ctypes.CDLL(CUDA_LIBRARY)
    except OSError:  # no NVIDIA driver here: torch would find no CUDA device either
        return 0
    count = ctypes.c_int(0)
    if driver.cuInit(0) != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0  # e.g. CUDA_ERROR_NO_DEVICE (CUDA_VISIBLE_DEVICES empty), or a driver too old: torch says 0 too
    return count.value


def _torch_count() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0
