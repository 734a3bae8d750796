"""Bounded background iteration (the decode and encode threads of every pipeline), and sequences read in step."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from itertools import count
from typing import TypeVar

from vidtoon.errors import InputError

T = TypeVar("T")

_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate `items` in a background thread, at most `depth` items ahead of the consumer.

    Memory stays bounded by `depth`; an exception in the producer is re-raised in the consumer
    at the point it happened; when the consumer stops early, the producer stops too.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(_Failure(exc))
            return
        put(_END)

    worker = threading.Thread(target=produce, name="vidtoon-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


class BackgroundSink:
    """Hands items to `consume` on a background thread through a queue of at most `depth` items.

    The encode thread of every pipeline. An exception in `consume` is re-raised in the producer at
    its next `put` or at `close()`; leaving the `with` block waits for the queue to drain (or, on
    an exception, stops the consumer without draining).
    """

    def __init__(self, consume, depth: int = 8):
        self._consume = consume
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidtoon-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END or self._abort.is_set():
                return
            try:
                self._consume(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the producer
                self._failure = exc
                self._abort.set()
                return

    def put(self, item) -> None:
        """Queue `item` (blocks while the queue is full); raises the consumer's exception if it failed."""
        while True:
            if self._failure is not None:
                raise self._failure
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait until every queued item is consumed; raises the consumer's exception if it failed."""
        self.put(_END)
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def abort(self) -> None:
        """Stop the consumer without finishing the queue."""
        self._abort.set()
        try:
            self._queue.put_nowait(_END)
        except queue.Full:
            pass
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def zip_in_step(*sequences: Iterable[T]) -> Iterator[tuple[T, ...]]:
    """zip() over frame sequences that raises InputError when they end at different frames (reads each in step)."""
    end = object()
    iterators = [iter(sequence) for sequence in sequences]
    for index in count():
        items = [next(iterator, end) for iterator in iterators]
        ended = [item is end for item in items]
        if all(ended):
            return
        if any(ended):
            raise InputError(
                f"the sequences differ in length: sequence {ended.index(True)} ended after {index} frames, "
                f"sequence {ended.index(False)} goes on",
                hint="compare sequences with the same number of frames",
            )
        yield tuple(items)
