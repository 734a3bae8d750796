"""`vidtoon restyle` of photos and folders of photos, as a user sees the files it writes."""

import numpy as np
import pytest
from conftest import assert_one_line_error, run_vidtoon
from PIL import Image

run = run_vidtoon


def test_a_phone_photo_comes_out_upright_as_its_exif_orientation_shows_it(tmp_path):
    stored = np.zeros((24, 40, 3), np.uint8)  # stored landscape: white left half, black right half
    stored[:, :20] = 255
    photo = Image.fromarray(stored)
    exif = photo.getexif()
    exif[0x0112] = 6  # shown turned 90° clockwise: portrait, the white half on top
    photo.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    result = run("restyle", tmp_path / "phone.jpg", "--to", "toon")
    assert result.returncode == 0, result.stderr
    restyled = np.asarray(Image.open(tmp_path / "phone.toon.png").convert("L"), np.float32)
    assert restyled.shape == (40, 24)  # was 24x40: the photo lay on its side
    assert restyled[:16].mean() > restyled[24:].mean() + 100


def test_a_png_webp_or_tiff_comes_out_upright_as_its_exif_orientation_shows_it(tmp_path):
    """PNG, WebP and TIFF carry EXIF orientations too, and viewers honour them; only a JPEG's was (2026-12-02)."""
    stored = np.zeros((24, 40, 3), np.uint8)  # stored landscape: white left half, black right half
    stored[:, :20] = 255
    photos = tmp_path / "photos"
    photos.mkdir()
    # the shape shown, a corner in the white half and one in the black half
    shown = {6: ((40, 24), (0, 0), (-1, -1)), 8: ((40, 24), (-1, 0), (0, -1)), 3: ((24, 40), (0, -1), (0, 0))}
    for suffix in ("png", "webp", "tiff"):
        for orientation in shown:
            photo = Image.fromarray(stored)
            exif = photo.getexif()
            exif[0x0112] = orientation
            photo.save(
                photos / f"{suffix}{orientation}.{suffix}",
                exif=exif.tobytes(),
                **({"lossless": True} if suffix == "webp" else {}),
            )
    result = run("restyle", photos, "--to", "toon")
    assert result.returncode == 0 and "ERROR" not in result.stderr, result.stderr  # was: OpenCV's error on a turned TIFF
    for suffix in ("png", "webp", "tiff"):
        for orientation, (shape, white, black) in shown.items():
            restyled = np.asarray(Image.open(tmp_path / "photos.toon" / f"{suffix}{orientation}.png").convert("L"))
            assert restyled.shape == shape, (suffix, orientation)  # was (24, 40) for all: shown as stored
            assert restyled[white] > 200 and restyled[black] < 50, (suffix, orientation)


def test_a_turned_transparent_picture_keeps_its_transparency_turned_with_it(tmp_path):
    rgba = np.full((24, 40, 4), 255, np.uint8)
    rgba[:, :20, 3] = 0  # stored: the left half clear
    picture = Image.fromarray(rgba, "RGBA")
    exif = picture.getexif()
    exif[0x0112] = 8  # shown turned 90° counter-clockwise: the clear half at the bottom
    picture.save(tmp_path / "sticker.png", exif=exif.tobytes())
    result = run("restyle", tmp_path / "sticker.png", "--to", "toon")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "sticker.toon.png") as written:
        alpha = np.asarray(written)[..., 3]
        assert written.mode == "RGBA" and alpha.shape == (40, 24)
        assert (alpha[20:] == 0).all() and (alpha[:20] == 255).all()


def test_a_folder_whose_pictures_share_a_name_is_refused_before_one_replaces_the_other(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((24, 32, 3), 200, np.uint8)).save(photos / "a.png")
    Image.fromarray(np.full((24, 32, 3), 50, np.uint8)).save(photos / "a.jpg")
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(photos / "b.png")
    result = run("restyle", photos, "--to", "toon")
    # was exit 0 and 2 of 3 pictures in photos.toon/: a.jpg's result overwrote a.png's
    assert_one_line_error(result, "a.jpg and a.png would both be written as a.png", "rename one")
    assert not (tmp_path / "photos.toon").exists()


def photo(path, size=(24, 32)):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("suffix", [".exr", ".pgm"])
def test_an_image_type_that_cannot_hold_the_result_is_refused_at_once_naming_the_output(tmp_path, suffix):
    source = photo(tmp_path / "photo.png")
    result = run("restyle", source, "--to", "toon", "-o", tmp_path / f"out{suffix}")
    # was, after the restyle: "error: .../.out.partial-x237o9qo.exr: cannot encode an image of this type", OpenCV noise
    assert_one_line_error(result, f"output {tmp_path / f'out{suffix}'}: a colour picture cannot be written as {suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


@pytest.mark.parametrize("suffix", [".webp", ".tiff", ".bmp", ".ppm"])
def test_other_image_types_are_written_as_named_without_opencv_warnings(tmp_path, suffix):
    source = photo(tmp_path / "photo.png")
    output = tmp_path / f"out{suffix}"
    result = run("restyle", source, "--to", "toon", "-o", output)
    assert result.returncode == 0 and result.stderr == f"wrote {output}\n", result.stderr  # was: [ WARN:0@0.155] ...
    with Image.open(output) as written:
        assert written.size == (32, 24) and written.format == {".tiff": "TIFF"}.get(suffix, suffix[1:].upper())


def sticker(path):
    """A 24x32 RGBA picture: an opaque, half-transparent and clear band, top to bottom."""
    rgba = np.zeros((24, 32, 4), np.uint8)
    rgba[..., :3] = np.random.default_rng(1).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    rgba[:8, :, 3], rgba[8:16, :, 3] = 255, 128
    Image.fromarray(rgba, "RGBA").save(path)
    return rgba[..., 3]


def test_a_transparent_picture_keeps_its_transparency_where_the_output_type_holds_it(tmp_path):
    alpha = sticker(tmp_path / "sticker.png")
    result = run("restyle", tmp_path / "sticker.png", "--to", "toon")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "sticker.toon.png") as written:  # was RGB, the clear part opaque black
        assert written.mode == "RGBA" and written.size == (32, 24)
        assert np.array_equal(np.asarray(written)[..., 3], alpha)
    result = run("restyle", tmp_path / "sticker.png", "--to", "toon", "-o", tmp_path / "sticker.jpg")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "sticker.jpg") as written:  # a JPEG has no alpha: restyled over black
        assert written.mode == "RGB" and written.size == (32, 24)
        assert np.asarray(written)[20:].max() < 40
    (tmp_path / "folder").mkdir()
    sticker(tmp_path / "folder" / "a.png")
    photo(tmp_path / "folder" / "b.png")
    result = run("restyle", tmp_path / "folder", "--to", "sketch")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "folder.sketch" / "a.png") as a, Image.open(tmp_path / "folder.sketch" / "b.png") as b:
        assert a.mode == "RGBA" and np.array_equal(np.asarray(a)[..., 3], alpha) and b.mode == "RGB"


def test_a_folder_restyle_stopped_by_a_damaged_picture_leaves_no_folder_to_refuse_the_next_run(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    photo(photos / "a.png")
    (photos / "b.png").write_bytes((photos / "a.png").read_bytes()[:300])  # cut short
    result = run("restyle", photos, "--to", "toon")
    assert_one_line_error(result, f"{photos / 'b.png'}: cannot be read as an image")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]  # was an empty photos.toon/ left behind
    (photos / "b.png").unlink()
    result = run("restyle", photos, "--to", "toon")  # was "output folder photos.toon exists — ... or pass --force"
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "photos.toon").iterdir()) == [".vidtoon-frames.json", "a.png"]


@pytest.mark.parametrize("name", ["out.png", "out.mp4"])
def test_a_folder_restyle_named_as_a_file_is_refused_before_anything_loads(tmp_path, name):
    (tmp_path / "photos").mkdir()
    photo(tmp_path / "photos" / "a.png")
    result = run("restyle", "photos", "--to", "toon", "-o", name, cwd=tmp_path)
    # was exit 0 and a folder named out.png (out.mp4) holding a.png
    assert_one_line_error(result, f"output {name} of a folder of images is a folder", "the default is photos.toon")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]


def test_a_folder_restyled_again_with_force_holds_only_the_new_pictures_and_the_users_own(tmp_path):
    """The output folder of an earlier restyle, replaced with --force after a photo left the source folder: the
    earlier run's picture of it goes (vidtoon wrote it), a file the user put there stays and is named."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        photo(photos / name)
    assert run("restyle", photos, "--to", "toon").returncode == 0
    out = tmp_path / "photos.toon"
    (out / "cover.jpg").write_bytes((photos / "a.png").read_bytes())  # the user's own
    (photos / "b.png").unlink()
    result = run("restyle", photos, "--to", "toon", "--force")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".vidtoon-frames.json", "a.png", "cover.jpg"]
    assert "1 image vidtoon did not write is kept (cover.jpg)" in " ".join(result.stderr.split())
