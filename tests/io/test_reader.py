"""VideoReader: every frame, exact timestamps, rotation, pixel formats, seeking, damaged files."""

import logging
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import SAMPLE, index_colour_frame, make_clip, nearest_index, png_clip_with_broken_frame

from vidtoon.errors import DecodeError, InputError, UsageError
from vidtoon.io import VideoReader, probe, read_frames


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("Megamind.avi", 270),
        ("bbb_2s_example2.mp4", 48),
        ("chaplin.mp4", 241),
        ("fire2.mp4", 25),
        ("no_duration.webm", 74),
        ("pigs_in_a_polka.gif", 30),
        ("transparent.webm", 150),
        ("video_with_failing_audio.mp4", 280),
        ("talking_head_d3.mp4", 354),
    ],
)
def test_every_frame_comes_out_rgb(media, name, count):
    info = probe(media / name)
    frames = 0
    last = Fraction(-1)
    for frame in read_frames(media / name):
        assert frame.rgb.shape == (info.height, info.width, 3) and frame.rgb.dtype == np.uint8
        assert frame.index == frames and frame.time > last
        last = frame.time
        frames += 1
    assert frames == count


def test_constant_rate_timestamps_are_exact(media):
    times = [f.time for f in read_frames(media / "Megamind.avi")]
    fps = Fraction(2997, 125)
    assert all(b - a == 1 / fps for a, b in zip(times, times[1:]))  # AVI read by frame position


def test_variable_rate_timestamps_survive(media):
    times = [f.time for f in read_frames(media / "fire2.mp4")]
    steps = {b - a for a, b in zip(times, times[1:])}
    assert len(steps) > 3  # uneven spacing kept, not flattened to one rate
    assert times[-1] == Fraction(205186, 90000)


def test_rotation_is_applied_like_ffmpeg(media, tmp_path):
    # fire2.mp4 is stored upside down with a -180° display matrix: the sky must end up on top.
    frame = next(iter(read_frames(media / "fire2.mp4")))
    top, bottom = frame.rgb[:100].mean(), frame.rgb[-100:].mean()
    raw = next(iter(av.open(str(media / "fire2.mp4")).decode(video=0))).to_ndarray(format="rgb24")
    assert np.array_equal(frame.rgb, raw[::-1, ::-1])
    assert top != bottom
    # Known answers checked against `ffmpeg -i` (autorotate): red top-left quadrant moves.
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, :] = (0, 0, 255)
    picture[:24, :32] = (255, 0, 0)
    corners = {90: (-3, 2), -90: (2, -3), 180: (-3, -3)}
    for rotation, (y, x) in corners.items():
        path = make_clip(tmp_path / f"rot{rotation}.mp4", [picture] * 2, rotation=rotation)
        rgb = next(iter(read_frames(path))).rgb
        assert rgb.shape == ((64, 48, 3) if rotation % 180 else (48, 64, 3))
        assert rgb[y, x, 0] > 200 and rgb[y, x, 2] < 50, rotation


def test_ten_bit_and_alpha_and_palette_inputs(media, tmp_path):
    path = make_clip(tmp_path / "ten_bit.mkv", 4, pix_fmt="yuv420p10le", size=(32, 32))
    assert probe(path).pix_fmt == "yuv420p10le"
    frames = list(read_frames(path))
    assert len(frames) == 4 and frames[0].rgb.dtype == np.uint8
    assert nearest_index(frames[2].rgb, 4) == 2
    alpha = next(iter(read_frames(media / "transparent.webm")))
    assert alpha.rgb.shape == (200, 200, 3)
    gif = list(read_frames(media / "pigs_in_a_polka.gif"))
    assert gif[10].rgb.std() > 10  # a real picture, not a blank palette index plane


def test_start_and_end_cut_exactly(media):
    frames = list(read_frames(media / "smpte-2997.mp4", start=Fraction(3), end=Fraction(5)))
    assert len(frames) == 50
    assert frames[0].time == 0 and frames[-1].time == Fraction(49, 25)


def test_start_past_end_and_reversed_range():
    with pytest.raises(UsageError, match="past the end"):
        VideoReader(SAMPLE, start=Fraction(100))
    with pytest.raises(UsageError, match="must be after"):
        VideoReader(SAMPLE, start=Fraction(2), end=Fraction(1))


def test_start_and_end_as_plain_numbers_cut_as_fractions_do_and_a_string_is_one_line(tmp_path):
    from vidtoon.io import transcode

    as_floats = [f.time for f in read_frames(SAMPLE, start=1.5, end=2)]
    assert as_floats == [f.time for f in read_frames(SAMPLE, start=Fraction(3, 2), end=Fraction(2))]
    assert len(as_floats) == 12 and as_floats[-1] == Fraction(11, 24)
    with pytest.raises(UsageError, match="--start must be a time of 0 seconds or more, got '1'"):
        VideoReader(SAMPLE, start="1")
    with pytest.raises(UsageError, match="--end must be a time of 0 seconds or more, got '2'"):
        transcode(SAMPLE, tmp_path / "cut.mp4", start=1, end="2")
    assert list(tmp_path.iterdir()) == []


def test_damaged_frame_names_index_and_time(tmp_path):
    path = png_clip_with_broken_frame(tmp_path / "png_frames.mov", 5, seed=0)  # frame 5's header damaged
    seen = []
    with pytest.raises(DecodeError, match=r"decode error at frame 5 \(0\.208 s\)") as caught:
        for frame in read_frames(path):
            seen.append(frame.index)
    assert seen == [0, 1, 2, 3, 4]  # nothing skipped silently: it stops at the damaged frame
    assert str(path) in caught.value.message


def test_truncated_file_is_an_error_not_a_short_video(tmp_path):
    data = SAMPLE.read_bytes()  # faststart mp4: the index survives a cut, the frames don't
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):  # InputError: caught when opening, from the index
        list(read_frames(cut))


def test_a_file_cut_while_it_is_read_up_to_end_is_an_error_not_a_short_video(tmp_path):
    """The source truncated mid-run (its index already read): with --end past the cut, the frames stop early."""
    source = tmp_path / "source.mp4"
    source.write_bytes(SAMPLE.read_bytes())  # 96 frames at 24 fps
    with VideoReader(source, end=Fraction(3)) as reader:
        with source.open("r+b") as handle:
            handle.truncate(source.stat().st_size // 2)
        with pytest.raises(DecodeError, match=r"file ends after \d+ of its 96 frames .*: it is truncated"):
            list(reader)


def test_a_file_cut_while_it_is_read_from_start_is_an_error_not_a_short_video(tmp_path):
    """--start (or a resumed segment) skips the packets before it: the frames' reach is held against the declared 4 s."""
    source = tmp_path / "source.mp4"
    source.write_bytes(SAMPLE.read_bytes())  # 96 frames at 24 fps
    with VideoReader(source, start=Fraction(1)) as reader:
        with source.open("r+b") as handle:
            handle.truncate(source.stat().st_size // 2)
        with pytest.raises(DecodeError, match=r"file ends after \d+ of its 96 frames .*: it is truncated") as caught:
            list(reader)
    assert caught.value.path == source and "download the file again" in caught.value.hint
    for start in (Fraction(1), Fraction(3999, 1000)):  # the whole file from a later point; a start in the last frame
        with VideoReader(SAMPLE, start=start) as reader:
            assert sum(1 for _ in reader) == (72 if start == 1 else 0)


def test_a_cut_matroska_file_read_from_start_is_warned_about(tmp_path, caplog):
    data = make_clip(tmp_path / "clip.mkv", 96, keyint=12).read_bytes()  # 4 s; a cut keeps the declared duration
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        assert 0 < sum(1 for _ in read_frames(cut, start=Fraction(1))) < 48
    assert "of the 4.000 s the file declares: it may be damaged or cut there" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert sum(1 for _ in read_frames(tmp_path / "clip.mkv", start=Fraction(1))) == 72
    assert caplog.text == ""


def test_an_end_past_the_last_frame_reads_the_whole_file():
    with VideoReader(SAMPLE, end=Fraction(60)) as reader:
        assert sum(1 for _ in reader) == 96


def test_failing_audio_does_not_stop_video(media):
    assert sum(1 for _ in read_frames(media / "video_with_failing_audio.mp4")) == 280


def test_frames_in_order_by_colour(tmp_path):
    path = make_clip(tmp_path / "colours.mp4", [index_colour_frame(i) for i in range(12)])
    assert [nearest_index(f.rgb, 12) for f in read_frames(path)] == list(range(12))
