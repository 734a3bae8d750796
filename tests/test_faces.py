"""Faces: the feathered disc, paste-back that leaves every other pixel alone, the smoothed box track on a real
talking head, and `restyle --faces` on real photos and a real clip (count, timing, sound, untouched background)."""

import logging
import subprocess
import sys
from fractions import Fraction

import cv2
import numpy as np
import pytest
from conftest import make_clip, stream_span, video_times

import vidtoon
from vidtoon.errors import InputError, UsageError
from vidtoon.faces import BoxTrack, OneEuroFilter, crop_inside, detect_faces, disc_mask, face_detector, face_square, paste
from vidtoon.io import EncodeOptions, probe, read_frames
from vidtoon.io.images import read_image, write_image
from vidtoon.restyle import FaceRestyler, RestyleOptions, load_translator
from vidtoon.temporal import FlowBlend, make_temporal_stage

FAST = EncodeOptions(preset="ultrafast")


@pytest.fixture(scope="module")
def translator(tiny_checkpoint):
    return load_translator(model=tiny_checkpoint, device="cpu")[0]


def expected_masks(rgb, *, margin=0.4, feather=0.3):
    """The full-image paste-back weight of every detected face (max over faces), as restyle --faces computes it."""
    height, width = rgb.shape[:2]
    weight = np.zeros((height, width), np.float32)
    for face in detect_faces(rgb, face_detector()):
        x0, y0, side = crop_inside(face_square(face, margin=margin), (width, height))
        region = weight[y0 : y0 + side, x0 : x0 + side]
        np.maximum(region, disc_mask(side, feather=feather), out=region)
    return weight


class TestDiscMask:
    def test_known_answer(self):
        side = 101  # radius 50.5 px
        mask = disc_mask(side, feather=1.0)  # a cone: weight 1 − ρ
        assert mask[50, 50] == 1.0 and mask[0, 0] == 0 and mask[0, 50] == pytest.approx(1 - 50 / 50.5, abs=1e-6)
        assert mask.sum() == pytest.approx(np.pi * 50.5**2 / 3, rel=0.01)  # the cone's volume
        assert (mask > 0).sum() == pytest.approx(np.pi * 50.5**2, rel=0.01)  # the disc's area
        assert mask[50, 50 + 25] == pytest.approx(1 - 25 / 50.5, abs=1e-6)

    def test_feather_sets_the_flat_top(self):
        mask = disc_mask(101, feather=0.3)  # 1 up to ρ = 0.7, linear to 0 at ρ = 1
        assert (mask == 1).sum() == pytest.approx(np.pi * (0.7 * 50.5) ** 2, rel=0.02)
        row = mask[50, 50:]
        assert np.all(np.diff(row) <= 0)  # falls monotonically from the centre out
        assert row[42] == pytest.approx((1 - 42 / 50.5) / 0.3, abs=1e-6)  # ρ = 0.83, about half way down the ramp: 0.561

    def test_bad_feather(self):
        with pytest.raises(UsageError):
            disc_mask(64, feather=0)


def test_paste_changes_only_the_disc():
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (120, 160, 3), np.uint8)
    face = np.full((32, 32, 3), 255, np.uint8)
    out = paste(background, face, (40, 10, 100), feather=0.3)
    mask = np.zeros((120, 160), np.float32)
    mask[10:110, 40:140] = disc_mask(100, feather=0.3)
    changed = np.any(out != background, axis=-1)
    assert not changed[mask == 0].any()  # outside the disc: the very same bytes
    assert np.all(out[mask == 1] == 255)  # the flat top is the face
    assert changed.sum() > 0.9 * (mask > 0).sum()


@pytest.mark.parametrize("name", ["face_astronaut.png", "face_monalisa.jpg"])
def test_restyle_faces_on_a_photo(media, tmp_path, translator, name):
    source = media / name
    out = vidtoon.restyle(source, tmp_path / "out.png", translator=translator, options=RestyleOptions(faces=True, face_size=128))
    before, after = read_image(source).astype(int), read_image(out).astype(int)
    weight = expected_masks(read_image(source))
    changed = np.abs(after - before).max(-1) > 0
    assert before.shape == after.shape
    assert (weight > 0).sum() > 5000  # a face was found and its disc covers thousands of pixels
    assert not changed[weight == 0].any()  # every pixel outside the feathered disc is exactly the source's
    inside = changed[weight == 1]
    assert inside.mean() > 0.95  # and the face itself was restyled
    assert np.abs(after - before)[weight == 1].mean() > 20


def test_a_named_styles_faces_default_is_the_cards_unless_the_caller_says_otherwise(media, tmp_path):
    """anime's card says `faces: true`: by name, only the faces change; `RestyleOptions(faces=False)` (the built-in
    value, given) wins over the card, as `--no-faces` does, and the whole picture is restyled."""
    source = media / "face_astronaut.png"
    before = read_image(source).astype(int)
    outside = expected_masks(read_image(source)) == 0
    faces = vidtoon.restyle(source, tmp_path / "faces.png", to="anime", options=RestyleOptions(device="cpu"))
    whole = vidtoon.restyle(source, tmp_path / "whole.png", to="anime", options=RestyleOptions(device="cpu", faces=False))
    assert outside.mean() > 0.5  # most of the picture is not face
    assert not (np.abs(read_image(faces).astype(int) - before).max(-1) > 0)[outside].any()
    assert (np.abs(read_image(whole).astype(int) - before).max(-1) > 0)[outside].mean() > 0.8


def test_several_faces_each_translated(media, translator):
    astronaut = read_image(media / "face_astronaut.png")
    monalisa = cv2.resize(read_image(media / "face_monalisa.jpg"), (288, 512), interpolation=cv2.INTER_AREA)
    pair = np.hstack([astronaut, monalisa])
    restyler = FaceRestyler(translator, lambda: make_temporal_stage("none"), face_size=128)
    out = restyler([pair])[0]
    assert restyler.faces_translated == 2 and restyler.frames_without_face == 0
    changed = np.any(out != pair, axis=-1)
    assert changed[:, :512].sum() > 5000 and changed[:, 512:].sum() > 5000  # both faces, each in its own half
    assert not changed[expected_masks(pair) == 0].any()


def talking_head(media, count):
    frames, times = [], []
    for i, frame in enumerate(read_frames(media / "talking_head_d3.mp4")):
        if i == count:
            break
        frames.append(frame.rgb)
        times.append(frame.time)
    return frames, times


class TestOneEuro:
    def test_still_jitter_is_smoothed(self):
        # 1 px of jitter on a 100 px face held still: about a third is left (measured 0.35)
        rng = np.random.default_rng(0)
        smoother = OneEuroFilter(min_cutoff=1.0, beta=5.0, scale=100.0)
        truth = np.full((50, 2), 100.0)
        noisy = [truth + rng.normal(0, 1.0, truth.shape) for _ in range(120)]
        out = np.array([smoother(x, t / 30) for t, x in enumerate(noisy)])
        assert np.abs(out[30:] - truth).mean() < 0.45 * np.abs(np.array(noisy[30:]) - truth).mean()

    def test_fast_motion_does_not_lag(self):
        smoother = OneEuroFilter(min_cutoff=1.0, beta=5.0, scale=100.0)
        # a head moving 1 face size per second (100 px/s at 30 fps): after settling, the lag is under 1.5 frames
        out = [smoother(np.array([[100.0 + t * 100 / 30, 0.0]]), t / 30)[0, 0] for t in range(60)]
        lag_frames = (100.0 + 59 * 100 / 30 - out[-1]) / (100 / 30)
        assert lag_frames < 1.5

    def test_bad_settings(self):
        with pytest.raises(UsageError):
            OneEuroFilter(min_cutoff=0)


def test_box_track_smooths_the_jitter_of_a_real_talking_head(media):
    frames, times = talking_head(media, 60)
    detector = face_detector()
    raw = np.array([face_square(detect_faces(rgb, detector)[0], margin=0.4) for rgb in frames])
    track = BoxTrack(raw[0], float(times[0]))
    smooth = np.array([track.square] + [track.update(square, float(t)) for square, t in zip(raw[1:], times[1:])])
    jitter_raw = np.abs(np.diff(raw, 2, axis=0)).mean(0)  # (cx, cy, side): px of frame-to-frame acceleration
    jitter_smooth = np.abs(np.diff(smooth, 2, axis=0)).mean(0)
    # measured on these 60 frames: raw (2.31, 1.84, 9.68) px, smoothed (0.79, 0.32, 2.04) px; mean lag 3.6 px on a 600 px box
    assert np.all(jitter_smooth < jitter_raw / 2.5), (jitter_raw, jitter_smooth)
    assert np.abs(smooth - raw).mean() < 0.02 * raw[:, 2].mean()  # and it does not trail the face (< 2 % of its box)


def test_video_faces_keep_the_background_and_use_one_temporal_track(media, translator):
    frames, times = talking_head(media, 12)
    restyler = FaceRestyler(translator, lambda: make_temporal_stage("flow"), face_size=128)
    out = restyler(frames, times)
    assert restyler.frames_without_face == 0 and restyler.tracks_started == 1  # one steady track, never reset
    assert isinstance(restyler.tracks[0].restyler.temporal, FlowBlend)
    x0, y0, side = crop_inside(restyler.tracks[0].box.square, frames[0].shape[1::-1])
    assert side == 512  # the talking head's box (with its margin) fills the frame ...
    corners = np.ones(frames[0].shape[:2], bool)
    corners[y0 : y0 + side, x0 : x0 + side] = disc_mask(side, feather=0.3) == 0
    assert corners.sum() > 50000  # ... so the background left is its corners, outside the disc
    for source, result in zip(frames, out):
        changed = np.any(result != source, axis=-1)
        assert changed.sum() > 100000  # the face restyled
        assert not changed[corners].any()  # the background byte-identical to plain decoding


def test_video_faces_keep_count_timing_and_sound(media, tmp_path, translator):
    source = media / "talking_head_d3.mp4"
    end = Fraction(1)
    out = vidtoon.restyle(
        source,
        tmp_path / "talk.mp4",
        translator=translator,
        options=RestyleOptions(faces=True, face_size=128, end=end, encode=FAST, segment_seconds=1),
    )
    info = probe(out)
    assert info.frame_count == 30 and info.fps == 30 and (info.width, info.height) == (512, 512)
    assert video_times(out) == [t for t in video_times(source) if t < end]
    assert [(a.codec, a.channels) for a in info.audio] == [("aac", 2)]
    first, last, _ = stream_span(out, "audio")
    assert first == pytest.approx(0, abs=0.05) and last == pytest.approx(1.0, abs=0.05)


def test_video_without_faces_passes_through_with_a_warning(tmp_path, translator, caplog):
    clip = make_clip(tmp_path / "noface.mp4", 12, size=(96, 64))
    with caplog.at_level(logging.WARNING, logger="vidtoon.pipeline"):
        out = vidtoon.restyle(
            clip,
            tmp_path / "out.mp4",
            translator=translator,
            options=RestyleOptions(faces=True, encode=EncodeOptions(preset="ultrafast", crf=0), segment_seconds=1),
        )
    assert "12 of 12 frames had no face and were left unchanged (--no-faces restyles the whole frame)" in caplog.text
    before = [f.rgb.astype(int) for f in read_frames(clip)]
    after = [f.rgb.astype(int) for f in read_frames(out)]
    assert len(after) == 12 and max(np.abs(a - b).max() for a, b in zip(before, after)) <= 3  # only the re-encode


def test_photo_without_a_face_is_an_error(media, tmp_path, translator):
    suit = tmp_path / "suit.png"
    write_image(suit, read_image(media / "face_astronaut.png")[200:])
    with pytest.raises(InputError, match="no face found"):
        vidtoon.restyle(suit, tmp_path / "out.png", translator=translator, options=RestyleOptions(faces=True))
    assert not (tmp_path / "out.png").exists()


def test_cli_photo_without_a_face_is_one_line_exit_1(media, tmp_path, tiny_checkpoint):
    suit = tmp_path / "suit.png"
    write_image(suit, read_image(media / "face_astronaut.png")[200:])
    result = subprocess.run(
        [sys.executable, "-m", "vidtoon", "restyle", str(suit), "--model", str(tiny_checkpoint), "--faces", "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "no face found" in lines[0] and "--no-faces" in lines[0]
    assert "Traceback" not in result.stderr


def test_face_size_is_checked(translator):
    with pytest.raises(UsageError, match="--face-size"):
        FaceRestyler(translator, lambda: make_temporal_stage("none"), face_size=8)


def test_a_style_card_can_default_to_faces(media, tmp_path, tiny_checkpoint, monkeypatch):
    styles = tmp_path / "styles"
    styles.mkdir()
    (styles / "tiny.safetensors").write_bytes(tiny_checkpoint.read_bytes())
    (styles / "anime.yaml").write_text("checkpoint: tiny.safetensors\ndefaults:\n  faces: true\n  face_size: 128\n")
    monkeypatch.setenv("VIDTOON_STYLES", str(styles))
    suit = tmp_path / "suit.png"
    write_image(suit, read_image(media / "face_astronaut.png")[200:])
    command = [sys.executable, "-m", "vidtoon", "restyle", str(suit), "--to", "anime", "--device", "cpu"]
    faces = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert faces.returncode == 1 and "no face found" in faces.stderr  # the card turned --faces on
    whole = subprocess.run([*command, "--no-faces"], capture_output=True, text=True, timeout=120)
    assert whole.returncode == 0, whole.stderr
    assert np.abs(read_image(tmp_path / "suit.anime.png").astype(int) - read_image(suit)).mean() > 10


def test_lost_face_frames_pass_through_and_a_long_loss_restarts_the_track(media, translator):
    frames, times = talking_head(media, 17)
    grey = np.full_like(frames[0], 128)
    for i in (4, 9, 10, 11, 12):  # a one-frame dropout (kept track), then four frames without a face (> hold = 2)
        frames[i] = grey
    restyler = FaceRestyler(translator, lambda: make_temporal_stage("flow"), face_size=128, hold=2)
    out = restyler(frames, times)
    assert restyler.frames_without_face == 5
    assert all(out[i] is frames[i] for i in (4, 9, 10, 11, 12))  # passed through untouched
    assert restyler.tracks_started == 2  # the dropout kept the track; the long loss started a new one
    assert all(np.any(out[i] != frames[i]) for i in (0, 5, 8, 13, 16))
