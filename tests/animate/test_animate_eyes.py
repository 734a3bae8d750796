"""Eyes: lid and gaze measures on synthetic landmarks, the eye layers on a drawn eye, and blinks and gaze
that follow a real driver (landmarks re-detected on the output)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from vidtoon.animate.eyes import EyeRig, eye_openings, gaze, gaze_shift, lid_ratios
from vidtoon.animate.landmarks import EYE_CORNERS, IRISES, LOWER_LIDS, NUM_REFINED, UPPER_LIDS, track_landmarks
from vidtoon.animate.pipeline import load_source, make_animator
from vidtoon.animate.quality import correlation, motion_signals, range_ratio
from vidtoon.io import VideoReader

DRIVER = "talking_head_d3.mp4"


def synthetic_eyes(opening=0.3, iris=(0.0, 0.0), *, width=40.0, centres=((100.0, 100.0), (180.0, 100.0)), angle=0.0):
    """478 landmarks with two eyes `width` px wide, lids `opening` eye widths apart, irises offset by `iris`
    eye widths from the eyes' centres; everything turned by `angle` radians about (140, 100)."""
    points = np.zeros((NUM_REFINED, 2))
    points[:] = (140.0, 140.0)
    for eye, (cx, cy) in enumerate(centres):
        left, right = EYE_CORNERS[eye] if eye == 0 else EYE_CORNERS[eye][::-1]
        points[left], points[right] = (cx - width / 2, cy), (cx + width / 2, cy)
        xs = np.linspace(cx - 0.3 * width, cx + 0.3 * width, 7)
        xs = xs if eye == 0 else xs[::-1]  # outer to inner corner
        points[list(UPPER_LIDS[eye])] = np.c_[xs, np.full(7, cy - opening * width / 2)]
        points[list(LOWER_LIDS[eye])] = np.c_[xs, np.full(7, cy + opening * width / 2)]
        centre = np.array([cx + iris[0] * width, cy + iris[1] * width])
        radius = 0.2 * width
        points[list(IRISES[eye])] = [
            centre,
            centre + (radius, 0),
            centre + (0, -radius),
            centre - (radius, 0),
            centre + (0, radius),
        ]
    c, s = np.cos(angle), np.sin(angle)
    return (points - (140, 100)) @ np.array([[c, -s], [s, c]]).T + (140, 100)


def test_openings_and_gaze_in_eye_widths_whatever_the_size_and_roll():
    for angle, width in ((0.0, 40.0), (0.4, 40.0), (-0.3, 13.0)):
        points = synthetic_eyes(0.3, (0.15, -0.05), width=width, angle=angle)
        assert np.allclose(eye_openings(points), [0.3, 0.3])
        assert np.allclose(gaze(points), [[0.15, -0.05], [0.15, -0.05]])
    assert np.isnan(gaze(synthetic_eyes()[:468])).all()  # no iris landmarks, no gaze


def test_lid_ratios_and_gaze_shift_relative_to_the_first_frame():
    first = synthetic_eyes(0.3)
    assert np.allclose(lid_ratios(synthetic_eyes(0.15), first), [0.5, 0.5])
    assert np.allclose(lid_ratios(synthetic_eyes(0.0), first), [0.0, 0.0])
    assert np.allclose(lid_ratios(synthetic_eyes(0.6), first), [1.25, 1.25])  # capped
    assert np.allclose(gaze_shift(synthetic_eyes(0.3, (0.1, 0.05)), first), [0.1, 0.05])
    assert np.allclose(gaze_shift(synthetic_eyes(0.3, (0.9, 0.0)), first), [0.3, 0.0])  # clipped to ±0.3
    assert np.allclose(gaze_shift(synthetic_eyes(0.3, (0.1, 0.0))[:468], first[:468]), [0.0, 0.0])


def test_gaze_signals_on_a_synthetic_track():
    xs = 0.2 * np.sin(np.linspace(0, 2 * np.pi, 20))
    track = np.stack([synthetic_eyes(0.3, (x, -0.5 * x), angle=0.1) for x in xs])
    signals = motion_signals(track)
    assert np.allclose(signals["gaze_x"], xs) and np.allclose(signals["gaze_y"], -0.5 * xs)
    assert np.allclose(signals["eyes"] / signals["eyes"][0], 1.0)
    shut = np.stack([synthetic_eyes(v, (0.1, 0.0)) for v in (0.3, 0.05, 0.3)])
    assert np.isnan(motion_signals(shut)["gaze_x"]).tolist() == [False, True, False]  # no gaze on a shut eye
    wink = synthetic_eyes(0.3, (0.1, 0.0))
    wink[list(UPPER_LIDS[0])] = wink[list(LOWER_LIDS[0])]  # the image's left eye shuts, the right one stays open
    # a winking eye's iris is a guess: that frame has no gaze (both eyes averaged would mix in the guess)
    assert np.isnan(motion_signals(np.stack([shut[0], wink]))["gaze_x"]).tolist() == [False, True]


def test_gaze_shift_leaves_a_winking_eye_out():
    first = synthetic_eyes(0.3)
    wink = synthetic_eyes(0.3, (0.1, 0.0))
    wink[list(UPPER_LIDS[0])] = wink[list(LOWER_LIDS[0])]
    wink[IRISES[0][0]] += (-8.0, 0.0)  # the shut eye's iris guess wanders the other way: ignored
    assert np.allclose(lid_ratios(wink, first), [0.0, 1.0])
    assert np.allclose(gaze_shift(wink, first), [0.1, 0.0])


def test_range_ratio_known_answers():
    driver = np.sin(np.linspace(0, 6, 50))
    assert range_ratio(driver, 0.5 * driver + 3) == pytest.approx(0.5)
    assert range_ratio(driver, -2 * driver) == pytest.approx(2.0)
    assert range_ratio(driver, np.full(50, 1.0)) == 0.0
    gappy = driver.copy()
    gappy[np.argmax(driver)] = np.nan  # a frame without a face in the output is left out of both
    assert range_ratio(driver, 0.5 * gappy) == pytest.approx(0.5)
    assert np.isnan(range_ratio(np.ones(50), driver))


def drawn_eye():
    """A 280×200 skin-coloured image with two almond eyes: white sclera, a dark iris disc, per `synthetic_eyes`."""
    import cv2

    image = np.full((200, 280, 3), (220, 170, 140), np.uint8)
    points = synthetic_eyes(0.3, (0.0, 0.0))
    eye_white, iris = np.zeros((200, 280), np.uint8), np.zeros((200, 280), np.uint8)
    for eye in range(2):
        outline = points[[EYE_CORNERS[eye][0], *UPPER_LIDS[eye], EYE_CORNERS[eye][1], *LOWER_LIDS[eye][::-1]]]
        cv2.fillPoly(eye_white, [np.round(outline).astype(np.int32)], 1)
        cv2.circle(iris, tuple(int(v) for v in np.round(points[IRISES[eye][0]])), 8, 1, -1)
    image[eye_white > 0] = (240, 240, 240)
    image[(eye_white > 0) & (iris > 0)] = (40, 60, 90)  # the lids cover the iris's top and bottom
    return image, points


def test_irises_move_within_the_eye_and_stay_put_at_rest():
    image, points = drawn_eye()
    rig = EyeRig(image, points)
    assert rig.look(np.zeros(2)) is image
    moved = rig.look(np.array([0.2, 0.0]))  # 8 px to the right
    dark = moved[80:120, 70:130].astype(int).sum(axis=2) < 300
    xs = np.nonzero(dark)[1] + 70
    assert abs(xs.mean() - 108) < 1.0  # the iris's centre went from x 100 to 108
    assert (moved[100, 92:95].astype(int) > 200).all()  # where the iris was: eye white again
    assert (moved[88, 100:116] == image[88, 100:116]).all()  # above the lid nothing changes (clipped by the lids)


def test_a_shut_lid_shows_skin_and_a_half_shut_one_half_covers():
    image, points = drawn_eye()
    rig = EyeRig(image, points)
    assert rig.close_lids(image, points, np.ones(2)) is image
    shut = rig.close_lids(image, points, np.zeros(2))
    skin = np.array([220, 170, 140])
    eye = shut[94:106, 92:108].astype(int)  # the middle of the left eye: iris and white before
    assert np.abs(eye - skin).max(axis=2).mean() < 25  # now skin (measured: ~10 grey levels off, lash line)
    # the lash line where the lids meet: darkest at the shut lid's edge (row 94 + 1.2 × the 12 px gap, less half a
    # pixel), under half the skin's brightness (measured: 105 of 530 at row 108)
    brightness = shut[88:112, 100].astype(int).sum(axis=1)
    assert abs(88 + int(np.argmin(brightness)) - 107.9) <= 1 and brightness.min() < 0.5 * skin.sum()
    half = rig.close_lids(image, points, np.array([0.5, 0.5]))
    column = np.abs(half[94:106, 100].astype(int) - skin).max(axis=1) < 30  # the eye spans rows 94–106 there
    # skin down to the middle (the lid goes 60 %: its edge at row 101), then a half-dark lash line, the iris below
    assert column[:4].all() and not column[5:].any()
    assert (half[60:85] == image[60:85]).all()  # the brow region above the lid band does not move


def test_a_wider_eye_raises_its_upper_lid_and_shows_more_iris():
    image, points = drawn_eye()
    rig = EyeRig(image, points)
    assert rig.raise_lids(image, points, np.ones(2)) is image
    wide = rig.raise_lids(image, points, np.array([1.25, 1.0]))  # the left eye 25 % wider: its lid 3 px up (of 12)

    def iris(picture):  # the rows of the dark iris
        return np.nonzero(picture[80:110, 85:115].astype(int).sum(axis=2) < 300)[0] + 80

    assert (iris(image).min(), iris(image).max()) == (94, 106)
    assert (iris(wide).min(), iris(wide).max()) == (91, 106)  # more of the iris above, the lower lid where it was
    assert (wide[:, 140:] == image[:, 140:]).all()  # the other eye is left alone
    assert (wide[:78] == image[:78]).all() and (wide[107:] == image[107:]).all()  # the brow and the cheek do not move


def drive(media, face: str) -> tuple[np.ndarray, np.ndarray]:
    """(driver, output) landmark tracks (478 points) of `face` at 512 px driven by d3's frames 24–71 (looks aside at
    30–45, blinks at 47–61)."""
    source = load_source(media / face, 512)
    animator = make_animator("landmarks", source, media / face, relative=True, crop=True, checkpoint=None, device="cpu")
    frames = []
    with VideoReader(media / DRIVER) as reader:
        for frame in reader:
            if frame.index >= 72:
                break
            if frame.index >= 24:
                frames.append(frame.rgb)
    with threadpool_limits(1, "blas"):
        outputs = [animator(rgb, i / 30) for i, rgb in enumerate(frames)]
    animator.close()
    return track_landmarks(frames, refine=True), track_landmarks(outputs, refine=True)


@pytest.fixture(scope="module")
def segment(media):
    """The astronaut driven by d3's frames 24–71 (see `drive`)."""
    return drive(media, "face_astronaut.png")


def test_blinks_and_gaze_follow_the_driver(segment):
    driver, output = (motion_signals(track) for track in segment)
    # measured (2.5D turns, gaze where both eyes are open, the lash line and the raised lids): eyes range 1.04 /
    # correlation 0.91, gaze x 0.96 / 0.97, mouth 0.39 / 0.86 (before the lash line: eyes 0.82 / 0.89; 2D turns, gaze on
    # the eyes' mean opening: eyes 0.77 / 0.92, gaze x 0.83 / 0.95; before the eye layers, on the whole clip: eyes
    # 0.25 / 0.63, gaze x 0.12 / 0.06)
    assert range_ratio(driver["eyes"], output["eyes"]) > 0.8 and correlation(driver["eyes"], output["eyes"]) > 0.85
    assert range_ratio(driver["gaze_x"], output["gaze_x"]) > 0.6 and correlation(driver["gaze_x"], output["gaze_x"]) > 0.8
    assert correlation(driver["gaze_y"], output["gaze_y"]) > 0.7
    assert correlation(driver["yaw"], output["yaw"]) > 0.9


def test_the_mona_lisas_blinks_reach_her_painted_eyes(media):
    driver, output = (motion_signals(track) for track in drive(media, "face_monalisa.jpg"))
    # measured: eyes range 0.85 / correlation 0.90 (before the lash line and the raised lids: 0.68 / 0.87, her shut
    # painted lids re-detected as a quarter open); gaze x 1.17 / 0.93
    assert range_ratio(driver["eyes"], output["eyes"]) > 0.75 and correlation(driver["eyes"], output["eyes"]) > 0.85
    assert correlation(driver["gaze_x"], output["gaze_x"]) > 0.8
