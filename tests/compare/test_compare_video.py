"""Comparison videos: the source's frame count, timestamps and audio packets; each panel where it belongs."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import SAMPLE, index_colour, make_clip, stream_span, video_times

from vidtoon.compare import CompareOptions, compare
from vidtoon.compare.labels import band_height
from vidtoon.compare.video import wipe_split
from vidtoon.errors import UsageError
from vidtoon.io.formats import EncodeOptions

RED = (220, 30, 30)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A 24-frame source with a second of sound (colours encode the index) and a plain red result."""
    folder = tmp_path_factory.mktemp("video")
    make_clip(folder / "source.mp4", 24, size=(64, 48), audio_seconds=1.0)
    make_clip(folder / "red.mp4", [np.full((48, 64, 3), RED, np.uint8)] * 24)
    return folder


def decoded(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def near(pixel, colour, tolerance=12):
    return np.abs(pixel.astype(int) - colour).max() <= tolerance


def test_side_by_side_keeps_timing_and_sound(clips, tmp_path):
    out = compare([clips / "red.mp4"], tmp_path / "side.mp4", source=clips / "source.mp4", options=CompareOptions(height=48))
    assert video_times(out) == video_times(clips / "source.mp4")
    assert stream_span(out, "audio")[2] == stream_span(clips / "source.mp4", "audio")[2]
    frames = decoded(out)
    band = band_height(48)
    assert len(frames) == 24 and frames[0].shape == (band + 48, 128, 3)
    for i in (0, 11, 23):
        assert near(frames[i][band + 24, 32], index_colour(i)), i  # the source's frame i on the left
        assert near(frames[i][band + 24, 96], RED), i  # the result on the right
        assert (frames[i][:band].max(axis=2) > 200).sum() > 10  # the labels


def test_wipe_moves_the_split_between_source_and_result(clips, tmp_path):
    fine = EncodeOptions(preset="faster", crf=17)  # 4 px from a moving edge: veryfast (compare's default) smears it
    options = CompareOptions(layout="wipe", height=48, encode=fine)
    out = compare([clips / "red.mp4"], tmp_path / "wipe.mp4", source=clips / "source.mp4", options=options)
    frames = decoded(out)
    band = band_height(48)
    assert len(frames) == 24 and frames[0].shape == (band + 48, 64, 3)
    assert video_times(out) == video_times(clips / "source.mp4")
    splits = [wipe_split(Fraction(i, 24), 64) for i in range(24)]
    assert splits[0] == 32 and splits[12] == 45 and splits == sorted(splits)  # from the middle, rightwards (4 s period)
    assert [wipe_split(Fraction(t), 64) for t in (1, 2, 3, 4)] == [58, 32, 6, 32]  # 90 %, middle, 10 %, middle
    for i in (0, 6, 18):
        assert near(frames[i][band + 24, 1], index_colour(i)), i  # far left: always the source
        assert near(frames[i][band + 24, 62], RED), i  # far right: always the result
        assert near(frames[i][band + 24, splits[i] - 4], index_colour(i)), i
        assert near(frames[i][band + 24, splits[i] + 3], RED), i


def test_wipe_needs_a_source_and_one_result(clips, tmp_path):
    with pytest.raises(UsageError, match="ONE result"):
        compare(
            [clips / "red.mp4", clips / "red.mp4"],
            tmp_path / "w.mp4",
            source=clips / "source.mp4",
            options=CompareOptions(layout="wipe"),
        )
    assert list(tmp_path.iterdir()) == []


def test_truncated_video_stops_with_its_sound(clips, tmp_path):
    make_clip(tmp_path / "short.mp4", [np.full((48, 64, 3), RED, np.uint8)] * 12)
    out = compare(
        [tmp_path / "short.mp4"],
        tmp_path / "cut.mp4",
        source=clips / "source.mp4",
        options=CompareOptions(truncate=True, height=48),
    )
    assert video_times(out) == video_times(clips / "source.mp4")[:12]
    first, end, _ = stream_span(out, "audio")
    assert first == pytest.approx(0, abs=0.03) and end == pytest.approx(0.5, abs=0.05)  # cut at 12 / 24 s, not at 1 s


def test_a_crf_for_a_gif_is_refused_not_ignored(tmp_path):
    with pytest.raises(UsageError, match="--crf 5: the gif encoder of .gif files has no quality setting"):
        compare([SAMPLE], tmp_path / "c.gif", source=SAMPLE, options=CompareOptions(encode=EncodeOptions(crf=5)))
    assert list(tmp_path.iterdir()) == []
