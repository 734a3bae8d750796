"""`animate --to STYLE` (the avatar: the still restyled, then animated) and `--report` (fidelity measured on the output)."""

import json
from fractions import Fraction

import cv2
import numpy as np
import pytest
from conftest import make_clip

from vidtoon.animate.avatar import restyle_still
from vidtoon.animate.inputs import load_source
from vidtoon.animate.landmarks import track_landmarks
from vidtoon.animate.pipeline import animate
from vidtoon.animate.quality import SIGNALS
from vidtoon.animate.report import check_report_path, fidelity
from vidtoon.errors import UsageError
from vidtoon.io import EncodeOptions, VideoReader

FAST = EncodeOptions(preset="ultrafast", crf=12)
DRIVER = "talking_head_d3.mp4"


@pytest.fixture(scope="module")
def short_driver(media, tmp_path_factory):
    """d3's frames 24–53 (looks aside, then starts to blink) at 320², 30 fps, with sound."""
    frames = []
    with VideoReader(media / DRIVER) as reader:
        for frame in reader:
            if frame.index >= 54:
                break
            if frame.index >= 24:
                frames.append(cv2.resize(frame.rgb, (320, 320), interpolation=cv2.INTER_AREA))
    path = tmp_path_factory.mktemp("driver") / "d3_short.mp4"
    return make_clip(path, frames, fps=Fraction(30), audio_seconds=1.0)


def test_to_style_animates_the_restyled_face_and_reports(media, short_driver, tmp_path):
    source = media / "face_astronaut.png"
    out = animate(source, short_driver, tmp_path / "toon.mp4", size=384, to="toon", report=tmp_path / "r.json", options=FAST)
    still = load_source(source, 384)
    toon = restyle_still(still, style="toon", device="cpu")
    with VideoReader(out) as reader:
        first = next(iter(reader)).rgb.astype(np.float32)
    # measured: the first output frame is the toon still up to coding noise (~2 grey levels); the photo is ~10 away
    assert np.abs(first - toon).mean() < 4.0
    assert np.abs(first - still).mean() > 2.5 * np.abs(first - toon).mean()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["frames"] == 30 and report["fps"] > 0 and report["output_faces_lost"] == 0
    assert set(report["signals"]) == set(SIGNALS)
    assert all(set(v) == {"range_ratio", "correlation"} for v in report["signals"].values())
    assert report["signals"]["yaw"]["correlation"] > 0.8  # the toon face still turns with the driver
    assert set(report["head_3d"]) == {"yaw", "pitch", "roll"}
    assert 0 <= report["identity_drift"] < 0.1


def test_to_is_the_style_and_style_its_older_name(media, short_driver, tmp_path):
    # `--to` is `to=`, as restyle and live take it; `style=` still works, and both at odds is one line before any work
    with pytest.raises(UsageError, match="give to= only"):
        animate(media / "face_astronaut.png", short_driver, tmp_path / "a.mp4", to="toon", style="sketch")
    assert not (tmp_path / "a.mp4").exists()


def test_the_anime_avatar_restyles_the_face_only(media):
    # anime's card turns --faces on: the astronaut's face is restyled (lighter, inked), the background and the suit are
    # the photo's own, bit for bit outside the pasted disc
    still = load_source(media / "face_astronaut.png", 384)
    anime = restyle_still(still, style="anime", device="cpu")
    assert anime.shape == still.shape and anime is not still
    face, corner = (slice(55, 120), slice(135, 205)), (slice(0, 40), slice(0, 40))  # the face (x 132-206, y 49-123)
    assert np.abs(anime[face].astype(np.int16) - still[face]).mean() > 8
    assert np.array_equal(anime[corner], still[corner])


def test_report_known_answers(media, short_driver):
    with VideoReader(short_driver) as reader:
        track = track_landmarks((f.rgb for f in reader), refine=True, depth=True)
    source = load_source(media / "face_astronaut.png", 384)
    same = fidelity(source, track, track)
    for name in SIGNALS:  # an output that moves exactly as the driver: every ratio and correlation is 1
        assert same["signals"][name]["range_ratio"] == pytest.approx(1.0)
        assert same["signals"][name]["correlation"] == pytest.approx(1.0)
    assert all(v == {"range_ratio": pytest.approx(1.0), "correlation": pytest.approx(1.0)} for v in same["head_3d"].values())
    assert "head_3d" not in fidelity(source, track[..., :2], track[..., :2])  # no depth, no 3D angles
    still = fidelity(source, track, np.repeat(track[:1], len(track), 0))
    assert all(v["range_ratio"] == 0.0 and v["correlation"] is None for v in still["signals"].values()), still  # null in JSON
    assert all(v["range_ratio"] == 0.0 for v in still["head_3d"].values())
    half = track.copy()
    half[5:] = np.nan  # the output loses the face after 5 frames
    lost = fidelity(source, track, half)
    assert lost["output_faces_lost"] == 25 and lost["driver_faces_lost"] == 0
    json.dumps(lost)  # no NaN sneaks into the JSON


def test_report_path_is_checked_first(media, tmp_path):
    with pytest.raises(UsageError, match="must name a .json file"):
        check_report_path(tmp_path / "r.txt")
    with pytest.raises(UsageError, match="does not exist"):
        animate(media / "face_astronaut.png", media / DRIVER, tmp_path / "o.mp4", report=tmp_path / "nope" / "r.json")
    assert not (tmp_path / "o.mp4").exists()
