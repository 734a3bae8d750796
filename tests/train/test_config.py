"""Training config: defaults < YAML file < CLI overrides; unknown keys and bad values refused with a clear message."""

import pytest

from vidtoon.errors import InputError, UsageError
from vidtoon.train.cartoon_config import CartoonConfig
from vidtoon.train.config import AugmentConfig, CAAEConfig, CycleGANConfig, config_to_dict, load_config, save_config
from vidtoon.train.run import resolve_run_config


def test_defaults_are_the_papers():
    config = CycleGANConfig()
    assert (config.lambda_cycle, config.lambda_identity, config.pool_size) == (10.0, 0.5, 50)
    assert (config.lr, config.beta1) == (2e-4, 0.5)
    assert config.generator_family() == ("cyclegan_resnet", {"ngf": 32, "n_blocks": 6, "upsample": "resize"})


def test_file_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 50\nsize: 64\naugment:\n  flip: false\n  scale: [0.5, 0.9]\n")
    config = load_config(CycleGANConfig, path, {"size": "96", "augment.noise": "0.05", "lr": None})
    assert (config.steps, config.size, config.lr) == (50, 96, 2e-4)  # file beats default, flag beats file, None ignored
    assert config.augment == AugmentConfig(flip=False, scale=(0.5, 0.9), noise=0.05)


def test_round_trip_through_yaml(tmp_path):
    config = CAAEConfig(data="frames", label_column="studio", size=64, augment=AugmentConfig(ratio=(1.0, 1.0)))
    save_config(config, tmp_path / "config.yaml")
    assert load_config(CAAEConfig, tmp_path / "config.yaml") == config
    assert config_to_dict(config)["augment"]["ratio"] == [1.0, 1.0]


def test_unknown_keys_are_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("stpes: 50\n")
    with pytest.raises(InputError, match="unknown config key 'stpes'") as info:
        load_config(CycleGANConfig, path)
    assert info.value.path == path and "steps" in info.value.hint
    path.write_text("augment:\n  flop: true\n")
    with pytest.raises(InputError, match="'augment.flop'"):
        load_config(CycleGANConfig, path)
    with pytest.raises(UsageError, match="unknown config key 'label_column'"):
        load_config(CycleGANConfig, None, {"label_column": "x"})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"steps": "many"}, "'steps' must be int"),
        ({"size": "100"}, "multiple of 16"),
        ({"precision": "fp8"}, "unknown precision"),
        ({"generator": "vit"}, "unknown generator"),
        ({"generator": "unet", "size": "64"}, "multiple of 128"),
        ({"augment.scale": "[0.5]"}, "pair"),
        ({"augment.brightness": "1.5"}, "brightness"),
        ({"flip": "true"}, "unknown config key 'flip'"),
    ],
)
def test_bad_values(overrides, message):
    with pytest.raises(UsageError, match=message):
        load_config(CycleGANConfig, None, overrides)


@pytest.mark.parametrize("cls", [CycleGANConfig, CartoonConfig, CAAEConfig])
def test_crops_too_small_for_the_discriminators_are_refused(cls):
    # each strided layer halves the crop; the last two 4×4 convolutions need 3×3 cells (16 >> 3 = 2 failed in torch)
    with pytest.raises(UsageError, match=r"size 16 is too small for discriminators with d_layers=3 .*size >= 32.*d_layers=2"):
        cls(size=16)
    with pytest.raises(UsageError, match=r"size 64 .* d_layers=5 .*size >= 96"):
        cls(size=64, d_layers=5)
    assert cls(size=16, d_layers=2).d_layers == 2 and cls(size=48, d_layers=4).size == 48  # 48 >> 4 = 3: just enough


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_config(CycleGANConfig, tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="mapping"):
        load_config(CycleGANConfig, tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("steps: [1,\n")
    with pytest.raises(InputError, match="not readable YAML"):
        load_config(CycleGANConfig, tmp_path / "broken.yaml")


def test_resume_keeps_the_saved_config(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "latest.pt").write_bytes(b"x")
    save_config(CycleGANConfig(a="A", b="B", steps=100), tmp_path / "config.yaml")
    config = resolve_run_config("cyclegan", tmp_path, overrides={"steps": 200}, resume=True)
    assert (config.a, config.steps) == ("A", 200)
    with pytest.raises(UsageError, match="cannot change size"):
        resolve_run_config("cyclegan", tmp_path, overrides={"size": 64}, resume=True)
    with pytest.raises(InputError, match="no run to resume"):
        resolve_run_config("cyclegan", tmp_path / "elsewhere", resume=True)


def test_resuming_with_another_trainer_names_the_runs_own(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "latest.pt").write_bytes(b"x")
    save_config(CycleGANConfig(a="A", b="B"), tmp_path / "config.yaml")
    for kind in ("cartoon", "caae"):  # not "unknown config key 'generator'" and the other trainer's 60 keys
        with pytest.raises(UsageError, match=f"is a cyclegan run, not {kind} .*`vidtoon train cyclegan -o "):
            resolve_run_config(kind, tmp_path, resume=True)
    with (tmp_path / "config.yaml").open("a") as handle:
        handle.write("lambda_cycel: 5\n")  # damaged: no trainer reads it, so its unknown key is what is said
    with pytest.raises(InputError, match="unknown config key 'lambda_cycel'"):
        resolve_run_config("cyclegan", tmp_path, resume=True)
