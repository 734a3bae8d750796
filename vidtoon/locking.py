"""Output locks: one process at a time writes an output; a second run writing the same output is refused.

The lock is `fcntl.flock` on a lock file beside the output (`out.mp4.lock`; inside the folder for folder
outputs: `frames/.vidtoon.lock`). The kernel drops a flock when its process dies, so the lock of a
crashed or killed run is stale by construction and the next run takes it over without guessing; the
file holds the writer's pid, start time, host and command only so the refusal can name them.

flock belongs to an open file, not a process: a second `open` + `flock` in the same process would
block itself. Locks held by this process are therefore counted in `_HELD` (the one piece of process
state here, like an open-file table) and taken again without touching the file.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import sys
import time
from pathlib import Path

from vidtoon.errors import OutputError

FOLDER_LOCK = ".vidtoon.lock"
NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs, APFS)

_HELD: dict[Path, list[int]] = {}  # lock file -> [file descriptor, times taken] for locks this process holds


def lock_path_for(target: Path, *, folder: bool = False) -> Path:
    """The lock file of `target`: `target.lock` beside a file, `target/.vidtoon.lock` inside a folder."""
    target = Path(target).absolute()
    return target / FOLDER_LOCK if folder else target.with_name(sidecar_name("", target.name, ".lock"))


def overlong_name(path: str | Path) -> str | None:
    """What is wrong when a part of `path` is longer than NAME_MAX bytes (no file system takes it: every use of it
    fails), as an error says it ("its name is 300 bytes, more than the 255 ..."), or None."""
    part = next((part for part in Path(path).parts if len(os.fsencode(part)) > NAME_MAX), None)
    if part is None:
        return None
    which = "its name" if part == Path(path).name else "a folder name"
    return f"{which} is {len(os.fsencode(part))} bytes, more than the {NAME_MAX} a file name may have"


def sidecar_name(prefix: str, name: str, suffix: str, *, reserve: int = 0) -> str:
    """`prefix + name + suffix`: the name of a file vidtoon keeps beside `name` (its lock, its temporary, its parts).
    Where that would pass NAME_MAX bytes (with `reserve` more for the caller to add), `name` is cut and a hash of it
    added, so an output whose own name is near the limit still gets one, and two such outputs get different ones."""
    room = NAME_MAX - reserve - len(os.fsencode(prefix + suffix))
    if len(os.fsencode(name)) <= room:
        return prefix + name + suffix
    digest = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    short = name
    while short and len(os.fsencode(short + digest)) > room:
        short = short[:-1]
    return prefix + short + digest + suffix


class OutputLock:
    """An exclusive lock on writing `target`, taken by `acquire()` (or `with`), given up by `release()`.

    Re-entrant within one process. The lock file is removed when the last holder in this process
    releases it.

    Raises (from `acquire`):
        OutputError: another running process holds the lock; the message names it.
    """

    def __init__(self, target: str | Path, *, folder: bool = False):
        self.target = Path(target)
        self.path = lock_path_for(self.target, folder=folder)
        self._held = False

    def acquire(self) -> OutputLock:
        if self._held:
            return self
        held = _HELD.get(self.path)
        if held is not None:
            held[1] += 1
            self._held = True
            return self
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError as exc:
                raise OutputError(
                    f"cannot create the lock file {self.path.name} ({exc.strerror or exc})",
                    path=self.target,
                    hint="choose an output in a folder you can write to with -o",
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise busy_error(self.target, self.path) from None
                raise
            try:  # the holder we waited on may have removed the file between our open and flock: start again
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        _write_holder(fd)
        _HELD[self.path] = [fd, 1]
        self._held = True
        return self

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        held = _HELD.get(self.path)
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            del _HELD[self.path]
            self.path.unlink(missing_ok=True)  # while still locked: a waiting process then sees a new file
            os.close(held[0])

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.release()


def check_unlocked(target: str | Path, *, folder: bool = False) -> None:
    """Refuse at once when another running process is writing `target` (takes no lock, creates nothing).

    Raises:
        OutputError: naming the process that holds the lock.
    """
    path = lock_path_for(Path(target), folder=folder)
    if path in _HELD:
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # no lock file (or unreadable: acquiring will say so)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise busy_error(Path(target), path) from None
    finally:
        os.close(fd)


def busy_error(target: Path, lock_file: Path) -> OutputError:
    """The refusal of a second writer: who holds the lock and what to do."""
    holder = read_holder(lock_file)
    if holder:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
        host = holder.get("host")
        who = f"process {holder.get('pid', '?')} (started {started}{f' on {host}' if host else ''})"
    else:
        who = "another process"
    return OutputError(
        f"{target} is being written by {who}",
        hint=f"wait for it or remove {lock_file} if it is not running",
    )


def read_holder(lock_file: Path) -> dict:
    """What the lock file says of its holder (pid, started, host, command); {} if unreadable."""
    try:
        holder = json.loads(Path(lock_file).read_text())
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _write_holder(fd: int) -> None:
    holder = {"pid": os.getpid(), "started": time.time(), "host": socket.gethostname(), "command": " ".join(sys.argv)}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, the message just cannot name us
