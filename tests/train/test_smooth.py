"""Edge smoothing (CartoonGAN/AnimeGAN preprocessing): known answers on a drawn square, real anime images, bad inputs."""

import logging
import shutil

import cv2
import numpy as np
import pytest
from conftest import assert_one_line_error, run_vidtoon

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


@pytest.mark.parametrize("suffix", [".pgm", ".exr"])
def test_an_image_type_that_cannot_be_written_is_refused_by_its_output_name(tmp_path, suffix):
    """Each smoothed image keeps its input's name: a grey .pgm was refused mid-run as
    '.../out/.vidtoon-partial-drg1m2p6/b.pgm: cannot encode an image of this type', after OpenCV's own error line."""
    source = tmp_path / "in"
    source.mkdir()
    cv2.imwrite(str(source / "a.png"), square())
    (source / f"b{suffix}").write_bytes(b"not read before the refusal")
    output = tmp_path / "out"
    result = run_vidtoon("prep", "smooth", source, "-o", output)
    assert_one_line_error(result, f"output {output / f'b{suffix}'}: a colour picture cannot be written as {suffix}")
    assert ".vidtoon-" not in result.stderr and "convert them to .png" in result.stderr
    assert not output.exists()
    output.mkdir()
    (output / "kept.txt").write_text("mine")
    assert run_vidtoon("prep", "smooth", source, "-o", output, "--force").returncode == 1
    assert [p.name for p in output.iterdir()] == ["kept.txt"]  # no staging folder, no lock left behind


def test_a_staged_image_that_cannot_be_written_is_named_as_the_user_sees_it(tmp_path):
    from vidtoon.errors import OutputError
    from vidtoon.files import StagingDir
    from vidtoon.io.images import write_staged_image

    staging = StagingDir(tmp_path / "out", make=True)
    with pytest.raises(OutputError) as caught:
        write_staged_image(staging, "grey.pgm", square())
    staging.abort()
    assert caught.value.path == tmp_path / "out" / "grey.pgm" and "cannot be written as .pgm" in caught.value.what
    assert not (tmp_path / "out").exists()
