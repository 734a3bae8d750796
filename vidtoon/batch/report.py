"""What a batch did: one `JobResult` per job, gathered in a `BatchReport` that is written as `batch-report.json`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vidtoon.files import write_atomic

REPORT_NAME = "batch-report.json"
STATUSES = ("done", "failed", "skipped")


@dataclass(frozen=True)
class JobResult:
    """How one job ended.

    Attributes:
        number: the job's place in the list, from 1.
        source, output: paths as strings.
        status: "done", "failed" or "skipped".
        frames: frames in the output (a resumed job counts its earlier segments too); None when unknown.
        seconds: wall time of this run of the job (0 for a skipped one).
        fps: frames per second of this run (None when nothing ran).
        error: the error line of a failed job, or why a job was skipped.
        style: the style's name.
        made_with: what made the output (`vidtoon.batch.check.Job.made_with`: style, model identity, the options that
            change pixels, the source's size) for a job done, or skipped as done in an earlier run (the batch driver
            fills it in); None otherwise. A later run counts the job done only while this still matches.
    """

    number: int
    source: str
    output: str
    status: str
    frames: int | None = None
    seconds: float = 0.0
    fps: float | None = None
    error: str | None = None
    style: str | None = None
    made_with: dict[str, Any] | None = None


@dataclass
class BatchReport:
    """Every job's result (in job-list order), the worker count and the batch's wall time."""

    jobs: list[JobResult] = field(default_factory=list)
    workers: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no job failed (skipped ones count as fine)."""
        return all(job.status != "failed" for job in self.jobs)

    def count(self, status: str) -> int:
        return sum(job.status == status for job in self.jobs)

    def to_json(self) -> str:
        data = {
            "ok": self.ok,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "counts": {status: self.count(status) for status in STATUSES},
            "jobs": [asdict(job) for job in self.jobs],
        }
        return json.dumps(data, indent=2) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the report as JSON, atomically (a reader never sees half of it)."""
        text = self.to_json()
        return write_atomic(Path(path), lambda staged: staged.write_text(text))


def read_previous(path: str | Path) -> dict[tuple[str, str], JobResult]:
    """The results of an earlier run's report, keyed by (source, output) resolved; {} when there is none (or unreadable)."""
    try:
        data = json.loads(Path(path).read_text())
        results = [JobResult(**job) for job in data["jobs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {(str(Path(r.source).resolve()), str(Path(r.output).resolve())): r for r in results}


def job_result(job: Any, status: str, *, frames: int | None = None, seconds: float = 0.0, error: str | None = None) -> JobResult:
    """The `JobResult` of a checked `Job` (`vidtoon.batch.check`), its fps from `frames` and `seconds`."""
    fps = frames / seconds if frames and seconds > 0 else None
    return JobResult(
        job.number, str(job.source), str(job.output), status, frames, round(seconds, 3), fps and round(fps, 2), error, job.style
    )
