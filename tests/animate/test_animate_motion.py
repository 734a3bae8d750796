"""vidtoon.animate.motion: similarity fits and relative motion transfer, on known answers."""

import numpy as np
import pytest

from vidtoon.animate.motion import (
    Similarity,
    face_size,
    fit_similarity,
    normalised_distance,
    transfer_absolute,
    transfer_relative,
)
from vidtoon.errors import UsageError

RNG = np.random.default_rng(0)
FACE = RNG.uniform(-50, 50, (40, 2)) + [200, 150]  # a made-up face: 40 points around (200, 150)
RIGID = np.arange(20)  # the first 20 points are "rigid", the rest may move with expressions


def rotate_about(points, angle, centre):
    c, s = np.cos(angle), np.sin(angle)
    return (points - centre) @ np.array([[c, -s], [s, c]]).T + centre


class TestSimilarity:
    def test_fit_recovers_a_known_similarity(self):
        truth = Similarity(1.7, 0.3, np.array([12.0, -5.0]))
        fitted = fit_similarity(FACE, truth(FACE))
        assert fitted.scale == pytest.approx(1.7) and fitted.angle == pytest.approx(0.3)
        np.testing.assert_allclose(fitted.shift, [12.0, -5.0], atol=1e-9)

    def test_inverse_and_composition(self):
        a, b = Similarity(2.0, 0.5, np.array([1.0, 2.0])), Similarity(0.5, -0.2, np.array([-3.0, 4.0]))
        np.testing.assert_allclose(a.inverse()(a(FACE)), FACE, atol=1e-9)
        np.testing.assert_allclose(a.then(b)(FACE), b(a(FACE)), atol=1e-9)

    def test_degenerate_points_are_refused(self):
        with pytest.raises(UsageError, match="one point"):
            fit_similarity(np.ones((5, 2)), FACE[:5])
        with pytest.raises(UsageError, match="N×2"):
            fit_similarity(FACE, FACE[:, :1])

    def test_face_size_scales_with_the_face(self):
        assert face_size(FACE * 3) == pytest.approx(3 * face_size(FACE))
        assert normalised_distance(FACE, FACE + [3.0, 4.0], size=10.0) == pytest.approx(0.5)


class TestRelativeTransfer:
    source = FACE * 2.0 + [40.0, 10.0]  # the source face: twice the driver's size, elsewhere

    def test_a_still_driver_leaves_the_source_unchanged(self):
        np.testing.assert_allclose(transfer_relative(self.source, FACE, FACE, rigid=RIGID), self.source, atol=1e-9)

    def test_a_shift_is_scaled_by_face_size(self):
        out = transfer_relative(self.source, FACE, FACE + [5.0, -3.0], rigid=RIGID)
        np.testing.assert_allclose(out, self.source + [10.0, -6.0], atol=1e-9)

    def test_a_head_turn_turns_the_source_about_its_own_centre(self):
        driver = rotate_about(FACE, 0.2, FACE[RIGID].mean(0))
        out = transfer_relative(self.source, FACE, driver, rigid=RIGID)
        np.testing.assert_allclose(out, rotate_about(self.source, 0.2, self.source[RIGID].mean(0)), atol=1e-9)

    def test_an_expression_moves_only_its_point_scaled_and_aligned(self):
        turned_source = rotate_about(self.source, np.pi / 2, self.source.mean(0))  # source lies on its side
        driver = FACE.copy()
        driver[30] += [0.0, 4.0]  # the "jaw" drops 4 px in the driver
        out = transfer_relative(turned_source, FACE, driver, rigid=RIGID)
        moved = np.linalg.norm(out - turned_source, axis=1)
        assert moved[RIGID].max() < 1e-9 and np.delete(moved, 30).max() < 1e-9
        np.testing.assert_allclose(out[30] - turned_source[30], [-8.0, 0.0], atol=1e-9)  # ×2 size, turned 90°

    def test_pose_off_keeps_the_head_still(self):
        driver = FACE + [5.0, 0.0]
        np.testing.assert_allclose(transfer_relative(self.source, FACE, driver, rigid=RIGID, pose=False), self.source, atol=1e-9)

    def test_absolute_gives_the_driver_shape_on_the_source(self):
        driver = FACE.copy()
        driver[30] += [0.0, 4.0]
        out = transfer_absolute(self.source, FACE, driver, rigid=RIGID)
        np.testing.assert_allclose(out, driver * 2.0 + [40.0, 10.0], atol=1e-9)

    def test_mismatched_shapes_are_refused(self):
        with pytest.raises(UsageError, match="same shape"):
            transfer_relative(self.source, FACE[:10], FACE)
