"""vidtoon.animate.warp: thin-plate splines, border-anchored warp maps and masks, on known answers."""

import numpy as np
import pytest

from vidtoon.animate.warp import blend, border_anchors, border_ramp, feathered_mask, fit_tps, remap, warp_map
from vidtoon.errors import UsageError

RNG = np.random.default_rng(1)
POINTS = RNG.uniform(40, 88, (30, 2))  # "landmarks" in the middle of a 128×128 image
IMAGE = RNG.integers(0, 256, (128, 128, 3), dtype=np.uint8)


class TestThinPlateSpline:
    def test_identity(self):
        spline = fit_tps(POINTS, POINTS)
        grid = RNG.uniform(0, 128, (100, 2))
        np.testing.assert_allclose(spline(grid), grid, atol=1e-9)

    def test_translation_is_exact_everywhere(self):
        spline = fit_tps(POINTS, POINTS + [3.0, -2.0])
        grid = RNG.uniform(-50, 200, (100, 2))
        np.testing.assert_allclose(spline(grid), grid + [3.0, -2.0], atol=1e-8)

    def test_interpolates_its_control_points(self):
        target = POINTS + RNG.normal(0, 2, POINTS.shape)
        np.testing.assert_allclose(fit_tps(POINTS, target)(POINTS), target, atol=1e-7)

    def test_regularisation_removes_jitter(self):
        clean = POINTS + [3.0, -2.0]
        noisy = clean + np.random.default_rng(2).normal(0, 2, POINTS.shape)
        smoothed = fit_tps(POINTS, noisy, regularization=0.1)(POINTS)
        # closer to the jitter-free motion than the jittery points it was fitted to
        assert np.abs(smoothed - clean).mean() < 0.6 * np.abs(noisy - clean).mean()

    def test_too_few_points(self):
        with pytest.raises(UsageError, match="N ≥ 3"):
            fit_tps(POINTS[:2], POINTS[:2])


class TestWarpMap:
    def test_identity_points_give_the_identity_map_and_an_unchanged_image(self):
        mapping = warp_map(POINTS, POINTS, (128, 128))
        assert mapping.shape == (128, 128, 2) and mapping.dtype == np.float32
        px, py = np.meshgrid(np.arange(128), np.arange(128))
        np.testing.assert_allclose(mapping, np.stack([px, py], -1), atol=1e-3)
        np.testing.assert_array_equal(remap(IMAGE, mapping), IMAGE)

    def test_free_border_translation_shifts_the_image_exactly(self):
        mapping = warp_map(POINTS + [4.0, 0.0], POINTS, (128, 128), anchors=0, regularization=0.0)
        out = remap(IMAGE, mapping)
        np.testing.assert_array_equal(out[:, 4:], IMAGE[:, :-4])

    def test_anchored_translation_moves_the_face_and_fixes_the_border(self):
        mapping = warp_map(POINTS + [6.0, 0.0], POINTS, (128, 128), anchors=8, regularization=0.0, anchor_regularization=0.0)
        px, py = np.meshgrid(np.arange(128.0), np.arange(128.0))
        offset = mapping - np.stack([px, py], -1)
        centre = offset[55:75, 55:75]
        np.testing.assert_allclose(centre[..., 0], -6.0, atol=0.3)  # the face region samples 6 px to the left
        np.testing.assert_allclose(centre[..., 1], 0.0, atol=0.3)
        for edge in (offset[0], offset[-1], offset[:, 0], offset[:, -1]):
            assert np.abs(edge).max() < 0.75  # exact at the anchors, within a pixel between them

    def test_border_anchors_go_round_the_image(self):
        pins = border_anchors(100, 50, per_side=4)
        assert pins.shape == (16, 2)
        on_border = (pins[:, 0] == 0) | (pins[:, 0] == 99) | (pins[:, 1] == 0) | (pins[:, 1] == 49)
        assert on_border.all() and {(0, 0), (99, 0), (99, 49), (0, 49)} <= set(map(tuple, pins))


class TestMasks:
    def test_feathered_mask_is_one_inside_zero_far_away(self):
        square = np.array([[40, 40], [80, 40], [80, 80], [40, 80]], float)
        mask = feathered_mask([square], (128, 128), grow=5, feather=10)
        assert mask.shape == (128, 128) and mask.dtype == np.float32
        assert mask[60, 60] == pytest.approx(1.0) and mask[5, 5] == 0.0
        assert 0.0 < mask[60, 92] < 1.0  # inside the soft edge

    def test_border_ramp(self):
        ramp = border_ramp((64, 32), width=8)
        assert ramp[0].max() == 0 and ramp[:, -1].max() == 0 and ramp[16, 32] == 1.0
        assert ramp[4, 32] == pytest.approx(0.5)

    def test_blend(self):
        white, black = np.full((4, 4, 3), 255, np.uint8), np.zeros((4, 4, 3), np.uint8)
        mask = np.full((4, 4), 0.5, np.float32)
        np.testing.assert_array_equal(blend(white, black, mask), np.full((4, 4, 3), 128, np.uint8))
        np.testing.assert_array_equal(blend(white, black, np.ones((4, 4), np.float32)), white)


def test_the_face_warp_never_folds_on_the_real_driver(media):
    """The Jacobian determinant of the face box's map, by finite differences, stays positive (no fold, no tear)
    on every 15th of d3's first 345 frames driving the astronaut."""
    from threadpoolctl import threadpool_limits

    from vidtoon.animate.pipeline import load_source, make_animator
    from vidtoon.io import VideoReader

    source = load_source(media / "face_astronaut.png", 512)
    animator = make_animator(
        "landmarks", source, media / "face_astronaut.png", relative=True, crop=True, checkpoint=None, device="cpu"
    )
    smallest = []
    with VideoReader(media / "talking_head_d3.mp4") as reader, threadpool_limits(1, "blas"):
        for frame in reader:
            if frame.index >= 345:
                break
            driver = animator.driver_points(frame.rgb, float(frame.time))
            if frame.index % 15 or driver is None:
                continue
            mapping, _ = animator.warp(animator.driven_points(driver))
            dx, dy = np.gradient(mapping[..., 0].astype(np.float64)), np.gradient(mapping[..., 1].astype(np.float64))
            determinant = dx[1] * dy[0] - dx[0] * dy[1]  # ∂x/∂u·∂y/∂v − ∂x/∂v·∂y/∂u
            smallest.append(determinant.min())
    animator.close()
    assert len(smallest) == 23
    # measured: 0.26 at the least with the 2.5D turns (0.28 with 2D ones; the widest-open mouth stretches the lips
    # ~×3.6), 1.0 where the face is at rest
    assert min(smallest) > 0.1
