"""The CLI's progress bar (Rich) behind the library's `Progress` protocol."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vidtoon.cli.app import err_console


class _RateColumn(TextColumn):
    """Items per second, e.g. "41.3 fps"."""

    def __init__(self, unit: str):
        super().__init__("")
        self.unit = unit

    def render(self, task):
        speed = task.finished_speed or task.speed
        return f"{speed:6.1f} {self.unit}" if speed else f"   ... {self.unit}"


class RichProgress:
    """The CLI's progress bar (count, rate, elapsed, ETA; optionally the latest metrics) behind the library's `Progress` protocol."""

    def __init__(self, unit: str = "fps", console: Console | None = None, *, show_metrics: bool = False):
        console = console or err_console
        columns = [
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(unit),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        ]
        if show_metrics:
            columns.append(TextColumn("{task.fields[metrics]}"))
        self._bar = Progress(*columns, console=console, transient=False, disable=not console.is_terminal)
        self._task = None

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def start(self, total: int | None, description: str, completed: int = 0) -> None:
        """A job of `total` steps begins, `completed` of them done already (a resumed run: not counted in the rate)."""
        self._task = self._bar.add_task(description, total=total, completed=completed, metrics="")

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, steps)

    def metrics(self, values: dict[str, float]) -> None:
        """Show the latest values (e.g. losses) beside the bar."""
        if self._task is not None:
            self._bar.update(self._task, metrics=" ".join(f"{k} {v:.3g}" for k, v in values.items()))
