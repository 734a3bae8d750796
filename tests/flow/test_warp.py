"""Backward warping and the forward–backward consistency mask: known answers, and occlusions found on a rendered scene."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vidtoon.flow import backward_warp, consistency_mask, make_flow
from vidtoon.flow.warp import consistent, disoccluded, remap, sample_positions


def constant_flow(dx: float, dy: float, n: int = 1, height: int = 24, width: int = 32) -> torch.Tensor:
    """N×2×H×W flow that is (dx, dy) everywhere."""
    return torch.tensor([dx, dy], dtype=torch.float32).view(1, 2, 1, 1).expand(n, 2, height, width).contiguous()


def texture(rng: np.random.Generator, height: int, width: int, sigma: float = 1.5) -> np.ndarray:
    """H×W×3 float32 smooth random texture in [-1, 1] (blurred noise, so flow can lock on to it)."""
    noise = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), sigma)
    return 2 * (noise - noise.min()) / (noise.max() - noise.min()) - 1


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """H×W×3 float -> 1×3×H×W float32."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()


class TestBackwardWarp:
    def test_zero_flow_is_identity(self):
        image = torch.rand(2, 3, 24, 32) * 2 - 1
        assert torch.allclose(backward_warp(image, constant_flow(0, 0, n=2)), image, atol=1e-5)

    def test_integer_shift_is_exact_in_the_interior(self):
        image = torch.rand(1, 3, 24, 32)
        warped = backward_warp(image, constant_flow(2, -3))
        # warped(p) = image(p + (2, -3)): row y comes from row y - 3, column x from column x + 2
        assert torch.allclose(warped[..., 3:, :-2], image[..., :-3, 2:], atol=1e-5)

    def test_outside_takes_the_border(self):
        image = torch.rand(1, 1, 24, 32)
        warped = backward_warp(image, constant_flow(5, 0))
        assert torch.allclose(warped[..., -5:], image[..., -1:].expand(-1, -1, -1, 5), atol=1e-5)

    def test_shapes_must_agree(self):
        with pytest.raises(ValueError, match="N×2×H×W"):
            backward_warp(torch.rand(1, 3, 24, 32), torch.zeros(1, 2, 24, 31))
        with pytest.raises(ValueError):
            backward_warp(torch.rand(1, 3, 24, 32), torch.zeros(1, 3, 24, 32))


class TestConsistencyMask:
    def test_translation_is_trusted_except_where_it_leaves_the_frame(self):
        height, width, dx, dy = 24, 32, 3, -2
        mask = consistency_mask(constant_flow(dx, dy), constant_flow(-dx, -dy))
        assert mask.shape == (1, 1, height, width) and mask.dtype == torch.bool
        expected = torch.zeros(height, width, dtype=torch.bool)
        expected[-dy:, : width - dx] = True  # p + (3, -2) stays inside for x ≤ W-1-3 and y ≥ 2
        assert torch.equal(mask[0, 0], expected)

    def test_inconsistent_pair_is_not_trusted(self):
        # following the flow to s and back lands 4 px away: |w + ŵ|² = 16 ≫ 0.01·(9 + 1) + 0.5
        mask = consistency_mask(constant_flow(3, 0), constant_flow(1, 0))
        assert not mask.any()

    def test_disocclusion_behind_a_moving_square(self):
        """A textured square moves right over a static textured background; DIS flow both ways.

        Target t = frame 2 (the current frame), source s = frame 1. The band of background the
        square uncovered in frame 2 (columns x0 … x0+d-1 of its rows) was hidden in frame 1, so
        flow t -> s there cannot be trusted; the static background far from the square can.
        Measured with DIS medium (seeds 0-2, d = 8): band 95-100 % untrusted, static background
        100 % trusted. DIS fast is not used: it estimates at 1/4 resolution and misses a band this
        narrow (0-41 % found).
        """
        height, width, size, x0, y0, d = 128, 160, 48, 40, 40, 8
        rng = np.random.default_rng(0)
        background, square = 0.6 * texture(rng, height, width), 0.6 * texture(rng, size, size) + 0.2
        frame1, frame2 = background.copy(), background.copy()
        frame1[y0 : y0 + size, x0 : x0 + size] = square
        frame2[y0 : y0 + size, x0 + d : x0 + d + size] = square
        target, source = to_tensor(frame2), to_tensor(frame1)

        flow = make_flow("dis", preset="medium")
        mask = consistency_mask(flow(target, source), flow(source, target))[0, 0].numpy()

        band = mask[y0 + 4 : y0 + size - 4, x0 : x0 + d]  # rows inset by 4 px: corners mix both motions
        static = np.zeros((height, width), bool)
        static[4:-4, 4:-4] = True
        static[y0 - 16 : y0 + size + 16, x0 - 16 : x0 + d + size + 16] = False
        assert 1 - band.mean() >= 0.8, f"only {1 - band.mean():.0%} of the disoccluded band is marked untrustworthy"
        assert mask[static].mean() >= 0.95, f"only {mask[static].mean():.0%} of the static background is trusted"


class TestDisoccluded:
    """The one-flow disocclusion test the temporal stage runs instead of the forward–backward check."""

    def test_a_step_in_the_flow_is_flagged_where_it_folds(self):
        """Columns 0-3 still, 6-11 moving 4 px left (an edge that moved right), a ramp between: divergence −1 on the
        ramp's columns and the ones beside it (central differences), 0 elsewhere, even at the mirrored border."""
        flow = np.zeros((6, 12, 2), np.float32)
        flow[:, 4, 0], flow[:, 5, 0], flow[:, 6:, 0] = -1.5, -3, -4
        expected = np.zeros(12, bool)
        expected[3:7] = True  # divergences 0, 0, 0, -0.75, -1.5, -1.25, -0.5, 0, ...
        assert np.array_equal(disoccluded(flow), np.broadcast_to(expected, (6, 12)))
        assert np.array_equal(disoccluded(flow, contraction=0.6), np.broadcast_to(np.isin(np.arange(12), [3, 4, 5]), (6, 12)))
        assert not disoccluded(-flow).any()  # spreading (what t covers of s) is not a disocclusion
        assert not disoccluded(np.full((6, 12, 2), 7.5, np.float32)).any()  # a pan folds nothing

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_finds_the_band_behind_a_moving_square_from_one_flow(self, seed):
        """The scene of `test_disocclusion_behind_a_moving_square` with the one flow t -> s (DIS medium): every pixel
        of the uncovered band lies within the stage's feather radius (4 px) of a flagged pixel, and nothing of the
        static background is flagged. Measured: 100 / 96 / 100 % of the band (seeds 0-2), 0 % of the background."""
        height, width, size, x0, y0, d = 128, 160, 48, 40, 40, 8
        rng = np.random.default_rng(seed)
        background, square = 0.6 * texture(rng, height, width), 0.6 * texture(rng, size, size) + 0.2
        frame1, frame2 = background.copy(), background.copy()
        frame1[y0 : y0 + size, x0 : x0 + size] = square
        frame2[y0 : y0 + size, x0 + d : x0 + d + size] = square
        (flow,) = make_flow("dis", preset="medium").estimate(
            [cv2.convertScaleAbs(frame2, alpha=127.5, beta=127.5)], [cv2.convertScaleAbs(frame1, alpha=127.5, beta=127.5)]
        )
        flagged = disoccluded(flow)
        near = cv2.dilate(flagged.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # what the stage's 9-px erode reaches
        static = np.zeros((height, width), bool)
        static[4:-4, 4:-4] = True
        static[y0 - 16 : y0 + size + 16, x0 - 16 : x0 + d + size + 16] = False
        assert near[y0 + 4 : y0 + size - 4, x0 : x0 + d].mean() >= 0.95
        assert not flagged[static].any()


class TestNumpyTwins:
    """The per-frame OpenCV versions the temporal stage runs agree with the tensor versions."""

    def test_remap_matches_backward_warp(self):
        rng = np.random.default_rng(3)
        image = texture(rng, 36, 48)
        flow = cv2.GaussianBlur(rng.normal(0, 4, (36, 48, 2)).astype(np.float32), (0, 0), 3)
        ours = remap(image, sample_positions(flow))
        reference = backward_warp(to_tensor(image), to_tensor(flow))[0].permute(1, 2, 0).numpy()
        assert np.abs(ours - reference).max() < 0.02  # OpenCV interpolates with 1/32 px fixed-point weights

    def test_integer_shift_is_exact(self):
        image = texture(np.random.default_rng(4), 24, 32)
        flow = np.broadcast_to(np.float32([2, -3]), (24, 32, 2)).copy()
        np.testing.assert_array_equal(remap(image, sample_positions(flow))[3:, :-2], image[:-3, 2:])

    def test_consistent_matches_consistency_mask(self):
        rng = np.random.default_rng(5)
        forward = cv2.GaussianBlur(rng.normal(0, 3, (36, 48, 2)).astype(np.float32), (0, 0), 4)
        backward = -forward + rng.normal(0, 0.4, forward.shape).astype(np.float32)
        ours = consistent(forward, backward)
        reference = consistency_mask(to_tensor(forward), to_tensor(backward))[0, 0].numpy()
        assert 0.2 < ours.mean() < 0.98  # a mix of trusted and untrusted pixels
        assert (ours != reference).mean() < 0.01  # only threshold ties from interpolation rounding differ
