"""The Typer app, its one error boundary, and the options every command that writes a video shares.

Every `VidtoonError` raised by any command (or sub-command) is caught in one place, `_Commands.invoke`:
one red `error:` line naming the file and what to do, exit code 1 (`-v` adds the traceback). A write
that fails for want of room, from any layer, becomes the same one "disk full" line; a name longer than a file
system takes, one line too. SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed; not under `nohup`) stop a run
through `Interrupted` (see `install_signal_handlers`): the library's cleanup runs (temporary files removed, encoders
and threads stopped, finished segments kept), one line says what was kept, and the exit code is 130, 143 or 129.
A flag the command line parser refuses (not a number, unknown, missing) is one line too, exit code 2.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from typer._click.exceptions import UsageError as FlagError  # typer's own click: a flag it could not parse
from typer.core import TyperGroup

from vidtoon.cpu_threads import configure_cpu_threads
from vidtoon.errors import DiskFullError, Interrupted, VidtoonError
from vidtoon.interrupts import finished_outputs, stop_signals
from vidtoon.version import __version__

err_console = Console(stderr=True)
PIPE_WIDTH = 1000  # columns a table may take in a pipe or a file: none of its cells cut short ("…") or wrapped


def table_console() -> Console:
    """The console the commands print their tables on: the terminal's width; in a pipe or a file (no terminal, no
    $COLUMNS), wide enough that every cell is printed whole, so a log keeps each path and number."""
    console = Console()
    return console if console.is_terminal or os.environ.get("COLUMNS") else Console(width=PIPE_WIDTH)


_state = {"verbose": False}


# `vidtoon --help` lists the commands in this order (what most users came for first); any other after them
COMMAND_ORDER = (
    "restyle",
    "styles",
    "stitch",
    "animate",
    "batch",
    "live",
    "compare",
    "stabilize",
    "eval",
    "probe",
    "frames",
    "train",
    "export",
    "prep",
)


class _Commands(TyperGroup):
    """The root command group: the error boundary for every command below it."""

    def list_commands(self, ctx) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: COMMAND_ORDER.index(name) if name in COMMAND_ORDER else len(COMMAND_ORDER))

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except VidtoonError as exc:
            _say_error(exc.message)
            raise typer.Exit(code=1) from None
        except OSError as exc:  # a write deep inside a library that ran out of room, or a name no file system takes
            from vidtoon.files import is_disk_full
            from vidtoon.locking import NAME_MAX

            if exc.errno == errno.ENAMETOOLONG:
                _say_error(f"{exc.filename}: {exc.strerror} (a file name may have at most {NAME_MAX} bytes) — use a shorter name")
                raise typer.Exit(code=1) from None
            if not is_disk_full(exc):
                raise
            _say_error(DiskFullError(exc.filename or "the output").message)
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt as exc:
            if not isinstance(exc, Interrupted):
                exc = Interrupted(signal.SIGINT)
            if _state["verbose"]:
                err_console.print_exception()
            err_console.print(f"[bold red]{escape(exc.message)}[/]", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(code=exc.exit_code) from None
        except FlagError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "vidtoon"
            _say_error(f"{' '.join(exc.format_message().split())} — see `{command} --help`")
            raise typer.Exit(code=exc.exit_code) from None


def _say_error(message: str) -> None:
    if _state["verbose"]:
        err_console.print_exception()
    err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


def install_signal_handlers() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise `Interrupted` in the main thread, so every `with`/`finally` cleans up.

    SIGHUP (an SSH session dropped, a terminal closed) stops a run as SIGTERM does (exit 129); where it is ignored
    when the command starts (`nohup`), it stays ignored and the run goes on. A second signal during that cleanup ends
    the process at once (exit 128 + signal), for a user who does not want to wait. Once the command's output is in
    its final name (`interrupts.output_finished`) a signal no longer stops it: the command finishes, says what it
    wrote and exits 0, so a finished output is never reported as "nothing was written".
    """
    if threading.current_thread() is not threading.main_thread():
        return
    signums = stop_signals()  # SIGHUP only where it is not ignored: decided once, before any handler is ours

    def leave_now(signum, frame):
        os._exit(128 + signum)

    def interrupt(signum, frame):
        if finished_outputs():
            return  # the output is complete: what is left is the command's report
        for s in signums:
            signal.signal(s, leave_now)
        raise Interrupted(signum)

    default_hook = sys.unraisablehook

    def unraisable(info) -> None:
        """A signal that lands while Python runs a finalizer (a weakref callback, a `__del__`) cannot stop the run from
        there: Python would print "Exception ignored in ..." and go on. Deliver it again, to land in the run itself."""
        if isinstance(info.exc_value, Interrupted):
            for s in signums:
                signal.signal(s, interrupt)
            os.kill(os.getpid(), info.exc_value.signum)
            return
        default_hook(info)

    sys.unraisablehook = unraisable
    for s in signums:
        signal.signal(s, interrupt)


app = typer.Typer(
    name="vidtoon",
    cls=_Commands,
    help="Turn real footage into animation: restyle films without flicker, animate a still face, train your own styles, stitch and extract frames.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vidtoon {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs and full tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """vidtoon: film restyling that keeps length, timing and sound."""
    configure_cpu_threads()  # before any command imports torch
    _state["verbose"] = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_time=False, show_path=verbose, markup=False)],
        force=True,
    )
    for noisy in ("libav", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


# Options shared by every command that writes a video.
CrfOption = Annotated[  # commands whose video has a fixed default preset (compare, stabilize, stitch, animate)
    int | None, typer.Option("--crf", help="Quality, lower is better: H.264 0-51 (default 18), VP9 0-63 (default 31).")
]
AutoCrfOption = Annotated[  # commands that leave the preset to `EncodeOptions.x264_settings` (restyle, batch)
    int | None,
    typer.Option(
        "--crf",
        help="Quality, lower is better: H.264 0-51 (default 17 at preset faster when neither --crf nor --preset is "
        "given, else 18), VP9 0-63 (default 31).",
    ),
]
PresetOption = Annotated[
    str | None,
    typer.Option(  # commands that always write a video (stitch, animate); None: their own default, for x264 only
        "--preset", help="x264 speed preset: ultrafast … veryslow (default medium; not for .webm or .gif)."
    ),
]
PixFmtOption = Annotated[
    str | None, typer.Option("--pix-fmt", help="Output pixel format (default yuv420p; yuv444p keeps odd sizes).")
]
ForceOption = Annotated[bool, typer.Option("--force", "-f", help="Replace the output if it exists.")]
ResumeOption = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run of the same output.")]
OnCorruptOption = Annotated[
    str,
    typer.Option(
        "--on-corrupt", help="A frame that fails to decode: stop (name it) or conceal (repeat the previous good frame)."
    ),
]
MaxPixelsOption = Annotated[
    int,
    typer.Option(
        "--max-pixels", min=1, help="Refuse pictures larger than this many pixels, from their header (default 100 megapixels)."
    ),
]


def encode_options(crf: int | None, preset: str | None, pix_fmt: str | None):
    """The encoder flags as `EncodeOptions`."""
    from vidtoon.io.formats import EncodeOptions  # not through the writer: no PyAV for checking flags

    return EncodeOptions(crf=crf, preset=preset, pix_fmt=pix_fmt)


def done(message: str) -> None:
    """The one line a finished command prints (stderr, like the progress bar): as written, file names in it too (no
    markup: "take [b].mp4" keeps its brackets; not wrapped: a long path stays one line in a pipe or a narrow terminal)."""
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)
