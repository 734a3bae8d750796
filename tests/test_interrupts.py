"""`held_signals`: a stop signal that arrives during a rename waits for it, then reaches the handlers there were before:
every signal that came, once each, in the order they came."""

from __future__ import annotations

import signal

import pytest

from vidtoon.interrupts import held_signals


@pytest.fixture
def handlers():
    """SIGINT's and SIGTERM's handlers put back after the test."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_each_held_signal_is_sent_again_once_in_the_order_it_came(handlers):
    arrived = []

    def mine(signum, frame):
        arrived.append(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, mine)
    signal.signal(signal.SIGTERM, mine)
    with held_signals():
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGTERM):  # a kill, a Ctrl-C, the kill again
            signal.raise_signal(s)
        assert arrived == []  # held
    assert arrived == ["SIGTERM", "SIGINT"]
    assert signal.getsignal(signal.SIGINT) is mine and signal.getsignal(signal.SIGTERM) is mine


def test_a_handler_that_raises_does_not_keep_the_next_signal_from_its_handler(handlers):
    arrived = []
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own: KeyboardInterrupt
    signal.signal(signal.SIGTERM, lambda signum, frame: arrived.append(signum))
    with pytest.raises(KeyboardInterrupt):
        with held_signals():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)
    assert arrived == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
