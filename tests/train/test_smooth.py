"""Edge smoothing (CartoonGAN/AnimeGAN preprocessing): known answers on a drawn square, real anime images, bad inputs."""

import logging
import shutil

import cv2
import numpy as np
import pytest

from vidtoon.errors import InputError, UsageError
from vidtoon.train.smooth import edge_band, smooth_edges, smooth_folder


def square(size=64):
    rgb = np.full((size, size, 3), 30, np.uint8)
    rgb[16:48, 16:48] = (230, 200, 20)
    return rgb


def test_flat_image_is_unchanged():
    flat = np.full((32, 40, 3), 128, np.uint8)
    assert not edge_band(flat).any() and np.array_equal(smooth_edges(flat), flat)


def test_only_the_edge_band_is_blurred():
    rgb = square()
    out = smooth_edges(rgb, kernel=5)
    band = edge_band(rgb, kernel=5)
    assert np.array_equal(out[~band], rgb[~band])  # away from edges: untouched
    assert (out[band] != rgb[band]).any(axis=-1).mean() > 0.5  # most band pixels changed
    assert band[16, 32] and band[14, 32] and not band[32, 32] and not band[4, 4]  # the band straddles the square's border

    def edge_step(img):  # the largest jump between neighbouring pixels across the top edge
        column = img[:, 32, 0].astype(int)
        return np.abs(np.diff(column)).max()

    assert edge_step(rgb) == 200 and edge_step(out) < 120  # the hard edge became a ramp


def test_bigger_kernel_wider_band():
    assert edge_band(square(), kernel=9).sum() > edge_band(square(), kernel=5).sum()
    with pytest.raises(UsageError, match="odd"):
        smooth_edges(square(), kernel=4)


def test_folder_of_real_anime_images(data, tmp_path, caplog):
    source = tmp_path / "anime"
    source.mkdir()
    for path in sorted((data / "anime_faces" / "selfie2anime_trainB").glob("*.jpg"))[:3]:
        shutil.copy(path, source)
    (source / "damaged.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 20)
    with caplog.at_level(logging.WARNING):
        result = smooth_folder(source, tmp_path / "smooth")
    assert len(result.files) == 3 and [p.name for p in result.skipped] == ["damaged.jpg"]
    assert "skipped 1 of 4" in caplog.text and "damaged.jpg" in caplog.text
    for written in result.files:
        before, after = cv2.imread(str(source / written.name)), cv2.imread(str(written))
        assert before.shape == after.shape
        changed = np.abs(before.astype(int) - after.astype(int)).max(-1) > 8
        assert 0.01 < changed.mean() < 0.6  # the edges changed, the flat areas did not
    with pytest.raises(UsageError, match="not empty"):
        smooth_folder(source, tmp_path / "smooth")
    with pytest.raises(UsageError, match="is the input"):
        smooth_folder(source, source, force=True)


def test_nothing_readable(tmp_path):
    source = tmp_path / "bad"
    source.mkdir()
    (source / "a.png").write_text("no")
    with pytest.raises(InputError, match="none of the 1 images"):
        smooth_folder(source, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
