"""Losses of the trainers: `fine_detail` keeps texture and drops shading."""

import torch

from vidtoon.train.losses import fine_detail


def test_fine_detail_keeps_texture_and_drops_flat_and_shaded_regions():
    flat = torch.full((1, 3, 24, 32), 0.3)
    assert float(fine_detail(flat).abs().max()) < 1e-6  # reflected borders: no edge at the frame's border either
    ramp = torch.linspace(-1, 1, 32).expand(1, 3, 24, 32)  # smooth shading: the blur of a ramp is the ramp
    assert float(fine_detail(ramp)[..., 5:-5].abs().max()) < 1e-5
    checker = (torch.arange(24)[:, None] + torch.arange(32)[None, :]) % 2 * 2.0 - 1  # the finest texture there is
    detail = fine_detail(checker.expand(1, 1, 24, 32))
    assert torch.allclose(detail, checker.expand(1, 1, 24, 32), atol=0.02)  # σ 1.5 blurs it to its mean, 0
    image = torch.rand(2, 3, 20, 20, generator=torch.Generator().manual_seed(0))
    assert fine_detail(image).shape == image.shape
    assert abs(float(fine_detail(image).mean())) < 0.01  # what is taken out is the local mean
