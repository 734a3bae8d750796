"""The `vidtoon` command line: a thin Typer layer over the Python API.

`app` (in `vidtoon.cli.app`) holds the one error boundary; each module below adds one group of
commands to it and holds no logic beyond turning flags into an API call.
"""

import sys

from vidtoon.cli import animate, batch, consistency, media, restyle, train  # noqa: F401  (add their commands to the app)
from vidtoon.cli.app import app, err_console
from vidtoon.cli.progress import RichProgress

__all__ = ["RichProgress", "app", "run"]


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]: nothing was written under the output name")
        sys.exit(130)
