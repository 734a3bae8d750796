"""Shared fixtures: real clips from $VIDTOON_TEST_MEDIA and small clips made here with PyAV."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "clips" / "sample.mp4"
VIDTOON = [sys.executable, "-m", "vidtoon"]  # the command line, as a user runs it

# The signals as a terminal gives them, whoever started the suite: a script's background job (`cmd &`: SIGINT ignored)
# or `nohup` (SIGHUP ignored) hands an ignored signal on to every child, and vidtoon keeps SIGHUP ignored where it finds
# it so (its `nohup` support) — the tests of Ctrl-C and of a closing terminal would then test nothing.
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGHUP, signal.SIG_DFL)


def run_vidtoon(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """`vidtoon ARGS` in a child process, as a user runs it (one torch thread, as in the test process: two xdist
    workers share two cores; `env` adds to the environment): its exit code, stdout and stderr."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([*VIDTOON, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120, env=env)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """A refusal as the house rule has it: exit 1, one `error:` line on stderr holding each fragment, no traceback."""
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def _folder_from_env(variable: str, skip_reason: str) -> Path:
    """The folder named by environment `variable`; skip the test when unset, fail when not a folder."""
    value = os.environ.get(variable)
    if not value:
        pytest.skip(skip_reason)
    folder = Path(value)
    if not folder.is_dir():
        pytest.fail(f"{variable}={value} is not a folder")
    return folder


@pytest.fixture(scope="session")
def media() -> Path:
    """The folder of real test clips ($VIDTOON_TEST_MEDIA); tests using it skip when unset."""
    return _folder_from_env(
        "VIDTOON_TEST_MEDIA", "VIDTOON_TEST_MEDIA is not set: point it at a folder of test clips (CI uses ../shared/clips)"
    )


def make_clip(
    path: Path,
    frames: list[np.ndarray] | int = 24,
    *,
    fps: Fraction = Fraction(24),
    size: tuple[int, int] = (64, 48),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    times: list[Fraction] | None = None,
    audio_seconds: float | None = None,
    click_at: float | None = None,
    rotation: int | None = None,
    keyint: int | None = None,
    audio_layout: str = "stereo",
) -> Path:
    """Write a small real video: solid frames whose colour encodes their index (or the given frames),
    optional audio (a quiet tone in every channel of `audio_layout`, with a loud click at `click_at` seconds),
    optional display rotation, a keyframe every `keyint` frames (x264; default: its own choice)."""
    if isinstance(frames, int):
        frames = [index_colour_frame(i, size) for i in range(frames)]
    time_base = Fraction(1, 90000) if times else 1 / fps
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = pix_fmt
        video.time_base = time_base
        video.codec_context.time_base = time_base
        if codec == "libx264":
            video.options = {
                "crf": "1",
                "preset": "ultrafast",
                **({"g": str(keyint), "keyint_min": str(keyint)} if keyint else {}),
            }
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = out.add_stream("aac", rate=48000, layout=audio_layout) if audio_seconds else None
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
            frame.pts = round((times[i] if times else i / fps) / time_base)
            frame.time_base = time_base
            for packet in video.encode(frame):
                out.mux(packet)
        if audio is not None:
            total = int(48000 * audio_seconds)
            wave = 0.05 * np.sin(2 * np.pi * 440 * np.arange(total) / 48000)
            if click_at is not None:
                start = int(48000 * click_at)
                wave[start : start + 480] = 0.9
            for offset in range(0, total, 1024):
                chunk = np.stack([wave[offset : offset + 1024]] * audio.layout.nb_channels).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=audio_layout)
                frame.sample_rate, frame.pts, frame.time_base = 48000, offset, Fraction(1, 48000)
                for packet in audio.encode(frame):
                    out.mux(packet)
        for stream in (video, audio):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)
    return path


def make_alpha_clip(path: Path, codec: str, pix_fmt: str, frames: int = 6, size: tuple[int, int] = (64, 48)) -> Path:
    """Write a small video with transparency (qtrle/argb or png/rgba in .mov, libvpx-vp9/yuva420p in .webm, ...) at
    24 fps: each frame `index_colour_frame`'s colour, its left half opaque and its right half clear."""
    width, height = size
    with av.open(str(path), "w") as out:
        video = out.add_stream(codec, rate=24)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        for i in range(frames):
            rgba = np.dstack([index_colour_frame(i, size), np.zeros((height, width), np.uint8)])
            rgba[:, : width // 2, 3] = 255
            for packet in video.encode(av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format=pix_fmt)):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path


def make_audio_only(path: Path, samples: int = 4096) -> Path:
    """A real audio-only file (silent stereo AAC, e.g. song.m4a): a "video" without a video stream."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.zeros((2, samples), np.float32), format="fltp", layout="stereo")
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


def png_clip_with_broken_frame(path: Path, broken: int, *, seed: int = 0, frames: int = 10) -> Path:
    """A real PNG-in-MOV clip of random frames whose frame `broken` has a damaged PNG header."""
    rng = np.random.default_rng(seed)
    make_clip(path, [rng.integers(0, 255, (48, 64, 3), np.uint8) for _ in range(frames)], codec="png", pix_fmt="rgb24")
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data)) if data[i : i + 4] == b"\x89PNG"]
    data[starts[broken] + 8 : starts[broken] + 48] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path


def index_colour(i: int) -> tuple[int, int, int]:
    """A colour that tells frame i apart from its neighbours after lossy coding."""
    return (40 + (i * 37) % 180, 200 - (i * 23) % 160, 60 + (i * 53) % 150)


def index_colour_frame(i: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    width, height = size
    return np.full((height, width, 3), index_colour(i), np.uint8)


def nearest_index(rgb: np.ndarray, count: int) -> int:
    """Which index_colour the mean colour of `rgb` is closest to."""
    mean = rgb.reshape(-1, 3).mean(axis=0)
    return int(np.argmin([np.abs(mean - np.array(index_colour(i))).sum() for i in range(count)]))


def stream_span(path: Path, kind: str = "audio", index: int = 0) -> tuple[float, float, int]:
    """(first timestamp, end timestamp, packet count) of a stream, in seconds, from its packets."""
    with av.open(str(path)) as container:
        stream = [s for s in container.streams if s.type == kind][index]
        first, end, count = None, None, 0
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            start = float(packet.pts * stream.time_base)
            stop = float((packet.pts + (packet.duration or 0)) * stream.time_base)
            first = start if first is None else min(first, start)
            end = stop if end is None else max(end, stop)
            count += 1
    return first, end, count


def loudest_time(path: Path) -> float:
    """Time (s) of the loudest audio sample: where the click is."""
    with av.open(str(path)) as container:
        best, best_time = -1.0, 0.0
        for frame in container.decode(audio=0):
            samples = np.abs(frame.to_ndarray()).max(axis=0)
            k = int(samples.argmax())
            if samples[k] > best:
                best, best_time = float(samples[k]), float(frame.time) + k / frame.sample_rate
    return best_time


def video_times(path: Path) -> list[Fraction]:
    """Display times of every frame, from the container's timestamps."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(Fraction(f.pts) * stream.time_base for f in container.decode(stream))


def no_leftovers(folder: Path) -> list[str]:
    """Names of partial/temporary files vidtoon may have left in `folder` (not the list of a frame folder's images,
    `io.images.FRAMES_MARKER`, which it keeps there on purpose)."""
    kept = (".vidtoon-frames.json",)
    return [p.name for p in folder.iterdir() if ".partial" in p.name or (p.name.startswith(".vidtoon") and p.name not in kept)]


@pytest.fixture(scope="session")
def peers() -> Path:
    """The folder of peer ONNX models ($VIDTOON_PEERS), for tests and benchmarks only; tests using it skip when unset."""
    return _folder_from_env(
        "VIDTOON_PEERS", "VIDTOON_PEERS is not set: point it at the peer ONNX models (CI sets it to ../shared/peers)"
    )


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests run in two xdist workers on two cores: one torch thread each, or they thrash."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def data() -> Path:
    """The folder of shared images and ground-truth flow ($VIDTOON_TEST_DATA); tests using it skip when unset."""
    return _folder_from_env(
        "VIDTOON_TEST_DATA", "VIDTOON_TEST_DATA is not set: point it at the shared data folder (CI uses ../shared/data)"
    )


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny seeded CycleGAN ResNet generator saved as a vidtoon checkpoint (random weights: tests of the plumbing)."""
    import torch

    from vidtoon.models import ModelCard, build_model, get_family, save_checkpoint

    family = get_family("cyclegan_resnet")
    torch.manual_seed(0)
    model = build_model("cyclegan_resnet", **family.tiny)
    path = tmp_path_factory.mktemp("models") / "tiny.safetensors"
    save_checkpoint(
        model, path, ModelCard(family="cyclegan_resnet", kwargs=family.tiny, size_multiple=family.size_multiple, name="tiny")
    )
    return path


@pytest.fixture(scope="session")
def photo(media):
    """The astronaut portrait (512×512) from $VIDTOON_TEST_MEDIA as a 1×3×H×W float tensor in [-1, 1] (filter tests)."""
    import cv2
    import torch

    rgb = cv2.cvtColor(cv2.imread(str(media / "face_astronaut.png")), cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
