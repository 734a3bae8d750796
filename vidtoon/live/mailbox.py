"""`Mailbox`: a one-slot hand-over between threads that keeps only the newest item.

A live input cannot wait for a slow consumer (the camera does not pause) and must not queue without bound (the
latency would grow for ever): when a new item arrives before the last one was taken, the old one is dropped and
counted.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Closed(Exception):
    """The mailbox was closed and is empty: nothing more will come."""


class Mailbox(Generic[T]):
    """The newest item put, for one taker; `dropped` counts the items replaced before they were taken."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._full = False
        self._closed = False
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, item: T) -> None:
        """Leave `item`, replacing (and counting as dropped) one not yet taken.

        Raises:
            Closed: the mailbox was closed.
        """
        with self._ready:
            if self._closed:
                raise Closed
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self._ready.notify()

    def take(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout` seconds for one (None: none came in time).

        Raises:
            Closed: the mailbox is closed and empty.
        """
        with self._ready:
            if not self._ready.wait_for(lambda: self._full or self._closed, timeout):
                return None
            if not self._full:
                raise Closed
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """No more items: a taker gets what is left, then `Closed`."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
