"""vidtoon.animate.landmarks: MediaPipe's bundled face mesh on real faces, the missing-package error."""

import sys

import numpy as np
import pytest

from vidtoon.animate.landmarks import (
    CONTROL,
    FACE_OVAL,
    NUM_LANDMARKS,
    RIGID,
    detect_landmarks,
    load_face_mesh_module,
    track_landmarks,
)
from vidtoon.errors import UsageError
from vidtoon.io.images import read_image
from vidtoon.io.reader import VideoReader


def test_index_sets_are_inside_the_mesh():
    for indices in (FACE_OVAL, RIGID, CONTROL):
        assert 0 <= min(indices) and max(indices) < NUM_LANDMARKS and len(set(indices)) == len(indices)


def test_missing_mediapipe_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    with pytest.raises(UsageError, match=r"not installed.*pip install 'vidtoon\[animate\]'"):
        load_face_mesh_module()


def test_a_mediapipe_without_the_legacy_face_mesh_is_refused(monkeypatch):
    fake = type(sys)("mediapipe")
    fake.__version__ = "0.10.30"
    monkeypatch.setitem(sys.modules, "mediapipe", fake)
    with pytest.raises(UsageError, match="0.10.30 has no bundled face mesh"):
        load_face_mesh_module()


@pytest.mark.parametrize("name", ["face_astronaut.png", "face_monalisa.jpg"])
def test_landmarks_of_a_real_face(media, name):
    rgb = read_image(media / name)
    points = detect_landmarks(rgb)
    assert points.shape == (NUM_LANDMARKS, 2)
    height, width = rgb.shape[:2]
    assert (points >= 0).all() and (points[:, 0] < width).all() and (points[:, 1] < height).all()
    # anatomy: the nose tip (1) lies between the eyes (33, 263) left to right and above the chin (152)
    assert min(points[33, 0], points[263, 0]) < points[1, 0] < max(points[33, 0], points[263, 0])
    assert points[10, 1] < points[1, 1] < points[152, 1]


def test_depth_puts_the_nose_in_front(media):
    rgb = read_image(media / "face_astronaut.png")
    flat, deep = detect_landmarks(rgb), detect_landmarks(rgb, depth=True)
    assert deep.shape == (NUM_LANDMARKS, 3)
    np.testing.assert_allclose(deep[:, :2], flat, atol=1e-6)  # x, y as without depth
    # z points away from the camera, in pixels of x: the nose tip (1) is nearer than the cheeks' edges (234, 454)
    face_width = abs(deep[454, 0] - deep[234, 0])
    assert deep[1, 2] < min(deep[234, 2], deep[454, 2]) - 0.2 * face_width  # measured: ~0.4 face widths in front


def test_no_face_gives_none():
    assert detect_landmarks(np.full((256, 256, 3), 127, np.uint8)) is None


def test_track_of_a_real_driver(media):
    with VideoReader(media / "talking_head_d3.mp4") as reader:
        track = track_landmarks(f.rgb for f in reader if f.index < 30)
    assert track.shape == (30, NUM_LANDMARKS, 2) and not np.isnan(track).any()
    # consecutive frames move by a small fraction of the face
    step = np.linalg.norm(np.diff(track, axis=0), axis=2).mean(axis=1)
    assert step.max() < 10
