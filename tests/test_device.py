"""One device and one precision, chosen from what the user asked for."""

import logging

import pytest
import torch

from vidtoon.device import _cpu_has_native_bf16, resolve_device, resolve_precision
from vidtoon.errors import UsageError

CPU = torch.device("cpu")


def test_devices():
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="has none"):
            resolve_device("cuda")


def test_bad_precisions_are_refused():
    with pytest.raises(UsageError, match="unknown precision"):
        resolve_precision("fp8", CPU)
    with pytest.raises(UsageError, match="fp16 needs a CUDA GPU"):
        resolve_precision("fp16", CPU)


def test_auto_precision_on_the_cpu_follows_the_hardware():
    assert resolve_precision("auto", CPU) == ("bf16" if _cpu_has_native_bf16() else "fp32")
    assert resolve_precision(None, CPU) == resolve_precision("auto", CPU)


def test_an_explicit_precision_is_kept_and_emulation_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="vidtoon.device"):
        assert resolve_precision("fp32", CPU) == "fp32"
        assert caplog.text == ""
        assert resolve_precision("bf16", CPU) == "bf16"
        assert ("emulated" in caplog.text) != _cpu_has_native_bf16()
