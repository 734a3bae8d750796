"""`vidtoon stabilize`: flicker removed from real per-frame-processed sequences, outputs of every kind, bad inputs."""

import json
import logging
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE, loudest_time, make_clip, no_leftovers, run_vidtoon, stream_span

from vidtoon.errors import InputError, OutputError, UsageError
from vidtoon.evaluate import evaluate
from vidtoon.io import EncodeOptions, VideoReader, VideoWriter
from vidtoon.io.images import FRAMES_MARKER, list_images, read_image, write_image
from vidtoon.io.probe import probe
from vidtoon.stabilize import stabilize


def first_frames(folder: Path, count: int, into: Path) -> Path:
    """A folder of links to the first `count` images of `folder` (real data, never copied)."""
    into.mkdir(parents=True)
    for image in list_images(folder)[:count]:
        (into / image.name).symlink_to(image)
    return into


@pytest.fixture(scope="module")
def bike(data, tmp_path_factory) -> dict[str, Path]:
    """The first 16 frames of the DVP bike-packing pair (910x480: a DAVIS video and a flickering per-frame processing)."""
    root = tmp_path_factory.mktemp("bike")
    folder = data / "video_seq"
    return {
        "source": first_frames(folder / "dvp_davis_bike-packing_input", 16, root / "source"),
        "processed": first_frames(folder / "dvp_davis_bike-packing_processed", 16, root / "processed"),
        "root": root,
    }


def test_flicker_of_a_real_processed_sequence_is_removed(bike):
    out = stabilize(bike["processed"], bike["source"], bike["root"] / "stable", device="cpu")
    assert [p.name for p in list_images(out)] == [p.with_suffix(".png").name for p in list_images(bike["processed"])]
    report = evaluate(out, bike["source"], bike["processed"], device="cpu")
    # measured: E_warp 0.00076 vs 0.00167 per frame (0.46x; the input's own 0.00110), SSIM 0.955 vs the per-frame frames
    assert report.warping_error < 0.6 * report.warping_error_reference
    assert report.ssim >= 0.9
    assert no_leftovers(bike["root"]) == []


def test_a_video_keeps_timing_and_sound_and_a_folder_becomes_a_video(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.integers(40, 200, (48, 64, 3), dtype=np.uint8)
    flicker = [np.clip(base.astype(int) + (12 if i % 2 else -12), 0, 255).astype(np.uint8) for i in range(12)]
    processed = make_clip(tmp_path / "processed.mp4", flicker, fps=Fraction(30000, 1001), audio_seconds=0.4)
    source = make_clip(tmp_path / "source.mp4", [base] * 12, fps=Fraction(30000, 1001))
    out = stabilize(processed, source, device="cpu")
    assert out == tmp_path / "processed.stable.mp4"
    info = probe(out)
    assert (info.frame_count, info.fps, (info.width, info.height)) == (12, Fraction(30000, 1001), (64, 48))
    assert stream_span(out, "audio")[2] > 0  # the processed video's sound is kept
    # folder in, video out at --fps
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, rgb in enumerate(flicker):
        write_image(folder / f"f{i}.png", rgb)
    video = stabilize(folder, source, tmp_path / "from_folder.mkv", fps="12", device="cpu")
    assert (probe(video).frame_count, probe(video).fps) == (12, Fraction(12))


def test_a_folder_made_from_a_video_keeps_that_videos_timing_and_sound(tmp_path):
    # another tool's frames of a film (a folder) and the film: the output plays as the film did, with its sound,
    # the click where it was; with --truncate (the tool dropped the last frames) the sound ends with the picture
    rng = np.random.default_rng(1)
    base = rng.integers(40, 200, (48, 64, 3), dtype=np.uint8)
    source = make_clip(tmp_path / "film.mp4", [base] * 24, fps=Fraction(30000, 1001), audio_seconds=0.8, click_at=0.5)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(24):
        write_image(folder / f"frame{i}.png", np.clip(base.astype(int) + (12 if i % 2 else -12), 0, 255).astype(np.uint8))
    video = stabilize(folder, source, tmp_path / "stable.mp4", device="cpu")
    info = probe(video)
    assert (info.frame_count, info.fps) == (24, Fraction(30000, 1001))
    assert abs(loudest_time(video) - 0.5) < 0.03
    assert abs(stream_span(video, "audio")[1] - 0.8) < 0.05
    for image in list_images(folder)[16:]:
        image.unlink()
    with pytest.raises(InputError, match="frame counts differ"):
        stabilize(folder, source, tmp_path / "short.mp4", device="cpu")
    short = stabilize(folder, source, tmp_path / "short.mp4", truncate=True, device="cpu")
    assert probe(short).frame_count == 16
    assert abs(stream_span(short, "audio")[1] - 16 * 1001 / 30000) < 0.05  # 0.534 s: the sound stops with the picture


def test_frame_counts_that_differ_name_both_unless_truncated(data, tmp_path, caplog):
    """DVP bedroom: 123 input frames, 121 processed. Subsets of 12 and 10 keep the test short."""
    folder = data / "video_seq"
    with pytest.raises(InputError, match="frame counts differ") as info:
        stabilize(folder / "dvp_bedroom_processed", folder / "dvp_bedroom_input", tmp_path / "never", device="cpu")
    assert "has 121" in info.value.message and "has 123" in info.value.message
    processed = first_frames(folder / "dvp_bedroom_processed", 10, tmp_path / "processed")
    source = first_frames(folder / "dvp_bedroom_input", 12, tmp_path / "source")
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        out = stabilize(processed, source, tmp_path / "stable", truncate=True, device="cpu")
    assert len(list_images(out)) == 10 and "using the first 10 frames" in caplog.text
    assert not (tmp_path / "never").exists()


def test_a_source_at_another_scale_is_resized_but_another_aspect_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    processed = make_clip(tmp_path / "processed.mp4", frames)
    double = make_clip(tmp_path / "double.mp4", [np.repeat(np.repeat(f, 2, 0), 2, 1) for f in frames])
    wide = make_clip(tmp_path / "wide.mp4", [np.zeros((48, 96, 3), np.uint8)] * 3)
    assert probe(stabilize(processed, double, tmp_path / "ok.mp4", device="cpu")).width == 64
    with pytest.raises(InputError, match="sizes differ") as info:
        stabilize(processed, wide, tmp_path / "bad.mp4", device="cpu")
    assert "96x48" in info.value.message and "64x48" in info.value.message
    assert not (tmp_path / "bad.mp4").exists()


def test_an_original_at_half_size_with_its_odd_side_rounded_is_the_same_aspect(tmp_path, caplog):
    """The bundled sample (480x270) against itself at half size as an encoder makes it, 240x136 (yuv420p needs even
    sides): README's "the original may be at another scale (it is resized)". It was refused: "sizes differ"."""
    half = tmp_path / "half.mp4"
    with VideoReader(SAMPLE, end=Fraction(1, 2)) as reader, VideoWriter(half, fps=reader.info.fps) as writer:
        for frame in reader:
            writer.write(cv2.resize(frame.rgb, (240, 136), interpolation=cv2.INTER_AREA), frame.time)
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        out = stabilize(SAMPLE, half, tmp_path / "stable.mp4", truncate=True, device="cpu")
    assert "resized to 480x270" in caplog.text
    assert (probe(out).width, probe(out).height, probe(out).frame_count) == (480, 270, 12)


def test_existing_output_needs_force(tmp_path):
    frames = [np.full((32, 32, 3), 100, np.uint8)] * 3
    processed, source = make_clip(tmp_path / "p.mp4", frames), make_clip(tmp_path / "s.mp4", frames)
    (tmp_path / "out.mp4").write_bytes(b"keep me")
    with pytest.raises(OutputError, match="exists"):
        stabilize(processed, source, tmp_path / "out.mp4", device="cpu")
    assert (tmp_path / "out.mp4").read_bytes() == b"keep me"
    (tmp_path / "folder").mkdir()
    with pytest.raises(UsageError, match="exists"):
        stabilize(processed, source, tmp_path / "folder", device="cpu")


run_cli = run_vidtoon


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


def test_cli_bad_inputs_give_one_line(tmp_path):
    frames = [np.full((32, 48, 3), 100, np.uint8)] * 3
    processed, source = make_clip(tmp_path / "p.mp4", frames), make_clip(tmp_path / "s.mp4", frames)
    tall = make_clip(tmp_path / "tall.mp4", [np.zeros((64, 32, 3), np.uint8)] * 3)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "sizes differ" in one_error_line(run_cli("stabilize", processed, "--source", tall))
    assert "no images" in one_error_line(run_cli("stabilize", empty, "--source", source)).lower()
    line = one_error_line(run_cli("stabilize", processed, "--source", source, "--flow", "raft", env={"VIDTOON_RAFT_WEIGHTS": ""}))
    assert "RAFT" in line and "weights" in line
    assert "not found" in one_error_line(run_cli("stabilize", tmp_path / "nope.mp4", "--source", source))
    assert list(tmp_path.glob("*.stable*")) == []


def test_cli_writes_the_default_output(tmp_path):
    frames = [np.full((32, 48, 3), 100 + 10 * (i % 2), np.uint8) for i in range(6)]
    processed, source = make_clip(tmp_path / "p.mp4", frames), make_clip(tmp_path / "s.mp4", [frames[0]] * 6)
    result = run_cli("stabilize", processed, "--source", source, "--strength", "0.5")
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "p.stable.mp4").frame_count == 6
    # --preset has no default (a folder output refuses it), yet the video is x264 medium at CRF 18, as before
    data = (tmp_path / "p.stable.mp4").read_bytes()
    assert all(setting in data for setting in (b"crf=18.0", b"subme=7", b"ref=3"))


def test_a_folder_whose_frames_would_share_a_name_is_refused(tmp_path):
    # f1.jpg and f1.png both become f1.png in a folder output: one would silently replace the other
    rng = np.random.default_rng(0)
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in ("f0.png", "f1.png", "f1.jpg"):
        write_image(frames / name, rng.integers(40, 200, (48, 64, 3), dtype=np.uint8))
    source = make_clip(tmp_path / "source.mp4", 3)
    with pytest.raises(InputError, match="f1.jpg and f1.png would both be written as f1.png"):
        stabilize(frames, source, tmp_path / "stable", device="cpu")
    assert not (tmp_path / "stable").exists()


def test_an_fps_that_would_not_be_used_is_refused(tmp_path):
    frames = [np.full((32, 48, 3), 100, np.uint8)] * 3
    processed, source = make_clip(tmp_path / "p.mp4", frames), make_clip(tmp_path / "s.mp4", frames)
    line = one_error_line(run_cli("stabilize", processed, "--source", source, "--fps", "30", "-o", tmp_path / "out.mp4"))
    assert "p.mp4 is a video and keeps its own timing" in line and "leave out --fps" in line
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        write_image(folder / f"{i}.png", frames[i])
    line = one_error_line(run_cli("stabilize", folder, "--source", source, "--fps", "30", "-o", tmp_path / "out"))
    assert "is a folder of PNGs" in line and "out.mp4" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "p.mp4", "s.mp4"]
    # a folder made into a video takes it: 3 frames at 30 fps
    assert stabilize(folder, source, tmp_path / "out.mp4", fps="30", device="cpu") == tmp_path / "out.mp4"
    info = probe(tmp_path / "out.mp4")
    assert (info.fps, info.frame_count) == (30, 3)


def test_an_output_folder_that_force_would_not_help_says_so_first(tmp_path):
    # "exists — pass --force" for an input folder or a file sent the user round in a circle: --force is refused too
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        write_image(frames / f"{i}.png", np.full((32, 48, 3), 100, np.uint8))
    source = make_clip(tmp_path / "s.mp4", 3, size=(48, 32))
    (tmp_path / "notes").write_text("keep me")
    for force in (False, True):
        with pytest.raises(UsageError, match="is an input — choose another with -o$"):
            stabilize(frames, source, frames, device="cpu", force=force)
        with pytest.raises(UsageError, match="is a file, not a folder"):
            stabilize(frames, source, tmp_path / "notes", device="cpu", force=force)
        with pytest.raises(UsageError, match="not one picture — give a video name .* or a folder name"):
            stabilize(frames, source, frames / "0.png", device="cpu", force=force)  # a picture's name: no folder of it
    assert sorted(p.name for p in frames.iterdir()) == ["0.png", "1.png", "2.png"]
    assert (tmp_path / "notes").read_text() == "keep me"


def test_a_folder_vidtoon_wrote_is_replaced_whole_with_force_and_nothing_else_is_deleted(tmp_path, caplog):
    """A run of 5 frames, then one of 3 with --force: the first run's 3.png goes (vidtoon wrote it, as its marker
    file says), so the folder holds one sequence again; a file the user put there, or changed since, is kept and
    named. A folder vidtoon did not write keeps all it holds, with the older warning."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(5):
        write_image(frames / f"{i}.png", np.full((32, 48, 3), 100 + 10 * i, np.uint8))
    source = make_clip(tmp_path / "s.mp4", 5, size=(48, 32))
    out = stabilize(frames, source, tmp_path / "stable", device="cpu")
    assert json.loads((out / FRAMES_MARKER).read_text())["files"].keys() == {f"{i}.png" for i in range(5)}
    write_image(out / "mine.png", np.zeros((32, 48, 3), np.uint8))  # the user's own
    (out / "notes.txt").write_text("keep me")
    write_image(out / "4.png", np.full((32, 48, 3), 7, np.uint8))  # vidtoon's, changed by the user since
    (frames / "3.png").unlink()
    (frames / "4.png").unlink()
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.images"):
        stabilize(frames, source, out, device="cpu", force=True, truncate=True)
    assert sorted(p.name for p in out.iterdir()) == [FRAMES_MARKER, "0.png", "1.png", "2.png", "4.png", "mine.png", "notes.txt"]
    assert "2 images vidtoon did not write are kept (4.png, mine.png)" in caplog.text
    assert read_image(out / "4.png").max() == 7 and (out / "notes.txt").read_text() == "keep me"
    assert json.loads((out / FRAMES_MARKER).read_text())["files"].keys() == {"0.png", "1.png", "2.png"}

    caplog.clear()
    theirs = tmp_path / "theirs"  # no marker: not written by vidtoon, nothing in it is removed
    theirs.mkdir()
    for i in range(5):
        write_image(theirs / f"{i}.png", np.full((32, 48, 3), 50, np.uint8))
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.images"):
        stabilize(frames, source, theirs, device="cpu", force=True, truncate=True)
    assert [p.name for p in list_images(theirs)] == ["0.png", "1.png", "2.png", "3.png", "4.png"]
    assert "2 images from before this run are still there (3.png, 4.png)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.images"):
        stabilize(frames, source, tmp_path / "fresh", device="cpu", truncate=True)
    assert "vidtoon.io.images" not in caplog.text  # a fresh folder: nothing to say


def test_a_crf_for_a_gif_is_refused_not_ignored(tmp_path):
    frames = [np.full((32, 48, 3), 100, np.uint8)] * 3
    processed, source = make_clip(tmp_path / "p.mp4", frames), make_clip(tmp_path / "s.mp4", frames)
    with pytest.raises(UsageError, match="--crf 5: the gif encoder of .gif files has no quality setting"):
        stabilize(processed, source, tmp_path / "out.gif", options=EncodeOptions(crf=5), device="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.mp4", "s.mp4"]


def test_video_flags_for_a_folder_output_are_refused_not_ignored(tmp_path):
    frames = [np.full((32, 48, 3), 100, np.uint8)] * 3
    processed, source = make_clip(tmp_path / "p.mp4", frames), make_clip(tmp_path / "s.mp4", frames)
    with pytest.raises(UsageError, match="--crf 20: the output is a folder of pictures, written without a video encoder"):
        stabilize(processed, source, tmp_path / "stable", options=EncodeOptions(crf=20), device="cpu")
    with pytest.raises(UsageError, match="--pix-fmt yuv444p: the output is a folder of pictures"):
        stabilize(processed, source, tmp_path / "stable", options=EncodeOptions(pix_fmt="yuv444p"), device="cpu")
    with pytest.raises(UsageError, match="--resume goes with a video output; .*stable is a folder of PNGs"):
        stabilize(processed, source, tmp_path / "stable", resume=True, device="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.mp4", "s.mp4"]
