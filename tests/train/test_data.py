"""Training data: real image folders and videos, manifest labels, damaged files, and the augmentation functions."""

import logging
import math
import shutil

import pytest
import torch

import vidtoon
from vidtoon.errors import InputError, UsageError
from vidtoon.train.augment import (
    add_noise,
    augment_batch,
    center_crop,
    color_jitter,
    random_flip,
    random_resized_crop,
    random_tint,
)
from vidtoon.train.config import AugmentConfig
from vidtoon.train.data import EpochOrder, load_domain, load_labelled, sample_batch

from .toy import random_png_folder, write_manifest


def test_image_folder_real_photos(data, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sorted((data / "photos" / "bsds500").glob("*.jpg"))[:6]:
        shutil.copy(path, folder)
    (folder / "PROVENANCE.txt").write_text("not an image\n")
    bank = load_domain(folder, load_size=72)
    assert len(bank) == 6
    assert all(img.dtype == torch.uint8 and img.shape[0] == 3 and min(img.shape[1:]) == 72 for img in bank.images)
    assert max(bank.images[0].shape[1:]) == round(72 * 481 / 321) or max(bank.images[0].shape[1:]) == 108


def test_video_sampled_at_fps(media):
    bank = load_domain(media / "big_buck_bunny_0_30.webm", load_size=64, fps="1")
    assert len(bank) == 30  # 30 s at 1 frame/s
    assert bank.names[1].startswith("big_buck_bunny_0_30.webm@1.0") and min(bank.images[0].shape[1:]) == 64
    capped = load_domain(media / "big_buck_bunny_0_30.webm", load_size=32, fps="2", max_frames=10)
    assert len(capped) == 10


def test_folder_of_images_and_videos(media, tmp_path):
    folder = random_png_folder(tmp_path / "mixed", 3)
    shutil.copy(media / "vtest.avi", folder)
    bank = load_domain(folder, load_size=32, fps="2")
    assert len(bank) == 3 + 159  # vtest.avi: 795 frames at 10 fps = 79.5 s, at 2 frames/s
    assert sum("vtest.avi@" in name for name in bank.names) == len(bank) - 3


def test_damaged_images_are_skipped_and_named(tmp_path, caplog):
    folder = random_png_folder(tmp_path / "some_bad", 4)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (folder / "text.jpg").write_text("hello")
    with caplog.at_level(logging.WARNING):
        bank = load_domain(folder, load_size=32)
    assert len(bank) == 4
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "skipped 2 of 6" in message and "broken.png" in message and "text.jpg" in message


def test_bad_domains(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="folder is empty"):
        load_domain(empty, load_size=32)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("x")
    with pytest.raises(InputError, match="1 files, none an image or a video"):
        load_domain(notes, load_size=32)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_text("x")
    with pytest.raises(InputError, match="none of the 1 images can be read"):
        load_domain(broken, load_size=32)
    with pytest.raises(InputError, match="not found"):
        load_domain(tmp_path / "missing", load_size=32)
    image = random_png_folder(tmp_path / "one", 1) / "n000.png"
    with pytest.raises(InputError, match="single image"):
        load_domain(image, load_size=32)


def test_manifest_labels_from_vidtoon_frames(media, tmp_path):
    frames = tmp_path / "frames"
    vidtoon.extract_frames(media / "vtest.avi", frames, fps=1, size=(48, 48), end=4, tags={"studio": "opencv"})
    vidtoon.extract_frames(media / "big_buck_bunny_0_30.webm", frames, fps=1, size=(48, 48), end=3, tags={"studio": "blender"})
    bank = load_labelled(frames, "studio", load_size=48)
    assert bank.label_names == ("blender", "opencv")
    assert sorted(bank.labels.tolist()) == [0, 0, 0, 1, 1, 1, 1]
    with pytest.raises(UsageError, match="no column 'medium'.*studio"):
        load_labelled(frames, "medium", load_size=48)


def test_manifest_problems(tmp_path, caplog):
    folder = random_png_folder(tmp_path / "f", 3)
    with pytest.raises(InputError, match="no manifest.csv"):
        load_labelled(folder, "studio", load_size=32)
    write_manifest(folder, [{"file": "n000.png", "studio": "a"}, {"file": "n001.png", "studio": "a"}])
    with pytest.raises(UsageError, match="1 distinct value"):
        load_labelled(folder, "studio", load_size=32)
    write_manifest(
        folder,
        [
            {"file": "n000.png", "studio": "a"},
            {"file": "n001.png", "studio": "b"},
            {"file": "n002.png", "studio": ""},
            {"file": "gone.png", "studio": "b"},
        ],
    )
    with caplog.at_level(logging.WARNING):
        bank = load_labelled(folder, "studio", load_size=32)
    assert len(bank) == 2 and "gone.png" in caplog.text and "1 rows" in caplog.text


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


class TestAugmentation:
    image = torch.arange(3 * 40 * 60, dtype=torch.int64).reshape(3, 40, 60).remainder(256).to(torch.uint8)

    def test_shapes_and_range(self):
        x = augment_batch([self.image, self.image], 32, AugmentConfig(noise=0.1), generator())
        assert x.shape == (2, 3, 32, 32) and x.dtype == torch.float32
        assert x.min() >= -1 and x.max() <= 1

    def test_same_seed_same_batch(self):
        config = AugmentConfig(noise=0.05)
        a = augment_batch([self.image] * 3, 32, config, generator(7))
        b = augment_batch([self.image] * 3, 32, config, generator(7))
        c = augment_batch([self.image] * 3, 32, config, generator(8))
        assert torch.equal(a, b) and not torch.equal(a, c)

    def test_full_crop_is_a_resize(self):
        square = self.image[:, :, :40]
        x = random_resized_crop(square, 40, scale=(1.0, 1.0), ratio=(1.0, 1.0), generator=generator())
        assert torch.allclose(x, square.float() / 127.5 - 1, atol=1e-5)
        assert torch.allclose(center_crop(self.image, 40), self.image[:, :, 10:50].float() / 127.5 - 1, atol=1e-5)

    def test_crop_area_follows_scale(self):
        # on an image whose pixel values are their column index, a crop of a quarter of the area (ratio 1) spans
        # sqrt(0.25 * 40 * 60) = 24.5 columns: the resized crop's columns run over about 24 values
        columns = torch.arange(60, dtype=torch.uint8).expand(3, 40, 60).contiguous()
        for seed in range(5):
            x = random_resized_crop(columns, 16, scale=(0.25, 0.25), ratio=(1, 1), generator=generator(seed))
            span = float((x[0, 0, -1] - x[0, 0, 0]) * 127.5)
            assert 20 < span < 25, span

    def test_flip_known_answer(self):
        x = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).reshape(2, 3, 2, 4)
        y = random_flip(x, generator=generator(), p=1.0)
        assert torch.equal(y, x.flip(-1)) and torch.equal(random_flip(x, generator=generator(), p=0.0), x)

    def test_jitter_zero_is_identity_and_brightness_scales(self):
        x = torch.rand(2, 3, 8, 8, generator=generator()) * 0.8 - 0.9  # (x + 1) / 2 in [0.05, 0.45]: no clipping
        same = color_jitter(x, brightness=0, contrast=0, saturation=0, generator=generator())
        assert torch.allclose(same, x, atol=1e-6)
        brighter = color_jitter(x, brightness=0.5, contrast=0, saturation=0, generator=generator())
        ratio = ((brighter + 1) / (x + 1)).flatten(1)
        assert torch.allclose(ratio.min(1).values, ratio.max(1).values, atol=1e-4)  # one factor per image
        assert ((ratio[:, 0] - 1).abs() <= 0.5).all() and not torch.allclose(ratio[:, 0], torch.ones(2))
        grey = torch.zeros(1, 3, 4, 4)
        assert torch.allclose(color_jitter(grey, brightness=0, contrast=0, saturation=0.5, generator=generator()), grey)

    def test_tint_is_one_gain_per_channel_the_same_for_a_photo_and_its_target_and_keeps_grey_luma(self):
        photo = torch.rand(4, 3, 8, 8, generator=generator()) * 0.8 - 0.9  # (x + 1) / 2 in [0.05, 0.45]: no clipping
        pair = torch.cat([photo, photo.flip(-1)], 1)  # a photo and its "target", 6 channels
        tinted = random_tint(pair, amount=0.2, generator=generator())
        gains = ((tinted + 1) / (pair + 1)).flatten(2)  # N×6×(H·W)
        assert torch.allclose(gains.min(2).values, gains.max(2).values, atol=1e-4)  # one gain per image and channel
        assert torch.allclose(gains[:, :3, 0], gains[:, 3:, 0], atol=1e-6)  # the same gains for both halves
        assert (gains[:, :, 0].log().abs() <= 0.2 * 2 + 1e-4).all() and not torch.allclose(gains[:, 0, 0], gains[:, 2, 0])
        luma = torch.tensor([0.299, 0.587, 0.114])
        assert torch.allclose((gains[:, :3, 0] * luma).sum(1), torch.ones(4), atol=1e-5)  # a grey keeps its luma
        assert torch.equal(random_tint(pair, amount=0.2, generator=generator()), tinted)  # a function of the generator
        with pytest.raises(ValueError, match="3, 6"):
            random_tint(torch.zeros(1, 4, 2, 2), amount=0.1, generator=generator())
        with pytest.raises(UsageError, match="augment.tint"):
            AugmentConfig(tint=2)

    def test_noise_std(self):
        x = torch.zeros(4, 3, 64, 64)
        assert math.isclose(float(add_noise(x, std=0.1, generator=generator()).std()), 0.1, rel_tol=0.05)


def test_epochs_are_permutations_and_batches_depend_on_the_step_only(tmp_path):
    order = EpochOrder(10, seed=3, stream=0)
    first_epoch = [i for step in range(5) for i in order.indices(step, 2)]
    assert sorted(first_epoch) == list(range(10))
    second_epoch = [i for step in range(5, 10) for i in order.indices(step, 2)]
    assert sorted(second_epoch) == list(range(10)) and second_epoch != first_epoch
    bank = load_domain(random_png_folder(tmp_path / "r", 5), load_size=36)
    kwargs = {"size": 32, "batch_size": 2, "augment": AugmentConfig(), "seed": 1, "stream": 0}
    x7, _ = sample_batch(bank, EpochOrder(5, 1, 0), 7, **kwargs)
    fresh = EpochOrder(5, 1, 0)
    for step in range(3):
        sample_batch(bank, fresh, step, **kwargs)
    assert torch.equal(sample_batch(bank, fresh, 7, **kwargs)[0], x7)
