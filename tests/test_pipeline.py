"""restyle end to end on real clips: count, timing, sound, identity, resume after a kill, images, errors."""

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
import torch
from conftest import SAMPLE, index_colour_frame, make_alpha_clip, make_clip, nearest_index, no_leftovers, stream_span, video_times
from torch import nn

import vidtoon
from vidtoon.errors import EncodeError
from vidtoon.io import EncodeOptions, probe, read_frames
from vidtoon.io.images import read_image
from vidtoon.models import ModelCard
from vidtoon.models.translator import TorchTranslator
from vidtoon.restyle import RestyleOptions, load_translator
from vidtoon.restyle.options import BUILT_IN_DEFAULTS
from vidtoon.settings import DEFAULT_STRENGTH
from vidtoon.styles.cards import STYLE_DEFAULT_KEYS

FAST = EncodeOptions(preset="ultrafast")


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_b_frames_do_not_put_the_picture_behind_the_sound(tmp_path, suffix):
    """x264's default preset makes B-frames, so decode times start below zero; the segment files (NUT) delay every
    packet to keep them non-negative, and the join once copied that delay: the picture came 1-2 frames late."""
    frames = [np.full((48, 64, 3), 8 * i, np.uint8) for i in range(12)]
    source = make_clip(tmp_path / f"source{suffix}", frames, fps=Fraction(25), audio_seconds=0.48)
    out = vidtoon.restyle(
        source,
        tmp_path / f"out{suffix}",
        translator=identity_translator(),
        options=RestyleOptions(consistency="none", encode=EncodeOptions(preset="medium")),
    )
    assert video_times(out) == [Fraction(i, 25) for i in range(12)]
    assert stream_span(out, "video")[1] == pytest.approx(0.48, abs=1e-3)  # ends with the last frame
    assert stream_span(out, "audio")[0] == stream_span(source, "audio")[0]


def identity_translator():
    card = ModelCard(family="cyclegan_resnet", size_multiple=4)
    return TorchTranslator(nn.Identity(), card, device=torch.device("cpu"), channels_last=False)


def tiny_translator(path):
    return load_translator(model=path, device="cpu")[0]


def test_identity_generator_gives_back_the_input(tmp_path):
    # lossless 4:4:4 output: what is left is rounding between the source's BT.601 and our BT.709 matrices
    options = RestyleOptions(
        encode=EncodeOptions(preset="ultrafast", crf=0, pix_fmt="yuv444p"), end=Fraction(1), segment_seconds=1, consistency="none"
    )
    out = vidtoon.restyle(SAMPLE, tmp_path / "same.mp4", translator=identity_translator(), options=options)
    ours = [f.rgb.astype(int) for f in read_frames(out)]
    source = [f.rgb.astype(int) for f, _ in zip(read_frames(SAMPLE), range(24))]
    assert len(ours) == 24
    assert max(np.abs(a - b).max() for a, b in zip(ours, source)) <= 3
    assert max(np.abs(a - b).mean() for a, b in zip(ours, source)) < 0.5


def test_restyle_keeps_count_timing_and_sound(media, tmp_path, tiny_checkpoint):
    source = media / "bbb_2s_example2.mp4"
    out = vidtoon.restyle(
        source,
        tmp_path / "bbb.mp4",
        translator=tiny_translator(tiny_checkpoint),
        options=RestyleOptions(encode=FAST, height=96, segment_seconds=1),
    )
    before, after = probe(source), probe(out)
    assert after.frame_count == before.frame_count == 48 and after.fps == before.fps
    assert (after.width, after.height) == (before.width, before.height)
    assert video_times(out) == video_times(source)
    assert [(a.codec, a.channels) for a in after.audio] == [("mp3", 2)]
    assert stream_span(out, "audio")[2] == stream_span(source, "audio")[2]
    changed = np.abs(next(iter(read_frames(out))).rgb.astype(int) - next(iter(read_frames(source))).rgb).mean()
    assert changed > 10  # the model really changed the picture
    assert no_leftovers(tmp_path) == [] and not any(p.name.endswith("vidtoon-parts") for p in tmp_path.iterdir())


def test_variable_frame_rate_and_rotation_survive(media, tmp_path, tiny_checkpoint):
    source = media / "fire2.mp4"
    out = vidtoon.restyle(
        source,
        tmp_path / "fire.mp4",
        translator=tiny_translator(tiny_checkpoint),
        options=RestyleOptions(encode=FAST, height=128, segment_seconds=1),
    )
    assert video_times(out) == video_times(source)
    info = probe(out)
    assert (info.width, info.height, info.rotation) == (1280, 720, 0) and info.variable_fps


def test_six_channel_audio_is_kept(tmp_path, tiny_checkpoint):
    source = tmp_path / "surround.mp4"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=48000, layout="5.1")
        for i in range(24):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 10, np.uint8), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        for offset in range(0, 96000, 1024):
            chunk = av.AudioFrame.from_ndarray(np.zeros((6, 1024), np.float32), format="fltp", layout="5.1")
            chunk.sample_rate, chunk.pts = 48000, offset
            for packet in audio.encode(chunk):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    out = vidtoon.restyle(
        source, tmp_path / "out.mkv", translator=tiny_translator(tiny_checkpoint), options=RestyleOptions(encode=FAST)
    )
    assert [(a.codec, a.channels) for a in probe(out).audio] == [("aac", 6)]
    assert probe(out).fps == 12 and probe(out).frame_count == 24 and sum(1 for _ in read_frames(out)) == 24


def test_cut_with_start_and_end(tmp_path, tiny_checkpoint):
    out = vidtoon.restyle(
        SAMPLE,
        tmp_path / "cut.mp4",
        translator=tiny_translator(tiny_checkpoint),
        options=RestyleOptions(encode=FAST, start=Fraction(1), end=Fraction(2)),
    )
    info = probe(out)
    assert info.frame_count == 24 and float(info.duration) == pytest.approx(1.0, abs=0.05)
    start, end, _ = stream_span(out, "audio")
    assert end - max(start, 0) == pytest.approx(1.0, abs=0.05)


def test_images_and_folders(tmp_path, tiny_checkpoint):
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 255, (61, 83, 3), np.uint8))
    translator = tiny_translator(tiny_checkpoint)
    out = vidtoon.restyle(photo, translator=translator, style_name="tiny")
    assert out == tmp_path / "photo.tiny.png" and cv2.imread(str(out)).shape == (61, 83, 3)
    folder = tmp_path / "album"
    folder.mkdir()
    for name in ("b.png", "a.jpg"):
        cv2.imwrite(str(folder / name), np.full((40, 50, 3), 128, np.uint8))
    result = vidtoon.restyle(folder, translator=translator, style_name="tiny")
    names = sorted(p.name for p in result.iterdir())  # the images, and the list of what vidtoon wrote (for --force)
    assert result == tmp_path / "album.tiny" and names == [".vidtoon-frames.json", "a.png", "b.png"]


def run_cli(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "vidtoon", *map(str, args)], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_resume_after_a_killed_run_gives_the_same_film(tmp_path, tiny_checkpoint):
    source = make_clip(tmp_path / "long.mp4", 80, fps=Fraction(10), size=(160, 120), audio_seconds=8.0)
    full = run_cli(
        "restyle",
        source,
        "--model",
        tiny_checkpoint,
        "-o",
        tmp_path / "full.mp4",
        "--segment-seconds",
        "2",
        "--preset",
        "ultrafast",
    )
    assert full.returncode == 0, full.stderr
    target = tmp_path / "resumed.mp4"
    parts = tmp_path / ".resumed.mp4.vidtoon-parts"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vidtoon",
            "restyle",
            str(source),
            "--model",
            str(tiny_checkpoint),
            "-o",
            str(target),
            "--segment-seconds",
            "2",
            "--preset",
            "ultrafast",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        state = parts / "progress.json"
        if state.exists() and len(json.loads(state.read_text())["done"]) >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(json.loads((parts / "progress.json").read_text())["done"])
    assert 2 <= done_before < 4 and not target.exists()
    refused = run_cli("restyle", source, "--model", tiny_checkpoint, "-o", target, "--segment-seconds", "2")
    assert refused.returncode == 1 and "--resume" in refused.stderr
    other = ("--preset", "medium", "--crf", "20", "--resume")  # the refusal names each changed flag (was "(options)")
    changed = run_cli("restyle", source, "--model", tiny_checkpoint, "-o", target, "--segment-seconds", "2", *other)
    said = " ".join(changed.stderr.split())
    assert changed.returncode == 1 and "other settings (--crf default → 20, --preset ultrafast → medium)" in said, said
    resumed = run_cli(
        "restyle", source, "--model", tiny_checkpoint, "-o", target, "--segment-seconds", "2", "--preset", "ultrafast", "--resume"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert video_times(target) == video_times(tmp_path / "full.mp4") == [Fraction(i, 10) for i in range(80)]
    assert stream_span(target, "audio") == stream_span(tmp_path / "full.mp4", "audio")
    a = [f.rgb.astype(int) for f in read_frames(target)]
    b = [f.rgb.astype(int) for f in read_frames(tmp_path / "full.mp4")]
    assert max(np.abs(x - y).mean() for x, y in zip(a, b)) < 2  # same restyling, same encoder settings
    assert not parts.exists() and no_leftovers(tmp_path) == []


def test_onnx_peer_restyles_a_real_clip(media, tmp_path):
    peers = os.environ.get("VIDTOON_PEERS")
    if not peers:
        pytest.skip("VIDTOON_PEERS is not set: point it at the peer models folder (CI uses ../shared/peers)")
    translator = load_translator(model=os.path.join(peers, "whitebox_int8.onnx"), device="cpu")[0]
    out = vidtoon.restyle(
        media / "chaplin.mp4",
        tmp_path / "cartoon.mp4",
        translator=translator,
        options=RestyleOptions(encode=FAST, end=Fraction(3, 25)),
    )
    assert sum(1 for _ in read_frames(out)) == 3 and [a.codec for a in probe(out).audio] == ["mp3"]
    before = next(iter(read_frames(media / "chaplin.mp4"))).rgb
    after = next(iter(read_frames(out))).rgb
    edges_before = cv2.Canny(cv2.cvtColor(before, cv2.COLOR_RGB2GRAY), 50, 150).mean()
    edges_after = cv2.Canny(cv2.cvtColor(after, cv2.COLOR_RGB2GRAY), 50, 150).mean()
    assert np.abs(before.astype(int) - after).mean() > 5 and edges_after != edges_before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--to", "no_such_style"], "unknown style 'no_such_style'"),
        (["--model", "{corrupt}"], "not a readable safetensors"),
        (["--model", "{pickle}"], "holds code"),
        (["--model", "{rank3}"], "rank"),
        (["--model", "{tiny}", "--device", "cuda"], "CUDA"),
    ],
)
def test_bad_restyle_inputs_are_one_line(tmp_path, tiny_checkpoint, args, fragment):
    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(os.urandom(2000))
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pickled = tmp_path / "evil.pth"
    torch.save({"model.1.weight": Payload()}, pickled)  # a real torch checkpoint whose pickle runs a command
    rank3 = tmp_path / "rank3.onnx"

    class Flat(nn.Module):
        def forward(self, x):
            return x * 2

    torch.onnx.export(Flat(), torch.zeros(3, 8, 8), str(rank3), input_names=["x"], output_names=["y"], dynamo=False)
    paths = {"corrupt": corrupt, "pickle": pickled, "rank3": rank3, "tiny": tiny_checkpoint}
    args = [a.format(**paths) for a in args]
    result = run_cli("restyle", SAMPLE, *args, "-o", tmp_path / "out.mp4")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert fragment in lines[0]
    assert not marker.exists() and not (tmp_path / "out.mp4").exists()


def test_pixel_format_the_encoder_refuses_is_one_line_and_leaves_nothing(media, tmp_path):
    """The acceptance audit's commands: pal8 into MP4 crashed with an AttributeError, rgb24 failed at frame 0; both
    left a parts folder that refused the next run as "interrupted". Now: one line, before anything is made."""
    source, out = media / "bbb_2s_example2.mp4", tmp_path / "m2.mp4"
    for pix_fmt, name, fragment in (
        ("pal8", "m2.mp4", "--pix-fmt pal8: the libx264 encoder of .mp4 files cannot encode it — use one of yuv420p"),
        ("rgb24", "p.mp4", "--pix-fmt rgb24: the libx264 encoder of .mp4 files cannot encode it"),
        ("rgb24", "p.webm", "--pix-fmt rgb24: the libvpx-vp9 encoder of .webm files cannot encode it"),
    ):
        result = run_cli("restyle", source, "--to", "toon", "--height", "180", "--pix-fmt", pix_fmt, "-o", tmp_path / name)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert lines[0].startswith(f"error: {tmp_path / name}: {fragment}"), lines[0]
        assert list(tmp_path.iterdir()) == []  # no output, no hidden parts folder
    args = ("--to", "toon", "--height", "180", "--end", "0.5", "--preset", "ultrafast")
    result = run_cli("restyle", source, *args, "--pix-fmt", "yuv444p", "-o", out)
    assert result.returncode == 0, result.stderr
    assert (probe(out).pix_fmt, probe(out).frame_count) == ("yuv444p", 12)
    result = run_cli("restyle", source, *args[:-2], "--pix-fmt", "pal8", "-o", tmp_path / "m2.gif")  # no --preset
    assert result.returncode == 0, result.stderr
    assert (probe(tmp_path / "m2.gif").codec, probe(tmp_path / "m2.gif").frame_count) == ("gif", 12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m2.gif", "m2.mp4"]


def test_encoder_failing_at_the_first_frame_leaves_no_parts_folder(tmp_path):
    """Any encoder failure before a segment is finished: the error names the user's file, not the hidden part, and
    leaves no empty parts folder for the next run to refuse as an interrupted one."""
    source = make_clip(tmp_path / "source.mp4", [np.full((48, 64, 3), 8 * i, np.uint8) for i in range(6)])
    out = tmp_path / "out.mp4"
    h261 = RestyleOptions(consistency="none", encode=EncodeOptions(codec="h261"))  # H.261 takes only 176x144 or 352x288
    with pytest.raises(EncodeError) as failed:
        vidtoon.restyle(source, out, translator=identity_translator(), options=h261)
    assert failed.value.message.startswith(f"{out}: encoding failed at frame 0, 0.000 s ("), failed.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.mp4"]
    vidtoon.restyle(source, out, translator=identity_translator(), options=RestyleOptions(consistency="none", encode=FAST))
    assert probe(out).frame_count == 6


def test_foreign_cyclegan_checkpoint_restyles_from_the_command_line(tmp_path):
    from vidtoon.models.cyclegan import ResnetGenerator

    torch.manual_seed(0)
    generator = ResnetGenerator(3, 3, ngf=8, n_blocks=2)
    checkpoint = tmp_path / "latest_net_G_A.pth"
    torch.save(generator.state_dict(), checkpoint)  # as pytorch-CycleGAN-and-pix2pix saves it
    out = tmp_path / "foreign.mp4"
    result = run_cli("restyle", SAMPLE, "--model", checkpoint, "-o", out, "--end", "0.5", "--preset", "ultrafast")
    assert result.returncode == 0, result.stderr
    assert probe(out).frame_count == 12 and len(probe(out).audio) == 1


def test_the_api_says_what_translator_and_options_are(tmp_path, tiny_checkpoint):
    with pytest.raises(vidtoon.UsageError, match="restyle needs a loaded style as translator, got 'toon'") as caught:
        vidtoon.restyle(SAMPLE, tmp_path / "out.mp4", translator="toon")  # a style's name: to= takes those
    assert "to='toon'" in caught.value.hint and "load_translator" in caught.value.hint
    translator = load_translator(model=tiny_checkpoint, device="cpu").translator
    with pytest.raises(vidtoon.UsageError, match="options must be a RestyleOptions, got dict"):
        vidtoon.restyle(SAMPLE, tmp_path / "out.mp4", translator=translator, options={"height": 64})
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(("name", "codec", "pix_fmt"), [("clip.mov", "qtrle", "argb"), ("clip.webm", "libvpx-vp9", "yuva420p")])
def test_a_transparent_video_is_restyled_opaque_and_the_user_is_told_once(tmp_path, name, codec, pix_fmt):
    """Transparency was dropped without a word: now one warning names the file and says the output is opaque."""
    source = make_alpha_clip(tmp_path / name, codec, pix_fmt)
    output = tmp_path / f"out{source.suffix}"
    fast = ("--preset", "ultrafast") if codec == "qtrle" else ()  # x264 in the .mov; VP9 has no presets
    result = run_cli("restyle", source, "--to", "toon", *fast, "-o", output)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())  # Rich wraps the line
    assert said.count("alpha channel") == 1, result.stderr
    squeezed = "".join(said.split())  # a long path may be wrapped anywhere
    assert f"{source}:itsalphachannel(transparency)isdropped:theoutputisopaque" in squeezed
    info = probe(output)
    assert info.frame_count == 6 and not info.alpha
    opaque = run_cli("restyle", make_clip(tmp_path / "opaque.mp4", 6), "--to", "toon", "--preset", "ultrafast")
    assert opaque.returncode == 0 and "alpha" not in opaque.stderr, opaque.stderr


def test_odd_size_is_said_once_of_the_output(tmp_path):
    """641x359 in 1-s segments: the padding warning named each hidden part (.odd.mp4.vidtoon-parts/part-00000.nut),
    once per segment (a long film: hundreds of lines). Now one warning, naming the output the user asked for."""
    source = make_clip(tmp_path / "odd.mp4", 30, fps=Fraction(10), size=(641, 359), pix_fmt="yuv444p")
    args = ("--to", "toon", "--segment-seconds", "1", "--preset", "ultrafast", "-o", "odd.toon.mp4")
    result = run_cli("restyle", source, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())  # Rich wraps the line
    assert said.count("is odd; padded to 642x360") == 1, result.stderr
    assert "odd.toon.mp4: 641x359 is odd" in said and "vidtoon-parts" not in said
    info = probe(tmp_path / "odd.toon.mp4")
    assert (info.width, info.height, info.frame_count) == (642, 360, 30)


def subtitle_cues(path) -> list[tuple[float, float, bytes]]:
    """(start, end, text) of each non-empty subtitle cue, in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.subtitles[0]
        return [
            (float(p.pts * stream.time_base), float((p.pts + p.duration) * stream.time_base), bytes(p).lstrip(b"\0\5"))
            for p in container.demux(stream)
            if p.pts is not None and bytes(p).strip(b"\0")
        ]


@pytest.mark.parametrize(("suffix", "subtitles"), [(".mkv", "srt"), (".mp4", "mov_text")])
def test_a_cue_showing_at_the_start_keeps_the_subtitles_in_time(tmp_path, suffix, subtitles):
    """--start 1 inside a cue (0.5-1.5 s): the MP4 showed every later cue 0.5 s early, the MKV started its picture
    and sound 0.5 s late. Now the cue shows from 0 to 0.5 s and 'World' (3-4 s in the source) from 2 to 3 s."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,500\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n")
    plain = make_clip(tmp_path / "plain.mp4", 50, fps=Fraction(10), audio_seconds=5.0)
    source = tmp_path / f"subs{suffix}"
    mux = ["-map", "0", "-map", "1", "-c", "copy", "-c:s", subtitles]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", plain, "-i", srt, *mux, source], check=True)
    out = vidtoon.restyle(
        source,
        tmp_path / f"out{suffix}",
        translator=identity_translator(),
        options=RestyleOptions(consistency="none", encode=FAST, start=Fraction(1), end=Fraction(4)),
    )
    assert subtitle_cues(out) == [(0.0, 0.5, b"Hello"), (2.0, 3.0, b"World")]
    assert video_times(out)[0] == 0 and stream_span(out, "video")[0] == 0.0


def test_an_avi_output_keeps_every_frame_in_order_and_its_rate(tmp_path):
    """AVI stores no timestamps; its segments were joined at a 1/600 s tick with B-frames, so a 20-frame restyle
    read as 432 frames at 600 fps, the pictures out of order. Now: 20 frames at 10 fps, each where it was."""
    frames = [index_colour_frame(i, (160, 120)) for i in range(20)]
    for i, frame in enumerate(frames):
        frame[50:60, 6 * i : 6 * i + 10] = 255  # a moving box: x264 makes B-frames
    source = make_clip(tmp_path / "clip.mp4", frames, fps=Fraction(10), audio_seconds=2.0)
    out = vidtoon.restyle(
        source,
        tmp_path / "out.avi",
        translator=identity_translator(),
        options=RestyleOptions(consistency="none", segment_seconds=1, encode=EncodeOptions(preset="medium")),
    )
    info = probe(out)
    assert (info.fps, info.frame_count) == (10, 20) and float(info.duration) == pytest.approx(2.0, abs=0.05)
    assert [nearest_index(frame.rgb, 20) for frame in read_frames(out)] == list(range(20))
    with av.open(str(out)) as container:  # the times FFmpeg-based players show the pictures at, in their order
        times = [frame.pts for frame in container.decode(video=0)]
    assert len(times) == 20 and {b - a for a, b in zip(times, times[1:])} == {1}, times


def test_a_killed_gif_restyle_leaves_no_hidden_partial_file_after_the_next_run(tmp_path):
    """A GIF is written in one pass under a hidden name; SIGKILL left .out.partial-XXXXXXXX.gif (as large as the GIF
    so far) beside it for good. The next run of the same output, holding its lock, removes it."""
    source = make_clip(tmp_path / "clip.mp4", 1000, fps=Fraction(25), size=(320, 240))  # about 7 s to restyle
    command = [sys.executable, "-m", "vidtoon", "restyle", str(source), "--to", "toon", "-o", str(tmp_path / "out.gif")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not any(tmp_path.glob(".out.partial-*.gif")):
        time.sleep(0.01)
    time.sleep(0.5)  # frames being written
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert [p.name for p in tmp_path.glob(".out.partial-*.gif")] != [] and not (tmp_path / "out.gif").exists()
    again = run_cli("restyle", source, "--to", "toon", "--end", "0.2", "-o", tmp_path / "out.gif")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.gif"]


class _StopAfter:
    """Progress that, at frame `at`, records another output as finished (as a restyle in another thread of this
    process would) and then stops the run as Ctrl-C does."""

    def __init__(self, at: int, other):
        self.at, self.other, self.done = at, other, 0

    def start(self, total, description):
        pass

    def advance(self, steps=1):
        from vidtoon.interrupts import output_finished

        self.done += steps
        if self.done >= self.at:
            output_finished(self.other)
            raise KeyboardInterrupt


def test_a_stopped_run_keeps_its_segments_though_another_output_finished_meanwhile(tmp_path):
    out = tmp_path / "out.mp4"
    loaded = load_translator(style="toon", device="cpu", twin=True)
    options = RestyleOptions(end=Fraction(2), segment_seconds=1, encode=FAST)
    with pytest.raises(vidtoon.Interrupted) as caught:
        vidtoon.restyle(SAMPLE, out, translator=loaded.translator, options=options, progress=_StopAfter(30, tmp_path / "b.mp4"))
    assert str(caught.value) == f"interrupted: 1 finished segment(s) of {out} kept; run again with --resume"
    assert not out.exists()
    assert vidtoon.restyle(SAMPLE, out, translator=loaded.translator, options=options, resume=True) == out
    assert probe(out).frame_count == 48
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_restyle_by_a_styles_name_is_the_command_line_as_a_call(tmp_path):
    film = tmp_path / "film.mp4"
    film.write_bytes(SAMPLE.read_bytes())
    # lossless (x264's threaded lookahead makes two lossy encodes of the same frames differ): the frames as made
    lossless = EncodeOptions(crf=0, pix_fmt="yuv444p")
    out = vidtoon.restyle(film, to="toon", options=RestyleOptions(height=136, end=Fraction(1, 2), encode=lossless))
    assert out == tmp_path / "film.toon.mp4"  # the command line's default name
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidtoon",
            "restyle",
            film,
            "--to",
            "toon",
            "--height",
            "136",
            "--end",
            "0.5",
            "--crf",
            "0",
            "--pix-fmt",
            "yuv444p",
            "-o",
            tmp_path / "cli.mp4",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    called, typed = list(read_frames(out)), list(read_frames(tmp_path / "cli.mp4"))
    assert len(called) == len(typed) == 12 and probe(out).audio
    assert [f.time for f in called] == [f.time for f in typed]
    assert max(int(np.abs(a.rgb.astype(int) - b.rgb.astype(int)).max()) for a, b in zip(called, typed, strict=True)) <= 1


def test_restyle_by_name_refuses_before_loading_and_fills_the_styles_defaults(tmp_path, tiny_checkpoint):
    from vidtoon.restyle.pipeline import with_style_defaults

    out = tmp_path / "out.mp4"
    with pytest.raises(vidtoon.UsageError, match="restyle needs a style: to=STYLE, model=FILE or like=IMAGE"):
        vidtoon.restyle(SAMPLE, out)
    with pytest.raises(vidtoon.UsageError, match="unknown style 'nope'"):
        vidtoon.restyle(SAMPLE, out, to="nope")
    with pytest.raises(vidtoon.UsageError, match="give exactly one of --to STYLE, --model FILE or --like IMAGE"):
        vidtoon.restyle(SAMPLE, out, to="toon", model=tiny_checkpoint)
    translator = load_translator(style="toon", device="cpu", twin=True).translator
    with pytest.raises(vidtoon.UsageError, match=r"not both \(translator and to\)"):
        vidtoon.restyle(SAMPLE, out, to="toon", translator=translator)
    with pytest.raises(vidtoon.InputError, match="file not found"):
        vidtoon.restyle(tmp_path / "missing.mp4", out, to="nope")  # the source first, as the command line
    out.write_bytes(b"older")
    with pytest.raises(vidtoon.OutputError, match="output already exists"):
        vidtoon.restyle(SAMPLE, out, model=tiny_checkpoint)
    assert out.read_bytes() == b"older"
    # a field left out takes the card's (pixar: height 360); one given wins, even at the built-in value
    assert with_style_defaults({"height": 360}, RestyleOptions(end=1)).height == 360
    assert with_style_defaults({"height": 360}, RestyleOptions(height=136)).height == 136
    assert with_style_defaults({"faces": True}, None).faces is True
    assert with_style_defaults({"faces": True}, RestyleOptions(end=1)).faces is True
    assert with_style_defaults({"faces": True}, RestyleOptions(faces=False)).faces is False
    assert with_style_defaults({"strength": 0.5}, RestyleOptions(strength=DEFAULT_STRENGTH)).strength == DEFAULT_STRENGTH
    assert with_style_defaults({"consistency": "none"}, RestyleOptions(consistency="flow")).consistency == "flow"


def test_restyle_options_without_a_card_hold_the_built_in_values():
    options = RestyleOptions()  # for a loaded translator=: no card, every field its built-in value
    assert {key: getattr(options, key) for key in STYLE_DEFAULT_KEYS} == BUILT_IN_DEFAULTS
    assert options.left_to_style == set(STYLE_DEFAULT_KEYS)
    assert RestyleOptions(faces=False, height=96).left_to_style == set(STYLE_DEFAULT_KEYS) - {"faces", "height"}
    assert RestyleOptions(faces=False) == RestyleOptions()  # what was left out is not part of the options' value


def test_a_named_styles_height_is_the_callers_or_else_the_cards(media, tmp_path):
    """toon with height= works at that height; pixar without one at its card's 360 (its model's), as on the command
    line, not at the photo's own 512: each equals the same style loaded and run at that height."""
    photo = media / "face_astronaut.png"

    def pixels(name, options, **style):  # by name (to=STYLE), or loaded (translator=) with twin=...
        if "to" in style:
            return read_image(vidtoon.restyle(photo, tmp_path / name, to=style["to"], options=options))
        translator = load_translator(device="cpu", **style).translator
        return read_image(vidtoon.restyle(photo, tmp_path / name, translator=translator, options=options))

    def apart(a, b):  # the largest difference, in grey levels
        return int(np.abs(a.astype(int) - b.astype(int)).max())

    toon_96 = pixels("toon.png", RestyleOptions(device="cpu", height=96), to="toon")
    assert apart(toon_96, pixels("toon-96.png", RestyleOptions(height=96), style="toon", twin=True)) == 0
    assert apart(toon_96, pixels("toon-full.png", RestyleOptions(), style="toon", twin=True)) > 50
    pixar = pixels("pixar.png", RestyleOptions(device="cpu"), to="pixar")
    assert apart(pixar, pixels("pixar-360.png", RestyleOptions(height=360), style="pixar")) == 0
    assert apart(pixar, pixels("pixar-full.png", RestyleOptions(), style="pixar")) > 50


class _CtrlCAt:
    """Progress that sends this process a real SIGINT at frame `at` (Python's own handler: KeyboardInterrupt)."""

    def __init__(self, at: int):
        self.at, self.done = at, 0

    def start(self, total, description):
        pass

    def advance(self, steps=1):
        self.done += steps
        if self.done >= self.at:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here


def test_a_second_restyle_in_the_same_process_is_stopped_by_ctrl_c_as_the_first_would_be(tmp_path):
    loaded = load_translator(style="toon", device="cpu", twin=True)
    options = RestyleOptions(end=Fraction(2), segment_seconds=1, encode=FAST)
    before = signal.getsignal(signal.SIGINT)
    first = vidtoon.restyle(SAMPLE, tmp_path / "first.mp4", translator=loaded.translator, options=options)
    assert probe(first).frame_count == 48 and signal.getsignal(signal.SIGINT) is before
    with pytest.raises(vidtoon.Interrupted, match="1 finished segment"):
        vidtoon.restyle(SAMPLE, tmp_path / "second.mp4", translator=loaded.translator, options=options, progress=_CtrlCAt(30))
    assert not (tmp_path / "second.mp4").exists() and signal.getsignal(signal.SIGINT) is before
