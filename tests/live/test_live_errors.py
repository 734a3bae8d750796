"""`vidtoon live` refusals and stops: one line each, nothing half-written; Ctrl-C / SIGTERM close the output properly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import SAMPLE, video_times
from typer.testing import CliRunner

from vidtoon.cli import app

runner = CliRunner()


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refusal(args: list[str]) -> str:
    result = runner.invoke(app, ["live", *args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert len(lines) == 1, result.output
    return lines[0]


def test_an_input_that_never_starts_times_out_in_one_line(tmp_path):
    port = free_port(socket.SOCK_DGRAM)
    started = time.monotonic()
    line = refusal([f"udp://127.0.0.1:{port}", str(tmp_path / "out.ts"), "--to", "sketch", "--open-timeout", "1"])
    assert "nothing arrived within 1 s" in line and f"udp://127.0.0.1:{port}" in line
    assert time.monotonic() - started < 20
    assert not list(tmp_path.iterdir()), "nothing written"


def test_ctrl_c_while_waiting_for_the_input_stops_at_once(tmp_path):
    """FFmpeg waits for a stream's first data in C: the wait must still end on Ctrl-C, not at --open-timeout."""
    port = free_port(socket.SOCK_DGRAM)
    output = tmp_path / "out.ts"
    run = subprocess.Popen(
        [sys.executable, "-m", "vidtoon", "live", f"udp://127.0.0.1:{port}", str(output), "--to", "sketch"]
        + ["--open-timeout", "120"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and run.poll() is None:  # until the run listens on the port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                break
        time.sleep(0.2)
    time.sleep(0.5)
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    code = run.wait(timeout=60)
    stderr = run.stderr.read()
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 130 and time.monotonic() - sent < 5, (code, stderr)
    assert len(lines) == 1 and lines[0].startswith("interrupted") and "Traceback" not in stderr, stderr
    assert not list(tmp_path.iterdir()), "nothing written"


def test_a_preview_port_in_use_is_refused_before_anything_opens(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = refusal([str(SAMPLE), str(tmp_path / "out.ts"), "--to", "sketch", "--preview", "--port", str(port)])
    assert f"preview port {port} on 127.0.0.1 is in use" in line and "--port" in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["{w}/missing.mp4", "{w}/out.ts", "--to", "sketch"], "does not exist"),
        (["{sample}", "{w}/out.avi", "--to", "sketch"], "cannot record to a .avi file"),
        (["{sample}", "ftp://example.com/x", "--to", "sketch"], "cannot send to ftp://"),
        (["{sample}", "{w}/out.ts", "--to", "pixr"], "unknown style"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--mix", "2"], "--mix"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--port", "70000"], "--port"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--height", "7"], "--height must be a whole number between 16 and 16384"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--preset", "superfastest"], "--preset 'superfastest': unknown preset"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--crf", "60"], "--crf 60: x264 (the live output) takes 0-51"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--turn", "2d"], "--turn is for --animate"),
        (["{sample}", "{w}/out.ts", "--animate", "{sample}", "--turn", "3d"], "unknown head turn '3d' for --turn"),
        (["{sample}", "{sample}", "--to", "sketch", "--force"], "input"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--report", "{w}/missing/run.json"], "--report's folder"),
        (["{sample}", "{w}/out.ts", "--to", "sketch", "--report", "{w}"], "--report must name a .json file"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path, args, fragment):
    filled = [a.format(w=tmp_path, sample=SAMPLE) for a in args]
    assert fragment in refusal(filled)
    assert not [p for p in tmp_path.iterdir() if p.name != "out.ts"] and not (tmp_path / "out.ts").exists()


@pytest.mark.parametrize("scheme", ["tcp", "rtmp"])
def test_a_stream_output_nobody_receives_is_one_line_with_what_to_check(scheme):
    """Sending to a tcp:// or rtmp:// receiver that is not running: one error line that says so (not first a warning
    that a sound packet was refused), exit 1."""
    port = free_port(socket.SOCK_STREAM)
    url = f"{scheme}://127.0.0.1:{port}" + ("/live/x" if scheme == "rtmp" else "")
    result = runner.invoke(app, ["live", str(SAMPLE), url, "--to", "sketch", "--height", "90", "--max-frames", "10"])
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("live: restyling")]
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert lines == [
        f"error: {url}: cannot be opened for writing (Connection refused) — check the receiver is running and listening at that address"
    ], lines


def test_a_protocol_this_ffmpeg_lacks_is_named_as_such(tmp_path):
    """PyAV's own FFmpeg often has no SRT: say that, not "check the sender is running"."""
    port = free_port(socket.SOCK_DGRAM)
    result = runner.invoke(
        app, ["live", f"srt://127.0.0.1:{port}", str(tmp_path / "o.ts"), "--to", "sketch", "--open-timeout", "1"]
    )
    if "built without it" not in result.output:
        pytest.skip("this FFmpeg reads srt://")
    line = refusal([f"srt://127.0.0.1:{port}", str(tmp_path / "o.ts"), "--to", "sketch", "--open-timeout", "1"])
    assert (
        line
        == f"error: srt://127.0.0.1:{port}: this FFmpeg cannot read that protocol (built without it) — use udp://, tcp://, rtmp:// or rtsp://"
    )
    assert not list(tmp_path.iterdir())


def test_an_existing_recording_is_not_overwritten_without_force(tmp_path):
    (tmp_path / "out.ts").write_bytes(b"keep")
    assert "exists" in refusal([str(SAMPLE), str(tmp_path / "out.ts"), "--to", "sketch"])
    assert (tmp_path / "out.ts").read_bytes() == b"keep"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_the_run_and_closes_the_recording(tmp_path, signum):
    """A live run is stopped this way: the file is finished (every frame decodes), the summary says so, exit 0."""
    output = tmp_path / "out.mkv"
    run = subprocess.Popen(
        [sys.executable, "-m", "vidtoon", "live", str(SAMPLE), str(output), "--to", "sketch", "--realtime", "--height", "90"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 120
    for line in run.stderr:  # wait until it restyles
        if "Ctrl-C stops" in line or time.monotonic() > deadline:
            break
    time.sleep(1.5)
    run.send_signal(signum)
    rest = run.stderr.read()
    assert run.wait(timeout=60) == 0, rest
    assert "stopped by signal" in rest and "Traceback" not in rest
    frames = video_times(output)
    assert 10 <= len(frames) < 4 * 24, "about 1.5 s of a 4 s clip"
    assert not [p.name for p in tmp_path.iterdir() if p.name != output.name], "no temporary file left"


def test_an_input_that_ends_finishes_the_recording(tmp_path):
    output = tmp_path / "out.ts"
    result = runner.invoke(app, ["live", str(SAMPLE), str(output), "--to", "sketch", "--height", "90", "--max-frames", "30"])
    assert result.exit_code == 0, result.output
    assert "stopped by max frames" in result.output
    assert len(video_times(output)) == 30


def test_a_file_read_faster_than_the_style_runs_points_to_realtime(tmp_path):
    output = tmp_path / "out.ts"
    result = runner.invoke(app, ["live", str(SAMPLE), str(output), "--to", "paint"])  # paint: far slower than decoding
    assert result.exit_code == 0, result.output
    assert "most of its frames were dropped: --realtime plays it at its own rate" in " ".join(result.output.split())
    assert len(video_times(output)) == 96  # the recording still has every frame's time (the last picture repeated)


def test_a_virtual_camera_without_a_loopback_device_is_one_line(tmp_path):
    """pyvirtualcam is real here, the v4l2loopback kernel module is not: the refusal names the fix."""
    pytest.importorskip("pyvirtualcam")
    line = refusal([str(SAMPLE), "virtualcam:/dev/video63", "--to", "sketch", "--max-frames", "5"])
    assert "virtualcam:/dev/video63: no virtual camera to send to" in line and "modprobe v4l2loopback" in line


def test_a_virtual_camera_without_pyvirtualcam_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import pyvirtualcam -> ImportError
    line = refusal([str(SAMPLE), "virtualcam", "--to", "sketch"])
    assert "needs pyvirtualcam" in line and "vidtoon[virtualcam]" in line


def test_the_turn_switch_reaches_the_animator(media, monkeypatch):
    """`vidtoon live IN --animate FACE --turn none` builds the animator with that head turn (as `vidtoon animate`)."""
    import types

    import vidtoon.animate.pipeline
    from vidtoon.live import live

    calls = []  # (`vidtoon.live` the attribute is the function; the module is in sys.modules)
    monkeypatch.setattr(
        sys.modules["vidtoon.live"],
        "live",
        lambda *args, **kwargs: (
            calls.append(kwargs)
            or types.SimpleNamespace(
                output=None, restyled=0, fps=0, dropped=0, frames_in=0, repeated=0, latency_median_ms=None, stopped_by="end"
            )
        ),
    )
    result = runner.invoke(app, ["live", str(SAMPLE), "--animate", str(media / "face_monalisa.jpg"), "--turn", "none"])
    assert result.exit_code == 0, result.output
    assert calls[0]["turn"] == "none" and str(calls[0]["animate"]).endswith("face_monalisa.jpg")

    class Built(Exception):
        pass

    def make_animator(*args, **kwargs):
        raise Built(kwargs["turn"])

    monkeypatch.setattr(vidtoon.animate.pipeline, "make_animator", make_animator)
    with pytest.raises(Built, match="^2d$"):
        live(str(SAMPLE), None, animate=media / "face_monalisa.jpg", turn="2d")


@pytest.mark.parametrize("keyword", ["to", "style"])
def test_the_style_is_to_as_the_flag_says_and_style_still_works(tmp_path, keyword):
    """`live(to=...)` as `--to`; `style=`, its older name, does the same: sketch's grey picture is what is recorded."""
    from vidtoon.io import read_frames
    from vidtoon.live import LiveOptions, live

    output = tmp_path / "out.ts"
    settings = {"height": 90, "consistency": "none"}
    report = live(str(SAMPLE), str(output), **{keyword: "sketch"}, settings=settings, live_options=LiveOptions(max_frames=3))

    def colour(frames):  # mean |R − G| of the most colourful frame
        return max(np.abs(f.rgb[..., 0].astype(int) - f.rgb[..., 1]).mean() for f in frames)

    recorded = list(read_frames(output))
    assert len(recorded) == report.written >= 3
    assert colour(recorded) < 0.3 * colour(list(read_frames(SAMPLE, end=0.25))), "grey: sketch, not the source's colours"


def test_to_and_style_both_given_and_different_are_refused(tmp_path):
    from vidtoon.errors import UsageError
    from vidtoon.live import live

    with pytest.raises(UsageError, match=r"to='sketch' and style='toon' are one setting; give to= only"):
        live(str(SAMPLE), str(tmp_path / "out.ts"), to="sketch", style="toon")
    assert list(tmp_path.iterdir()) == []
