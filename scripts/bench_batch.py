#!/usr/bin/env python
"""Benchmark `vidtoon batch`: local mode's worker processes (and, with --ray, Ray actors) against the same jobs run
one after another.

The jobs: 4 short clips from $VIDTOON_TEST_MEDIA (default ../shared/clips), the first `--seconds` (default 4 s) of
each at their own size class (processing height 360: 640x360, 512x512, 768x576, 720x528 sources), style `sketch`
(procedural: no weights to load), temporal consistency on (DIS flow), x264 veryfast: 356 frames at 4 s. Short
enough for a ~5-minute benchmark on 2 loaded cores, long enough that the jobs, not the start-up, are most of a run.

Every row runs in a fresh process (as a user runs it), timed from outside: wall time until that process exits, and
CPU time (user + sys) of the whole process tree (this script is a child subreaper: the forkserver, its workers and
Ray's daemons are reaped here and counted).

    sequential, CLI        `vidtoon restyle SRC -o OUT ...` for each clip, one after another: what a user does without
                           `batch` (each run imports torch). THE BASELINE OF THE TARGET: the target compares what a
                           user types, both with their start-up.
    sequential, 1 process  one Python process: import, load the style once, `vidtoon.restyle` each job in turn
                           (torch's own thread count: every core for one job). The strict baseline: one start-up.
    batch, CLI             `vidtoon batch jobs.yaml --workers N`.
    batch, 1 process       one Python process calling `vidtoon.batch(jobs, workers=N)`.
    ray, CLI               (--ray) `vidtoon batch jobs.yaml --workers N --ray local`: a Ray cluster started and
                           stopped by the batch (its start included).
    ray, 1 process         (--ray) one process: `ray.init` (the cluster start, shown apart), then
                           `vidtoon.batch(jobs, workers=N, ray_address="auto")` on that running cluster: the actors'
                           start and the jobs. Compared with "batch, 1 process" without the cluster start (a Ray user
                           keeps a cluster up; `ray start --head` once).

Phases from inside the 1-process rows: `start-up` = process start (sequential: also the style load) until the first
job started; `jobs` = first job started .. last finished (what a long batch approaches); the rest is the exit.

    --film   also one longer film (smpte-2997.mp4, 1080p, keyframes every 0.6 s, its first 6 s) through the CLI:
             `vidtoon restyle` against `vidtoon batch` with N workers cutting it into 3-s chunks at keyframes.

Goals from the issue (#16): batch with 2 workers <= 0.6 x sequential; Ray <= 1.15 x local mode for the same jobs.
On a shared 2-core machine the rows fight other work for the same two cores: compare within one run (--repeat
takes turns), and look at the load average printed with the table.

Run from the repository root (outputs go to a temporary folder that is removed at the end):

    .venv/bin/python scripts/bench_batch.py                  # 2 workers, 1 repeat
    .venv/bin/python scripts/bench_batch.py --ray --repeat 2
    .venv/bin/python scripts/bench_batch.py --seconds 8 --film

This script is a tool for developers; the vidtoon package never imports it.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIPS = ("chaplin.mp4", "talking_head_d3.mp4", "vtest.avi", "Megamind.avi")
SETTINGS = {"to": "sketch", "height": 360, "preset": "veryfast"}
FILM = "smpte-2997.mp4"
PR_SET_CHILD_SUBREAPER = 36
REAP_SECONDS = 60.0  # the longest wait for a run's orphans (a forkserver, Ray's daemons) to end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=4.0, help="the first N seconds of each clip")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each row, taking turns (best and median shown)")
    parser.add_argument("--ray", action="store_true", help="also the Ray rows (needs vidtoon[ray])")
    parser.add_argument("--film", action="store_true", help="also one film, sequential and chunked")
    parser.add_argument(
        "--only-batch", action="store_true", help="only the rows of `batch` (local, and Ray with --ray): no sequential baselines"
    )
    parser.add_argument("--inner", help=argparse.SUPPRESS)  # one 1-process row, run by the benchmark itself
    parser.add_argument("--jobs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _inner(args.inner, args.jobs, args.result, args.workers)
        return
    media = Path(os.environ.get("VIDTOON_TEST_MEDIA", Path(__file__).resolve().parent.parent.parent / "shared" / "clips"))
    sources = [media / name for name in (*CLIPS, FILM)]
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        sys.exit(f"missing clips: {', '.join(missing)} (set VIDTOON_TEST_MEDIA)")
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("cannot become a child subreaper: the workers' CPU time would be lost")
    cli = [str(Path(sys.executable).with_name("vidtoon"))]
    if not Path(cli[0]).exists():
        cli = [sys.executable, "-m", "vidtoon"]
    n = args.workers
    rows = {name: [] for name in _row_names(n, args.ray, args.only_batch)}
    film_rows: dict[str, list] = {"1 film, restyle CLI": [], f"1 film, batch CLI, {n} workers, chunked": []}
    frames = film_frames = 0
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for run in range(args.repeat):
            out = Path(tmp) / f"run{run}"
            jobs = _job_list(out, sources[:-1], args.seconds)
            frames = _frames(jobs)
            if not args.only_batch:
                seq_cli = [
                    _measure([*cli, "restyle", j["source"], "-o", j["output"] + ".cli.mp4", *_flags(args.seconds)])
                    for j in jobs["jobs"]
                ]
                rows["sequential, CLI"].append(_sum(seq_cli))
                rows["sequential, 1 process"].append(_inner_row("sequential", out, jobs, n))
            rows[f"batch CLI, {n} workers"].append(_measure([*cli, "batch", str(_write(out / "b", jobs)), "--workers", str(n)]))
            rows[f"batch, 1 process, {n} workers"].append(_inner_row("batch", out, jobs, n))
            if args.ray:
                ray_cli = [*cli, "batch", str(_write(out / "r", jobs)), "--workers", str(n), "--ray", "local"]
                rows[f"ray CLI, {n} actors"].append(_measure(ray_cli))
                rows[f"ray, 1 process, {n} actors"].append(_inner_row("ray", out, jobs, n))
            if args.film:
                film = {"source": str(sources[-1]), "output": str(out / "film.mp4"), **SETTINGS, "end": 6}
                film_rows["1 film, restyle CLI"].append(
                    _measure([*cli, "restyle", film["source"], "-o", film["output"], *_flags(6)])
                )
                film_list = _write(
                    out / "f", {"defaults": {**SETTINGS, "end": 6}, "jobs": [{**film, "output": str(out / "fb.mp4")}]}
                )
                film_rows[f"1 film, batch CLI, {n} workers, chunked"].append(
                    _measure([*cli, "batch", str(film_list), "--workers", str(n), "--chunk-seconds", "3"])
                )
                film_frames = _count(out / "f" / "fb.mp4")  # `_write` puts the outputs beside the list
            shutil.rmtree(out, ignore_errors=True)
    _print(rows, frames, args, film_rows, film_frames)


def _row_names(n: int, ray: bool, only_batch: bool) -> list[str]:
    names = [] if only_batch else ["sequential, CLI", "sequential, 1 process"]
    names += [f"batch CLI, {n} workers", f"batch, 1 process, {n} workers"]
    return names + ([f"ray CLI, {n} actors", f"ray, 1 process, {n} actors"] if ray else [])


def _job_list(out: Path, sources: list[Path], seconds: float) -> dict:
    jobs = [{"source": str(s), "output": str(out / f"{s.stem}.mp4")} for s in sources]
    return {"defaults": {**SETTINGS, "end": seconds}, "jobs": jobs}


def _flags(end: float) -> list[str]:
    """`vidtoon restyle`'s flags for the jobs' settings."""
    return ["--to", SETTINGS["to"], "--height", str(SETTINGS["height"]), "--preset", SETTINGS["preset"], "--end", f"{end:g}"]


def _write(folder: Path, jobs: dict) -> Path:
    """A YAML job list (JSON is YAML) in `folder`, its outputs inside `folder` too."""
    folder.mkdir(parents=True, exist_ok=True)
    moved = {**jobs, "jobs": [{**j, "output": str(folder / Path(j["output"]).name)} for j in jobs["jobs"]]}
    path = folder / "jobs.yaml"
    path.write_text(json.dumps(moved, indent=1))
    return path


def _frames(jobs: dict) -> int:
    import av

    total = 0
    for job in jobs["jobs"]:
        with av.open(job["source"]) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                if frame.time is not None and frame.time >= jobs["defaults"]["end"]:
                    break
                total += 1
    return total


def _count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _measure(command: list[str], result: Path | None = None) -> dict:
    """Run `command` in a fresh process: its wall time (until it exits) and the CPU time of its whole process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}
    if result is not None:
        row.update(json.loads(result.read_text()))
    return row


def _reap_orphans() -> None:
    """Wait for the run's orphans (reparented to this subreaper) so that their CPU time is counted."""
    deadline = time.monotonic() + REAP_SECONDS
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)
    print(f"warning: orphans of a run still alive after {REAP_SECONDS:.0f} s; their CPU time is not counted", file=sys.stderr)


def _sum(rows: list[dict]) -> dict:
    return {"wall": sum(r["wall"] for r in rows), "cpu": sum(r["cpu"] for r in rows)}


def _inner_row(mode: str, out: Path, jobs: dict, workers: int) -> dict:
    path = _write(out / mode, jobs)
    result = out / f"{mode}.json"
    command = [sys.executable, __file__, "--inner", mode, "--jobs", str(path), "--result", str(result), "--workers", str(workers)]
    return _measure(command, result)


def _inner(mode: str, jobs_file: Path, result: Path, workers: int) -> None:
    """One 1-process row: phases (seconds since this process started) written to `result` as JSON."""
    import psutil

    born = psutil.Process().create_time()
    clock = time.time
    phases: dict = {}
    from vidtoon.cpu_threads import configure_cpu_threads

    configure_cpu_threads()
    if mode == "sequential":
        from vidtoon.batch import plan_batch
        from vidtoon.restyle import load_translator, restyle

        checked, _ = plan_batch(jobs_file)
        loaded = load_translator(style="sketch", device="cpu")
        phases["first"] = clock() - born
        for job in checked:
            restyle(
                job.source, job.output, translator=loaded.translator, style_name=loaded.name, options=job.options(loaded.defaults)
            )
        phases["last"] = clock() - born
    else:
        import vidtoon

        address = None
        if mode == "ray":
            import logging

            import ray

            started = clock()
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
            phases["cluster"] = clock() - started
            address = "auto"
        stamps = _Stamps(born)
        _note_marks(phases, born)
        phases["call_cpu"] = _tree_cpu()
        phases["call"] = clock() - born
        report = vidtoon.batch(
            jobs_file, workers=workers, progress=stamps, ray_address=address, report=jobs_file.parent / "r.json"
        )
        phases["returned"] = clock() - born
        phases["tree_cpu"] = _tree_cpu()
        if not report.ok:
            sys.exit(f"a job failed: {[j.error for j in report.jobs if j.error]}")
        phases["first"], phases["last"] = stamps.first_start, stamps.last_finish
        if mode == "ray":
            import ray

            started = clock()
            ray.shutdown()
            phases["shutdown"] = clock() - started
    result.write_text(json.dumps(phases))


def _tree_cpu() -> float:
    """CPU s (user + sys) of this process and every live descendant (with what each has reaped): Ray's daemons and
    actors included, which the rusage of the row misses when they are killed rather than reaped."""
    import psutil

    total = 0.0
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _note_marks(phases: dict, born: float) -> None:
    """Note the batch's debug marks (`log.debug("mark actors ready")` in `vidtoon.batch`) in `phases`, seconds since `born`."""
    import logging

    class Marks(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("mark "):
                phases.setdefault(message[5:], time.time() - born)

    logger = logging.getLogger("vidtoon.batch")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Marks())


class _Stamps:
    """A `BatchProgress` that notes when the first job started and the last one finished (seconds since `born`)."""

    def __init__(self, born: float):
        self.born = born
        self.first_start = self.last_finish = None

    def batch_started(self, jobs, frames):
        pass

    def job_started(self, number, frames, name):
        self.first_start = self.first_start or time.time() - self.born

    def job_advanced(self, number, frames):
        pass

    def job_finished(self, result):
        self.last_finish = time.time() - self.born


def _print(rows: dict, frames: int, args, film_rows: dict, film_frames: int) -> None:
    print(json.dumps(rows))  # every run's numbers, for the record
    load = os.getloadavg()
    print(f"\n{len(CLIPS)} clips, first {args.seconds:g} s each ({frames} frames), sketch, height 360; cores {os.cpu_count()}, "
          f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    print(f"{'run':<28}{'wall s':>8}{'median':>8}{'CPU s':>8}{'fps':>7}{'start-up':>10}{'jobs s':>8}{'exit':>7}")
    best = {}
    for name, values in rows.items():
        row = min(values, key=lambda r: r["wall"])
        best[name] = row
        phases = ""
        if "first" in row:
            phases = f"{row['first']:>10.1f}{row['last'] - row['first']:>8.1f}{row['wall'] - row['last']:>7.1f}"
        median = statistics.median(r["wall"] for r in values)
        print(f"{name:<28}{row['wall']:>8.1f}{median:>8.1f}{row['cpu']:>8.1f}{frames / row['wall']:>7.1f}{phases}")
    print("\nphases of the 1-process rows, seconds since the process started:")
    for name, row in best.items():
        if "first" in row:
            order = ("cluster", "call", "first", "last", "returned", "shutdown")
            extra = [k for k in row if k not in (*order, "wall", "cpu", "tree_cpu", "call_cpu")]
            marks = sorted(((k, row[k]) for k in (*order, *extra) if k in row and k != "cluster"), key=lambda m: m[1])
            marks = ([("cluster", row["cluster"])] if "cluster" in row else []) + marks
            text = ", ".join(f"{k} {v:.1f}" + (" (took)" if k in ("cluster", "shutdown") else "") for k, v in marks)
            print(f"  {name:<28}{text}, exit {row['wall']:.1f}")
            print(
                f"  {'':<28}CPU s of the process tree (Ray's daemons and actors included): at the call "
                f"{row['call_cpu']:.1f}, at the return {row['tree_cpu']:.1f}, the call {row['tree_cpu'] - row['call_cpu']:.1f}"
            )
    n = args.workers
    batch_cli, batch_one = best[f"batch CLI, {n} workers"], best[f"batch, 1 process, {n} workers"]
    print()
    if not args.only_batch:
        seq_cli, seq_one = best["sequential, CLI"], best["sequential, 1 process"]
        print(f"batch CLI / sequential CLI: {batch_cli['wall'] / seq_cli['wall']:.2f}  (the target's ratio, goal <= 0.60; "
              f"CPU {batch_cli['cpu'] / seq_cli['cpu']:.2f})")  # fmt: skip
        print(f"batch / sequential, 1 process each: {batch_one['wall'] / seq_one['wall']:.2f}  "
              f"(jobs only {_jobs(batch_one) / _jobs(seq_one):.2f}; CPU {batch_one['cpu'] / seq_one['cpu']:.2f})")  # fmt: skip
    if args.ray:
        ray_cli, ray_one = best[f"ray CLI, {n} actors"], best[f"ray, 1 process, {n} actors"]
        call = ray_one["returned"] - ray_one["call"]
        print(f"ray CLI / batch CLI (cluster start included): {ray_cli['wall'] / batch_cli['wall']:.2f}  (goal <= 1.15)")
        print(f"ray / batch, 1 process, the batch call on a running cluster: {call / (batch_one['returned'] - batch_one['call']):.2f}  "
              f"(jobs only {_jobs(ray_one) / _jobs(batch_one):.2f}; CPU of the call {_call_cpu(ray_one) / _call_cpu(batch_one):.2f}); "
              f"ray.init {ray_one['cluster']:.1f} s, ray.shutdown {ray_one['shutdown']:.1f} s")  # fmt: skip
    if args.film:
        print(f"\n1 film: {FILM}, first 6 s ({film_frames} frames), chunks of 3 s at keyframes")
        for name, values in film_rows.items():
            row = min(values, key=lambda r: r["wall"])
            print(f"{name:<40}{row['wall']:>8.1f}{row['cpu']:>8.1f}{film_frames / row['wall']:>7.1f}")
        walls = [min(r["wall"] for r in values) for values in film_rows.values()]
        print(f"ratio chunked / sequential: {walls[1] / walls[0]:.2f}")


def _call_cpu(row: dict) -> float:
    return row["tree_cpu"] - row["call_cpu"]


def _jobs(row: dict) -> float:
    return row["last"] - row["first"]


if __name__ == "__main__":
    main()
