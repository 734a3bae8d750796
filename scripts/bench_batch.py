#!/usr/bin/env python
"""Benchmark `vidtoon batch`: local mode's N CPU worker processes (and, with --ray, N Ray actors) against the same jobs.

The jobs: 4 clips from $VIDTOON_TEST_MEDIA (default ../shared/clips), the first 2 s of each (`end: 2`), style
`sketch` (procedural: no weights), temporal consistency on (DIS flow), processing height 180, x264 veryfast.

    sequential  this process: the style loaded once, then `vidtoon.restyle` of each job in turn (torch's own
                thread count: every core for one job at a time). The baseline.
    batch       `vidtoon.batch(jobs, workers=N)`: workers forked from a forkserver (which imports torch once),
                longest job first, one torch thread per core share. Everything from the call to its return.
    ray         (with --ray) `vidtoon.batch(jobs, workers=N, ray_address="local")`: a Ray cluster started on this
                machine, N actors (fractional CPUs), progress through a Ray queue. Everything from the call to its
                return: `ray.init`, the actors' imports, the jobs, `ray.shutdown`.
    ... jobs only   the same without start-up: batch from its first job's start to its last job's end; the
                sequential loop after its style load. What a long batch approaches.
    1 film ...  one longer film (smpte-2997.mp4, 1080p, keyframes every 0.6 s, its first 6 s) with the same
                settings: `vidtoon.restyle` in this process (sequential) against `vidtoon.batch` with N workers,
                which cuts it into chunks at keyframes (`--chunk-seconds`, default 3: 2 chunks) run in parallel
                and joined without re-encoding (the warm-up decodes 1 s before each border once more).

Goals from the issue (#16): batch with 2 workers <= 0.6 x sequential; Ray <= 1.15 x local mode for the same jobs. On a shared 2-core machine the workers fight
other work for the same two cores: compare within one run, and look at the load average printed with the table.

Run from the repository root (outputs go to a temporary folder that is removed at the end):

    .venv/bin/python scripts/bench_batch.py                 # 2 workers, 1 repeat
    .venv/bin/python scripts/bench_batch.py --workers 4 --repeat 2
    .venv/bin/python scripts/bench_batch.py --ray             # also Ray mode (needs vidtoon[ray])

This script is a tool for developers; the vidtoon package never imports it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

CLIPS = ("chaplin.mp4", "talking_head_d3.mp4", "vtest.avi", "Megamind.avi")
SETTINGS = {"to": "sketch", "end": 2, "height": 180, "preset": "veryfast"}
FILM = "smpte-2997.mp4"
FILM_SETTINGS = {**SETTINGS, "end": 6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, taking turns (best and median shown)")
    parser.add_argument("--ray", action="store_true", help="also run the jobs on a local Ray cluster")
    parser.add_argument("--chunk-seconds", type=float, default=3.0, help="chunk length of the one-film rows")
    args = parser.parse_args()
    media = Path(os.environ.get("VIDTOON_TEST_MEDIA", Path(__file__).resolve().parent.parent.parent / "shared" / "clips"))
    sources = [media / name for name in (*CLIPS, FILM)]
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        sys.exit(f"missing clips: {', '.join(missing)} (set VIDTOON_TEST_MEDIA)")

    from vidtoon.cpu_threads import configure_cpu_threads

    configure_cpu_threads()
    import vidtoon
    from vidtoon.batch import plan_batch
    from vidtoon.restyle import load_translator, restyle

    sources, film = sources[:-1], sources[-1]
    batch_name = f"batch, {args.workers} workers"
    ray_name = f"ray local, {args.workers} actors"
    chunked_name = f"1 film, {args.workers} workers, chunked"
    times: dict[str, list[float]] = {"sequential": [], batch_name: [], "sequential, jobs only": [], "batch, jobs only": []}
    if args.ray:
        times.update({ray_name: [], "ray, jobs only": []})
    film_times: dict[str, list[float]] = {"1 film, sequential": [], chunked_name: []}
    frames = film_frames = 0
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for run in range(args.repeat):
            out = Path(tmp) / f"seq{run}"
            jobs = [{"source": str(s), "output": str(out / f"{s.stem}.mp4"), **SETTINGS} for s in sources]
            checked, _ = plan_batch(jobs)  # the same options the batch makes (not timed: the batch times its own)
            started = time.perf_counter()
            loaded = load_translator(style="sketch", device="cpu")
            jobs_started = time.perf_counter()
            for job in checked:
                options = job.options(loaded.defaults)
                restyle(job.source, job.output, translator=loaded.translator, style_name=loaded.name, options=options)
            times["sequential"].append(time.perf_counter() - started)
            times["sequential, jobs only"].append(time.perf_counter() - jobs_started)

            out = Path(tmp) / f"batch{run}"
            jobs = [{"source": str(s), "output": str(out / f"{s.stem}.mp4"), **SETTINGS} for s in sources]
            started = time.perf_counter()
            stamps = _Stamps()
            report = vidtoon.batch(jobs, workers=args.workers, progress=stamps)
            times[batch_name].append(time.perf_counter() - started)
            times["batch, jobs only"].append(stamps.last_finish - stamps.first_start)
            if not report.ok:
                sys.exit(f"a job failed: {[j.error for j in report.jobs if j.error]}")
            frames = sum(job.frames or 0 for job in report.jobs)

            if args.ray:
                out = Path(tmp) / f"ray{run}"
                jobs = [{"source": str(s), "output": str(out / f"{s.stem}.mp4"), **SETTINGS} for s in sources]
                started = time.perf_counter()
                stamps = _Stamps()
                report = vidtoon.batch(jobs, workers=args.workers, progress=stamps, ray_address="local")
                times[ray_name].append(time.perf_counter() - started)
                times["ray, jobs only"].append(stamps.last_finish - stamps.first_start)
                if not report.ok:
                    sys.exit(f"a job failed on Ray: {[j.error for j in report.jobs if j.error]}")
            [film_job], _ = plan_batch([{"source": str(film), "output": str(Path(tmp) / f"film-seq{run}.mp4"), **FILM_SETTINGS}])
            started = time.perf_counter()
            loaded = load_translator(style="sketch", device="cpu")
            options = film_job.options(loaded.defaults)
            restyle(film_job.source, film_job.output, translator=loaded.translator, style_name=loaded.name, options=options)
            film_times["1 film, sequential"].append(time.perf_counter() - started)
            jobs = [{"source": str(film), "output": str(Path(tmp) / f"film-chunked{run}.mp4"), **FILM_SETTINGS}]
            started = time.perf_counter()
            report = vidtoon.batch(jobs, workers=args.workers, chunk_seconds=args.chunk_seconds)
            film_times[chunked_name].append(time.perf_counter() - started)
            if not report.ok:
                sys.exit(f"the chunked film failed: {report.jobs[0].error}")
            film_frames = report.jobs[0].frames

    load = os.getloadavg()
    print(f"\n{len(sources)} clips, first 2 s each ({frames} frames), sketch, height 180; cores {os.cpu_count()}, "
          f"load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    print(f"{'run':<24}{'best s':>9}{'median s':>10}{'fps':>8}")
    for name, values in times.items():
        print(f"{name:<24}{min(values):>9.1f}{statistics.median(values):>10.1f}{frames / min(values):>8.1f}")
    ratio = min(times[batch_name]) / min(times["sequential"])
    steady = min(times["batch, jobs only"]) / min(times["sequential, jobs only"])
    print(f"ratio batch / sequential: {ratio:.2f}  (goal <= 0.60)")
    print(f"jobs only (first job started .. last finished, against the sequential loop after its style load): {steady:.2f}")
    if args.ray:
        ratio = min(times[ray_name]) / min(times[batch_name])
        steady = min(times["ray, jobs only"]) / min(times["batch, jobs only"])
        print(f"ratio ray / local batch: {ratio:.2f}  (goal <= 1.15); jobs only: {steady:.2f}")
    print(f"\n1 film: {FILM}, first 6 s ({film_frames} frames), chunks of {args.chunk_seconds:g} s at keyframes")
    print(f"{'run':<30}{'best s':>9}{'median s':>10}{'fps':>8}")
    for name, values in film_times.items():
        print(f"{name:<30}{min(values):>9.1f}{statistics.median(values):>10.1f}{film_frames / min(values):>8.1f}")
    print(f"ratio chunked / sequential: {min(film_times[chunked_name]) / min(film_times['1 film, sequential']):.2f}")


class _Stamps:
    """A `BatchProgress` that notes when the first job started and the last one finished."""

    def __init__(self):
        self.first_start = self.last_finish = None

    def batch_started(self, jobs, frames):
        pass

    def job_started(self, number, frames, name):
        self.first_start = self.first_start or time.perf_counter()

    def job_advanced(self, number, frames):
        pass

    def job_finished(self, result):
        self.last_finish = time.perf_counter()


if __name__ == "__main__":
    main()
