"""The `norm` of `cyclegan_resnet`: "none" (a local, fully convolutional generator), "group", and old cards (instance)."""

import pytest
import torch
from torch import nn

from vidtoon.errors import UsageError
from vidtoon.models import ModelCard, build_model, load_checkpoint, save_checkpoint
from vidtoon.models.cyclegan import InstanceNorm2d

TINY = {"n_blocks": 1, "ngf": 8, "upsample": "resize"}


def test_no_norm_keeps_the_state_dict_layout():
    plain = build_model("cyclegan_resnet", **TINY, norm="none")
    instance = build_model("cyclegan_resnet", **TINY, norm="instance")
    assert not any(isinstance(m, (nn.InstanceNorm2d, nn.GroupNorm, nn.BatchNorm2d)) for m in plain.modules())
    assert plain.state_dict().keys() == instance.state_dict().keys()  # an nn.Identity where the norm was
    group = build_model("cyclegan_resnet", **TINY, norm="group")
    norms = [m for m in group.modules() if isinstance(m, nn.GroupNorm)]
    assert len(norms) == 7 and all(m.num_groups == 1 for m in norms)  # stem, 2 down, 2 in the block, 2 up
    assert set(group.state_dict()) - set(plain.state_dict()) == {
        f"{m}.{p}"
        for m in ("model.2", "model.5", "model.8", "model.10.conv_block.2", "model.10.conv_block.6", "model.12", "model.15")
        for p in ("weight", "bias")
    }
    with pytest.raises(UsageError, match="norm must be one of"):
        build_model("cyclegan_resnet", **TINY, norm="layer")


@torch.no_grad()
def test_without_norm_a_crop_of_the_output_is_the_output_of_the_crop():
    """What a generator trained on 64 px crops must have to restyle a whole frame the same way: locality."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    x[:, :, :, 64:] = x[:, :, :, 64:] * 0.2 + 0.6  # the right half bright and flat: other statistics than the left
    for norm, same in (("none", True), ("instance", False)):
        model = build_model("cyclegan_resnet", **TINY, norm=norm).eval()
        whole, crop = model(x), model(x[:, :, 16:112, 24:120])
        inner = (slice(None), slice(None), slice(32, 64), slice(32, 64))  # 32 px from the crop's border (receptive field ~25)
        gap = float((whole[:, :, 16:112, 24:120][inner] - crop[inner]).abs().max())
        assert (gap < 1e-5) == same, (norm, gap)


def test_a_card_without_norm_is_an_instance_norm_generator(tmp_path):
    """Checkpoints written before the option record no `norm`: they load with instance norm, as they were trained."""
    old, new = tmp_path / "old.safetensors", tmp_path / "new.safetensors"
    save_checkpoint(build_model("cyclegan_resnet", **TINY), old, ModelCard(family="cyclegan_resnet", kwargs=TINY))
    kwargs = {**TINY, "norm": "none"}
    save_checkpoint(build_model("cyclegan_resnet", **kwargs), new, ModelCard(family="cyclegan_resnet", kwargs=kwargs))
    old_model, old_card = load_checkpoint(old)
    new_model, new_card = load_checkpoint(new)
    assert "norm" not in old_card.kwargs and any(isinstance(m, InstanceNorm2d) for m in old_model.modules())
    assert new_card.kwargs["norm"] == "none" and not any(isinstance(m, nn.InstanceNorm2d) for m in new_model.modules())


@torch.no_grad()
def test_skip_learns_the_change_from_the_input():
    torch.manual_seed(0)
    model = build_model("cyclegan_resnet", **TINY, norm="none", skip=True).eval()
    assert model.state_dict().keys() == build_model("cyclegan_resnet", **TINY).state_dict().keys()  # no new parameters
    head = model.model[-2]
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    x = torch.linspace(-1, 1, 3 * 32 * 32).reshape(1, 3, 32, 32)
    assert float((model(x) - x.clamp(-0.999, 0.999)).abs().max()) < 1e-5  # a zero change: the input itself
    head.bias.fill_(0.5)
    assert torch.allclose(model(torch.zeros(1, 3, 32, 32)), torch.full((1, 3, 32, 32), 0.4621), atol=1e-4)  # tanh(0.5)


@torch.no_grad()
def test_long_skips_add_the_full_and_half_resolution_features_back():
    torch.manual_seed(0)
    model = build_model("cyclegan_resnet", **TINY, norm="none", skip=True, long_skips=True).eval()
    plain = build_model("cyclegan_resnet", **TINY, norm="none", skip=True).eval()
    assert model.state_dict().keys() == plain.state_dict().keys()  # no new parameters
    plain.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    layers = model.model  # stem 0-3, down 4-6 and 7-9, one block 10, up 11-13 and 14-16, pad + conv 17-18, tanh 19
    full = layers[0:4](x)
    half = layers[4:7](full)
    up = layers[14:17](layers[11:14](layers[7:11](half)) + half) + full
    expected = torch.tanh(layers[17:19](up) + torch.atanh(x.clamp(-0.999, 0.999)))
    assert torch.allclose(model(x), expected, atol=1e-6) and not torch.allclose(model(x), plain(x), atol=1e-3)
    deep = build_model("cyclegan_resnet", ngf=8, n_blocks=3, upsample="resize", norm="instance", long_skips=True)
    assert deep(x).shape == x.shape and float(deep(x).abs().max()) <= 1
