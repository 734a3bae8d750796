"""`vidtoon live` on inputs whose size is awkward: one that changes size mid-stream (a camera switched, an OBS scene
change) and one of odd size (padded for yuv420p, said once)."""

from __future__ import annotations

import logging
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from conftest import make_clip, video_times

from vidtoon.live import LiveOptions, live
from vidtoon.restyle import RestyleOptions, make_restyler
from vidtoon.styles import load_translator

# (width, height, grey level, frames at 25 fps): 16:9, the same shape twice as big, then 4:3
SEGMENTS = [(160, 90, 100, 25), (320, 180, 140, 15), (120, 90, 180, 20)]


def resizing_stream(folder: Path, segments: list[list[np.ndarray]] | None = None) -> Path:
    """One MPEG-TS whose H.264 changes size: the `segments` of frames (default: SEGMENTS' grey frames, two changes),
    coded apart and joined as a sender switching sources would send them (in-band parameter sets, timestamps running
    on)."""
    if segments is None:
        segments = [[np.full((height, width, 3), grey, np.uint8)] * count for width, height, grey, count in SEGMENTS]
    joined, start = folder / "resizing.ts", 0
    with joined.open("wb") as out:
        for i, frames in enumerate(segments):
            times = [Fraction(start + k, 25) for k in range(len(frames))]
            part = make_clip(folder / f"part{i}.ts", frames, fps=Fraction(25), times=times)
            out.write(part.read_bytes())
            start += len(frames)
    return joined


def toon_of(grey: int, width: int, height: int) -> np.ndarray:
    """toon's translation of a plain grey frame, by itself (no past to blend)."""
    restyler = make_restyler(load_translator(style="toon").translator, RestyleOptions(height=90, consistency="none"))
    return restyler([np.full((height, width, 3), grey, np.uint8)])[0].astype(int)


def test_an_input_that_changes_size_keeps_the_output_size_and_is_fitted_keeping_its_shape(tmp_path, caplog):
    source, output = resizing_stream(tmp_path), tmp_path / "out.ts"
    with caplog.at_level(logging.WARNING, logger="vidtoon.live"):
        report = live(
            str(source),
            str(output),
            style="toon",
            settings={"height": 90, "consistency": "flow"},
            live_options=LiveOptions(realtime=True),
        )
    changes = [
        re.fullmatch(r"input changed size from (\S+) to (\S+) at frame (\d+): (.*)", r.getMessage()) for r in caplog.records
    ]
    assert [m.group(1, 2, 4) for m in changes] == [
        ("160x90", "320x180", "fitted into 160x90, keeping its shape"),
        ("320x180", "120x90", "fitted into 160x90, keeping its shape"),
    ]
    assert 25 <= int(changes[0].group(3)) < 40 <= int(changes[1].group(3)) < 60, (
        "the first frame of each size (or, dropped, the next)"
    )
    times = video_times(output)
    with av.open(str(output)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(frames) == report.written == 60 and {f.shape for f in frames} == {(90, 160, 3)}, "one size throughout"
    assert [round((t - times[0]) * 25) for t in times] == list(range(60)), "output frame i shows input frame i (or a repeat)"
    first, second, third = (toon_of(grey, 160, 90)[0, 0, 0] for _, _, grey, _ in SEGMENTS)

    # the same shape twice as big: scaled down whole, no bars; the temporal stage restarted (as at a scene cut), so no
    # frame mixes the two pictures (blended, the first 320x180 frames would lie between the two greys)
    for i in range(25, 40):
        level = frames[i][10:-10, 10:-10].mean()
        assert min(abs(level - first), abs(level - second)) < 4, (i, level, first, second)
    assert abs(frames[39].mean() - second) < 4, "the whole frame: no bars"

    # 4:3 into 16:9: pillarboxed, black bars left and right, the picture 120 wide (its shape kept), centred
    for i in (45, 59):
        frame = frames[i]
        assert frame[:, :16].max() < 20 and frame[:, -16:].max() < 20, "black bars at the sides"
        bright = np.flatnonzero(frame[45, :, 0] > 100)
        assert abs(bright.size - 120) <= 4 and abs(bright[0] - 20) <= 2, bright
        assert abs(frame[10:-10, 26:-26].mean() - third) < 4, "the picture itself, not stretched"


def test_an_animated_face_keeps_its_size_and_starts_its_motion_afresh_when_the_input_changes_size(media, tmp_path, caplog):
    """`live --animate`: the output is the still's size whatever drives it, so the line says the output stays that
    size (it said "fitted into", which never happened). The motion restarts from the new framing: measured against
    the old framing's first frame, the same face at twice the size was taken for a face come twice as close (the
    still's face grown, ~9.6 grey levels from the still); now the first frame of the new size is the still as it is."""
    import cv2

    from vidtoon.animate.pipeline import load_source

    with av.open(str(media / "talking_head_d3.mp4")) as container:  # 512x512
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(40), container.decode(video=0))]
    small = [cv2.resize(f, (256, 256), interpolation=cv2.INTER_AREA) for f in frames[:20]]
    source = resizing_stream(tmp_path, [small, frames[20:]])  # a camera switched to twice the resolution
    face = media / "face_monalisa.jpg"
    still = load_source(face, None).astype(int)
    with caplog.at_level(logging.WARNING, logger="vidtoon.live"):
        report = live(str(source), str(tmp_path / "avatar.mkv"), animate=face, live_options=LiveOptions(realtime=True))
    changes = [
        re.fullmatch(r"input changed size from 256x256 to 512x512 at frame (\d+): the output stays 720x1280", r.getMessage())
        for r in caplog.records
        if r.getMessage().startswith("input changed")
    ]
    assert len(changes) == 1 and changes[0], [r.getMessage() for r in caplog.records]
    with av.open(str(tmp_path / "avatar.mkv")) as container:
        out = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(out) == report.written == 40 and {f.shape for f in out} == {still.shape}
    changed = int(changes[0].group(1))  # output frame i shows input frame i's result (or a repeat before it)
    assert np.abs(out[changed] - still).mean() < 4, "the new framing's first frame: the still, as at the start"


def test_an_odd_size_is_padded_with_one_warning(tmp_path, caplog):
    """As `vidtoon restyle` says it (`warn_padding`), once for the run, not once per frame."""
    clip = make_clip(tmp_path / "odd.mkv", 6, size=(65, 49), pix_fmt="yuv444p")
    output = tmp_path / "out.ts"
    with caplog.at_level(logging.WARNING, logger="vidtoon"):
        report = live(str(clip), str(output), style="sketch", settings={"consistency": "none"})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(f"{output}: 65x49 is odd; padded to 66x50"), lines
    with av.open(str(output)) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (66, 50)
    assert report.written == len(video_times(output)) >= 1
