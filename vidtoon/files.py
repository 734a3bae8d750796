"""Files written safely: outputs checked before any work starts, written under a temporary name, renamed when done.

Nothing is ever left half-written under the final name, the input is never overwritten, and an
existing output is replaced only when the user asked for it (`force`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from vidtoon.errors import DiskFullError, OutputError
from vidtoon.interrupts import held_signals, output_finished
from vidtoon.locking import OutputLock, check_unlocked, overlong_name, sidecar_name

# errno values that mean "no room": a full disk, a file size limit (RLIMIT_FSIZE, FAT32's 4 GiB), a quota
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def check_output(
    path: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    force: bool = False,
    exists_hint: str = "choose another name with -o, or pass --force to replace it",
) -> Path:
    """Check that `path` may be written; create its parent folder. Returns the path. `exists_hint`: what to do when
    it exists (for commands whose output is not named with -o).

    Raises:
        OutputError: the output is one of the inputs, exists or is a dangling link (without `force`), is a folder,
            its folder cannot be created or written, or another running vidtoon is writing it.
    """
    path = Path(path)
    check_name_length(path)
    check_unlocked(path)  # first: while another run writes it, "exists" or "is a folder" would mislead
    for source in inputs:
        source = Path(source)
        same = path.resolve() == source.resolve() or (path.exists() and source.exists() and os.path.samefile(source, path))
        if same:
            raise OutputError(
                "output is the same file as the input",
                path=path,
                hint="choose another output name with -o; vidtoon never overwrites its input",
            )
    if path.is_dir():
        raise OutputError("output is an existing folder, not a file name", path=path, hint="give a file name such as out.mp4")
    if path.exists() and not force:
        raise OutputError("output already exists", path=path, hint=exists_hint)
    if path.is_symlink() and not path.exists() and not force:  # the link is the user's, replaced by the output
        raise OutputError(f"output is a symbolic link to {os.readlink(path)}, which does not exist", path=path, hint=exists_hint)
    ensure_writable_dir(path.parent)
    return path


def check_name_length(path: str | Path) -> None:
    """Raise OutputError when a part of `path` is longer than a file name may be (NAME_MAX bytes)."""
    overlong = overlong_name(path)
    if overlong is not None:
        raise OutputError(overlong, path=path, hint="choose a shorter name with -o")


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (what a style card records), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is a write that failed for want of room (ENOSPC, EFBIG, EDQUOT), or already said so."""
    return isinstance(exc, DiskFullError) or (isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS)


def bytes_on_disk(*paths: Path) -> int:
    """Total size of the files (and of the files inside the folders) named; missing ones count 0."""
    total = 0
    for path in paths:
        try:
            if path.is_dir():
                total += sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
            elif path.exists():
                total += path.stat().st_size
        except OSError:
            pass
    return total


def ensure_writable_dir(folder: Path, *, hint: str = "choose an output in a folder you can write to with -o") -> None:
    """Create `folder` if needed and prove it writable by creating and removing a file in it. `hint`: what to do when
    it is not (for commands whose output is not named with -o)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".vidtoon-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(
            f"cannot write to this folder ({exc.strerror or exc})",
            path=_named(folder),
            hint=hint,
        ) from None


def _named(folder: Path) -> Path:
    """`folder` as an error names it: the current folder by its path (". : cannot write" says nothing)."""
    try:
        return Path.cwd() if folder == Path(".") else folder
    except OSError:  # the current folder was deleted
        return folder


class AtomicFile:
    """A temporary file beside `target` that becomes `target` on `commit()`, or vanishes on `abort()`.

    The temporary name keeps the target's suffix so tools that look at it still see the format. As a
    context manager it commits when the block ends normally and aborts on any exception (Ctrl-C too):

        with AtomicFile(path) as staged:
            write_image(staged.path, rgb)

    While it exists it holds the target's `OutputLock` (a second process writing the same target is
    refused); `lock=False` for files whose folder is already owned by one job (segments, their lists).
    Taking the lock, it removes the temporary files a killed writer of the same target left (SIGKILL, power loss).
    """

    def __init__(self, target: Path, *, lock: bool = True):
        self.target = Path(target)
        self._lock = OutputLock(self.target).acquire() if lock else None
        try:
            suffix = self.target.suffix
            prefix = sidecar_name(".", self.target.stem, ".partial-", reserve=len(os.fsencode(suffix)) + 8)  # 8 random
            if self._lock is not None:  # ours alone now: what a killed writer of this target left goes
                for stale in self.target.parent.glob(glob.escape(prefix) + "?" * 8 + glob.escape(suffix)):
                    stale.unlink(missing_ok=True)
            fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=prefix, suffix=suffix)
        except BaseException:
            self._release()
            raise
        os.close(fd)
        self.path = Path(name)  # mkstemp makes it 0600: `commit` gives the finished file the usual mode

    def commit(self, *, final: bool = False) -> Path:
        """Move the temporary file onto the target, with the mode a new file gets under the umask (0644 under 022):
        writers that replace the temporary file (safetensors, the ONNX exporter) leave it 0600.

        A signal cannot cut the move in two (the rename done, the lock not released, or the lock released and the
        temporary file left): one that arrives meanwhile is delivered once the move is over. `final`: the target is
        the command's finished output, recorded as such (`interrupts.output_finished`) in the same step as the move,
        so the command line lets the command finish from there on."""
        with held_signals():
            try:
                os.chmod(self.path, 0o666 & ~_umask())
                os.replace(self.path, self.target)
                if final:
                    output_finished(self.target)
            finally:
                self._release()
        return self.target

    def abort(self) -> None:
        self.path.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def write_atomic(path: Path, write, *, resumable: bool = False, final: bool = False) -> Path:
    """Call `write(temporary_path)` and move the result to `path` (a reader never sees half a file); `final`: `path` is
    the command's own output (`AtomicFile.commit`).

    Raises:
        DiskFullError: `write` ran out of room (ENOSPC, EFBIG, EDQUOT); `path` keeps its old content.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = AtomicFile(path)
    try:
        write(staged.path)
    except BaseException as exc:
        written = max(bytes_on_disk(staged.path), getattr(exc, "written", 0))
        staged.abort()
        if is_disk_full(exc):
            raise DiskFullError(path, written=written, resumable=resumable) from None
        raise
    staged.commit(final=final)
    return path


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (setting it is process-wide, threads too)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


_STAGING_PREFIX = ".vidtoon-partial-"


class StagingDir:
    """A hidden folder inside `folder` whose files move into `folder` on `commit()`.

    Used for frame folders: either every new file appears, or none does. While it exists it holds
    the folder's `OutputLock` (`folder/.vidtoon.lock`); taking it, it removes the staging folders a killed
    writer of the same folder left (SIGKILL, power loss), as `AtomicFile` does its temporary files.
    """

    def __init__(self, folder: Path, *, make: bool = False):
        """`make`: create `folder` (and its parents) when it does not exist, checked writable; `abort` then removes it
        again if it is empty, so a failed run leaves no empty folder to refuse the next one as existing."""
        self.folder = Path(folder)
        self._made = make and not self.folder.exists()
        if make:
            ensure_writable_dir(self.folder)
        self._lock = OutputLock(self.folder, folder=True).acquire()
        try:
            for stale in self.folder.glob(_STAGING_PREFIX + "*"):  # the folder is ours alone now
                shutil.rmtree(stale, ignore_errors=True)
            self.path = Path(tempfile.mkdtemp(dir=self.folder, prefix=_STAGING_PREFIX))
        except BaseException:
            self._lock.release()
            raise
        os.chmod(self.path, 0o777 & ~_umask())

    def commit(self, *, final: bool = False) -> list[Path]:
        """Move the staged files into the folder, a signal held until all are in (as `AtomicFile.commit`); `final`:
        the folder is the command's finished output, recorded as such (`interrupts.output_finished`) in that step."""
        moved = []
        with held_signals():
            try:
                for item in sorted(self.path.iterdir()):
                    destination = self.folder / item.name
                    os.replace(item, destination)
                    moved.append(destination)
                self.path.rmdir()
                if final:
                    output_finished(self.folder)
            finally:
                self._lock.release()
        return moved

    def fail(self, exc: BaseException) -> None:
        """`abort()` after `exc`; a full disk is raised again as a `DiskFullError` of the folder with what had been
        written (not of a file inside the hidden staging folder). Any other `exc` is the caller's to raise."""
        written = bytes_on_disk(self.path)
        self.abort()
        if is_disk_full(exc):
            raise DiskFullError(self.folder, written=written) from None

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self._lock.release()
        if self._made:
            with contextlib.suppress(OSError):  # not empty: something else was written there meanwhile
                self.folder.rmdir()
