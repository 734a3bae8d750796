import threading

import pytest

from vidtoon.streaming import prefetch


def test_prefetch_keeps_order_and_items():
    assert list(prefetch(range(100), depth=3)) == list(range(100))


def test_prefetch_reraises_producer_errors_in_place():
    def items():
        yield 1
        yield 2
        raise RuntimeError("decoder broke")

    seen = []
    with pytest.raises(RuntimeError, match="decoder broke"):
        for item in prefetch(items(), depth=2):
            seen.append(item)
    assert seen == [1, 2]


def test_prefetch_stays_bounded_and_stops_with_consumer():
    produced = []

    def items():
        for i in range(10_000):
            produced.append(i)
            yield i

    stream = prefetch(items(), depth=4)
    assert next(stream) == 0
    stream.close()
    count = len(produced)
    assert count <= 4 + 2  # the queue plus one in hand on each side
    assert not any(t.name == "vidtoon-prefetch" and t.is_alive() for t in threading.enumerate())
