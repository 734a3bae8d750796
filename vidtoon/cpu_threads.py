"""CPU thread settings, chosen once at the command line's entry, before torch (and its OpenMP runtime) loads.

On a busy machine torch's OpenMP threads spin while they wait for each other: with 2 threads on 2 shared cores a
procedural style ran 10× slower than with one (scripts/bench_styles.py notes). `OMP_WAIT_POLICY=PASSIVE` makes
them sleep instead; the OpenMP runtime reads it once, when torch is first imported, so this must run earlier.
`vidtoon restyle clips/sample.mp4 --to toon` went from 301 s to 44-48 s wall at load 5 (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

WAIT_POLICY = "PASSIVE"


def configure_cpu_threads(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set `OMP_WAIT_POLICY=PASSIVE` unless the user set a policy; returns whether it takes effect.

    It takes effect only if torch is not imported yet (the OpenMP runtime reads its settings when it loads); a policy
    already in the environment (the user's choice) is kept. Thread counts stay torch's own (`OMP_NUM_THREADS` wins).
    """
    environ = os.environ if environ is None else environ
    if "torch" in sys.modules:
        log.debug("torch is already imported: OMP_WAIT_POLICY left as it is")
        return False
    environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    return True


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask on Linux, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def shared_cores(translator: Any, environ: MutableMapping[str, str] | None = None) -> Iterator[int | None]:
    """torch's intra-op threads halved while a light CPU model (`translator.light`: a procedural style) runs beside
    the video loop's other threads (decode, the temporal stage, x264); yields the count set (None: left as it was).

    The loop already runs the model and the temporal stage on two threads (`restyle.batches.restyled_batches`), so
    each needs a share of the cores, not all of them. Measured on 2 cores at rest, `vidtoon restyle clips/sample.mp4
    --to toon`, 4 runs each (docs/benchmarks.md): torch on 1 thread 7.0-8.1 s wall / 10.1-11.2 s CPU, on its default
    2 threads 8.8-10.4 s / 12.5-14.6 s. A learned generator is the whole cost of a frame: it keeps every thread. So
    does a user's own `OMP_NUM_THREADS`, and a process that has set fewer threads already (a batch worker).
    """
    environ = os.environ if environ is None else environ
    torch = sys.modules.get("torch")
    device = getattr(translator, "device", None)
    if (
        torch is None
        or not getattr(translator, "light", False)
        or getattr(device, "type", "cpu") != "cpu"
        or "OMP_NUM_THREADS" in environ
        or torch.get_num_threads() < 2
    ):
        yield None
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, before // 2))
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


class SizedPool:
    """A thread pool whose size is chosen at each use (`sized`): None below 2 threads, else a pool of that many
    workers, made anew (the one before shut down) when the count changed. Empty until first used, so an object
    holding one pickles until then."""

    def __init__(self, name: str):
        self.name = name
        self.size = 0
        self._executor: ThreadPoolExecutor | None = None

    def sized(self, threads: int) -> ThreadPoolExecutor | None:
        if threads < 2:
            return None
        if self._executor is None or self.size != threads:
            if self._executor is not None:
                self._executor.shutdown(wait=False)
            self._executor, self.size = ThreadPoolExecutor(threads, thread_name_prefix=self.name), threads
        return self._executor
