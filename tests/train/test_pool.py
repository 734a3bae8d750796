"""The image history pool: fills first, then mixes old and new fakes half the time; its state resumes exactly."""

import pytest
import torch

from vidtoon.train.pool import ImagePool


def images(start, count):
    """count 1×1×1 'images' whose value is their number."""
    return torch.arange(start, start + count, dtype=torch.float32).reshape(count, 1, 1, 1)


def test_fills_then_mixes_old_and_new():
    pool = ImagePool(4, seed=0)
    assert torch.equal(pool.query(images(0, 4)), images(0, 4))  # not full yet: the new images themselves
    seen = torch.cat([pool.query(images(100 + 10 * k, 10)) for k in range(20)]).flatten().tolist()
    from_history = [v for k, v in enumerate(seen) if v != 100 + k]  # not the image handed in at that position
    assert 0.35 < len(from_history) / len(seen) < 0.65  # about half come from the history
    assert min(from_history) < 4 and all(v < 100 + k for k, v in enumerate(seen) if v in from_history)  # all older ones
    assert len(pool.images) == 4


def test_size_zero_passes_through():
    batch = images(0, 3)
    assert ImagePool(0).query(batch) is batch
    with pytest.raises(ValueError):
        ImagePool(-1)


def test_state_dict_resumes_the_same_draws():
    pool = ImagePool(5, seed=3)
    for k in range(4):
        pool.query(images(10 * k, 3))
    clone = ImagePool(5, seed=99)
    clone.load_state_dict(pool.state_dict())
    for k in range(5):
        assert torch.equal(pool.query(images(100 + k, 2)), clone.query(images(100 + k, 2)))
    with pytest.raises(ValueError, match="pool size"):
        ImagePool(6).load_state_dict(pool.state_dict())
