"""One test over the whole registry: every family, built tiny, runs forward and backward and survives a checkpoint.

Conventions a family's module follows (and this test relies on): the module's `in_channels` (default 3) is the input's
channel count, its `size_multiple` (default: the family's) the input's size multiple, and a conditional module's
`n_styles` the number of labels it takes as `forward(x, label)`.
"""

from __future__ import annotations

import pytest
import torch

from vidtoon.errors import UsageError
from vidtoon.models import ModelCard, build_model, family_names, get_family, load_checkpoint, save_checkpoint


def example_inputs(name: str, model: torch.nn.Module) -> tuple[torch.Tensor, ...]:
    """A batch of 2 valid inputs for `model`: values in [-1, 1], non-square, the smallest valid size of at least 32 px."""
    multiple = getattr(model, "size_multiple", get_family(name).size_multiple)
    height = multiple * -(-32 // multiple)
    x = torch.rand(2, getattr(model, "in_channels", 3), height, height + multiple) * 2 - 1
    if get_family(name).conditional:
        return x, torch.tensor([0, model.n_styles - 1])
    return (x,)


def card_for(name: str, model: torch.nn.Module) -> ModelCard:
    family = get_family(name)
    styles = tuple(f"style{i}" for i in range(model.n_styles)) if family.conditional else ()
    multiple = getattr(model, "size_multiple", family.size_multiple)
    return ModelCard(family=name, kwargs=family.tiny, size_multiple=multiple, styles=styles)


@pytest.mark.parametrize("name", family_names())
def test_family(name, tmp_path):
    torch.manual_seed(0)
    family = get_family(name)
    model = build_model(name, **family.tiny)
    inputs = example_inputs(name, model)
    x = inputs[0]

    y = model(*inputs)
    if family.kind == "generator":
        assert y.shape == (x.shape[0], 3, *x.shape[-2:])
        assert y.abs().max() <= 1
    else:
        assert y.shape[:2] == (x.shape[0], 1) and y.ndim in (2, 4)
    assert torch.isfinite(y).all()

    y.square().mean().backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, f"{param_name} gets no gradient"
        assert torch.isfinite(param.grad).all(), param_name

    model.eval()
    with torch.no_grad():
        expected = model(*inputs)
    save_checkpoint(model, tmp_path / "model.safetensors", card_for(name, model))
    loaded, card = load_checkpoint(tmp_path / "model.safetensors")
    assert card.family == name and card.kwargs == family.tiny
    with torch.no_grad():
        assert torch.equal(loaded(*inputs), expected)

    save_checkpoint(model, tmp_path / "half.safetensors", card_for(name, model), half=True)
    loaded, _ = load_checkpoint(tmp_path / "half.safetensors")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    with torch.no_grad():
        torch.testing.assert_close(loaded(*inputs), expected, atol=5e-3, rtol=5e-3)


def test_unknown_family_lists_known_names():
    with pytest.raises(UsageError) as caught:
        build_model("no_such_family")
    assert "no_such_family" in str(caught.value)
    for name in family_names():
        assert name in str(caught.value)


@pytest.mark.parametrize("kwargs", [{"no_such_argument": 1}, {"norm": "layer"}, {"n_blocks": -1}])
def test_bad_arguments_are_a_usage_error(kwargs):
    with pytest.raises(UsageError, match="cyclegan_resnet"):
        build_model("cyclegan_resnet", **kwargs)


def test_registry_holds_the_model_families():
    assert {"animegan", "caae", "cyclegan_resnet", "cyclegan_unet"} <= set(family_names("generator"))
    assert {"caae_image_discriminator", "caae_latent_discriminator", "patchgan"} <= set(family_names("discriminator"))
