"""The exceptions vidtoon raises. The CLI turns each into one line and exit code 1."""

from __future__ import annotations

import signal
from pathlib import Path

from vidtoon.interrupts import cause


class VidtoonError(Exception):
    """Base of every error vidtoon raises on purpose.

    Args:
        what: what went wrong, in words a user understands.
        path: the file or folder it concerns, if any.
        hint: what the user can do about it.
    """

    def __init__(self, what: str, *, path: str | Path | None = None, hint: str | None = None):
        self.what = what
        self.path = Path(path) if path is not None else None
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.path}: {self.what}" if self.path is not None else self.what
        return f"{text} — {self.hint}" if self.hint else text


class InputError(VidtoonError):
    """An input file or folder is missing, unreadable or not what was expected."""


class DecodeError(InputError):
    """A frame could not be decoded; names the frame index and its timestamp."""


class OutputError(VidtoonError):
    """The output cannot be written where asked (exists, is the input, not writable)."""


class EncodeError(VidtoonError):
    """The encoder or muxer failed while writing the output."""


class UsageError(VidtoonError):
    """An option value is invalid (a frame rate of zero, a malformed size, ...)."""


class DiskFullError(OutputError):
    """The disk (or a file size limit) ran out while writing; what was finished is kept when the run can resume.

    Args:
        output: the output the user asked for.
        written: bytes written to it (or its parts) when the write failed.
        resumable: whether finished parts were kept for `--resume`.
    """

    def __init__(self, output: str | Path, *, written: int = 0, resumable: bool = False):
        self.written = written
        self.resumable = resumable
        super().__init__(
            f"disk full while writing {output} ({written / 1e6:.1f} MB written)",
            path=output,
            hint="free space and run again with --resume" if resumable else "free space and run again",
        )

    @property
    def message(self) -> str:
        return f"{self.what}: {self.hint}"


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT: Ctrl-C, SIGTERM, SIGHUP: the terminal closed); the CLI exits with
    128 + the signal number. The message names SIGHUP (its run's terminal is gone: a log is where it is read).

    Args:
        signum: the signal that stopped the run.
        kept: what was kept for a later `--resume` (e.g. "3 segments kept"), or None when nothing was.
        again: the flags that continue the run ("--resume --force" when an older output is still to be replaced).
    """

    def __init__(self, signum: int, kept: str | None = None, again: str = "--resume"):
        self.signum = signum
        self.kept = kept
        self.again = again
        super().__init__(signum)

    def __str__(self) -> str:
        return self.message  # what a notebook's traceback shows, not the bare signal number

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def message(self) -> str:
        if self.kept:
            return f"{self.said}: {self.kept}; run again with {self.again}"
        return f"{self.said}: nothing was written under the output name"

    @property
    def said(self) -> str:
        """ "interrupted", or "interrupted by SIGHUP (terminal closed)" for a signal other than Ctrl-C and SIGTERM."""
        return interrupted_by(self.signum)


def interrupted_by(signum: int) -> str:
    """How a message starts that says the run was stopped by `signum` (Ctrl-C and SIGTERM: plain "interrupted")."""
    return "interrupted" if signum in (signal.SIGINT, signal.SIGTERM) else f"interrupted by {cause(signum)}"
