"""Comparison sheets: the layout from rows × columns and the row height, labels drawn, the right frame in every cell."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from conftest import SAMPLE, index_colour_frame, make_clip, nearest_index

from vidtoon.compare import CompareOptions, compare
from vidtoon.compare.inputs import make_lineup
from vidtoon.compare.labels import BAND_COLOUR
from vidtoon.compare.sheet import GAP, even_times, plan_layout
from vidtoon.errors import InputError, UsageError
from vidtoon.io.images import read_image


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A 24-frame source (frame colours encode the index), a result with the same frames, and a brighter one."""
    folder = tmp_path_factory.mktemp("sheet")
    make_clip(folder / "source.mp4", 24, size=(64, 48))
    make_clip(folder / "same.mp4", 24, size=(64, 48))
    make_clip(
        folder / "bright.mp4", [np.clip(index_colour_frame(i).astype(int) + 40, 0, 255).astype(np.uint8) for i in range(24)]
    )
    return folder


def test_even_times_are_the_middles_of_equal_parts():
    assert even_times(Fraction(4), 4) == [Fraction(1, 2), Fraction(3, 2), Fraction(5, 2), Fraction(7, 2)]


def test_sheet_layout_and_labels(clips, tmp_path):
    out = compare(
        [clips / "same.mp4", clips / "bright.mp4"],
        tmp_path / "sheet.png",
        source=clips / "source.mp4",
        options=CompareOptions(frames=4, height=48),
    )
    sheet = read_image(out)
    lineup = make_lineup([clips / "same.mp4", clips / "bright.mp4"], source=clips / "source.mp4")
    layout = plan_layout(lineup, even_times(lineup.span, 4), 48)
    assert (layout.rows, layout.cols, layout.cell_width, layout.header) == (4, 3, 64, 22)
    assert layout.label_width > 0
    assert sheet.shape == (22 + 4 * 48 + 5 * GAP, layout.label_width + 3 * 64 + 4 * GAP, 3)
    # the header band holds a bright label above every column (the method names), on the dark band colour
    for col in range(3):
        x, _ = layout.cell(0, col)
        band = sheet[: layout.header, x : x + 64].astype(int)
        assert (band.max(axis=2) > 200).sum() > 10, f"column {col} has no label"
        assert (np.abs(band - BAND_COLOUR).sum(axis=2) < 10).mean() > 0.5
    # every row has its time written in the left column
    for row in range(4):
        _, y = layout.cell(row, 0)
        assert (sheet[y : y + 48, : layout.label_width].max(axis=2) > 200).sum() > 10, f"row {row} has no time label"


def test_cells_hold_the_frame_shown_at_each_time(clips, tmp_path):
    at = [Fraction(0), Fraction(1, 2), Fraction(13, 24) + Fraction(1, 100), Fraction(23, 24)]  # frames 0, 12, 13, 23
    out = compare(
        [clips / "same.mp4"], tmp_path / "sheet.png", source=clips / "source.mp4", options=CompareOptions(at=tuple(at), height=48)
    )
    sheet = read_image(out)
    layout = plan_layout(make_lineup([clips / "same.mp4"], source=clips / "source.mp4"), at, 48)
    for row, expected in enumerate([0, 12, 13, 23]):
        for col in range(2):
            x, y = layout.cell(row, col)
            cell = sheet[y + 8 : y + 40, x + 8 : x + 56]
            assert nearest_index(cell, 24) == expected, (row, col)


def test_a_result_at_another_frame_rate_is_matched_frame_for_frame(clips, tmp_path):
    # the same 24 frames at 12 fps: the side-by-side video pairs frame n with frame n, and so must the sheet's rows
    make_clip(tmp_path / "half_rate.mp4", 24, fps=Fraction(12), size=(64, 48))
    at = [Fraction(1, 4), Fraction(3, 4)]  # frames 6 and 18 of the 24 fps source
    lineup = make_lineup([tmp_path / "half_rate.mp4"], source=clips / "source.mp4")
    out = compare(
        [tmp_path / "half_rate.mp4"],
        tmp_path / "sheet.png",
        source=clips / "source.mp4",
        options=CompareOptions(at=tuple(at), height=48),
    )
    sheet = read_image(out)
    layout = plan_layout(lineup, at, 48)
    for row, expected in enumerate([6, 18]):
        for col in range(2):
            x, y = layout.cell(row, col)
            assert nearest_index(sheet[y + 8 : y + 40, x + 8 : x + 56], 24) == expected, (row, col)


def test_cells_match_frames_decoded_directly(media, tmp_path):
    times = [Fraction(1, 2), Fraction(21, 10), Fraction(37, 10)]
    out = compare(
        [SAMPLE], tmp_path / "sheet.png", source=SAMPLE, options=CompareOptions(at=tuple(times), height=90, labels=("again",))
    )
    sheet = read_image(out)
    layout = plan_layout(make_lineup([SAMPLE], source=SAMPLE), times, 90)
    with av.open(str(SAMPLE)) as container:
        decoded = [(frame.time, frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]
    for row, time in enumerate(times):
        expected = [rgb for t, rgb in decoded if t <= float(time) + 1e-9][-1]
        expected = cv2.resize(expected, (layout.cell_width, 90), interpolation=cv2.INTER_AREA).astype(int)
        for col in range(2):
            x, y = layout.cell(row, col)
            cell = sheet[y : y + 90, x : x + layout.cell_width].astype(int)
            assert np.abs(cell - expected).mean() <= 2, (row, col)


def test_results_with_the_same_stem_get_told_apart(clips, tmp_path):
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        (tmp_path / run / "out.mp4").write_bytes((clips / "same.mp4").read_bytes())
    lineup = make_lineup([tmp_path / "a" / "out.mp4", tmp_path / "b" / "out.mp4"], source=clips / "source.mp4")
    assert [entry.label for entry in lineup.results] == ["a/out", "b/out"]
    with pytest.raises(UsageError, match="both named x"):
        make_lineup([tmp_path / "a" / "out.mp4", tmp_path / "b" / "out.mp4"], source=clips / "source.mp4", labels=["x", "x"])


def test_stills_and_frame_folders(clips, tmp_path):
    for name, value in (("a.png", 60), ("b.png", 200)):
        cv2.imwrite(str(tmp_path / name), np.full((30, 40, 3), value, np.uint8))
    sheet = read_image(
        compare([tmp_path / "b.png"], tmp_path / "stills.png", source=tmp_path / "a.png", options=CompareOptions(height=30))
    )
    layout = plan_layout(make_lineup([tmp_path / "b.png"], source=tmp_path / "a.png"), [Fraction(0)], 30)
    assert layout.rows == 1 and layout.label_width == 0 and sheet.shape[0] == layout.header + 30 + 2 * GAP
    for col, value in enumerate((60, 200)):
        x, y = layout.cell(0, col)
        assert np.abs(sheet[y + 5 : y + 25, x + 5 : x + 35].astype(int) - value).max() <= 1
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(24):
        cv2.imwrite(str(frames / f"f{i}.png"), cv2.cvtColor(index_colour_frame(i), cv2.COLOR_RGB2BGR))
    # a folder is timed at the video's rate: its frame 12 sits beside the video's frame at 0.5 s
    sheet = read_image(
        compare(
            [frames], tmp_path / "mixed.png", source=clips / "source.mp4", options=CompareOptions(at=(Fraction(1, 2),), height=48)
        )
    )
    layout = plan_layout(make_lineup([frames], source=clips / "source.mp4"), [Fraction(1, 2)], 48)
    for col in range(2):
        x, y = layout.cell(0, col)
        assert nearest_index(sheet[y + 8 : y + 40, x + 8 : x + 56], 24) == 12


def test_a_folder_image_of_another_shape_is_refused_as_the_video_refuses_it(clips, tmp_path):
    """A sheet cell used to stretch a frame of another aspect ratio silently; it is refused now with the video's
    own message, naming the image to fix. The same picture at another scale fills its cell as it is."""
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(24):
        cv2.imwrite(str(frames / f"f{i}.png"), cv2.cvtColor(index_colour_frame(i), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(frames / "f12.png"), np.zeros((48, 48, 3), np.uint8))  # shown at 0.5 s
    at_half = CompareOptions(at=(Fraction(1, 2),), height=48)
    with pytest.raises(InputError) as sheet_error:
        compare([frames], tmp_path / "s.png", source=clips / "source.mp4", options=at_half)
    with pytest.raises(InputError) as video_error:
        compare([frames], tmp_path / "v.mp4", source=clips / "source.mp4")
    assert sheet_error.value.message == video_error.value.message
    assert sheet_error.value.message == (
        f"{frames / 'f12.png'}: is 48x48, the first image f0.png is 64x48 — every frame must have the same size: "
        "give it 64x48, or remove it"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]
    twice = cv2.resize(index_colour_frame(12), (128, 96), interpolation=cv2.INTER_NEAREST)  # same shape, twice the size
    cv2.imwrite(str(frames / "f12.png"), cv2.cvtColor(twice, cv2.COLOR_RGB2BGR))
    sheet = read_image(compare([frames], tmp_path / "s.png", source=clips / "source.mp4", options=at_half))
    layout = plan_layout(make_lineup([frames], source=clips / "source.mp4"), [Fraction(1, 2)], 48)
    x, y = layout.cell(0, 1)
    assert nearest_index(sheet[y + 8 : y + 40, x + 8 : x + 56], 24) == 12


def test_lengths_must_match_unless_truncated(clips, tmp_path):
    make_clip(tmp_path / "short.mp4", 12, size=(64, 48))
    with pytest.raises(InputError, match="frame counts differ.*--truncate"):
        compare([tmp_path / "short.mp4"], tmp_path / "s.png", source=clips / "source.mp4")
    assert not (tmp_path / "s.png").exists()
    lineup = make_lineup([tmp_path / "short.mp4"], source=clips / "source.mp4", truncate=True)
    assert lineup.frames == 12 and lineup.span == Fraction(1, 2)
    sheet = read_image(
        compare(
            [tmp_path / "short.mp4"],
            tmp_path / "s.png",
            source=clips / "source.mp4",
            options=CompareOptions(frames=2, height=48, truncate=True),
        )
    )
    layout = plan_layout(lineup, even_times(lineup.span, 2), 48)
    x, y = layout.cell(1, 0)  # 0.375 s: frame 9 of the first 12
    assert nearest_index(sheet[y + 8 : y + 40, x + 8 : x + 56], 24) == 9


def test_one_result_given_as_a_plain_path_is_one_column_not_its_characters(clips, tmp_path):
    as_list = compare([clips / "bright.mp4"], tmp_path / "list.png", source=clips / "source.mp4")
    alone = compare(str(clips / "bright.mp4"), tmp_path / "alone.png", source=clips / "source.mp4")
    assert np.array_equal(read_image(alone), read_image(as_list))


def test_a_result_at_a_smaller_scale_with_its_odd_side_rounded_is_the_same_aspect(clips, tmp_path):
    # 64x48 at 0.40625 is 26x19.5, which an encoder makes 26x20: one pixel at the result's size, two at the source's
    make_clip(tmp_path / "small.mp4", 24, size=(26, 20))
    sheet = read_image(
        compare(
            [tmp_path / "small.mp4"], tmp_path / "s.png", source=clips / "source.mp4", options=CompareOptions(frames=2, height=48)
        )
    )
    layout = plan_layout(make_lineup([tmp_path / "small.mp4"], source=clips / "source.mp4"), [Fraction(1, 2), Fraction(3, 2)], 48)
    assert sheet.shape[0] == layout.header + 2 * 48 + 3 * GAP
    make_clip(tmp_path / "square.mp4", 24, size=(48, 48))  # another picture shape is still refused, and nothing written
    with pytest.raises(InputError, match=r"aspect ratios differ: .*square.mp4 is 48x48"):
        compare([tmp_path / "square.mp4"], tmp_path / "q.png", source=clips / "source.mp4")
    assert not (tmp_path / "q.png").exists()


def test_without_a_source_the_aspect_rule_names_the_first_result(clips, tmp_path):
    make_clip(tmp_path / "square.mp4", 24, size=(48, 48))
    with pytest.raises(InputError) as info:
        compare([clips / "same.mp4", tmp_path / "square.mp4"], tmp_path / "q.png")
    assert "the first result" in info.value.message and str(info.value).endswith("made at the first result's aspect ratio")
    assert not (tmp_path / "q.png").exists()


def test_an_option_the_kind_of_output_would_not_use_is_refused(clips, tmp_path):
    # each was silently ignored: --at for a video, --layout for a sheet, --seed for a sheet, --frames beside --at
    source, same = clips / "source.mp4", clips / "same.mp4"
    cases = [
        ("v.mp4", CompareOptions(at=(Fraction(1),)), r"--at is not used for a video \(.*v.mp4\): --at goes with a sheet"),
        ("s.png", CompareOptions(layout="wipe"), "--layout is not used for a sheet .*--layout goes with a video"),
        ("s.png", CompareOptions(seed=3), "--seed goes with an A/B page"),
        ("page", CompareOptions(frames=2, layout="wipe"), "--frames, --layout are not used for an A/B page .* leave them out"),
        ("s.png", CompareOptions(frames=2, at=(Fraction(1),)), "--frames 2 and --at both choose the sheet's rows"),
    ]
    for name, options, message in cases:
        with pytest.raises(UsageError, match=message):
            compare([same, clips / "bright.mp4"], tmp_path / name, source=source, options=options)
    assert list(tmp_path.iterdir()) == []
