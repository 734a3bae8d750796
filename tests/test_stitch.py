"""stitch: frame folders become movies with known frame counts, durations, order and sound."""

import logging
from fractions import Fraction

import cv2
import numpy as np
import pytest
from conftest import index_colour, index_colour_frame, make_clip, nearest_index, no_leftovers, stream_span

from vidtoon import probe, read_frames, stitch
from vidtoon.errors import InputError, OutputError, UsageError
from vidtoon.io import EncodeOptions
from vidtoon.io.images import natural_key

FAST = EncodeOptions(preset="ultrafast")


def write_frames(folder, count, *, name="frame{}.png", size=(64, 48)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / name.format(i)), cv2.cvtColor(index_colour_frame(i, size), cv2.COLOR_RGB2BGR))
    return folder


def test_natural_sort_key():
    names = ["frame10.png", "frame2.png", "frame1.png", "Frame3.png"]
    assert sorted(names, key=natural_key) == ["frame1.png", "frame2.png", "Frame3.png", "frame10.png"]


def test_n_images_at_2_fps_make_n_frames_lasting_n_over_2_seconds(tmp_path):
    frames = write_frames(tmp_path / "frames", 12)  # frame0 … frame11: natural order matters past 9
    out = stitch(frames, fps=2, options=FAST)
    assert out == (tmp_path / "frames.mp4").resolve()
    info = probe(out)
    assert info.frame_count == 12 and info.fps == 2 and float(info.duration) == pytest.approx(6.0)
    decoded = list(read_frames(out))
    assert [nearest_index(f.rgb, 12) for f in decoded] == list(range(12))
    assert [f.time for f in decoded] == [Fraction(i, 2) for i in range(12)]


def test_a_size_may_be_a_list(tmp_path):
    frames = write_frames(tmp_path / "frames", 3)
    out = stitch(frames, tmp_path / "listed.mp4", fps=2, size=[32, 24], options=FAST)  # a Python caller's natural list
    assert (probe(out).width, probe(out).height) == (32, 24)


def test_pattern_and_ntsc_rate(tmp_path):
    frames = write_frames(tmp_path / "f", 6, name="shot1_{}.png")
    write_frames(frames, 3, name="shot2_{}.png")
    out = stitch(frames, tmp_path / "shot1.mkv", fps="29.97", pattern="shot1_*.png", options=FAST)
    info = probe(out)
    assert info.fps == Fraction(30000, 1001) and sum(1 for _ in read_frames(out)) == 6


def test_mixed_sizes_grey_and_rgba_inputs(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    cv2.imwrite(str(folder / "a1.png"), np.full((48, 64, 3), 200, np.uint8))
    cv2.imwrite(str(folder / "a2.png"), np.full((100, 100), 90, np.uint8))  # greyscale, other size
    rgba = np.zeros((24, 32, 4), np.uint8)
    rgba[..., 2], rgba[..., 3] = 255, 255  # opaque red (BGRA)
    cv2.imwrite(str(folder / "a3.png"), rgba)
    cv2.imwrite(str(folder / "a4.png"), (np.full((48, 64, 3), 40000, np.uint16)))  # 16-bit
    out = stitch(folder, tmp_path / "m.mp4", fps=1, options=FAST)
    decoded = [f.rgb for f in read_frames(out)]
    assert [d.shape for d in decoded] == [(48, 64, 3)] * 4
    assert abs(decoded[1][24, 32].astype(int) - 90).max() <= 3  # grey centre survives the letterbox
    assert decoded[1][24, 2].max() <= 20  # square image letterboxed: black bars left and right
    assert decoded[2][24, 32, 0] > 200 and decoded[2][24, 32, 2] < 40  # RGBA red
    assert abs(int(decoded[3].mean()) - 156) <= 3  # 40000/65535*255
    out = stitch(folder, tmp_path / "s.mp4", fps=1, size=(32, 32), fit="stretch", options=FAST)
    assert (probe(out).width, probe(out).height) == (32, 32)


def test_fit_is_the_flags_name_and_fit_mode_still_works(tmp_path):
    """`fit=` as `--fit`; `fit_mode=`, its older name, does the same; both, disagreeing, are refused before writing."""
    folder = write_frames(tmp_path / "f", 2, size=(64, 32))
    cv2.imwrite(str(folder / "frame2.png"), np.full((64, 64, 3), 200, np.uint8))  # square: cropped, not letterboxed
    new = stitch(folder, tmp_path / "new.mp4", fps=1, fit="crop", options=FAST)
    old = stitch(folder, tmp_path / "old.mp4", fps=1, fit_mode="crop", options=FAST)
    padded = stitch(folder, tmp_path / "pad.mp4", fps=1, options=FAST)
    (new_last, old_last, pad_last) = ([f.rgb for f in read_frames(out)][-1].astype(int) for out in (new, old, padded))
    assert np.array_equal(new_last, old_last) and abs(new_last[16, 2] - 200).max() <= 3  # cropped: grey to the edge
    assert pad_last[16, 2].max() <= 20  # the default, pad: black bars at the sides
    with pytest.raises(UsageError, match=r"fit='crop' and fit_mode='pad' are one setting; give fit= only"):
        stitch(folder, tmp_path / "both.mp4", fps=1, fit="crop", fit_mode="pad", options=FAST)
    assert not (tmp_path / "both.mp4").exists()


def test_soundtrack_is_laid_under_and_cut(tmp_path):
    frames = write_frames(tmp_path / "f", 6)
    song = make_clip(tmp_path / "song.mp4", 2, audio_seconds=8.0)
    out = stitch(frames, tmp_path / "with_sound.mp4", fps=2, audio=song, options=FAST)
    info = probe(out)
    assert [a.codec for a in info.audio] == ["aac"]
    start, end, _ = stream_span(out, "audio")
    assert end == pytest.approx(3.0, abs=0.05)
    with pytest.raises(InputError, match="no audio stream"):
        stitch(frames, tmp_path / "silent.mp4", fps=2, audio=make_clip(tmp_path / "mute.mp4", 2), options=FAST)
    assert not (tmp_path / "silent.mp4").exists() and no_leftovers(tmp_path) == []


def test_gif_and_webm_outputs(tmp_path):
    frames = write_frames(tmp_path / "f", 5)
    gif = stitch(frames, tmp_path / "a.gif", fps=2)
    assert probe(gif).frame_count == 5 and float(probe(gif).duration) == pytest.approx(2.5)
    assert nearest_index(list(read_frames(gif))[3].rgb, 5) == 3
    webm = stitch(frames, tmp_path / "a.webm", fps=2)
    assert sum(1 for _ in read_frames(webm)) == 5


def test_pixel_format_is_checked_against_the_encoder_before_anything_is_written(tmp_path):
    frames = write_frames(tmp_path / "f", 5)
    for name, pix_fmt in (("st.mp4", "pal8"), ("st_rgb.mp4", "rgb24"), ("st.webm", "rgb24")):
        with pytest.raises(UsageError, match=f"--pix-fmt {pix_fmt}: the .* encoder of .* files cannot encode it"):
            stitch(frames, tmp_path / name, fps=2, options=EncodeOptions(pix_fmt=pix_fmt))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    gif = stitch(frames, tmp_path / "pal8.gif", fps=2, options=EncodeOptions(pix_fmt="pal8"))
    assert [nearest_index(f.rgb, 5) for f in read_frames(gif)] == [0, 1, 2, 3, 4]
    full = stitch(frames, tmp_path / "full.mp4", fps=2, options=EncodeOptions(preset="ultrafast", pix_fmt="yuv444p"))
    assert (probe(full).pix_fmt, probe(full).frame_count) == ("yuv444p", 5)


def test_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(InputError, match="no images"):
        stitch(empty, fps=2)
    with pytest.raises(InputError, match="folder not found"):
        stitch(tmp_path / "missing", fps=2)
    frames = write_frames(tmp_path / "f", 3)
    (frames / "frame9.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="frame9.png.*cannot be read"):
        stitch(frames, tmp_path / "x.mp4", fps=2, options=FAST)
    assert not (tmp_path / "x.mp4").exists()
    (frames / "frame9.png").unlink()
    stitch(frames, tmp_path / "x.mp4", fps=2, options=FAST)
    with pytest.raises(OutputError, match="already exists"):
        stitch(frames, tmp_path / "x.mp4", fps=2)
    assert index_colour(0) != index_colour(1)


def test_an_image_of_another_size_is_named_once_unless_a_size_was_asked_for(tmp_path, caplog):
    folder = write_frames(tmp_path / "f", 4)
    write_frames(tmp_path / "f", 1, name="frame9{}.png", size=(32, 32))  # frame90.png, last
    write_frames(tmp_path / "f", 1, name="frame2{}.png", size=(100, 48))  # frame20.png, after frame3
    with caplog.at_level(logging.WARNING, logger="vidtoon.stitch"):
        out = stitch(folder, tmp_path / "x.mp4", fps=2, options=FAST)
    assert probe(out).frame_count == 6 and (probe(out).width, probe(out).height) == (64, 48)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{folder / 'frame20.png'} is 100x48, the first image 64x48: fitted with --fit pad, as is every image of another size"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidtoon.stitch"):
        stitch(folder, tmp_path / "y.mp4", fps=2, size=(64, 48), options=FAST)
    assert "fitted" not in caplog.text


def test_an_empty_image_is_refused_before_anything_is_encoded(tmp_path):
    folder = write_frames(tmp_path / "f", 3)
    (folder / "frame3.png").write_bytes(b"")
    with pytest.raises(InputError, match=r"frame3.png: is empty \(0 bytes\), not an image — remove it"):
        stitch(folder, tmp_path / "x.mp4", fps=2, options=FAST)
    assert not (tmp_path / "x.mp4").exists() and no_leftovers(tmp_path) == []


def test_a_crf_for_a_gif_is_refused_not_ignored(tmp_path):
    frames = write_frames(tmp_path / "f", 3)
    with pytest.raises(UsageError, match="--crf 5: the gif encoder of .gif files has no quality setting — leave --crf out"):
        stitch(frames, tmp_path / "a.gif", fps=2, options=EncodeOptions(crf=5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert probe(stitch(frames, tmp_path / "a.webm", fps=2, options=EncodeOptions(crf=40))).frame_count == 3  # VP9 has one


def test_the_crf_is_checked_on_the_encoders_own_scale(tmp_path):
    """x264 stops at 51, VP9 at 63: a --crf past the output encoder's scale is one line before any work."""
    frames = write_frames(tmp_path / "f", 3)
    with pytest.raises(UsageError, match=r"--crf 60: x264 \(.mp4 files\) takes 0-51, lower is better — give --crf between"):
        stitch(frames, tmp_path / "a.mp4", fps=2, options=EncodeOptions(crf=60))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert probe(stitch(frames, tmp_path / "a.webm", fps=2, options=EncodeOptions(crf=60))).frame_count == 3  # VP9's 0-63


def test_a_preset_for_a_gif_is_refused_and_the_default_encode_is_x264_medium(tmp_path):
    """--preset has no default of its own now: one given for a GIF (no presets) is refused, not silently dropped,
    and a video without one is encoded as before, x264 medium at CRF 18 (its settings string is in the file)."""
    frames = write_frames(tmp_path / "f", 3)
    with pytest.raises(UsageError, match="--preset slow: the gif encoder of .gif files has no x264 speed presets"):
        stitch(frames, tmp_path / "a.gif", fps=2, options=EncodeOptions(preset="slow"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    data = stitch(frames, tmp_path / "a.mp4", fps=2).read_bytes()
    assert all(setting in data for setting in (b"crf=18.0", b"subme=7", b"ref=3"))
