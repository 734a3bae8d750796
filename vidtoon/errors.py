"""The exceptions vidtoon raises. The CLI turns each into one line and exit code 1."""

from __future__ import annotations

from pathlib import Path


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
