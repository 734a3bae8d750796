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
from collections.abc import MutableMapping

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
