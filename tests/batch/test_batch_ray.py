"""`vidtoon batch` on Ray, for real: a local Ray cluster (2 CPUs), two workers (one actor running two units at once in
threads), three jobs, the worker process killed; then one film cut into chunks across the two, the worker killed mid-chunk.

One batch runs once for the module: two tiny clips made here (one with 6-channel sound, one VFR) and the first 6 s of a real
clip in 1 s segments, whose worker process is SIGKILLed once a segment is finished. Ray restarts the actor and
retries its units, which continue from their finished segments. Every output is checked against a single-process
`vidtoon.restyle` of the same job.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import make_clip, stream_span, video_times
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.io.formats import EncodeOptions
from vidtoon.io.segments import parts_dir_for
from vidtoon.restyle import RestyleOptions, load_translator, restyle

ray = pytest.importorskip("ray")

runner = CliRunner()

DEFAULTS = {"to": "sketch", "preset": "ultrafast"}
SETTINGS = {  # job number -> (source name, its own settings); output: <stem>.sketch.mp4 beside the source
    1: ("a.mp4", {"consistency": "none"}),
    2: ("b.mp4", {"consistency": "flow", "strength": 0.5}),
    3: ("chaplin.mp4", {"end": 6, "segment_seconds": 1}),  # long and large enough to be caught mid-run
}
KILLED = 3


@contextmanager
def no_other_cluster_starting():
    """Held while this module's cluster runs, and by a test that needs no cluster on the machine while it checks and
    runs: under `pytest -n 2` the other worker may start the module's cluster at any moment, and `--ray auto` joins
    any cluster it finds. (A POSIX record lock: one process may take it again while it holds it.)"""
    with open(Path(tempfile.gettempdir()) / "vidtoon-tests-ray.lock", "w") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with 2 CPUs (this process is its driver), shut down after the module."""
    with no_other_cluster_starting():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024 * 1024)
        yield
        ray.shutdown()


class KillOnce:
    """A `BatchProgress` that records what it is told and SIGKILLs the worker process running job `KILLED` once
    that job has finished a segment (its pid from the output's lock file, which the writing process holds)."""

    def __init__(self, output: Path):
        self.output, self.killed, self.events = output, None, []

    def batch_started(self, jobs, frames):
        self.events.append(("batch", jobs, frames))

    def job_started(self, number, frames, name):
        self.events.append(("start", number, frames))

    def job_advanced(self, number, frames):
        self.events.append(("advance", number, frames))
        if number == KILLED and self.killed is None:
            state = parts_dir_for(self.output) / "progress.json"
            if state.exists() and json.loads(state.read_text())["done"] and not json.loads(state.read_text()).get("complete"):
                pid = json.loads(self.output.with_name(self.output.name + ".lock").read_text())["pid"]
                assert b"RayWorker" in Path(f"/proc/{pid}/cmdline").read_bytes()  # a Ray actor's process, nothing else
                os.kill(pid, signal.SIGKILL)
                self.killed = pid

    def job_finished(self, result):
        self.events.append(("finished", result.number, result.status))


def _jobs(root: Path, media: Path) -> list[dict]:
    sources = {1: root / "a.mp4", 2: root / "b.mp4", 3: media / "chaplin.mp4"}
    return [
        {"source": str(sources[n]), "output": str(_output(root, n)), **DEFAULTS, **settings}
        for n, (_, settings) in SETTINGS.items()
    ]


def _output(root: Path, number: int) -> Path:
    return root / "out" / f"{Path(SETTINGS[number][0]).stem}.sketch.mp4"


@pytest.fixture(scope="module")
def finished(cluster, media, tmp_path_factory):
    """The batch run once on Ray: its folder, its report, the progress it reported."""
    import vidtoon

    root = tmp_path_factory.mktemp("ray")
    make_clip(root / "a.mp4", 24, audio_seconds=1.0, audio_layout="5.1")  # 6-channel sound
    vfr = [Fraction(0), Fraction(1, 24), Fraction(3, 24), Fraction(4, 24), Fraction(7, 24), Fraction(8, 24)]
    make_clip(root / "b.mp4", 12, times=vfr + [t + Fraction(9, 24) for t in vfr])
    progress = KillOnce(_output(root, KILLED))
    report = vidtoon.batch(_jobs(root, media), workers=2, ray_address="auto", progress=progress, report=root / "report.json")
    return root, report, progress


def _frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def test_ray_auto_without_a_running_cluster_says_how_to_start_one(tmp_path):
    # first in the module: it runs before this worker starts the module's cluster, and waits while the other's runs
    import subprocess

    from ray._private.services import find_gcs_addresses

    make_clip(tmp_path / "a.mp4", 6)
    (tmp_path / "jobs.yaml").write_text("defaults: {to: sketch}\njobs:\n  - source: a.mp4\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-m", "vidtoon", "batch", "jobs.yaml", "--ray", "auto"]
    with no_other_cluster_starting():
        if find_gcs_addresses():
            pytest.skip("a Ray cluster runs on this machine: --ray auto would join it")
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert (result.stdout + result.stderr).strip().splitlines() == [
        "error: --ray auto: no Ray cluster is running on this machine — start a cluster with `ray start --head` and pass "
        "the address it prints, --ray auto on one of its nodes, or --ray local"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "jobs.yaml"]


def test_every_job_finishes_after_a_worker_is_killed(finished):
    root, report, progress = finished
    assert progress.killed is not None, "the slow job finished before a segment of it could be seen"
    assert not Path(f"/proc/{progress.killed}").exists()
    assert report.ok and report.workers == 2
    assert [(job.status, job.frames) for job in report.jobs] == [("done", 24), ("done", 12), ("done", 150)]
    assert json.loads((root / "report.json").read_text()) == json.loads(report.to_json())
    starts = [e for e in progress.events if e[:2] == ("start", KILLED)]
    assert len(starts) == 1  # the retry continues the same bar: its earlier count is taken back, not a second bar
    advanced = sum(e[2] for e in progress.events if e[:2] == ("advance", KILLED))
    assert advanced == 150  # what the bar ends at: every frame once
    assert not parts_dir_for(_output(root, KILLED)).exists()


@pytest.mark.parametrize("number", [1, 2, 3])
def test_each_output_equals_a_single_restyle_of_its_job(finished, media, number, tmp_path):
    root, _, _ = finished
    name, settings = SETTINGS[number]
    source = media / name if number == 3 else root / name
    loaded = load_translator(style="sketch", device="cpu")
    options = RestyleOptions.from_style(loaded.defaults, **settings, encode=EncodeOptions(preset="ultrafast"))
    single = restyle(source, tmp_path / "single.mp4", translator=loaded.translator, style_name="sketch", options=options)
    batched = _output(root, number)
    assert video_times(batched) == video_times(single)
    assert len(video_times(single)) == {1: 24, 2: 12, 3: 150}[number]
    with av.open(str(source)) as container:
        has_audio = bool(container.streams.audio)
    if has_audio:
        assert stream_span(batched) == stream_span(single)
    if number == 1:
        with av.open(str(batched)) as container:
            assert container.streams.audio[0].codec_context.channels == 6, "the 5.1 sound keeps its six channels"
    ours, theirs = _frames(batched).astype(int), _frames(single).astype(int)
    if number == KILLED:  # resumed after the kill: the segments made before it and after, nothing twice or lost
        assert max(np.abs(a - b).mean() for a, b in zip(ours, theirs)) < 2
    else:
        assert np.array_equal(ours, theirs)


def test_rerunning_a_finished_batch_does_nothing_and_says_so(finished, media):
    root, _, _ = finished
    (root / "jobs.yaml").write_text(
        "defaults: {to: sketch, preset: ultrafast}\njobs:\n" + "".join(f"  - {json.dumps(job)}\n" for job in _jobs(root, media))
    )
    os.replace(root / "report.json", root / "batch-report.json")
    made = {n: _output(root, n).stat().st_mtime_ns for n in SETTINGS}
    again = runner.invoke(app, ["batch", str(root / "jobs.yaml"), "--ray", "auto", "--workers", "2"])
    assert again.exit_code == 0, again.output
    assert "nothing to do: all 3 job(s) are done already" in again.output
    assert {n: _output(root, n).stat().st_mtime_ns for n in SETTINGS} == made


def test_a_bad_address_is_one_line_and_starts_nothing(tmp_path):
    make_clip(tmp_path / "a.mp4", 6)
    (tmp_path / "jobs.yaml").write_text("defaults: {to: sketch}\njobs:\n  - source: a.mp4\n")
    result = runner.invoke(app, ["batch", str(tmp_path / "jobs.yaml"), "--ray", "127.0.0.1:1"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no Ray cluster answers at 127.0.0.1:1" in lines[0], result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "jobs.yaml"]
    bad = runner.invoke(app, ["batch", str(tmp_path / "jobs.yaml"), "--ray", "nowhere"])
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1
    assert "is not local, auto or HOST:PORT" in bad.output


def test_without_ray_installed_the_cli_says_what_to_install(tmp_path, monkeypatch):
    make_clip(tmp_path / "a.mp4", 6)
    (tmp_path / "jobs.yaml").write_text("defaults: {to: sketch}\njobs:\n  - source: a.mp4\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as where it is not installed
    result = runner.invoke(app, ["batch", str(tmp_path / "jobs.yaml"), "--ray", "local"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Ray is not installed" in lines[0] and "vidtoon[ray]" in lines[0], result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "jobs.yaml"]


class KillAChunk:
    """A `BatchProgress` that SIGKILLs the Ray worker process running the chunks (its process title names the actor) once
    the film's bar has counted 8 frames: Ray restarts the actor and runs its chunks again. Counts the bar's frames."""

    def __init__(self):
        self.killed = None
        self.frames = 0

    def batch_started(self, jobs, frames): ...
    def job_started(self, number, frames, name): ...
    def job_finished(self, result): ...

    def job_advanced(self, number, frames):
        self.frames += frames
        if self.killed is not None or self.frames < 8:  # some frames of the running chunks counted before the kill
            return
        for proc in Path("/proc").iterdir():
            try:
                title = (proc / "cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if proc.name.isdigit() and title.startswith(b"ray::RayWorker"):  # the actor (threads: its title names no task)
                os.kill(int(proc.name), signal.SIGKILL)
                self.killed = int(proc.name)
                return


def test_a_film_is_cut_into_chunks_across_actors_and_survives_a_lost_worker(cluster, tmp_path):
    """One film, two workers: the film runs as chunks (cut at its keyframes), one chunk's worker is killed mid-chunk
    and retried; the joined film has the single restyle's timestamps and sound, and its frames within 2 levels (the
    issue's bound at chunk borders; lossless encode, 1 s warm-up)."""
    import vidtoon

    textured = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    frames = [np.roll(textured, 2 * i, axis=1) for i in range(144)]  # 6 s: six chunks, some running when the kill comes
    source = make_clip(tmp_path / "film.mp4", frames, size=(320, 240), keyint=12, audio_seconds=6.0)
    settings = {"to": "sketch", "consistency": "flow", "preset": "ultrafast", "crf": 0}
    progress = KillAChunk()
    output = tmp_path / "out" / "film.mp4"
    report = vidtoon.batch(
        [{"source": str(source), "output": str(output), **settings}],
        workers=2,
        ray_address="auto",
        progress=progress,
        chunk_seconds=1,
    )
    assert report.ok and report.workers == 2 and report.jobs[0].frames == 144, report.jobs
    assert progress.killed is not None and not Path(f"/proc/{progress.killed}").exists()
    assert progress.frames == 144, "the bar counts each frame once: the retried chunk took back what its lost attempt counted"
    assert not parts_dir_for(output).exists()
    loaded = load_translator(style="sketch", device="cpu")
    options = RestyleOptions.from_style(loaded.defaults, consistency="flow", encode=EncodeOptions(preset="ultrafast", crf=0))
    single = restyle(source, tmp_path / "single.mp4", translator=loaded.translator, style_name="sketch", options=options)
    assert video_times(output) == video_times(single)
    assert stream_span(output) == stream_span(single)
    differences = [np.abs(a - b).mean() for a, b in zip(_frames(output).astype(int), _frames(single).astype(int))]
    assert max(differences) <= 2.0, "chunked on two workers, the chunks retried: within 2 levels of the single run everywhere"
    assert np.median(differences) <= 0.5, "and the single run's frames away from the borders"


class Overlap:
    """A `BatchProgress` noting the order of jobs starting and finishing, and the process writing each output (the pid
    in its lock file, and whether that process is a `RayWorker` actor).

    The writers are also looked for every 10 ms by `watch` (run it in a thread for the batch's length): progress comes
    from the actors a few times a second, so a short job's advances can all arrive after it has let its lock go."""

    def __init__(self, outputs: dict[int, Path]):
        self.outputs, self.order, self.pids = outputs, [], {number: set() for number in outputs}
        self.done = threading.Event()

    def batch_started(self, jobs, frames): ...

    def job_started(self, number, frames, name):
        self.order.append(("start", number))

    def job_advanced(self, number, frames):
        self.note_writer(number)

    def job_finished(self, result):
        self.order.append(("finished", result.number))

    def note_writer(self, number: int) -> None:
        output = self.outputs[number]
        try:
            pid = json.loads(output.with_name(output.name + ".lock").read_text())["pid"]
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, KeyError):  # not taken yet, or already given up
            return
        self.pids[number].add((pid, title.startswith(b"ray::RayWorker")))

    def watch(self) -> None:
        while not self.done.wait(0.01):
            for number in self.outputs:
                self.note_writer(number)


def test_one_actor_runs_two_jobs_at_once_as_local_mode_would(cluster, tmp_path):
    """Two workers on one machine are one actor with two threads: both jobs run in one process, side by side, and
    come out as local mode's worker processes make them (frame count, timestamps, pixels)."""
    import vidtoon

    textured = np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    sources = {
        1: make_clip(tmp_path / "one.mp4", [np.roll(textured, 3 * i, axis=1) for i in range(60)], size=(320, 240)),
        2: make_clip(tmp_path / "two.mp4", [np.roll(textured, 2 * i, axis=0) for i in range(48)], size=(320, 240)),
    }
    settings = {"to": "sketch", "consistency": "flow", "preset": "ultrafast"}

    def jobs(folder: str) -> list[dict]:
        return [{"source": str(s), "output": str(tmp_path / folder / s.name), **settings} for s in sources.values()]

    outputs = {n: tmp_path / "ray" / s.name for n, s in sources.items()}
    progress = Overlap(outputs)
    watcher = threading.Thread(target=progress.watch, daemon=True)
    watcher.start()
    try:
        report = vidtoon.batch(jobs("ray"), workers=2, ray_address="auto", progress=progress)
    finally:
        progress.done.set()
        watcher.join()
    assert report.ok and report.workers == 2 and [job.frames for job in report.jobs] == [60, 48], report.jobs
    (one,), (two,) = progress.pids[1], progress.pids[2]
    assert one == two and one[1], "one actor process (a Ray worker running `RayWorker`) wrote both outputs"
    first_finish = progress.order.index(next(e for e in progress.order if e[0] == "finished"))
    assert {n for kind, n in progress.order[:first_finish] if kind == "start"} == {1, 2}, "both ran at once"
    local = vidtoon.batch(jobs("local"), workers=2)
    assert local.ok and [job.frames for job in local.jobs] == [60, 48]
    for source in sources.values():
        ours, theirs = tmp_path / "ray" / source.name, tmp_path / "local" / source.name
        assert video_times(ours) == video_times(theirs)
        assert np.array_equal(_frames(ours), _frames(theirs))


def test_relative_paths_are_this_folder_s_not_the_ray_worker_s(cluster, tmp_path, monkeypatch):
    """--out-dir and a folder of sources given relative to where the batch runs: the outputs are made there, though
    the cluster's workers were started in another folder."""
    (tmp_path / "films").mkdir()
    make_clip(tmp_path / "films" / "a.mp4", 6, audio_seconds=0.25)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["batch", "films", "--glob", "*.mp4", "--to", "sketch", "--ray", "auto", "--out-dir", "out"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.sketch.mp4"]
    with av.open(str(tmp_path / "out" / "a.sketch.mp4")) as container:
        assert container.streams.video[0].frames == 6 and len(container.streams.audio) == 1
    report = json.loads((tmp_path / "films" / "batch-report.json").read_text())
    assert [job["output"] for job in report["jobs"]] == [str(tmp_path / "out" / "a.sketch.mp4")]
