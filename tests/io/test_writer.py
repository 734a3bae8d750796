"""VideoWriter and transcode: real round trips that keep count, rate, duration, size, sound and timing."""

import logging
import subprocess
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import (
    SAMPLE,
    index_colour_frame,
    loudest_time,
    make_alpha_clip,
    make_clip,
    nearest_index,
    no_leftovers,
    png_clip_with_broken_frame,
    stream_span,
    video_times,
)

from vidtoon.errors import DecodeError, EncodeError, OutputError, UsageError
from vidtoon.io import AudioSource, EncodeOptions, VideoWriter, probe, read_frames, transcode

FAST = EncodeOptions(preset="ultrafast", crf=23)

# clip -> output suffix (a container that takes its audio unchanged)
# (the MP4 muxer drops Megamind's first AC3 packet, a truncated frame: MKV keeps all 352)
ROUND_TRIPS = {
    "Megamind.avi": ".mkv",
    "bbb_2s_example2.mp4": ".mp4",
    "big_buck_bunny_0_30.webm": ".mkv",
    "chaplin.mp4": ".mp4",
    "fire2.mp4": ".mp4",
    "no_duration.webm": ".mkv",
    "pigs_in_a_polka.gif": ".mp4",
    "smpte-2997.mp4": ".mp4",
    "talking_head_d3.mp4": ".mov",
    "transparent.webm": ".webm",
    "video_with_failing_audio.mp4": ".mp4",
    "vtest.avi": ".mp4",
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_round_trip_keeps_what_users_check(media, tmp_path, name):
    source = media / name
    out = transcode(source, tmp_path / f"out{ROUND_TRIPS[name]}", options=FAST)
    before, after = probe(source), probe(out)
    frames_in = sum(1 for _ in read_frames(source))
    frames_out = sum(1 for _ in read_frames(out))
    assert frames_out == frames_in
    one_frame = float(1 / before.fps)
    if not before.variable_fps:
        assert after.fps == before.fps
    assert float(after.duration) == pytest.approx(float(before.duration), abs=one_frame * 1.01)
    assert (after.width, after.height) == (before.width + before.width % 2, before.height + before.height % 2)
    assert after.rotation == 0  # rotation is applied to the pixels, not left as metadata
    assert [(a.codec, a.channels, a.sample_rate) for a in after.audio] == [
        (a.codec, a.channels, a.sample_rate) for a in before.audio
    ]
    for index in range(len(before.audio)):
        start_in, end_in, packets_in = stream_span(source, "audio", index)
        start_out, end_out, packets_out = stream_span(out, "audio", index)
        assert packets_out == packets_in  # copied unchanged, nothing dropped
        assert end_out - start_out == pytest.approx(end_in - start_in, abs=0.05)
    assert no_leftovers(tmp_path) == []


def test_variable_frame_rate_timestamps_survive(media, tmp_path):
    out = transcode(media / "fire2.mp4", tmp_path / "fire2.mp4", options=FAST)
    assert video_times(out) == video_times(media / "fire2.mp4")
    assert probe(out).variable_fps


def test_synthetic_vfr_clip_keeps_every_timestamp(tmp_path):
    times = [Fraction(0), Fraction(1, 10), Fraction(3, 10), Fraction(35, 100), Fraction(1), Fraction(21, 20)]
    source = make_clip(tmp_path / "vfr.mp4", len(times), times=times)
    for suffix in (".mp4", ".mkv", ".mov"):
        out = transcode(source, tmp_path / f"copy{suffix}", options=FAST)
        assert [round(float(t), 3) for t in video_times(out)] == [float(t) for t in times], suffix


def test_pixel_values_survive_a_round_trip(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128), (250, 200, 30), (10, 10, 10)]
    out = tmp_path / "colours.mp4"
    with VideoWriter(out, fps=Fraction(10), options=EncodeOptions(crf=0, preset="ultrafast")) as writer:
        for colour in colours:
            writer.write(np.full((32, 48, 3), colour, np.uint8))
    decoded = [f.rgb.reshape(-1, 3).mean(axis=0) for f in read_frames(out)]
    assert len(decoded) == len(colours)
    for got, want in zip(decoded, colours):
        assert np.abs(got - np.array(want)).max() <= 3, (got, want)


def test_odd_sizes_are_padded_for_yuv420_or_kept_with_yuv444(tmp_path, caplog):
    picture = np.full((33, 51, 3), 200, np.uint8)
    with caplog.at_level(logging.WARNING):
        with VideoWriter(tmp_path / "odd.mp4", fps=Fraction(5), options=FAST) as writer:
            writer.write(picture)
    assert (probe(tmp_path / "odd.mp4").width, probe(tmp_path / "odd.mp4").height) == (52, 34)
    assert "padded" in caplog.text
    with VideoWriter(
        tmp_path / "odd444.mp4", fps=Fraction(5), options=EncodeOptions(preset="ultrafast", pix_fmt="yuv444p")
    ) as writer:
        writer.write(picture)
    info = probe(tmp_path / "odd444.mp4")
    assert (info.width, info.height, info.pix_fmt) == (51, 33, "yuv444p")


@pytest.mark.parametrize(
    ("name", "pix_fmt", "fragment"),
    [
        ("p.mp4", "pal8", "--pix-fmt pal8: the libx264 encoder of .mp4 files cannot encode it"),
        (
            "p.mp4",
            "pal8",
            "use one of yuv420p, yuvj420p, yuv422p, yuv444p, yuv420p10le, yuv422p10le, yuv444p10le, nv12, gray; pal8 is for .gif files",
        ),
        ("p.mp4", "rgb24", "--pix-fmt rgb24: the libx264 encoder of .mp4 files cannot encode it — use one of yuv420p"),
        ("p.webm", "rgb24", "libvpx-vp9 encoder of .webm files cannot encode it — use one of yuv420p, yuv422p, yuv444p"),
        ("p.gif", "yuv420p", "use one of gray, pal8, rgb8; yuv420p is for .avi, .m4v, .mkv, .mov, .mp4, .webm files"),
    ],
)
def test_pixel_format_the_encoder_cannot_take_is_refused_before_any_file(tmp_path, name, pix_fmt, fragment):
    with pytest.raises(UsageError) as refused:
        VideoWriter(tmp_path / name, fps=Fraction(5), options=EncodeOptions(pix_fmt=pix_fmt))
    assert refused.value.message.startswith(f"{tmp_path / name}: ") and fragment in refused.value.message
    assert list(tmp_path.iterdir()) == []


# (file, encoder, pixel format) -> the pixel format a reader sees (a GIF decodes to bgra whatever it was written in)
PIXEL_FORMATS = [
    ("a.mp4", None, "yuv444p", "yuv444p"),
    ("a.mp4", None, "gray", "yuv420p"),  # x264's 4:0:0 decodes as yuv420p with flat chroma
    ("a.mkv", None, "yuv420p10le", "yuv420p10le"),
    ("a.webm", None, "yuv444p", "yuv444p"),
    ("a.gif", None, "pal8", "bgra"),
    ("a.gif", None, "rgb8", "bgra"),
    ("a.mov", "png", "rgb24", "rgb24"),
    ("a.mov", "png", "pal8", "pal8"),  # the palette is made per frame for any encoder, not only GIF's
]


@pytest.mark.parametrize(("name", "codec", "pix_fmt", "read_as"), PIXEL_FORMATS)
def test_pixel_formats_the_encoder_takes_are_written(tmp_path, name, codec, pix_fmt, read_as):
    frames = [index_colour_frame(i) for i in range(4)]
    with VideoWriter(
        tmp_path / name, fps=Fraction(5), options=EncodeOptions(preset="ultrafast", codec=codec, pix_fmt=pix_fmt)
    ) as writer:
        for frame in frames:
            writer.write(frame)
    info = probe(tmp_path / name)
    assert (info.pix_fmt, info.frame_count) == (read_as, 4)
    decoded = [f.rgb.astype(int) for f in read_frames(tmp_path / name)]
    if pix_fmt == "gray":
        assert all(np.abs(rgb - rgb[..., :1]).max() <= 1 for rgb in decoded)  # no colour left
    else:
        assert [nearest_index(rgb, 4) for rgb in decoded] == [0, 1, 2, 3]


def test_failure_leaves_nothing_under_the_final_name(tmp_path):
    target = tmp_path / "film.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(target, fps=Fraction(24), options=FAST) as writer:
            for i in range(30):
                writer.write(index_colour_frame(i))
            raise RuntimeError("the model crashed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(EncodeError, match="no frames"):
        with VideoWriter(target, fps=Fraction(24)):
            pass
    assert list(tmp_path.iterdir()) == []


def test_frame_of_another_size_is_refused(tmp_path):
    with pytest.raises(UsageError, match="48x32"):
        with VideoWriter(tmp_path / "a.mp4", fps=Fraction(24), options=FAST) as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))
            writer.write(np.zeros((32, 48, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_input_or_existing_output(tmp_path):
    source = make_clip(tmp_path / "in.mp4", 5)
    original = source.read_bytes()
    with pytest.raises(OutputError, match="same file as the input"):
        transcode(source, source)
    with pytest.raises(OutputError, match="same file as the input"):
        transcode(source, tmp_path / "." / "in.mp4", force=True)
    assert source.read_bytes() == original
    existing = tmp_path / "out.mp4"
    existing.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists.*--force"):
        transcode(source, existing)
    assert existing.read_bytes() == b"keep me"
    transcode(source, existing, force=True, options=FAST)
    assert probe(existing).frame_count == 5


def test_unknown_suffix_and_unwritable_folder(tmp_path):
    source = make_clip(tmp_path / "in.mp4", 3)
    with pytest.raises(OutputError, match="unknown output type"):
        transcode(source, tmp_path / "out.xyz")
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write to this folder"):
        transcode(source, blocker / "out.mp4")
    with pytest.raises(OutputError, match="cannot write to this folder"):
        transcode(source, "/proc/vidtoon-out/out.mp4")


def test_every_container_writes_a_playable_video(tmp_path):
    for suffix, codec in (
        (".mp4", "h264"),
        (".mkv", "h264"),
        (".mov", "h264"),
        (".webm", "vp9"),
        (".avi", "h264"),
        (".gif", "gif"),
    ):
        out = transcode(SAMPLE, tmp_path / f"sample{suffix}", options=FAST, end=Fraction(1))
        info = probe(out)
        assert info.codec == codec and sum(1 for _ in read_frames(out)) == 24, suffix
        assert float(info.duration) == pytest.approx(1.0, abs=0.05), suffix
        assert len(info.audio) == (0 if suffix == ".gif" else 1), suffix


def test_gif_output_keeps_colours(tmp_path):
    out = transcode(SAMPLE, tmp_path / "s.gif", end=Fraction(1, 2))
    original = next(iter(read_frames(SAMPLE))).rgb.astype(int)
    gif = next(iter(read_frames(out))).rgb.astype(int)
    assert np.abs(original - gif).mean() < 6  # per-frame palette, dithered: close to the source


def test_audio_reencoded_with_a_warning_when_container_refuses_it(media, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        out = transcode(media / "bbb_2s_example2.mp4", tmp_path / "bbb.webm", options=FAST)
    assert "re-encoding" in caplog.text and "mp3" in caplog.text
    info = probe(out)
    assert [(a.codec, a.channels) for a in info.audio] == [("opus", 2)]
    start, end, _ = stream_span(out, "audio")
    assert end - start == pytest.approx(2.01, abs=0.1)


def test_webm_vorbis_into_mp4_becomes_aac(media, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        out = transcode(media / "transparent.webm", tmp_path / "t.mp4", options=FAST)
    assert "re-encoding" in caplog.text
    assert [a.codec for a in probe(out).audio] == ["aac"]
    start, end, _ = stream_span(out, "audio")
    assert end - start == pytest.approx(4.94, abs=0.1)


def test_cut_keeps_audio_in_sync(tmp_path):
    # A white frame and a loud click both at 2.0 s; after cutting from 1.0 s both sit at 1.0 s.
    frames = [np.full((48, 64, 3), 255 if i == 48 else 30, np.uint8) for i in range(96)]
    source = make_clip(tmp_path / "flash.mp4", frames, audio_seconds=4.0, click_at=2.0)
    assert loudest_time(source) == pytest.approx(2.0, abs=0.01)
    out = transcode(source, tmp_path / "cut.mp4", start=Fraction(1), end=Fraction(3), options=FAST)
    flash = max(read_frames(out), key=lambda f: f.rgb.mean())
    assert flash.time == 1
    assert loudest_time(out) == pytest.approx(1.0, abs=0.03)
    start, end, _ = stream_span(out, "audio")
    assert start > -0.03 and end == pytest.approx(2.0, abs=0.05)  # the packet across the cut is kept
    assert sum(1 for _ in read_frames(out)) == 48


def test_metadata_is_kept(tmp_path):
    source = tmp_path / "titled.mp4"
    with av.open(str(source), "w") as out:
        out.metadata["title"] = "Our Film"
        out.metadata["comment"] = "shot on a phone"
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(index_colour_frame(i, (32, 32)), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    copy = transcode(source, tmp_path / "copy.mp4", options=FAST)
    meta = probe(copy).metadata
    assert meta["title"] == "Our Film" and meta["comment"] == "shot on a phone"


def test_subtitles_copied_where_the_container_takes_them(tmp_path, caplog):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,500\nHello\n\n2\n00:00:02,000 --> 00:00:03,000\nWorld\n")
    source = tmp_path / "with_subs.mkv"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(SAMPLE),
            "-i",
            str(srt),
            "-map",
            "0",
            "-map",
            "1",
            "-c",
            "copy",
            "-c:s",
            "srt",
            "-metadata:s:s:0",
            "language=fra",
            str(source),
        ],
        check=True,
    )
    kept = probe(transcode(source, tmp_path / "kept.mkv", options=FAST))
    assert [(s.codec, s.language) for s in kept.subtitles] == [("subrip", "fra")]
    assert stream_span(tmp_path / "kept.mkv", "subtitle")[2] == 2
    with caplog.at_level(logging.WARNING):
        dropped = probe(transcode(source, tmp_path / "dropped.mp4", options=FAST))
    assert dropped.subtitles == () and "subtitle stream" in caplog.text and len(dropped.audio) == 1


def test_decode_error_mid_transcode_leaves_no_output(tmp_path):
    path = png_clip_with_broken_frame(tmp_path / "broken.mov", 6, seed=1)  # frame 6's header damaged
    with pytest.raises(DecodeError, match="frame 6"):
        transcode(path, tmp_path / "out.mp4", options=FAST)
    assert not (tmp_path / "out.mp4").exists() and no_leftovers(tmp_path) == []


def test_soundtrack_from_another_file_is_cut_at_video_end(tmp_path):
    song = make_clip(tmp_path / "song.mp4", 2, audio_seconds=5.0)
    out = tmp_path / "short.mp4"
    with VideoWriter(out, fps=Fraction(10), audio=AudioSource(song, end=Fraction(2)), options=FAST) as writer:
        for i in range(20):
            writer.write(index_colour_frame(i))
    start, end, _ = stream_span(out, "audio")
    assert end == pytest.approx(2.0, abs=0.05)
    assert [nearest_index(f.rgb, 20) for f in read_frames(out)] == list(range(20))


def test_finished_files_get_the_usual_permissions(tmp_path):
    import os

    out = transcode(SAMPLE, tmp_path / "perm.mp4", options=FAST, end=Fraction(1, 4))
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize(
    ("options", "settings"),
    [
        (EncodeOptions(), (b"crf=17.0", b"subme=4", b"ref=2")),  # neither given: x264 faster at CRF 17
        (EncodeOptions(preset="medium"), (b"crf=18.0", b"subme=7", b"ref=3")),  # today's default, asked for
        (EncodeOptions(crf=20), (b"crf=20.0", b"subme=7")),  # a CRF alone keeps medium
        (EncodeOptions(preset="faster", crf=18), (b"crf=18.0", b"subme=4")),
    ],
)
def test_x264_settings_are_written_into_the_file(tmp_path, options, settings):
    """x264 writes its settings into the stream (an SEI message): what a user's `mediainfo` shows."""
    out = tmp_path / "settings.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(out, fps=Fraction(25), options=options) as writer:
        for _ in range(3):
            writer.write(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))
    data = out.read_bytes()
    assert all(setting in data for setting in settings)
    assert options.x264_settings("libx265") == (options.preset or "medium", options.crf or 18)  # x265: no automatic preset


def test_x264_encodes_on_frame_threads_sized_by_x264_to_the_cores(tmp_path):
    """Frame threads (thread_type AUTO: x264 is not put on slice threads) and thread_count 0: x264 picks its own count,
    1.5 × the cores it may run on (16 cores: 24), so the encode thread keeps up at GPU rates (issue #20)."""
    import os

    before = len(os.listdir("/proc/self/task"))
    with VideoWriter(tmp_path / "t.mp4", fps=Fraction(24)) as writer:
        for i in range(3):
            writer.write(index_colour_frame(i, (128, 96)), Fraction(i, 24))
        context = writer._video.codec_context
        assert (context.thread_type.name, context.thread_count) == ("AUTO", 0)
        assert len(os.listdir("/proc/self/task")) - before >= min(2, os.cpu_count())  # the encoder's own threads


def test_a_transparent_source_is_transcoded_opaque_and_the_user_is_told_once(tmp_path, caplog):
    """`transcode` drops the alpha channel as restyle does (no video vidtoon writes keeps it): said once, naming the
    file, not per frame; an opaque source says nothing."""
    source = make_alpha_clip(tmp_path / "clip.mov", "qtrle", "argb")
    with caplog.at_level(logging.WARNING):
        out = transcode(source, tmp_path / "out.mp4", options=FAST)
    said = [r.getMessage() for r in caplog.records if "alpha channel" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{source}: its alpha channel (transparency) is dropped"), said
    info = probe(out)
    assert info.frame_count == 6 and not info.alpha
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        transcode(make_clip(tmp_path / "opaque.mp4", 6), tmp_path / "out2.mp4", options=FAST)
    assert not [r for r in caplog.records if "alpha" in r.getMessage()]
