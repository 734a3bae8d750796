"""probe() on every real clip: the facts a user checks, and the errors for unusable files."""

from fractions import Fraction

import pytest

from vidtoon.errors import InputError
from vidtoon.io import probe

# name: (width, height, fps, variable, rotation, duration s, frames, exact, [(codec, channels)])
KNOWN = {
    "Megamind.avi": (720, 528, Fraction(2997, 125), False, 0, 11.261, 270, True, [("ac3", 2)]),
    "bbb_2s_example2.mp4": (1280, 720, Fraction(24), False, 0, 2.0, 48, True, [("mp3", 2)]),
    "big_buck_bunny_0_30.webm": (1280, 720, Fraction(24), False, 0, 30.003, 720, False, [("vorbis", 2)]),
    "chaplin.mp4": (640, 360, Fraction(25), False, 0, 9.64, 241, True, [("mp3", 2)]),
    "fire2.mp4": (1280, 720, Fraction(750000, 71393), True, -180, 2.380, 25, True, [("aac", 1)]),
    "no_duration.webm": (1280, 720, Fraction(15000, 1001), True, 0, 4.938, 74, False, [("opus", 2)]),
    "pigs_in_a_polka.gif": (314, 273, Fraction(10), False, 0, 3.0, 30, True, []),
    "smpte-2997.mp4": (1920, 1080, Fraction(25), False, 0, 10.04, 251, True, [("aac", 2)]),
    "talking_head_d3.mp4": (512, 512, Fraction(30), False, 0, 11.8, 354, True, [("aac", 2)]),
    "transparent.webm": (200, 200, Fraction(30), False, 0, 5.0, 150, False, [("vorbis", 2)]),
    "video_with_failing_audio.mp4": (640, 360, Fraction(25), False, 0, 11.2, 280, True, [("mp3", 2)]),
    "vtest.avi": (768, 576, Fraction(10), False, 0, 79.5, 795, True, []),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_probe_real_clips(media, name):
    width, height, fps, variable, rotation, duration, frames, exact, audio = KNOWN[name]
    info = probe(media / name)
    assert (info.width, info.height) == (width, height)
    assert info.fps == fps and isinstance(info.fps, Fraction)
    assert info.variable_fps is variable
    assert info.rotation == rotation
    assert float(info.duration) == pytest.approx(duration, abs=0.01)
    assert info.frame_count == frames
    assert info.frame_count_exact is exact
    assert [(a.codec, a.channels) for a in info.audio] == audio
    assert not info.is_image


def test_probe_images_and_rotation_swaps_size(media):
    info = probe(media / "face_monalisa.jpg")
    assert info.is_image and (info.width, info.height) == (720, 1280) and info.frame_count == 1
    assert probe(media / "face_astronaut.png").is_image


def test_probe_stream_languages_and_json(media):
    info = probe(media / "fire2.mp4")
    assert info.audio[0].language == "eng" and info.audio[0].sample_rate == 48000
    as_dict = info.to_dict()
    assert as_dict["fps"] == "750000/71393" and as_dict["audio"][0]["codec"] == "aac"


def test_rotated_clip_reports_display_size(tmp_path):
    from conftest import make_clip

    info = probe(make_clip(tmp_path / "r.mp4", 3, size=(64, 48), rotation=90))
    assert (info.width, info.height, info.rotation) == (48, 64, 90)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.mp4", "file not found"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "empty.mp4", b""), "empty"),
        (lambda d: _write(d / "notes.mp4", b"just some text\n" * 20), "not a video"),
    ],
)
def test_unusable_inputs(tmp_path, make, message):
    with pytest.raises(InputError, match=message) as caught:
        probe(make(tmp_path))
    assert str(tmp_path) in caught.value.message and "—" in caught.value.message  # names the file, says what to do


def test_audio_only_file(tmp_path):
    from conftest import make_audio_only

    path = make_audio_only(tmp_path / "song.m4a", samples=1024)
    with pytest.raises(InputError, match="no video stream .*audio"):
        probe(path)


def _write(path, data):
    path.write_bytes(data)
    return path


ALPHA_CLIPS = {"qtrle.mov": ("qtrle", "argb"), "png.mov": ("png", "rgba"), "vp9.webm": ("libvpx-vp9", "yuva420p")}


@pytest.mark.parametrize("name", sorted(ALPHA_CLIPS))
def test_probe_says_which_videos_carry_transparency(tmp_path, name):
    """A WebM's alpha lies beside the VP9 picture (alpha_mode 1; FFmpeg decodes it as yuv420p), a .mov's in its
    pixel format: both are transparent, and `vidtoon probe` says so in its own row."""
    from conftest import make_alpha_clip, make_clip, run_vidtoon

    source = make_alpha_clip(tmp_path / name, *ALPHA_CLIPS[name])
    info = probe(source)
    assert info.alpha and not info.is_image and info.frame_count == 6
    assert not probe(make_clip(tmp_path / "opaque.mp4", 3)).alpha
    result = run_vidtoon("probe", source)
    assert result.returncode == 0 and any(
        line.split() == ["alpha", "yes", "(transparency)"] for line in result.stdout.splitlines()
    )


def test_probe_alpha_of_real_clips(media):
    assert probe(media / "transparent.webm").alpha and probe(media / "pigs_in_a_polka.gif").alpha  # clear first frame
    assert not probe(media / "chaplin.mp4").alpha and not probe(media / "face_astronaut.png").alpha
