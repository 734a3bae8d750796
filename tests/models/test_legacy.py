"""Foreign state dicts (pytorch-CycleGAN-and-pix2pix, AnimeGANv2) are recognised by layout and load strictly.

Our modules reproduce the originals' layouts, so a state dict saved from ours stands in for theirs; the parameter
counts of the full-size defaults pin those layouts to the originals.
"""

from __future__ import annotations

import pytest
import torch

from vidtoon.errors import InputError
from vidtoon.models import load_checkpoint
from vidtoon.models.animegan import Generator
from vidtoon.models.cyclegan import NLayerDiscriminator, ResnetGenerator, UnetGenerator
from vidtoon.models.legacy import KNOWN_LAYOUTS, clean_state_dict

RESNET_DEFAULTS = {"use_dropout": False, "norm": "instance", "upsample": "transpose"}
UNET_DEFAULTS = {"use_dropout": False, "norm": "instance"}

CASES = {
    "resnet": (
        lambda: ResnetGenerator(3, 3, ngf=8, n_blocks=2),
        "cyclegan_resnet",
        {**RESNET_DEFAULTS, "n_blocks": 2, "ngf": 8},
        4,
    ),
    "resnet_dropout_batchnorm": (
        lambda: ResnetGenerator(3, 3, ngf=8, n_blocks=3, use_dropout=True, norm="batch"),
        "cyclegan_resnet",
        {**RESNET_DEFAULTS, "n_blocks": 3, "ngf": 8, "use_dropout": True, "norm": "batch"},
        4,
    ),
    "unet": (lambda: UnetGenerator(3, 3, num_downs=5, ngf=8), "cyclegan_unet", {"num_downs": 5, "ngf": 8, **UNET_DEFAULTS}, 32),
    "unet_pix2pix": (
        lambda: UnetGenerator(3, 3, num_downs=6, ngf=4, norm="batch"),
        "cyclegan_unet",
        {**UNET_DEFAULTS, "num_downs": 6, "ngf": 4, "norm": "batch"},
        64,
    ),
    "animegan": (lambda: Generator(width=0.125), "animegan", {"width": 0.125, "align_corners": True}, 8),
}


def param_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("wrapping", ["plain", "dataparallel", "state_dict"])
@pytest.mark.parametrize("case", list(CASES))
def test_foreign_state_dict_is_recognised(tmp_path, case, wrapping):
    make, family, kwargs, size_multiple = CASES[case]
    torch.manual_seed(0)
    original = make().eval()
    state = original.state_dict()
    if wrapping == "dataparallel":
        state = {f"module.{key}": value for key, value in state.items()}
    path = tmp_path / "latest_net_G_A.pth"
    torch.save({"state_dict": state} if wrapping == "state_dict" else state, path)

    model, card = load_checkpoint(path)

    assert (card.family, card.kwargs, card.size_multiple) == (family, kwargs, size_multiple)
    assert card.name == "latest_net_G_A" and card.value_range == (-1.0, 1.0)
    assert "unknown" in card.data and "unknown" in card.licence
    height = size_multiple * -(-32 // size_multiple)
    x = torch.rand(2, 3, height, height + size_multiple) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(x), original(x))


def test_pre_0_4_instance_norm_statistics_are_dropped(tmp_path):
    original = ResnetGenerator(3, 3, ngf=8, n_blocks=1).eval()
    state = dict(original.state_dict())
    state["model.2.running_mean"] = torch.zeros(8)
    state["model.2.running_var"] = torch.ones(8)
    torch.save(state, tmp_path / "old.pth")
    model, _ = load_checkpoint(tmp_path / "old.pth")
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(x), original(x))


def test_clean_state_dict_keeps_batch_norm_statistics():
    state = ResnetGenerator(3, 3, ngf=8, n_blocks=1, norm="batch").state_dict()
    assert clean_state_dict({f"module.{k}": v for k, v in state.items()}).keys() == state.keys()


def test_unknown_layout_names_file_and_known_layouts(tmp_path):
    path = tmp_path / "latest_net_D_A.pth"
    torch.save(NLayerDiscriminator(3, ndf=8).state_dict(), path)
    with pytest.raises(InputError) as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)
    for layout in KNOWN_LAYOUTS:
        assert layout in str(caught.value)


def test_non_rgb_generator_is_refused(tmp_path):
    path = tmp_path / "gray2rgb.pth"
    torch.save(ResnetGenerator(1, 3, ngf=8, n_blocks=1).state_dict(), path)
    with pytest.raises(InputError, match="1 channels"):
        load_checkpoint(path)


def test_misfitting_shapes_are_refused(tmp_path):
    state = ResnetGenerator(3, 3, ngf=8, n_blocks=1).state_dict()
    state["model.4.weight"] = torch.zeros(16, 8, 5, 5)
    torch.save(state, tmp_path / "odd.pth")
    with pytest.raises(InputError, match="do not fit"):
        load_checkpoint(tmp_path / "odd.pth")


def test_full_size_layouts_have_the_originals_parameter_counts():
    # pytorch-CycleGAN-and-pix2pix prints 11.378 M (G, resnet_9blocks), 54.414 M (pix2pix G, unet_256 with batch norm)
    # and 2.765 M (D, basic); bryandlee/animegan2-pytorch's model.py Generator has 2,143,552.
    assert param_count(ResnetGenerator(3, 3, ngf=64, n_blocks=9)) == 11_378_179
    assert param_count(UnetGenerator(3, 3, num_downs=8, ngf=64, norm="batch")) == 54_413_955
    assert param_count(NLayerDiscriminator(3, ndf=64, n_layers=3)) == 2_764_737
    assert param_count(Generator()) == 2_143_552


def test_original_key_names():
    resnet = ResnetGenerator(3, 3, ngf=64, n_blocks=9).state_dict()
    assert {"model.1.weight", "model.10.conv_block.1.weight", "model.18.conv_block.5.bias", "model.19.weight"} <= set(resnet)
    assert "model.26.weight" in resnet  # the 7×7 head after ReflectionPad2d at 25
    unet = UnetGenerator(3, 3, num_downs=8).state_dict()
    innermost = "model.model." + "1.model." + "3.model." * 6
    assert {"model.model.0.weight", "model.model.3.weight", "model.model.1.model.3.model.1.weight"} <= set(unet)
    assert {innermost + "1.weight", innermost + "3.weight"} <= set(unet)  # the innermost down- and up-convolution
    anime = Generator().state_dict()
    assert {"block_a.0.1.weight", "block_c.1.layers.1.1.bias", "block_e.2.2.weight", "out_layer.0.weight"} <= set(anime)


def test_resize_upsampling_changes_only_the_upsampling_keys():
    transpose = set(ResnetGenerator(3, 3, ngf=8, n_blocks=2).state_dict())
    resize = set(ResnetGenerator(3, 3, ngf=8, n_blocks=2, upsample="resize").state_dict())
    assert transpose - resize == {"model.12.weight", "model.12.bias", "model.15.weight", "model.15.bias"}
    assert resize - transpose == {"model.12.2.weight", "model.12.2.bias", "model.15.2.weight", "model.15.2.bias"}
