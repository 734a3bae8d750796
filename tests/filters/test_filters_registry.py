"""Every registered procedural style: the contract (shape, range, determinism, devices, batching, options)."""

from __future__ import annotations

import pytest
import torch
from filter_helpers import shapes_image, to_x

from vidtoon.errors import UsageError
from vidtoon.filters import PROCEDURAL, FilterParams

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("name", PROCEDURAL.names())
@pytest.mark.parametrize("device", DEVICES)
def test_contract(name, device):
    entry = PROCEDURAL.get(name)
    assert issubclass(entry.params_cls, FilterParams) and entry.params_cls.filter_name == name
    x = torch.cat((to_x(shapes_image(36)), to_x(shapes_image(36)).flip(-1), torch.zeros(1, 3, 36, 48))).to(device)
    out = entry.apply(x)
    assert out.shape == x.shape and out.dtype == torch.float32 and out.device.type == device
    assert torch.isfinite(out).all() and out.min() >= -1 and out.max() <= 1
    assert torch.equal(out, entry.apply(x))  # deterministic, no state
    assert torch.allclose(out[1:2], entry.apply(x[1:2]), atol=1e-5)  # batched == per image
    assert (out - x).abs().mean() > 0.01  # it does something


@pytest.mark.parametrize("name", PROCEDURAL.names())
def test_odd_and_tiny_sizes(name):
    for height, width in [(1, 1), (3, 5), (17, 9)]:
        out = PROCEDURAL.get(name).apply(torch.rand(1, 3, height, width) * 2 - 1)
        assert out.shape == (1, 3, height, width) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", PROCEDURAL.names())
def test_unknown_option_lists_the_known_ones(name):
    entry = PROCEDURAL.get(name)
    with pytest.raises(UsageError) as caught:
        entry.apply(torch.zeros(1, 3, 8, 8), {"bogus": "1"})
    assert f"unknown {name} option bogus" in str(caught.value)
    for key in entry.params_cls.option_names():
        assert f"{key}=" in str(caught.value)


@pytest.mark.parametrize("name", PROCEDURAL.names())
def test_gpu_matches_cpu(name):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x = to_x(shapes_image(72))
    entry = PROCEDURAL.get(name)
    assert (entry.apply(x.cuda()).cpu() - entry.apply(x)).abs().mean() < 2e-3


def test_the_torch_free_parameter_classes_are_the_registered_ones():
    from vidtoon.filters.param_sets import PARAMS

    assert PARAMS.names() == PROCEDURAL.names() == ["paint", "sketch", "toon"]
    for name in PROCEDURAL.names():
        assert PARAMS.get(name) is PROCEDURAL.get(name).params_cls
    errors = []
    for registry in (PARAMS, PROCEDURAL):  # an unknown name: the same message from either
        with pytest.raises(UsageError) as caught:
            registry.get("tooon")
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "known: paint, sketch, toon" in errors[0]


def test_a_filter_registered_with_other_parameters_than_its_name_has_is_refused():
    from vidtoon.filters.param_sets import PaintParams
    from vidtoon.filters.registry import procedural

    with pytest.raises(ValueError, match="ToonParams"):
        procedural("toon", PaintParams)
