"""Where a live frame's time goes, and the parts of the loop that cut it: the stage breakdown, repeats that re-encode
the last frame, the flow stage at a lower resolution, the one-pass conversion, the stale-frame skip."""

from __future__ import annotations

import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import index_colour_frame, video_times

from vidtoon.errors import EncodeError
from vidtoon.live import LiveOptions
from vidtoon.live.input import LiveFrame
from vidtoon.live.mailbox import Mailbox
from vidtoon.live.output import LiveWriter
from vidtoon.live.pipeline import _run_model, restyle_stages
from vidtoon.live.timing import STAGES, FrameTimes, stage_breakdown
from vidtoon.restyle import RestyleOptions, make_restyler
from vidtoon.styles import load_translator


def stamped(start: float, steps_ms: list[float]) -> FrameTimes:
    """FrameTimes whose successive stamps are `steps_ms` apart (one step per stage)."""
    times = FrameTimes(arrival=start, ready=start)
    at = start
    for (_, _, end), step in zip(STAGES, steps_ms):
        at += step / 1000
        setattr(times, end, at)
    return times


def test_the_stage_breakdown_adds_up_to_the_latency():
    steps = [[1, 2, 60, 0, 20, 1, 0, 5], [3, 20, 80, 10, 30, 1, 4, 7], [2, 10, 70, 5, 25, 1, 2, 6]]
    rows = {row.name: row for row in stage_breakdown([stamped(100.0 + i, s) for i, s in enumerate(steps)])}
    assert list(rows) == [name for name, _, _ in STAGES] + ["total"]
    assert rows["model"].median_ms == 70 and rows["model"].p99_ms == 80 and rows["model"].mean_ms == 70
    assert rows["total"].median_ms == 121 and rows["total"].p99_ms == 155  # 89, 121, 155 ms
    assert sum(row.mean_ms for name, row in rows.items() if name != "total") == pytest.approx(rows["total"].mean_ms, abs=0.2)
    assert stage_breakdown([FrameTimes(1.0, 1.0)]) == [], "a frame not yet sent is left out"


def test_a_repeat_sends_the_last_frame_again_at_its_time(tmp_path):
    output = tmp_path / "out.ts"
    writer = LiveWriter(str(output), fps=Fraction(25), options=LiveOptions())
    with pytest.raises(EncodeError, match="nothing to repeat"):
        writer.repeat(Fraction(0))
    first, second = index_colour_frame(3, (64, 48)), index_colour_frame(9, (64, 48))
    writer.write(first, Fraction(0))
    writer.repeat(Fraction(1, 25))
    writer.repeat(Fraction(2, 25))
    writer.write(second, Fraction(3, 25))
    writer.close()
    times = video_times(output)
    assert [t - times[0] for t in times] == [Fraction(i, 25) for i in range(4)]
    with av.open(str(output)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert np.abs(frames[1] - frames[0]).max() <= 2 and np.abs(frames[2] - frames[0]).max() <= 2, "the same picture again"
    assert np.abs(frames[0] - first).mean() < 3 and np.abs(frames[3] - second).mean() < 3


@pytest.fixture(scope="module")
def chaplin(media):
    with av.open(str(media / "chaplin.mp4")) as container:
        return [f.to_ndarray(format="rgb24") for _, f in zip(range(6), container.decode(video=0))]


def test_the_live_flow_stage_runs_at_its_own_size_and_leaves_a_still_scene_as_translated(chaplin):
    toon = load_translator(style="toon").translator
    options = RestyleOptions(consistency="flow", flow_size=320)
    stages = restyle_stages(toon, options)
    assert make_restyler(toon, options).temporal.flow_max_side == 320
    frame = chaplin[0]
    outputs = [stages.finish(stages.model(frame, Fraction(i, 25))) for i in range(3)]  # a still: the same frame 3 times
    alone = make_restyler(toon, RestyleOptions(consistency="none"))([frame])[0]
    assert outputs[2].shape == frame.shape == (360, 640, 3)
    assert np.abs(outputs[2].astype(int) - alone.astype(int)).max() <= 1, "nothing moved: the translation itself"


def test_the_live_finish_gives_the_restylers_own_values(chaplin):
    """The live finish (the temporal stage at 640 px, then `FrameRestyler.blend`): the restyler's own pixels."""
    toon = load_translator(style="toon").translator
    options = RestyleOptions(consistency="flow")
    stages, restyler = restyle_stages(toon, options), make_restyler(toon, options)
    restyler.reset()
    for frame in chaplin[:4]:
        live_out = stages.finish(stages.model(frame, Fraction(0)))
        expected = restyler.blend(restyler.translate([frame]))[0]
    assert np.array_equal(live_out, expected)


class Input:
    """What the model thread reads from a `LiveInput`: its newest-frame mailbox."""

    def __init__(self):
        self.frames = Mailbox()


def frame_at(index: int, arrival: float) -> LiveFrame:
    rgb = np.zeros((8, 8, 3), np.uint8)
    return LiveFrame(index, Fraction(index, 25), arrival, rgb, FrameTimes(arrival, arrival))


def run_model(live_input: Input, stale_age: float | None) -> tuple[list[int], dict, threading.Thread, Mailbox]:
    seen: list[int] = []  # the frames the model got (its work: noting which)
    current = {"stages": _Stages(lambda rgb, at: seen.append(round(at * 25))), "stale": 0, "taken": []}
    modelled = Mailbox()
    thread = threading.Thread(target=_run_model, args=(live_input, current, modelled, stale_age, 0.04), daemon=True)
    thread.start()
    return seen, current, thread, modelled


class _Stages:
    def __init__(self, model):
        self.model = model


def test_a_stale_frame_is_skipped_for_the_next_one_due_within_the_interval():
    live_input = Input()
    live_input.frames.put(frame_at(0, time.monotonic() - 0.03))  # 30 ms old: more than half of a 40 ms interval
    seen, current, thread, _ = run_model(live_input, stale_age=0.02)
    time.sleep(0.005)
    live_input.frames.put(frame_at(1, time.monotonic()))
    time.sleep(0.1)
    live_input.frames.close()
    thread.join(timeout=5)
    assert seen == [1] and current["stale"] == 1
    assert current["taken"] == [Fraction(1, 25)]


def test_a_stale_frame_is_still_restyled_when_the_input_ends_or_without_the_policy():
    for stale_age in (0.02, None):
        live_input = Input()
        live_input.frames.put(frame_at(0, time.monotonic() - 0.03))
        live_input.frames.close()  # the input ended: frame 0 is its last
        seen, current, thread, _ = run_model(live_input, stale_age=stale_age)
        thread.join(timeout=5)
        assert seen == [0] and current["stale"] == 0


class RecordingCamera:
    """A pyvirtualcam backend (its documented plug-in interface) that keeps what it was opened with and sent."""

    opened: list[RecordingCamera] = []

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device, **kw):
        self.width, self.height, self.frames, self.closed = width, height, [], False
        RecordingCamera.opened.append(self)

    def send(self, frame: np.ndarray) -> None:
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return "recording"

    def native_fourcc(self):
        return None


def test_a_virtual_camera_takes_the_displayed_size_of_a_rotated_input(tmp_path):
    """A clip coded 64×48 with a 90° display rotation shows 48×64: the camera sends 48×64 frames, upright."""
    pyvirtualcam = pytest.importorskip("pyvirtualcam")
    from conftest import make_clip

    from vidtoon.io import read_frames
    from vidtoon.live import live

    clip = make_clip(tmp_path / "turned.mp4", 6, size=(64, 48), rotation=90)
    upright = next(iter(read_frames(clip))).rgb
    assert upright.shape == (64, 48, 3)
    pyvirtualcam.register_backend("vidtoon-recording", RecordingCamera)
    RecordingCamera.opened.clear()
    try:
        report = live(
            str(clip), "virtualcam", style="sketch", settings={"consistency": "none"}, live_options=LiveOptions(max_frames=3)
        )
    finally:
        pyvirtualcam.camera.BACKENDS.pop("vidtoon-recording", None)
    first, camera = RecordingCamera.opened[0], RecordingCamera.opened[-1]
    assert (first.width, first.height, first.closed) == (64, 48, True), "opened at the coded size, then closed"
    assert (camera.width, camera.height) == (48, 64) and len(camera.frames) == report.written >= 3
    sketch = make_restyler(load_translator(style="sketch").translator, RestyleOptions(consistency="none"))
    assert np.abs(camera.frames[0].astype(int) - sketch([upright])[0].astype(int)).mean() < 1, "the upright frame, restyled"
