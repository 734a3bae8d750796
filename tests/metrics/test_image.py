"""PSNR and SSIM: known answers worked out by hand, bad input, shapes."""

import math

import pytest
import torch

from vidtoon.metrics import psnr, ssim

C1, C2 = 0.01**2, 0.03**2


def gaussian_taps(size: int = 11, sigma: float = 1.5) -> list[float]:
    """The SSIM window's 1-D weights, computed independently of the library."""
    raw = [math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma**2)) for i in range(size)]
    return [w / sum(raw) for w in raw]


def random_images(n=2, h=24, w=32, seed=0):
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


class TestPSNR:
    def test_identical_is_infinite(self):
        a = random_images()
        assert torch.isinf(psnr(a, a.clone())).all()

    @pytest.mark.parametrize("delta", [0.5, 0.1, 0.05, 1 / 255])
    def test_constant_offset(self, delta):
        a = random_images() * (1 - delta)
        expected = 10 * math.log10(1 / delta**2)  # MSE = delta²
        assert psnr(a, a + delta).tolist() == pytest.approx([expected] * 2, abs=1e-3)

    def test_half_the_pixels_off_by_one(self):
        a = torch.zeros(1, 3, 8, 8)
        b = a.clone()
        b[..., :4] = 1.0  # MSE = 1/2 -> 10·log10(2)
        assert psnr(a, b).item() == pytest.approx(10 * math.log10(2), abs=1e-5)

    def test_one_value_per_image_and_symmetric(self):
        a, b = random_images(seed=1), random_images(seed=2)
        both = psnr(a, b)
        assert both.shape == (2,)
        assert both[1].item() == pytest.approx(psnr(a[1:], b[1:]).item())
        assert torch.allclose(both, psnr(b, a))

    def test_data_range(self):
        a = random_images()
        assert torch.allclose(psnr(a * 255, (a + 0.1) * 255, data_range=255.0), psnr(a, a + 0.1), atol=1e-3)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="same shape"):
            psnr(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))
        with pytest.raises(ValueError, match="float"):
            psnr(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


class TestSSIM:
    def test_identical_is_one(self):
        a = random_images()
        assert ssim(a, a.clone()).tolist() == pytest.approx([1.0, 1.0], abs=1e-6)

    @pytest.mark.parametrize(("c", "d"), [(0.2, 0.6), (0.5, 0.5), (0.0, 1.0), (0.9, 0.1)])
    def test_constant_images(self, c, d):
        # no variance: SSIM = luminance term = (2cd + C1) / (c² + d² + C1)
        a, b = torch.full((1, 3, 16, 16), c), torch.full((1, 3, 16, 16), d)
        assert ssim(a, b).item() == pytest.approx((2 * c * d + C1) / (c**2 + d**2 + C1), abs=1e-6)

    def test_stripes_plus_offset(self):
        # Vertical stripes c ± s (alternating columns) and the same stripes + delta: the variances and the
        # covariance agree, so the contrast-structure term is 1 and SSIM is the luminance term alone, at local
        # means c ± s·g with g = Σ w_i (−1)^i (the window's response to the stripes); half the positions each.
        c, s, delta, width = 0.5, 0.25, 0.2, 30
        sign = torch.tensor([(-1.0) ** x for x in range(width)])
        a = (c + s * sign).view(1, 1, 1, width).expand(1, 3, 20, width).contiguous()
        g = sum(w * (-1) ** i for i, w in enumerate(gaussian_taps()))
        lum = [(2 * mu * (mu + delta) + C1) / (mu**2 + (mu + delta) ** 2 + C1) for mu in (c + s * g, c - s * g)]
        assert ssim(a, a + delta).item() == pytest.approx(sum(lum) / 2, abs=1e-5)  # 20 valid columns, 10 of each

    def test_one_window_by_hand(self):
        # An 11×11 image holds exactly one window: SSIM is that window's value, computed here in float64
        # straight from the definition (weighted means, population variances and covariance).
        a, b = random_images(1, 11, 11, seed=5).double(), random_images(1, 11, 11, seed=6).double()
        taps = torch.tensor(gaussian_taps(), dtype=torch.float64)
        w = taps[:, None] * taps[None, :]
        expected = []
        for x, y in zip(a[0], b[0]):
            mx, my = (w * x).sum(), (w * y).sum()
            vx, vy, cxy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum(), (w * (x - mx) * (y - my)).sum()
            expected.append(((2 * mx * my + C1) * (2 * cxy + C2) / ((mx**2 + my**2 + C1) * (vx + vy + C2))).item())
        assert ssim(a.float(), b.float()).item() == pytest.approx(sum(expected) / 3, abs=1e-5)

    def test_channels_are_averaged(self):
        a = torch.full((1, 3, 16, 16), 0.5)
        b = a.clone()
        b[:, 0] = 0.1  # only red differs
        red = (2 * 0.5 * 0.1 + C1) / (0.5**2 + 0.1**2 + C1)
        assert ssim(a, b).item() == pytest.approx((red + 2) / 3, abs=1e-6)

    def test_noise_is_dissimilar_and_symmetric(self):
        a, b = random_images(seed=3), random_images(seed=4)
        value = ssim(a, b)
        assert value.shape == (2,) and (value.abs() < 0.1).all()
        assert torch.allclose(value, ssim(b, a), atol=1e-6)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="same shape"):
            ssim(torch.rand(1, 3, 16, 16), torch.rand(2, 3, 16, 16))
        with pytest.raises(ValueError, match="smaller than the 11-pixel window"):
            ssim(torch.rand(1, 3, 10, 16), torch.rand(1, 3, 10, 16))
