"""frames: dataset extraction with known counts, sizes, names, manifests and atomic folders."""

import csv
from fractions import Fraction

import cv2
import pytest
from conftest import SAMPLE, index_colour_frame, make_clip, nearest_index

from vidtoon import extract_frames
from vidtoon.errors import OutputError, UsageError
from vidtoon.frames import MANIFEST
from vidtoon.io import Frame
from vidtoon.io.sampling import sample_at_rate


def read_manifest(folder):
    with (folder / MANIFEST).open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_ten_second_clip_at_2_fps_gives_20_frames_of_256(media, tmp_path):
    # smpte-2997.mp4: 251 frames, 10.04 s
    result = extract_frames(media / "smpte-2997.mp4", tmp_path / "ds", fps=2, size=(256, 256))
    assert len(result.files) == 20
    for path in result.files:
        assert cv2.imread(str(path)).shape == (256, 256, 3)
    rows = read_manifest(tmp_path / "ds")
    # 25 fps has no frame at 0.5 s: the nearest (0.48 s, ties go to the earlier) is taken
    assert [float(r["timestamp"]) for r in rows] == pytest.approx([i / 2 for i in range(20)], abs=0.021)
    assert rows[2]["file"] == "smpte-2997_t000001.000.png" and rows[2]["source"].endswith("smpte-2997.mp4")


def test_sampling_picks_the_nearest_frames():
    frames = (Frame(i, Fraction(i, 25), None) for i in range(251))
    picked = list(sample_at_rate(frames, Fraction(2), Fraction(25), duration=Fraction(1004, 100)))
    assert len(picked) == 20  # round(10.04 s × 2), as ffmpeg's fps filter gives
    assert all(abs(f.time - Fraction(k, 2)) <= Fraction(1, 50) for k, f in enumerate(picked))
    frames = (Frame(i, Fraction(i, 2), None) for i in range(10))  # source slower than the rate asked
    assert len(list(sample_at_rate(frames, Fraction(10), Fraction(2)))) == 10  # no duplicates


def test_frames_are_the_right_ones_and_centre_cropped(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", [index_colour_frame(i, (96, 48)) for i in range(20)], fps=Fraction(10))
    result = extract_frames(clip, tmp_path / "ds", fps=2, size=(32, 32))
    assert len(result.files) == 4
    picked = [nearest_index(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), 20) for p in result.files]
    assert picked == [0, 5, 10, 15]
    kept = extract_frames(clip, tmp_path / "aspect", fps=None, size=(24, 24), crop="none")
    assert len(kept.files) == 20 and cv2.imread(str(kept.files[0])).shape == (24, 48, 3)  # shorter side 24


def test_python_callers_may_pass_a_list_for_size_and_all_for_fps(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", [index_colour_frame(i, (96, 48)) for i in range(6)], fps=Fraction(10))
    listed = extract_frames(clip, tmp_path / "ds", fps="all", size=[32, 24])  # as read from JSON or YAML; as --fps all
    assert len(listed.files) == 6 and cv2.imread(str(listed.files[0])).shape == (24, 32, 3)
    with pytest.raises(UsageError, match="--size must be"):
        extract_frames(clip, tmp_path / "bad", size=[32, 24, 3])


def test_tags_and_appending_build_a_labelled_dataset(tmp_path):
    folder = tmp_path / "ds"
    extract_frames(SAMPLE, folder, fps=1, size=(64, 64), tags={"studio": "blender", "medium": "3d"})
    other = make_clip(tmp_path / "other.mp4", 30, fps=Fraction(10))
    extract_frames(other, folder, fps=1, size=(64, 64), tags={"studio": "ghibli"}, image_format="jpg")
    rows = read_manifest(folder)
    assert len(rows) == 4 + 3
    assert list(rows[0]) == ["file", "source", "timestamp", "studio", "medium"]
    assert {r["studio"] for r in rows} == {"blender", "ghibli"}
    assert rows[-1]["medium"] == "" and rows[-1]["file"].endswith(".jpg")
    assert sorted(p.name for p in folder.iterdir()) == sorted([r["file"] for r in rows] + [MANIFEST])


def test_existing_frames_need_force(tmp_path):
    folder = tmp_path / "ds"
    extract_frames(SAMPLE, folder, fps=1, size=(32, 32))
    with pytest.raises(OutputError, match="already in this folder.*--force"):
        extract_frames(SAMPLE, folder, fps=1, size=(32, 32))
    extract_frames(SAMPLE, folder, fps=1, size=(32, 32), force=True)
    assert len(read_manifest(folder)) == 4


def test_failure_leaves_no_new_files(tmp_path):
    broken = tmp_path / "broken.mp4"
    data = SAMPLE.read_bytes()
    broken.write_bytes(data[: len(data) * 2 // 3])
    folder = tmp_path / "ds"
    with pytest.raises(Exception, match="truncated"):
        extract_frames(broken, folder, fps=2, size=(32, 32))
    assert not folder.exists()
    extract_frames(SAMPLE, folder, fps=1, size=(32, 32))
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(Exception, match="truncated"):
        extract_frames(broken, folder, fps=2, size=(32, 32))
    assert sorted(p.name for p in folder.iterdir()) == before


def test_bad_options(tmp_path):
    with pytest.raises(UsageError, match="crop"):
        extract_frames(SAMPLE, tmp_path / "a", crop="middle")
    with pytest.raises(UsageError, match="manifest column"):
        extract_frames(SAMPLE, tmp_path / "a", tags={"file": "x"})
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        extract_frames(SAMPLE, tmp_path / "file.txt")


def two_films_named_alike(media, tmp_path):
    """bbb_2s_example2.mp4 as a/src.mp4 and chaplin.mp4 as other/src.mp4: two videos, one file name."""
    first, second = tmp_path / "a" / "src.mp4", tmp_path / "other" / "src.mp4"
    for clip, path in ((media / "bbb_2s_example2.mp4", first), (media / "chaplin.mp4", second)):
        path.parent.mkdir()
        path.write_bytes(clip.read_bytes())
    return first, second


def test_force_replaces_this_videos_frames_and_keeps_the_others(media, tmp_path):
    first, second = two_films_named_alike(media, tmp_path)
    folder = tmp_path / "ds"
    assert len(extract_frames(first, folder, fps=4, size=(32, 32)).files) == 8
    other = extract_frames(second, folder, fps=1, size=(32, 32), end=Fraction(2))
    # same file name, another film: its own names, nothing of the first overwritten
    assert other.stem.startswith("src-") and len(other.stem) == len("src-") + 6
    assert all(p.name.startswith(other.stem + "_t") for p in other.files) and len(other.files) == 2
    kept = {p.name: p.read_bytes() for p in other.files}
    with pytest.raises(OutputError, match="8 frames of .*src.mp4 are already in this folder.*--force"):
        extract_frames(first, folder, fps=1, size=(32, 32))
    rerun = extract_frames(first, folder, fps=1, size=(32, 32), force=True)
    assert [p.name for p in rerun.files] == ["src_t000000.000.png", "src_t000001.000.png"]
    rows = read_manifest(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([r["file"] for r in rows] + [MANIFEST])
    assert [r["file"] for r in rows if r["source"] == str(first)] == [p.name for p in rerun.files]
    assert [r["file"] for r in rows if r["source"] == str(second)] == sorted(kept)
    assert {name: (folder / name).read_bytes() for name in kept} == kept
    # the other film again, with --force: the same names, the first film's frames untouched
    again = extract_frames(second, folder, fps=2, size=(32, 32), end=Fraction(1), force=True)
    assert again.stem == other.stem and len(again.files) == 2
    rows = read_manifest(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([r["file"] for r in rows] + [MANIFEST])
    assert [r["file"] for r in rows if r["source"] == str(first)] == [p.name for p in rerun.files]
    assert len(rows) == 4


def test_force_that_fails_keeps_the_old_frames(tmp_path):
    video = tmp_path / "clip.mp4"
    data = SAMPLE.read_bytes()
    video.write_bytes(data)
    folder = tmp_path / "ds"
    extract_frames(video, folder, fps=1, size=(32, 32))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    video.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(Exception, match="truncated"):
        extract_frames(video, folder, fps=2, size=(32, 32), force=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_video_named_near_the_limit_gets_frame_names_the_system_takes(tmp_path):
    video = make_clip(tmp_path / ("é" * 125 + ".mp4"), 12)  # 250 + 4 bytes: its frames' names would be 267
    folder = tmp_path / "ds"
    for force in (False, True):  # again with --force: the same (shortened) names are found and replaced
        result = extract_frames(video, folder, fps=4, size=(32, 32), force=force)
        assert len(result.files) == 2 and len(read_manifest(folder)) == 2
        assert all(len(path.name.encode()) <= 255 and path.name.startswith("é" * 100) for path in result.files)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(p.name for p in result.files), MANIFEST])
