"""A frame that fails to decode: `--on-corrupt stop` names it and leaves nothing; `conceal` repeats the previous
good frame at the lost frame's own time, so frame count, duration and sound stay as the undamaged file's.

The damaged clip: 1 s of the project's sample (24 fps, with its AAC sound) as Motion JPEG, whose packet 10 (the
frame at 10/24 s) is found by demuxing and zeroed. FFmpeg's MJPEG decoder raises on it; the frames around it
decode. (Damage inside an H.264 slice is mostly hidden by FFmpeg's own error concealment: no error, a smeared
picture, nothing to count; zeroing a whole H.264, MPEG-4 or PNG packet raises, like here.)
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import SAMPLE, make_clip, no_leftovers, png_clip_with_broken_frame, stream_span, video_times
from typer.testing import CliRunner

import vidtoon
from vidtoon.cli import app
from vidtoon.errors import DecodeError, EncodeError, InputError, UsageError
from vidtoon.frames import extract_frames
from vidtoon.io import AudioSource, EncodeOptions, VideoReader, VideoWriter, read_frames, transcode
from vidtoon.io.images import read_image
from vidtoon.restyle import RestyleOptions, load_translator, resolve_style

FAST = EncodeOptions(preset="ultrafast", crf=23)
DAMAGED = 10  # the packet (= frame, Motion JPEG has no reordering) whose bytes are zeroed


def mjpeg_clip(path: Path) -> Path:
    """1 s of clips/sample.mp4 (24 frames, 160 px tall, its sound kept) as Motion JPEG in MOV."""
    options = EncodeOptions(preset="ultrafast", codec="mjpeg", pix_fmt="yuvj420p")
    with VideoReader(SAMPLE, end=Fraction(1)) as reader:
        with VideoWriter(
            path,
            fps=reader.info.fps,
            time_base=reader.info.time_base,
            options=options,
            audio=AudioSource(SAMPLE, end=Fraction(1)),
        ) as writer:
            for frame in reader:
                writer.write(np.ascontiguousarray(frame.rgb[::2, ::2][:134, :240]), frame.time)
    return path


def zero_packet(path: Path, output: Path, number: int) -> Path:
    """A copy of `path` whose video packet `number` (in file order) is all zero bytes."""
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
        position, size = packets[number].pos, packets[number].size
    data = bytearray(path.read_bytes())
    data[position : position + size] = bytes(size)
    output.write_bytes(bytes(data))
    return output


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corrupt")
    good = mjpeg_clip(folder / "good.mov")
    return {"good": good, "damaged": zero_packet(good, folder / "damaged.mov", DAMAGED)}


def test_stop_names_the_frame_and_its_time(clips):
    seen = []
    with pytest.raises(DecodeError, match=r"decode error at frame 10 \(0\.417 s\).*--on-corrupt conceal") as caught:
        for frame in read_frames(clips["damaged"]):
            seen.append(frame.index)
    assert seen == list(range(10)) and caught.value.path == clips["damaged"]


def test_conceal_repeats_the_previous_frame_at_the_lost_frames_time(clips, caplog):
    good = list(read_frames(clips["good"]))
    with caplog.at_level(logging.WARNING), VideoReader(clips["damaged"], on_corrupt="conceal") as reader:
        frames = list(reader)
    assert [f.time for f in frames] == [f.time for f in good] and len(frames) == 24  # every timestamp kept
    assert reader.concealed == [Fraction(10, 24)]
    assert np.array_equal(frames[DAMAGED].rgb, frames[DAMAGED - 1].rgb)  # the previous good frame, repeated
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(frames[11:], good[11:]))  # the rest as decoded
    assert "concealed 1 frame that failed to decode (first at 0.417 s)" in caplog.text


def test_conceal_of_the_first_frame_shows_the_next_good_one(tmp_path):
    path = png_clip_with_broken_frame(tmp_path / "first.mov", 0, frames=6)
    with VideoReader(path, on_corrupt="conceal") as reader:
        frames = list(reader)
    assert len(frames) == 6 and reader.concealed == [Fraction(0)]
    assert np.array_equal(frames[0].rgb, frames[1].rgb)


def test_conceal_on_undamaged_clips_changes_nothing(media):
    for name, start in [
        ("Megamind.avi", None),
        ("fire2.mp4", None),
        ("chaplin.mp4", Fraction(3)),
        ("no_duration.webm", Fraction(1)),
    ]:
        plain = [f.time for f in read_frames(media / name, start=start, end=(start or 0) + 2)]
        with VideoReader(media / name, start=start, end=(start or 0) + 2, on_corrupt="conceal") as reader:
            concealing = [f.time for f in reader]
        assert concealing == plain and reader.concealed == [], name


def test_unknown_mode_is_refused():
    with pytest.raises(UsageError, match="--on-corrupt must be one of stop, conceal"):
        VideoReader(SAMPLE, on_corrupt="skip")
    with pytest.raises(UsageError, match="--on-corrupt"):
        RestyleOptions(on_corrupt="ignore")


@pytest.fixture(scope="module")
def sketch():
    return load_translator(card=resolve_style(style="sketch"), device="cpu")


def test_restyle_conceal_keeps_count_duration_and_sound(clips, sketch, tmp_path):
    options = RestyleOptions(consistency="none", on_corrupt="conceal", encode=FAST)
    reference = vidtoon.restyle(clips["good"], tmp_path / "good.mp4", translator=sketch.translator, options=options)
    concealed: list[Fraction] = []
    out = vidtoon.restyle(
        clips["damaged"], tmp_path / "damaged.mp4", translator=sketch.translator, options=options, concealed=concealed
    )
    assert concealed == [Fraction(10, 24)]
    assert video_times(out) == video_times(reference) and len(video_times(out)) == 24
    assert stream_span(out, "audio") == stream_span(reference, "audio")  # the sound untouched, in step


def test_cli_stop_is_one_line_and_leaves_nothing(clips, tmp_path):
    out = tmp_path / "stopped.mp4"
    result = CliRunner().invoke(
        app, ["restyle", str(clips["damaged"]), "--to", "sketch", "--consistency", "none", "-o", str(out)]
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert "decode error at frame 10 (0.417 s)" in lines[0] and "--on-corrupt conceal" in lines[0]
    assert not out.exists()


def test_cli_conceal_warns_once_and_writes_every_frame(clips, tmp_path):
    out = tmp_path / "concealed.mp4"
    args = ["restyle", str(clips["damaged"]), "--to", "sketch", "--consistency", "none", "--preset", "ultrafast"]
    result = CliRunner().invoke(app, [*args, "--on-corrupt", "conceal", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "concealed 1 frame that failed to decode (first at 0.417 s)" in " ".join(result.stderr.split())
    assert len(video_times(out)) == 24
    folder = tmp_path / "frames"
    result = CliRunner().invoke(
        app, ["frames", str(clips["damaged"]), "-o", str(folder), "--fps", "all", "--on-corrupt", "conceal"]
    )
    assert result.exit_code == 0 and len(list(folder.glob("*.png"))) == 24, result.stderr


def test_frames_and_transcode_return_or_stop(clips, tmp_path):
    result = extract_frames(clips["damaged"], tmp_path / "ds", fps=None, size=(32, 32), on_corrupt="conceal")
    assert len(result.files) == 24 and result.concealed == (Fraction(10, 24),)
    with pytest.raises(DecodeError, match="frame 10"):
        transcode(clips["damaged"], tmp_path / "t.mp4", options=FAST)
    assert not (tmp_path / "t.mp4").exists()
    out = transcode(clips["damaged"], tmp_path / "t.mp4", options=FAST, on_corrupt="conceal")
    assert len(video_times(out)) == 24


# -- regressions the fuzzing found, each as its smallest reproducer ----------------------------------------


def test_no_decodable_frame_is_an_error_not_an_empty_video(tmp_path):
    path = make_clip(tmp_path / "clip.mkv", 8)
    data = path.read_bytes()
    first = data.index(b"\x1f\x43\xb6\x75")  # the first Matroska cluster: cut right inside it
    (tmp_path / "cut.mkv").write_bytes(data[: first + 40])
    with pytest.raises(DecodeError, match="no frame could be decoded"):
        list(read_frames(tmp_path / "cut.mkv"))


def test_avi_with_an_empty_frame_slot_is_not_truncated(media, tmp_path):
    # Megamind's first frame is at 1/24 s: vidtoon's AVI of it keeps slot 0 empty (12 slots, 11 frames)
    avi = transcode(media / "Megamind.avi", tmp_path / "cut.avi", end=Fraction(1, 2), options=FAST)
    assert len(list(read_frames(avi))) == 11


def test_audio_with_repeated_timestamps_goes_into_mp4(media, tmp_path):
    # that AVI's AC3 sound reads back with repeated dts (0, 0, 0, 0, 0, 0, 1, ...): MP4 refused them ("Invalid argument")
    avi = transcode(media / "Megamind.avi", tmp_path / "cut.avi", end=Fraction(1, 2), options=FAST)
    out = transcode(avi, tmp_path / "again.mp4", options=FAST)
    _, _, packets = stream_span(out, "audio")
    assert packets >= 14 and len(video_times(out)) == 11


def test_damaged_jpeg_is_an_error_not_a_grey_picture(media, tmp_path):
    # OpenCV printed libjpeg's "Premature end of JPEG file" to the terminal and returned a half-grey picture
    data = (media / "face_monalisa.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cannot be read as an image"):
        read_image(tmp_path / "cut.jpg")
    expected = cv2.cvtColor(cv2.imread(str(media / "face_monalisa.jpg")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(read_image(media / "face_monalisa.jpg"), expected)  # the same pixels as before


def test_a_muxer_refusal_while_copying_sound_is_an_encode_error(tmp_path):
    # Motion JPEG refuses yuv420p; the encoder opens with the file's header, at the first sound packet: that
    # av.ArgumentError escaped the writer as a traceback
    out = tmp_path / "refused.mov"
    with pytest.raises(EncodeError, match="writing failed"):
        with VideoWriter(out, fps=Fraction(24), options=EncodeOptions(codec="mjpeg"), audio=AudioSource(SAMPLE)) as writer:
            for i in range(3):
                writer.write(np.zeros((32, 32, 3), np.uint8), Fraction(i, 24))
    assert not out.exists() and no_leftovers(tmp_path) == []


def test_a_demuxer_that_stops_early_is_warned_about(tmp_path, caplog):
    # A zeroed block stops FFmpeg's Matroska demuxer with no error: 20 of 48 frames came out, and nothing said so
    path = make_clip(tmp_path / "clip.mkv", 48)
    damaged = zero_packet(path, tmp_path / "damaged.mkv", 20)
    with caplog.at_level(logging.WARNING):
        assert len(list(read_frames(damaged))) == 20
    assert "the video stops at 0.834 s of the 2.000 s the file declares" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert len(list(read_frames(path))) == 48
    assert caplog.text == ""
