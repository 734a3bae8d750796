"""Faults during a run, on the real command line in child processes: a full disk, SIGTERM / SIGINT, a second
writer of the same output. Each leaves one line, nothing under the final name, no temporary files, and (for a
restyled film) the finished segments, so `--resume` completes the output once the cause is gone."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import no_leftovers

from vidtoon.io.probe import probe
from vidtoon.io.segments import parts_dir_for

REPO = Path(__file__).resolve().parent.parent
CLIP = "chaplin.mp4"  # 640x360, 25 fps, 241 frames
RESTYLE = ["--to", "toon", "--consistency", "none", "--height", "64", "--segment-seconds", "1", "--preset", "ultrafast"]
PROMPT_S = 5.0  # the contract: a signal ends the run within 5 s


def start(
    cwd: Path, *args, file_size_limit: int | None = None, launcher: tuple[str, ...] = (), session: bool = False
) -> subprocess.Popen:
    """`vidtoon ARGS` in a child process (optionally under RLIMIT_FSIZE: writes past it fail with EFBIG), run through
    `launcher` (e.g. `nohup`); `session`: in a session of its own, so `hang_up` reaches it and its workers alone."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return subprocess.Popen(
        [*launcher, sys.executable, "-m", "vidtoon", *[str(a) for a in args]],
        cwd=cwd,
        start_new_session=session,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
        preexec_fn=limit if file_size_limit else None,
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def wait_until(process: subprocess.Popen, ready, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the run ended before it was interrupted: {process.communicate()[1]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the run never got to the point of interruption")
        time.sleep(0.05)


def interrupt(process: subprocess.Popen, signum: int) -> tuple[int, str, float]:
    """Send `signum`; the exit code, stderr and the seconds from the signal to the exit."""
    sent = time.monotonic()
    process.send_signal(signum)
    code, stderr = finish(process, timeout=60)
    seconds = time.monotonic() - sent
    print(f"{' '.join(process.args[3:5])}: signal {signum} -> exit {code} in {seconds:.2f} s")  # shown with -s
    return code, stderr, seconds


def hang_up(process: subprocess.Popen) -> tuple[int, str, float]:
    """What a closing terminal does: SIGHUP to every process of the job (the command and its workers); the exit
    code, stderr and the seconds from the signal to the exit."""
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGHUP)
    code, stderr = finish(process, timeout=60)
    return code, stderr, time.monotonic() - sent


def done_segments(output: Path) -> int:
    try:
        return len(json.loads((parts_dir_for(output) / "progress.json").read_text())["done"])
    except (OSError, ValueError):
        return 0


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def parts_leftovers(output: Path) -> list[str]:
    """Files in the parts folder that are not finished segments or the progress list."""
    folder = parts_dir_for(output)
    return [p.name for p in folder.iterdir() if not (p.name == "progress.json" or p.suffix in (".nut", ".times"))]


def test_an_interrupted_run_over_an_older_output_says_resume_with_force(media, tmp_path):
    clip, output = media / CLIP, tmp_path / "out.mp4"
    output.write_bytes(b"an older film")
    first = start(tmp_path, "restyle", clip, *RESTYLE, "--end", "6", "-o", output, "--force")
    wait_until(first, lambda: done_segments(output) >= 1)
    code, stderr, _ = interrupt(first, signal.SIGTERM)
    kept = done_segments(output)
    assert code == 143 and one_line(stderr) == (
        f"interrupted: {kept} finished segment(s) of {output} kept; run again with --resume --force"
    )
    assert output.read_bytes() == b"an older film"  # nothing replaced yet
    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "6", "-o", output, "--resume", "--force"))
    assert code == 0, stderr
    assert probe(output).frame_count == 150


def test_a_run_interrupted_before_its_first_segment_leaves_nothing_to_resume(media, tmp_path):
    clip, output = media / CLIP, tmp_path / "out.mp4"
    whole = [a if a != "1" else "60" for a in RESTYLE]  # one segment for the whole clip: none is finished early
    first = start(tmp_path, "restyle", clip, *whole, "-o", output)
    wait_until(first, lambda: parts_dir_for(output).exists())
    code, stderr, _ = interrupt(first, signal.SIGINT)
    assert code == 130 and one_line(stderr) == "interrupted: nothing was written under the output name"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no parts folder to refuse the next run with
    code, stderr = finish(start(tmp_path, "restyle", clip, *whole, "--end", "1", "-o", output))
    assert code == 0, stderr


def test_restyle_sigterm_keeps_segments_then_resume(media, tmp_path):
    clip, output = media / CLIP, tmp_path / "out.mp4"
    first = start(tmp_path, "restyle", clip, *RESTYLE, "--end", "6", "-o", output)
    wait_until(first, lambda: done_segments(output) >= 1)
    code, stderr, seconds = interrupt(first, signal.SIGTERM)
    assert code == 143 and seconds < PROMPT_S, (code, seconds, stderr)
    kept = done_segments(output)
    assert one_line(stderr) == f"interrupted: {kept} finished segment(s) of {output} kept; run again with --resume"
    assert 1 <= kept < 6
    assert not output.exists() and not (tmp_path / "out.mp4.lock").exists() and no_leftovers(tmp_path) == []
    assert parts_leftovers(output) == []

    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "6", "-o", output, "--resume"))
    assert code == 0, stderr
    assert probe(output).frame_count == 150  # 6 s at 25 fps: the kept segments and the new ones, nothing twice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_batch_sigterm_stops_its_workers_and_resume_finishes(media, tmp_path):
    """SIGTERM reaches only the batch's own process: it must stop its workers' jobs too, not wait for them."""
    outputs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    settings = "to: toon, consistency: none, height: 64, segment_seconds: 1, preset: ultrafast, end: 6"
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        f"defaults: {{{settings}}}\njobs:\n" + "".join(f"  - {{source: {media / CLIP}, output: {out}}}\n" for out in outputs)
    )
    first = start(tmp_path, "batch", jobs, "--workers", "2")
    wait_until(first, lambda: all(done_segments(out) >= 1 for out in outputs), timeout=300)
    code, stderr, seconds = interrupt(first, signal.SIGTERM)
    assert code == 143 and seconds < PROMPT_S, (code, seconds, stderr)
    assert one_line(stderr) == "interrupted: 0 finished job(s) and the others' finished segments kept; run again with --resume"
    kept = [done_segments(out) for out in outputs]
    time.sleep(2)
    assert [done_segments(out) for out in outputs] == kept, "a worker went on after the batch stopped"
    assert not any(out.exists() for out in outputs) and all(1 <= k < 6 for k in kept), kept

    code, stderr = finish(start(tmp_path, "batch", jobs, "--workers", "2", "--resume"))
    assert code == 0, stderr
    assert [probe(out).frame_count for out in outputs] == [150, 150]  # kept segments + new ones, nothing twice


def test_batch_sigterm_keeps_finished_chunks_and_resume_makes_the_rest(media, tmp_path):
    """One film, two workers: its chunks (cut at keyframes 0.6 s apart) run in parallel; a SIGTERM keeps the finished ones."""
    output = tmp_path / "film.mp4"
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: toon, consistency: none, height: 64, preset: ultrafast, end: 4}\n"
        f"jobs:\n  - {{source: {media / 'smpte-2997.mp4'}, output: {output}}}\n"
    )
    args = ("batch", jobs, "--workers", "2", "--chunk-seconds", "1")  # borders at 1.2, 2.4 and 3.6 s: 4 chunks

    def chunks_done() -> int:
        return len(list(parts_dir_for(output).glob("part-*.times")))

    first = start(tmp_path, *args)
    wait_until(first, lambda: chunks_done() >= 1, timeout=300)
    code, stderr, seconds = interrupt(first, signal.SIGTERM)
    assert code == 143 and seconds < PROMPT_S, (code, seconds, stderr)
    assert one_line(stderr) == "interrupted: 0 finished job(s) and the others' finished segments kept; run again with --resume"
    kept = chunks_done()
    time.sleep(2)
    assert chunks_done() == kept and 1 <= kept < 4 and not output.exists(), kept

    code, stderr = finish(start(tmp_path, *args, "--resume"))
    assert code == 0, stderr
    assert probe(output).frame_count == 100 and not parts_dir_for(output).exists()  # kept chunks + new ones, none twice


def test_restyle_disk_full_keeps_segments_and_resume_completes(media, tmp_path):
    """Segments (~150 kB each) fit under a 400 kB file size limit; the joined 4 s film (~650 kB) does not."""
    clip, output = media / CLIP, tmp_path / "out.mp4"
    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "4", "-o", output, file_size_limit=400_000))
    assert code == 1
    line = one_line(stderr)
    assert line.startswith(f"error: disk full while writing {output} (") and line.endswith(
        "MB written): free space and run again with --resume"
    ), line
    assert not output.exists() and no_leftovers(tmp_path) == [] and not (tmp_path / "out.mp4.lock").exists()
    assert done_segments(output) == 4 and parts_leftovers(output) == []

    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "4", "-o", output, "--resume"))
    assert code == 0, stderr
    assert probe(output).frame_count == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_restyle_disk_full_inside_a_segment(media, tmp_path):
    """Under 100 kB not even the first segment fits: the failed segment's temporary file goes too."""
    clip, output = media / CLIP, tmp_path / "out.mp4"
    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "2", "-o", output, file_size_limit=100_000))
    assert code == 1
    assert f"disk full while writing {output} (0.1 MB written): free space and run again with --resume" in one_line(stderr)
    assert not output.exists() and no_leftovers(tmp_path) == [] and done_segments(output) == 0
    assert parts_leftovers(output) == []


def frame_folder(folder: Path, count: int) -> Path:
    """`count` 640x360 frames: 6 distinct noisy pictures (x264 has work to do), the rest links to them."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        name = folder / f"f{index:05d}.png"
        if index < 6:
            cv2.imwrite(str(name), rng.integers(0, 256, (360, 640, 3), dtype=np.uint8))
        else:
            name.symlink_to(folder / f"f{index % 6:05d}.png")
    return folder


def test_stitch_stale_lock_taken_over_second_writer_refused_sigint_leaves_nothing(tmp_path):
    frames = frame_folder(tmp_path / "frames", 3000)
    output = tmp_path / "movie.mp4"
    stale = {"pid": 999_999_999, "started": time.time() - 3600, "host": "elsewhere", "command": "vidtoon stitch"}
    (tmp_path / "movie.mp4.lock").write_text(json.dumps(stale))
    process = start(tmp_path, "stitch", frames, "--fps", "25", "--preset", "veryslow", "-o", output)

    def encoding() -> bool:
        partial = [p for p in tmp_path.iterdir() if ".partial" in p.name]
        return bool(partial) and partial[0].stat().st_size > 0

    wait_until(process, encoding)
    assert json.loads((tmp_path / "movie.mp4.lock").read_text())["pid"] == process.pid  # the stale lock was taken over
    code, stderr = finish(start(tmp_path, "stitch", frames, "--fps", "25", "-o", output))
    assert code == 1 and process.poll() is None, "the first run should still be writing"
    text = " ".join(stderr.split())
    assert f"error: {output} is being written by process {process.pid} (started " in text
    assert f"wait for it or remove {output}.lock if it is not running" in text
    code, stderr, seconds = interrupt(process, signal.SIGINT)
    assert code == 130 and seconds < PROMPT_S, (code, seconds, stderr)
    assert one_line(stderr) == "interrupted: nothing was written under the output name"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def staged_frames(output: Path) -> int:
    """How many frames a `frames` run has staged so far in its hidden folder inside `output`."""
    staging = list(output.glob(".vidtoon-partial-*")) if output.exists() else []
    return len(list(staging[0].iterdir())) if staging else 0


def test_frames_sigint_leaves_no_folder(media, tmp_path):
    output = tmp_path / "dataset"
    process = start(tmp_path, "frames", media / "vtest.avi", "--fps", "all", "--size", "none", "-o", output)

    wait_until(process, lambda: staged_frames(output) >= 5)
    code, stderr, seconds = interrupt(process, signal.SIGINT)
    assert code == 130 and seconds < PROMPT_S, (code, seconds, stderr)
    assert one_line(stderr) == "interrupted: nothing was written under the output name"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the folder it made is gone again


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "interrupted"), (signal.SIGHUP, "interrupted by SIGHUP (terminal closed)")]
)
def test_train_stopped_by_a_signal_saves_a_checkpoint_and_exits_128_plus_it(tmp_path, signum, said):
    """SIGTERM (exit 143) and a closed terminal's SIGHUP (exit 129) stop a training run as Ctrl-C does."""
    from train.test_train_cli import TINY
    from train.toy import random_png_folder

    images = random_png_folder(tmp_path / "imgs", 4)
    run = tmp_path / "run"
    process = start(tmp_path, "train", "cyclegan", "--a", images, "--b", images, "-o", run, "--steps", "100000", *TINY)
    wait_until(process, lambda: (run / "metrics.csv").exists() or (run / "config.yaml").exists())
    time.sleep(1.0)  # a few steps
    code, stderr, seconds = interrupt(process, signum)
    assert code == 128 + signum and seconds < PROMPT_S, (code, seconds, stderr)
    text = " ".join(stderr.split())
    assert f"{said}: stopped at step" in text and f"vidtoon train cyclegan -o {run} --resume" in text
    assert (run / "checkpoints" / "latest.pt").exists()


def test_frames_disk_full_is_one_line_and_leaves_no_folder(media, tmp_path):
    """Each 256² PNG is larger than a 20 kB file size limit: the first write fails, the staged frames go."""
    output = tmp_path / "dataset"
    code, stderr = finish(start(tmp_path, "frames", media / CLIP, "--end", "2", "-o", output, file_size_limit=20_000))
    assert code == 1
    assert one_line(stderr).startswith(f"error: disk full while writing {output} (")
    assert one_line(stderr).endswith("MB written): free space and run again")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_train_disk_full_is_one_line_and_keeps_the_last_checkpoint(tmp_path):
    from train.test_train_cli import TINY
    from train.toy import random_png_folder

    images = random_png_folder(tmp_path / "imgs", 4)
    run = tmp_path / "run"
    args = ["train", "cyclegan", "--a", images, "--b", images, "-o", run, "--steps", "40", "--save-every", "5", *TINY]
    code, stderr = finish(start(tmp_path, *args, file_size_limit=40_000))  # the checkpoints (~190 kB) do not fit
    assert code == 1 and "Traceback" not in stderr
    last = " ".join(stderr.split())
    assert "error: disk full while writing " in last and "free space and run again with --resume" in last
    leftovers = [p.name for p in run.rglob("*") if ".partial" in p.name or p.name.endswith(".lock")]
    assert leftovers == []


@pytest.mark.parametrize("command", ["restyle", "compare"])
def test_a_full_disk_writing_a_picture_names_the_output_not_its_temporary_file(tmp_path, command):
    """A restyled photo and a comparison sheet: the error names the file asked for, and nothing is left behind."""
    sample = REPO / "clips" / ("sample.jpg" if command == "restyle" else "sample.mp4")
    output = tmp_path / "picture.png"
    args = ["--to", "toon"] if command == "restyle" else ["--source", sample, "--label", "result"]
    code, stderr = finish(start(tmp_path, command, sample, *args, "-o", output, file_size_limit=20_000))
    assert code == 1
    line = one_line(stderr)
    assert line.startswith(f"error: disk full while writing {output} (") and line.endswith("free space and run again"), line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("sample", ["sample.jpg", "sample.mp4"])
def test_a_full_disk_writing_an_ab_page_names_the_page_and_leaves_no_folder(tmp_path, sample):
    results = [REPO / "clips" / sample] * 2
    page = tmp_path / "page"
    code, stderr = finish(
        start(tmp_path, "compare", *results, "--label", "a", "--label", "b", "-o", page, file_size_limit=20_000)
    )
    assert code == 1
    line = one_line(stderr)
    assert line.startswith(f"error: disk full while writing {page} (") and line.endswith("free space and run again"), line
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the page folder it made is gone again


def test_frames_killed_outright_leaves_frames_the_next_run_into_that_folder_removes(media, tmp_path):
    """SIGKILL (the OOM killer) gives no chance to clean up: the staged frames stay hidden in the folder until the
    next run writing it, which takes the folder's lock, knows them to be no one's, and removes them."""
    output = tmp_path / "dataset"
    process = start(tmp_path, "frames", media / "vtest.avi", "--fps", "all", "--size", "none", "-o", output)

    wait_until(process, lambda: staged_frames(output) >= 5)
    process.kill()
    process.communicate(timeout=60)
    assert list(output.glob(".vidtoon-partial-*")) != []
    code, stderr = finish(start(tmp_path, "frames", media / "vtest.avi", "--end", "1", "-o", output))
    assert code == 0, stderr
    assert sorted(p.name for p in output.iterdir()) == ["manifest.csv", "vtest_t000000.000.png", "vtest_t000000.500.png"]


def gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie not yet reaped counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_batch_killed_outright_takes_its_workers_with_it_and_resume_finishes(media, tmp_path):
    """SIGKILL (the OOM killer) gives the batch no chance to stop its workers: they used to finish their jobs behind
    the user's back, holding the outputs' locks, then wait for work for good (a forkserver and two torch processes)."""
    output = tmp_path / "film.mp4"
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: toon, consistency: none, height: 64, segment_seconds: 1, preset: ultrafast, end: 9}\n"
        f"jobs:\n  - {{source: {media / CLIP}, output: {output}}}\n"
    )
    first = start(tmp_path, "batch", jobs, "--workers", "1")
    wait_until(first, lambda: done_segments(output) >= 1, timeout=300)
    worker = json.loads((tmp_path / "film.mp4.lock").read_text())["pid"]  # the lock names the worker writing it
    assert worker != first.pid
    first.kill()
    first.wait(timeout=60)
    deadline = time.monotonic() + 20
    while not gone(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(worker), "the worker went on after its batch was killed"
    first.communicate(timeout=10)  # nothing holds the batch's stdout and stderr open any more (`vidtoon batch | tee`)
    kept = done_segments(output)
    assert not output.exists() and not (tmp_path / "film.mp4.lock").exists() and 1 <= kept < 9, kept

    code, stderr = finish(start(tmp_path, "batch", jobs, "--workers", "1", "--resume"))
    assert code == 0, stderr
    assert probe(output).frame_count == 225


def test_restyle_on_a_disk_too_full_for_its_progress_list_leaves_nothing_to_refuse_the_next_run(media, tmp_path):
    """Not even the parts folder's progress list (~1 kB) fits: the empty parts folder it had made refused the next
    run as "an interrupted run of this output exists (0 segment(s) finished)", and the error said "the output"."""
    clip, output = media / CLIP, tmp_path / "out.mp4"
    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "1", "-o", output, file_size_limit=100))
    assert code == 1
    assert one_line(stderr) == f"error: disk full while writing {output} (0.0 MB written): free space and run again"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "1", "-o", output))
    assert code == 0, stderr


HUNG_UP = "interrupted by SIGHUP (terminal closed)"


def test_restyle_sighup_keeps_segments_exits_129_and_resume_finishes(media, tmp_path):
    """A closed terminal (an SSH session dropped) stops the run as SIGTERM does: the partial segment and the lock go,
    the finished segments stay, one line names the cause (in the log the user reads later), exit 128 + 1."""
    clip, output = media / CLIP, tmp_path / "out.mp4"
    first = start(tmp_path, "restyle", clip, *RESTYLE, "--end", "6", "-o", output, session=True)
    wait_until(first, lambda: done_segments(output) >= 1)
    code, stderr, seconds = hang_up(first)
    assert code == 129 and seconds < PROMPT_S, (code, seconds, stderr)
    kept = done_segments(output)
    assert one_line(stderr) == f"{HUNG_UP}: {kept} finished segment(s) of {output} kept; run again with --resume"
    assert 1 <= kept < 6
    assert not output.exists() and not (tmp_path / "out.mp4.lock").exists() and no_leftovers(tmp_path) == []
    assert parts_leftovers(output) == []

    code, stderr = finish(start(tmp_path, "restyle", clip, *RESTYLE, "--end", "6", "-o", output, "--resume"))
    assert code == 0, stderr
    assert probe(output).frame_count == 150
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_restyle_under_nohup_goes_on_after_its_terminal_closes(media, tmp_path):
    """`nohup` sets SIGHUP to ignored before vidtoon starts: it must stay ignored, and the run finish."""
    clip, output = media / CLIP, tmp_path / "out.mp4"
    run = start(tmp_path, "restyle", clip, *RESTYLE, "--end", "3", "-o", output, launcher=("nohup",), session=True)
    wait_until(run, lambda: done_segments(output) >= 1)
    os.killpg(run.pid, signal.SIGHUP)
    code, stderr = finish(run)
    assert code == 0, stderr
    assert stderr.splitlines()[-1] == f"wrote {output}"
    assert probe(output).frame_count == 75 and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_batch_sighup_to_its_whole_job_stops_the_workers_and_keeps_their_segments(media, tmp_path):
    """The terminal's SIGHUP reaches the batch, its workers and multiprocessing's helpers at once (one process
    group): the workers stop as on the batch's own SIGINT, and the one line is the batch's."""
    outputs = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    settings = "to: toon, consistency: none, height: 64, segment_seconds: 1, preset: ultrafast, end: 6"
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        f"defaults: {{{settings}}}\njobs:\n" + "".join(f"  - {{source: {media / CLIP}, output: {out}}}\n" for out in outputs)
    )
    first = start(tmp_path, "batch", jobs, "--workers", "2", session=True)
    wait_until(first, lambda: all(done_segments(out) >= 1 for out in outputs), timeout=300)
    code, stderr, seconds = hang_up(first)
    assert code == 129 and seconds < PROMPT_S, (code, seconds, stderr)
    assert one_line(stderr) == f"{HUNG_UP}: 0 finished job(s) and the others' finished segments kept; run again with --resume"
    kept = [done_segments(out) for out in outputs]
    time.sleep(2)
    assert [done_segments(out) for out in outputs] == kept, "a worker went on after the batch stopped"
    assert not any(out.exists() for out in outputs) and all(1 <= k < 6 for k in kept), kept
    assert all(parts_leftovers(out) == [] for out in outputs)  # no worker died with its partial segment
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.mp4.vidtoon-parts", ".b.mp4.vidtoon-parts", "jobs.yaml"]


# `vidtoon restyle ARGV`, with a SIGTERM sent to itself by os.replace just before or just after the output's rename
# (an output folder's: each of its files' renames into it)
AT_THE_RENAME = """
import os, signal, sys
from pathlib import Path

output, when, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
rename = os.replace

def replace(source, target, **kw):
    ours = output in (Path(target), Path(target).parent)
    if ours and when == "before":
        os.kill(os.getpid(), signal.SIGTERM)
    rename(source, target, **kw)
    if ours and when == "after":
        os.kill(os.getpid(), signal.SIGTERM)

os.replace = replace
sys.argv = ["vidtoon", *argv]
from vidtoon.cli import run
run()
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_signal_at_the_outputs_rename_leaves_the_finished_film_and_says_so(media, tmp_path, when):
    """The window at the very end: a signal just before or after the joined film is renamed into its final name
    cannot cut the rename short or report a complete film as "nothing was written" (with its parts folder kept for
    a --resume that has nothing left to do). The rename is the point of no return: the film is in place, the run
    cleans up and says `wrote`, exit 0."""
    clip, output = media / CLIP, tmp_path / "out.mp4"
    args = ["restyle", clip, *RESTYLE, "--end", "2", "-o", output]
    run = subprocess.run(
        [sys.executable, "-c", AT_THE_RENAME, output, when, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=300,
    )
    assert run.returncode == 0 and one_line(run.stderr) == f"wrote {output}", run.stderr
    assert probe(output).frame_count == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no parts folder, lock or temporary file


@pytest.mark.parametrize("kind", ["gif", "picture", "folder"])
def test_a_signal_just_after_a_gif_picture_or_folder_is_renamed_into_place_leaves_it_and_says_so(media, tmp_path, kind):
    """A GIF (one writer, no segments), a picture and a folder of pictures are finished at their rename as a joined
    film is: a SIGTERM that lands just after it (held over a folder's renames) reported "interrupted", exit 143."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(photos / name), np.full((24, 32, 3), (40, 120, 200), np.uint8))
    source, output = {
        "gif": (media / CLIP, tmp_path / "out.gif"),
        "picture": (photos / "a.png", tmp_path / "out.png"),
        "folder": (photos, tmp_path / "out"),
    }[kind]
    args = ["restyle", source, "--to", "toon", "--consistency", "none", "-o", output]
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            AT_THE_RENAME,
            output,
            "after",
            *args,
            *(["--end", "0.4", "--height", "64"] if kind == "gif" else []),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=300,
    )
    lines = [line for line in run.stderr.splitlines() if line.strip()]  # a GIF: a warning that it has no sound first
    assert run.returncode == 0 and lines[-1].startswith(f"wrote {output}"), run.stderr
    assert "Traceback" not in run.stderr and "interrupted" not in run.stderr.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["photos", output.name])  # no lock, no temporary file
    if kind == "gif":
        assert probe(output).frame_count == 10
    elif kind == "folder":
        assert sorted(p.name for p in output.iterdir()) == [".vidtoon-frames.json", "a.png", "b.png"]
    else:
        assert cv2.imread(str(output)).shape == (24, 32, 3)


def test_a_signal_at_the_outputs_rename_in_the_python_api_keeps_the_film_and_no_parts(media, tmp_path, monkeypatch):
    """Without the CLI the held signal reaches the caller (KeyboardInterrupt, as Ctrl-C in a notebook): the film is
    in place all the same, and its parts folder is gone rather than kept for a --resume with nothing to do."""
    from vidtoon.preview import restyle_with

    output = tmp_path / "out.mp4"
    rename = os.replace

    def replace(source, target, **kw):
        if Path(target) == output:
            os.kill(os.getpid(), signal.SIGINT)  # just before the rename: held until it is done
        rename(source, target, **kw)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        restyle_with(media / CLIP, output, style="toon", seconds=1, device="cpu")
    monkeypatch.undo()
    assert probe(output).frame_count == 25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
