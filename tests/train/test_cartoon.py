"""`vidtoon train cartoon`: crops, hold-out, config, exact resume, export with provenance, and no PyAV needed."""

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.errors import InputError, UsageError
from vidtoon.models import build_model, file_sha256, load_checkpoint
from vidtoon.models.checkpoint import ModelCard, save_checkpoint
from vidtoon.parsing import setting_word
from vidtoon.styles import read_style_card
from vidtoon.styles.cards import find_style
from vidtoon.train.cartoon import (
    CartoonTrainer,
    adversarial_ramp,
    caption_row,
    cartoon_data,
    random_crop,
    split_holdout,
)
from vidtoon.train.cartoon_config import CartoonConfig
from vidtoon.train.config import AugmentConfig, load_config
from vidtoon.train.data import ImageBank
from vidtoon.train.export import export_run
from vidtoon.train.losses import fine_detail
from vidtoon.train.quality import colour_cast
from vidtoon.train.run import train
from vidtoon.train.state import read_checkpoint

from .test_run import StopAt
from .toy import random_png_folder

TINY = {
    "size": 32,
    "load_size": 48,
    "batch_size": 2,
    "ngf": 8,
    "n_blocks": 1,
    "ndf": 8,
    "d_layers": 2,
    "holdout": 2,
    "init_steps": 2,
    "device": "cpu",
    "precision": "fp32",
    "log_every": 1,
    "sample_every": 3,
    "save_every": 4,
}


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    root = tmp_path_factory.mktemp("cartoon")
    return random_png_folder(root / "a", 6, seed=1, size=(48, 64)), random_png_folder(root / "b", 5, seed=2, size=(48, 64))


def config_for(domains, **changes):
    a, b = domains
    return CartoonConfig(**{"a": str(a), "b": str(b), "steps": 6, **TINY, **changes})


def test_random_crop_keeps_the_source_scale():
    image = torch.arange(3 * 40 * 50, dtype=torch.int64).remainder(251).to(torch.uint8).reshape(3, 40, 50)
    crop = random_crop(image, 16, zoom=(1.0, 1.0), generator=torch.Generator().manual_seed(3))
    assert crop.shape == (3, 16, 16)
    as_u8 = crop.add(1).mul(127.5).round().to(torch.uint8)
    windows = image.unfold(1, 16, 1).unfold(2, 16, 1)  # 3×25×35×16×16: every 16×16 window of the source
    assert (windows == as_u8[:, None, None]).all(-1).all(-1).all(0).any()  # zoom 1: an exact window, no resampling
    small = random_crop(image, 32, zoom=(2.0, 2.0), generator=torch.Generator().manual_seed(3))
    assert small.shape == (3, 32, 32)  # 16 source pixels enlarged


def test_split_holdout():
    bank = ImageBank([torch.zeros(3, 4, 4, dtype=torch.uint8)] * 20, [f"n{i}" for i in range(20)])
    rest, held = split_holdout(bank, 4)
    assert held == [2, 8, 12, 18] and len(rest) == 16 and not {"n2", "n8", "n12", "n18"} & set(rest.names)
    assert len(split_holdout(bank, 0)[0]) == 20 and len(split_holdout(bank, 50)[0]) == 10  # at most half held out
    small = ImageBank(bank.images[:4], bank.names[:4])
    assert len(split_holdout(small, 8)[0]) == 2 and len(split_holdout(ImageBank(bank.images[:1], ["x"]), 8)[0]) == 1


def test_config_defaults_file_and_flags(tmp_path):
    config = CartoonConfig()
    family, kwargs = config.generator_family()
    assert (config.size, config.load_size, config.resolved_sample_size) == (96, 288, 256)
    assert kwargs == {"ngf": 16, "n_blocks": 4, "upsample": "resize", "norm": "none", "skip": True, "long_skips": True}
    assert not any(isinstance(m, (torch.nn.InstanceNorm2d, torch.nn.GroupNorm)) for m in build_model(family, **kwargs).modules())
    params = sum(p.numel() for p in build_model(family, **kwargs).parameters())
    assert params * 2 < 10e6, params  # ≤ 10 MB in fp16 (0.7 MB)
    path = tmp_path / "c.yaml"
    path.write_text("lambda_texture: 2\nzoom: [1, 2]\n")
    loaded = load_config(CartoonConfig, path, {"lambda_texture": "3", "init_steps": 10})
    assert loaded.lambda_texture == 3.0 and loaded.zoom == (1.0, 2.0) and loaded.init_steps == 10
    with pytest.raises(UsageError, match="zoom"):
        CartoonConfig(zoom=(2.0, 1.0))
    with pytest.raises(UsageError, match="lambda"):
        CartoonConfig(lambda_hue=-1)
    with pytest.raises(UsageError, match="norm must be one of none, group, instance"):
        CartoonConfig(norm="batch")
    with pytest.raises(UsageError, match="adv_ramp"):
        CartoonConfig(adv_ramp=-1)
    with pytest.raises(UsageError, match="anchor_eps"):
        CartoonConfig(anchor_eps=0)
    with pytest.raises(UsageError, match="anchor_passes"):
        CartoonConfig(anchor_passes=0)


def test_train_resumes_exactly_and_records_the_look(domains, tmp_path):
    straight = train("cartoon", config_for(domains), tmp_path / "straight")
    assert straight.finished and set(straight.losses) == {
        "content",
        "detail",
        "fine",
        "surface",
        "texture",
        "colour",
        "hue",
        "tv",
        "d_surface",
        "d_texture",
    }
    stopped = train("cartoon", config_for(domains), tmp_path / "split", progress=StopAt(3))  # Ctrl-C after step 3
    assert stopped.step == 3 and not stopped.finished
    # resumed with the images held on the training device (a run-control key: a GPU run's batches cut on the GPU;
    # on the CPU the same tensors, so the same batches)
    resumed = train("cartoon", config_for(domains, data_on_device=True), tmp_path / "split", resume=True)
    assert resumed.step == 6 and resumed.losses == straight.losses
    a = read_checkpoint(tmp_path / "straight" / "checkpoints" / "latest.pt")["trainer"]
    b = read_checkpoint(tmp_path / "split" / "checkpoints" / "latest.pt")["trainer"]
    assert all(torch.equal(a["models"]["g"][k], b["models"]["g"][k]) for k in a["models"]["g"])
    quality = a["extra"]["quality"]
    assert quality.shape == (2, 5) and quality[:, 0].tolist() == [3.0, 6.0]  # (step, cast, checker, blotch, distance)
    assert (quality[:, 1:] >= 0).all() and (quality[:, 3] <= 1).all() and (quality[:, 4] < 128).all()
    sheet = tmp_path / "straight" / "samples" / "step_000006.png"
    assert sheet.exists()
    h, w = cv2.imread(str(sheet)).shape[:2]
    assert (w, h) == (2 * 48 + 2, 3 * 48 + 24 + 3 * 2)  # 2 held-out images: input, anchor, output rows + a caption row


def test_caption_row_writes_text():
    row = caption_row([1.25, 7.5], [1.0, 9.0], [0.0, 0.02], 64)
    assert row.shape == (2, 3, 24, 64) and float(row.min()) < 0 and float(row.max()) == 1.0  # dark text on white


def test_export_card_with_provenance(domains, tmp_path):
    train("cartoon", config_for(domains, steps=3), tmp_path / "run")
    result = export_run(tmp_path / "run", tmp_path / "styles", name="anime", provenance="anime")
    card = read_style_card(result.card)
    assert card.defaults == {"faces": True} and "research use" in card.licence.lower() and "selfie2anime" in card.data
    assert card.training["trainer"] == "cartoon" and card.training["steps"] == 3 and card.training["resolution"] == 32
    assert card.training["look"]["step"] == 3 and card.training["date"][:2] == "20" and 0 < card.training["size_mb"] < 10
    assert 0 < card.training["look"]["distance_to_target"] < 128  # grey levels from the anchor on the held-out photos
    assert file_sha256(card.checkpoint) == card.sha256 and card.preview.exists()
    assert all(t.dtype == torch.float16 for t in load_file(card.checkpoint).values())
    _, model_card = load_checkpoint(card.checkpoint)
    assert model_card.family == "cyclegan_resnet" and model_card.kwargs["upsample"] == "resize"
    pixar = export_run(tmp_path / "run", tmp_path / "styles", name="pixar", provenance="pixar")
    text, pixar_card = yaml.safe_load(pixar.card.read_text()), read_style_card(pixar.card)
    assert "Blender Foundation" in pixar_card.credits and "CC-BY 3.0" in pixar_card.licence and "defaults" not in text
    assert not {"licence", "data", "credits"} & set(text)  # stated once, in the weights' own card
    with pytest.raises(UsageError, match="unknown provenance"):
        export_run(tmp_path / "run", tmp_path / "other", provenance="ghibli")


def test_cli_train_cartoon_and_export(domains, tmp_path):
    a, b = domains
    run = tmp_path / "run"
    sets = [x for k, v in TINY.items() if k not in ("size", "device", "precision") for x in ("--set", f"{k}={v}")]
    result = CliRunner().invoke(
        app,
        [
            "train",
            "cartoon",
            "--a",
            str(a),
            "--b",
            str(b),
            "-o",
            str(run),
            "--steps",
            "3",
            "--size",
            "32",
            "--device",
            "cpu",
            "--precision",
            "fp32",
            *sets,
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "A: 4 images (+2 held out), B: 5 images" in " ".join(result.stderr.split())
    done = CliRunner().invoke(app, ["export", str(run), "-o", str(tmp_path / "s"), "--name", "pixar", "--provenance", "pixar"])
    assert done.exit_code == 0, done.stderr
    assert read_style_card(tmp_path / "s" / "pixar.yaml").credits.startswith("Big Buck Bunny and Sintel")


def test_trains_and_exports_without_pyav(domains, tmp_path):
    a, b = domains
    code = textwrap.dedent(f"""
        import sys
        sys.modules["av"] = None  # importing PyAV now fails, as on the GPU machine
        from vidtoon.train.cartoon_config import CartoonConfig
        from vidtoon.train.export import export_run
        from vidtoon.train.run import train
        config = CartoonConfig(a={str(a)!r}, b={str(b)!r}, steps=3, **{TINY!r})
        train("cartoon", config, {str(tmp_path / "run")!r})
        print(export_run({str(tmp_path / "run")!r}, {str(tmp_path / "out")!r}, name="pixar", provenance="pixar").sha256)
        assert "av" not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None]
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip()) == 64 and (tmp_path / "out" / "pixar.safetensors").exists()


def test_a_norm_the_checkpoint_does_not_have_is_refused_on_resume(domains, tmp_path):
    run = tmp_path / "old"
    train("cartoon", config_for(domains, steps=3, norm="instance"), run)
    path = run / "checkpoints" / "latest.pt"
    state = torch.load(path, weights_only=True)
    del state["trainer"]["extra"]["norm"]  # as written before the option: instance norm, 3 look columns
    state["trainer"]["extra"]["quality"] = state["trainer"]["extra"]["quality"][:, :3]
    torch.save(state, path)
    config = yaml.safe_load((run / "config.yaml").read_text())
    del config["norm"]
    (run / "config.yaml").write_text(yaml.safe_dump(config))  # the new default, "none", would apply
    with pytest.raises(UsageError, match="trained with norm: instance, its config.yaml says norm: none") as caught:
        train("cartoon", config_for(domains, steps=4), run, resume=True)
    assert "norm: instance" in caught.value.hint
    (run / "config.yaml").write_text(yaml.safe_dump({**config, "norm": "instance"}))
    resumed = train("cartoon", config_for(domains, steps=4, norm="instance"), run, resume=True)
    assert resumed.step == 4
    quality = read_checkpoint(path)["trainer"]["extra"]["quality"]
    assert quality.shape == (2, 5) and torch.isnan(quality[0, 3:]).all() and 0 <= quality[1, 3] <= 1  # the old sheet had none
    assert 0 < quality[1, 4] < 128


@pytest.mark.parametrize(("key", "before", "now"), [("long_skips", False, True), ("anchor", "guided", "film")])
def test_a_run_saved_before_an_option_resumes_only_with_what_it_had(domains, tmp_path, key, before, now):
    run = tmp_path / "old"
    train("cartoon", config_for(domains, steps=3, **{key: before}), run)
    path = run / "checkpoints" / "latest.pt"
    state = torch.load(path, weights_only=True)
    del state["trainer"]["extra"][key]  # as written before the option
    torch.save(state, path)
    config = yaml.safe_load((run / "config.yaml").read_text())
    del config[key]  # the new default would apply
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    said = f"trained with {key}: {setting_word(before)}, its config.yaml says {key}: {setting_word(now)}"
    with pytest.raises(UsageError, match=said) as caught:
        train("cartoon", config_for(domains, steps=4), run, resume=True)
    assert f"{key}: {setting_word(before)}" in caught.value.hint
    (run / "config.yaml").write_text(yaml.safe_dump({**config, key: before}))
    assert train("cartoon", config_for(domains, steps=4, **{key: before}), run, resume=True).step == 4


def test_adversarial_weights_ramp_in():
    assert adversarial_ramp(500, init_steps=500, ramp=0) == 1.0
    assert [adversarial_ramp(s, init_steps=10, ramp=100) for s in (10, 59, 109, 500)] == [0.01, 0.5, 1.0, 1.0]


def test_every_learned_style_named_to_users_has_a_recipe():
    """`--to pixar` on an install without its weights says how to make it: only for styles with a provenance preset."""
    from vidtoon.styles.cards import LEARNED_STYLES
    from vidtoon.train.provenance import PROVENANCE

    assert set(LEARNED_STYLES) == set(PROVENANCE)


def test_the_film_anchor_is_cropped_with_its_photo(tmp_path):
    # two-tone photos (grey levels 80 | 170, the edge at a different column in each): their film-look targets are
    # nearly themselves, so a crop of the target that does not line up with its photo's crop shows at the edge
    folder = tmp_path / "a"
    folder.mkdir()
    for i, edge in enumerate((20, 31, 44, 52)):
        photo = np.full((64, 72, 3), 80, np.uint8)
        photo[:, edge:] = 170
        cv2.imwrite(str(folder / f"p{i}.png"), photo)
    b = random_png_folder(tmp_path / "b", 3, seed=2, size=(64, 72))
    config = CartoonConfig(
        a=str(folder), b=str(b), anchor="film", size=32, load_size=64, batch_size=4, holdout=1, zoom=(0.7, 1.3)
    )
    data = cartoon_data(replace(config, init_steps=0))
    for step in range(3):
        batch = data.make(step)
        assert set(batch) == {"a", "b", "a_target"} and batch["a_target"].shape == batch["a"].shape == (4, 3, 32, 32)
        assert float((batch["a_target"] - batch["a"]).abs().max()) < 0.15  # misaligned, the edge would differ by ~0.7
    assert (
        set(data.sample) == {"held", "held_target"}
        and float((data.sample["held_target"] - data.sample["held"]).abs().max()) < 0.15
    )
    # a white-balance jitter tints the photo and its target alike: grey photos come out coloured, still aligned
    tinted = cartoon_data(replace(config, augment=AugmentConfig(flip=True, tint=0.3))).make(0)
    assert float((tinted["a_target"] - tinted["a"]).abs().max()) < 0.15
    channel_means = tinted["a"].mean((2, 3))  # N×3: equal for grey, apart once tinted
    assert float((channel_means.amax(1) - channel_means.amin(1)).max()) > 0.05
    with pytest.raises(UsageError, match="anchor must be one of guided, film"):
        CartoonConfig(anchor="vgg")


def test_the_anchor_phase_cuts_no_style_crops_and_the_style_stream_does_not_depend_on_it(domains):
    # the anchor phase never looks at B: its batches carry none (a third of a batch's cost); from init_steps on they do,
    # and B's crops of a step are the same as in a run that was adversarial from the start
    config = config_for(domains, steps=6, anchor="film", init_steps=3)
    data, adversarial_from_start = cartoon_data(config), cartoon_data(replace(config, init_steps=0))
    assert [set(data.make(step)) for step in range(5)] == [{"a", "a_target"}] * 3 + [{"a", "b", "a_target"}] * 2
    for step in (3, 4):
        assert torch.equal(data.make(step)["b"], adversarial_from_start.make(step)["b"])
        assert torch.equal(data.make(step)["a"], adversarial_from_start.make(step)["a"])


def test_batches_are_cut_where_the_images_are_held(domains):
    # data_on_device: the images go to the training device and every crop, flip and tint happens there; the meta
    # device stands in for a GPU (an op that mixes a CPU tensor in fails there as it would on CUDA)
    config = config_for(domains, anchor="film", palette=True, init_steps=1, augment=AugmentConfig(flip=True, tint=0.15))
    data = cartoon_data(config, torch.device("meta"))
    for step in (0, 1):
        batch = data.make(step)
        assert {name: tensor.device.type for name, tensor in batch.items()} == dict.fromkeys(batch, "meta")
        assert batch["a"].shape == batch["a_target"].shape == (2, 3, 32, 32)
    assert set(batch) == {"a", "a_target", "b"}


def smooth_photos(folder: Path, count: int, size: tuple[int, int] = (48, 64)) -> Path:
    """`count` PNGs of smooth colour ramps (H, W): resizing them up and down again changes them by a level or so."""
    folder.mkdir(parents=True)
    ys, xs = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float32)
    for i in range(count):
        ramp = np.stack([40 + 2 * xs + 10 * i, 60 + 2 * ys, 200 - xs - ys], -1)
        cv2.imwrite(str(folder / f"p{i}.png"), np.clip(ramp, 0, 255).astype(np.uint8))
    return folder


def test_targets_made_by_any_tool_are_learnt_without_a_style_domain(tmp_path):
    # anchor "images": each photo's target read from a folder (here the photo inverted, at twice its size), cropped
    # with its photo; a run that never reaches an adversarial phase needs no style frames (B)
    photos = smooth_photos(tmp_path / "a", 4)
    targets = tmp_path / "targets"
    targets.mkdir()
    for path in photos.iterdir():
        inverted = 255 - cv2.imread(str(path))
        cv2.imwrite(str(targets / path.name), cv2.resize(inverted, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
    config = CartoonConfig(
        **{**TINY, "batch_size": 4, "holdout": 1}, a=str(photos), targets=str(targets), anchor="images", steps=3
    )  # init_steps 2 < 3 steps, but without B (the style) no adversarial phase: the targets only
    data = cartoon_data(config)
    batch = data.make(0)
    assert set(batch) == {"a", "a_target"} and float((batch["a_target"] + batch["a"]).abs().max()) < 0.05
    assert float((data.sample["held_target"] + data.sample["held"]).abs().max()) < 0.05
    assert train("cartoon", config, tmp_path / "run").finished
    sets = [x for k in ("load_size", "ngf", "n_blocks", "holdout") for x in ("--set", f"{k}={getattr(config, k)}")]
    common = ["train", "cartoon", "--a", str(photos), "--targets", str(targets), "--steps", "2", "--size", "32", *sets]
    cli = CliRunner().invoke(app, [*common, "--device", "cpu", "-o", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.stderr
    assert load_config(CartoonConfig, tmp_path / "cli" / "config.yaml").anchor == "images"
    # what is wrong is said before anything trains
    (targets / "p3.png").unlink()
    with pytest.raises(InputError, match="1 of 4 photos have no target here: p3.png"):
        cartoon_data(config)
    cv2.imwrite(str(targets / "p3.png"), np.zeros((48, 48, 3), np.uint8))
    with pytest.raises(InputError, match="48x48, its photo 64x48 as loaded: another aspect ratio"):
        cartoon_data(config)
    with pytest.raises(UsageError, match="no domain B given"):
        cartoon_data(replace(config, palette=True))  # the palette is fitted to the style's frames
    with pytest.raises(UsageError, match="anchor images and targets go together"):
        CartoonConfig(anchor="images")


def test_the_anchor_cast_term_pulls_a_tinted_generator_back_to_the_targets_hue(domains, tmp_path):
    # a generator whose output is tinted yellow (a bias on its last layer) learns for 20 anchor steps with and
    # without the cast term, same data and seed: with it, the tint it is left with is smaller
    def left_with(weight: float) -> float:
        config = config_for(domains, steps=20, anchor="film", init_steps=100, lr=1e-3, lambda_anchor_cast=weight)
        trainer = CartoonTrainer(config, device=torch.device("cpu"))
        last = [m for m in trainer.g.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        with torch.no_grad():
            last.bias += torch.tensor([0.3, 0.3, -0.3])
        data = cartoon_data(config)
        for step in range(config.steps):
            losses = trainer.train_step(data.make(step), step)
        assert (losses["hue"] > 0) == (weight > 0)
        with torch.no_grad():
            out = trainer.g(data.sample["held"])
        return float(colour_cast(data.sample["held_target"], out).mean())

    assert left_with(0.2) < 0.8 * left_with(0.0)


def test_the_fine_term_takes_texture_off_where_the_target_has_none(domains):
    # photos: flat patches of colour under grain; targets: the same patches without it (what the film look does to
    # wall grain and skin). The same generator learns 40 anchor steps with and without the fine-detail term, same
    # batches and seed: with it, less of the grain is left on held-out crops.
    noise = torch.Generator().manual_seed(3)

    def batch(count: int) -> dict[str, torch.Tensor]:
        flat = F.interpolate(torch.rand(count, 3, 4, 4, generator=noise) * 1.6 - 0.8, size=(32, 32), mode="nearest")
        grain = torch.randn(count, 1, 32, 32, generator=noise) * 0.15
        return {"a": (flat + grain).clamp(-1, 1), "a_target": flat, "b": flat}

    batches, held = [batch(4) for _ in range(40)], batch(8)

    def grain_left(weight: float) -> float:
        config = config_for(domains, steps=40, anchor="film", init_steps=100, lr=1e-3, lambda_fine=weight)
        trainer = CartoonTrainer(config, device=torch.device("cpu"))
        for step, each in enumerate(batches):
            losses = trainer.train_step(each, step)
        assert (losses["fine"] > 0) == (weight > 0)
        with torch.no_grad():
            out = trainer.g(held["a"])
        return float(fine_detail(out - held["a_target"])[..., 4:-4, 4:-4].abs().mean())

    assert grain_left(4.0) < 0.88 * grain_left(0.0)  # 0.067 against 0.081


def test_a_film_anchored_run_trains_and_shows_its_target(domains, tmp_path):
    config = config_for(domains, steps=3, anchor="film")
    result = train("cartoon", config, tmp_path / "run")
    assert result.finished and result.losses["detail"] > 0
    sheet = cv2.cvtColor(cv2.imread(str(tmp_path / "run" / "samples" / "step_000003.png")), cv2.COLOR_BGR2RGB)
    target = cartoon_data(config).sample["held_target"][0]  # rows of the sheet: photo, film target, output
    expected = target.add(1).mul(127.5).round().permute(1, 2, 0).numpy()
    assert np.abs(sheet[50:98, :48].astype(float) - expected).max() <= 1


def test_palette_gives_the_targets_the_style_domains_key_and_is_refused_without_a_code_made_look(tmp_path):
    # photos and a style domain of the same random scenes, the style's 40 % brighter: the targets brighten
    a = random_png_folder(tmp_path / "a", 4, seed=1, size=(64, 72))
    b = tmp_path / "b"
    b.mkdir()
    for path in sorted(a.iterdir()):
        cv2.imwrite(str(b / path.name), np.clip(cv2.imread(str(path)).astype(float) * 1.4, 0, 255).astype(np.uint8))
    config = CartoonConfig(a=str(a), b=str(b), anchor="film", size=32, load_size=64, batch_size=2, holdout=1)
    plain, styled = cartoon_data(config), cartoon_data(replace(config, palette=True))
    assert "B's palette: lightness" in styled.summary and "palette" not in plain.summary
    lift = styled.sample["held_target"].mean() - plain.sample["held_target"].mean()
    assert float(lift) > 0.05  # in [-1, 1] units: ~7 grey levels
    assert torch.equal(styled.sample["held"], plain.sample["held"])  # the photos are not touched
    cast = colour_cast(plain.sample["held_target"], styled.sample["held_target"])
    assert float(cast.max()) < 1.0
    with pytest.raises(UsageError, match="palette needs targets"):
        CartoonConfig(anchor="guided", palette=True)


def test_a_run_starts_from_an_exported_generator_and_its_card_says_so(domains, tmp_path):
    train("cartoon", config_for(domains, steps=3), tmp_path / "first")
    exported = export_run(tmp_path / "first", tmp_path / "styles", name="mine")
    started, _ = load_checkpoint(exported.checkpoint)
    config = config_for(domains, steps=1, lr=1e-9, init_from=str(exported.checkpoint))  # a step that moves nothing
    train("cartoon", config, tmp_path / "second")
    again = export_run(tmp_path / "second", tmp_path / "styles", name="again")
    loaded, _ = load_checkpoint(again.checkpoint)
    for name, tensor in started.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert read_style_card(again.card).training["init_from"] == str(exported.checkpoint)
    fresh = CartoonTrainer(config_for(domains), device=torch.device("cpu"))  # random weights: unlike the export
    assert not torch.equal(fresh.g.state_dict()["model.1.weight"], started.state_dict()["model.1.weight"])
    # resumed, the run continues from its own checkpoint: the file it started from is not needed again
    exported.checkpoint.unlink()
    result = train("cartoon", replace(config, steps=3), tmp_path / "second", resume=True)
    assert result.step == 3


def test_init_from_is_checked_before_the_data_loads(domains, tmp_path):
    train("cartoon", config_for(domains, steps=1), tmp_path / "first")
    exported = export_run(tmp_path / "first", tmp_path / "styles", name="mine")
    nowhere = config_for(domains, a=str(tmp_path / "no-photos"))  # the data would fail too, but later
    with pytest.raises(
        UsageError, match=r"its generator is cyclegan_resnet \(n_blocks 1\), this run's is .*\(n_blocks 2\)"
    ) as caught:
        train("cartoon", replace(nowhere, n_blocks=2, init_from=str(exported.checkpoint)), tmp_path / "r1")
    assert caught.value.hint == "train the same generator (--set n_blocks=1)"
    with pytest.raises(UsageError, match="the 'toon' style is procedural, not a generator vidtoon trained"):
        train("cartoon", replace(nowhere, init_from="toon"), tmp_path / "r2")
    with pytest.raises(UsageError, match="--init-from pixr: unknown style 'pixr': did you mean 'pixar'") as caught:
        train("cartoon", replace(nowhere, init_from="pixr"), tmp_path / "r3")
    assert "--model" not in caught.value.hint and "vidtoon export" in caught.value.hint  # train has no --model flag
    caae = tmp_path / "studios.safetensors"  # another family: named alone, not its arguments set against ours
    save_checkpoint(
        build_model("caae", n_styles=2, ngf=8, z_dim=8), caae, ModelCard("caae", {"n_styles": 2, "ngf": 8, "z_dim": 8})
    )
    with pytest.raises(UsageError, match="its generator is caae, this run's is cyclegan_resnet —") as caught:
        train("cartoon", replace(nowhere, init_from=str(caae)), tmp_path / "r3")
    assert caught.value.hint == "start from random weights"
    with pytest.raises(InputError, match="not found|does not exist|missing"):
        train("cartoon", replace(nowhere, init_from=str(tmp_path / "gone.safetensors")), tmp_path / "r4")
    assert not any((tmp_path / f"r{i}").exists() for i in range(1, 5))  # nothing written


def test_the_cli_fine_tunes_a_bundled_style(domains, tmp_path):
    a, b = domains
    common = ["train", "cartoon", "--a", str(a), "--b", str(b), "--steps", "1", "--size", "32", "--device", "cpu"]
    sets = [x for k, v in TINY.items() if k in ("load_size", "batch_size", "holdout") for x in ("--set", f"{k}={v}")]
    result = CliRunner().invoke(app, [*common, *sets, "-o", str(tmp_path / "run"), "--init-from", "pixar"])
    assert result.exit_code == 0, result.stderr
    pixar, _ = load_checkpoint(find_style("pixar").checkpoint)
    state = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["trainer"]["models"]["g"]
    moved = max(float((state[k] - v).abs().max()) for k, v in pixar.state_dict().items())
    assert 0 < moved < 0.01  # one step from pixar's weights, not from random ones
    wrong = CliRunner().invoke(app, [*common, *sets, "-o", str(tmp_path / "r2"), "--init-from", "pixar", "--set", "ngf=8"])
    assert wrong.exit_code != 0 and "--set ngf=16" in " ".join(wrong.stderr.split())
