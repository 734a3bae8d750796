"""Imported only by the forkserver's preload (`vidtoon.batch.server`, last): its exit skips the interpreter's
teardown.

The forkserver ends when the batch process does (EOF on its pipe) by a normal interpreter shutdown, and with torch
and the pipeline imported that teardown took 5-7 s on a loaded 2-core machine, all the while holding the batch's
stdout and stderr open: a shell pipe (`vidtoon batch … | tee log`) or a caller waiting for the output to close saw
the batch end seconds after it had. The server holds no data of its own (its workers are forked from it and exit
through `os._exit` themselves), so an atexit hook registered after every other import (run first) ends it at once.
"""

from __future__ import annotations

import atexit
import os
import sys


def _exit_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


atexit.register(_exit_now)
