"""Output locks and the failures of writing files: a second writer is refused by name, stale locks are taken over,
a full disk is one line, the temporary files go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_one_line_error, run_vidtoon

from vidtoon.errors import DiskFullError, Interrupted, OutputError
from vidtoon.files import AtomicFile, StagingDir, check_output, is_disk_full
from vidtoon.locking import NAME_MAX, OutputLock, lock_path_for, read_holder, sidecar_name

REPO = Path(__file__).resolve().parent.parent


def hold_lock_in_child(target: Path, *, folder: bool = False) -> subprocess.Popen:
    """Another process that takes `target`'s lock and sleeps until killed; returns once the lock is held."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from vidtoon.locking import OutputLock
        OutputLock({str(target)!r}, folder={folder}).acquire()
        print("held", flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert child.stdout.readline().strip() == "held"
    return child


def test_lock_file_names():
    assert lock_path_for(Path("/a/b/out.mp4")) == Path("/a/b/out.mp4.lock")
    assert lock_path_for(Path("/a/frames"), folder=True) == Path("/a/frames/.vidtoon.lock")


def test_lock_holds_pid_and_is_removed_on_release(tmp_path):
    target = tmp_path / "out.mp4"
    with OutputLock(target) as lock:
        holder = read_holder(lock.path)
        assert holder["pid"] == os.getpid() and abs(holder["started"] - time.time()) < 60
        with OutputLock(target):  # the same process may take it again (join inside a segmented job)
            pass
        assert lock.path.exists()
    assert not lock.path.exists()


def test_second_process_is_refused_with_the_holders_pid(tmp_path):
    target = tmp_path / "out.mp4"
    child = hold_lock_in_child(target)
    try:
        for attempt in (lambda: check_output(target), lambda: AtomicFile(target), lambda: OutputLock(target).acquire()):
            with pytest.raises(OutputError) as caught:
                attempt()
            message = caught.value.message
            assert f"is being written by process {child.pid} (started " in message
            assert f"remove {target}.lock if it is not running" in message
        assert list(tmp_path.iterdir()) == [tmp_path / "out.mp4.lock"]  # no partial file was made
    finally:
        child.kill()
        child.wait()
    with AtomicFile(target) as staged:  # the kernel dropped the dead child's lock: taken over
        staged.path.write_bytes(b"done")
    assert target.read_bytes() == b"done" and not (tmp_path / "out.mp4.lock").exists()


def test_stale_lock_file_of_a_dead_process_is_taken_over(tmp_path):
    target = tmp_path / "out.png"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = {"pid": int(dead.stdout), "started": time.time() - 3600, "host": "elsewhere", "command": "vidtoon restyle"}
    lock_path_for(target).write_text(json.dumps(stale))
    check_output(target)
    with AtomicFile(target) as staged:
        staged.path.write_bytes(b"ok")
        assert read_holder(lock_path_for(target))["pid"] == os.getpid()
    assert target.read_bytes() == b"ok" and not lock_path_for(target).exists()


def test_frame_folder_lock(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    child = hold_lock_in_child(folder, folder=True)
    try:
        with pytest.raises(OutputError, match=f"process {child.pid}"):
            StagingDir(folder)
    finally:
        child.kill()
        child.wait()
    staging = StagingDir(folder)
    (staging.path / "a.png").write_bytes(b"x")
    staging.commit()
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"]  # lock and staging folder gone


def test_disk_full_error_line():
    error = DiskFullError("out.mp4", written=12_345_678, resumable=True)
    assert error.message == "disk full while writing out.mp4 (12.3 MB written): free space and run again with --resume"
    assert DiskFullError("a.png").message == "disk full while writing a.png (0.0 MB written): free space and run again"
    assert is_disk_full(OSError(28, "No space left on device")) and is_disk_full(OSError(27, "File too large"))
    assert not is_disk_full(OSError(13, "Permission denied")) and not is_disk_full(ValueError())


def test_interrupted_exit_codes():
    assert Interrupted(15).exit_code == 143 and Interrupted(2).exit_code == 130
    assert Interrupted(15, kept="3 finished segment(s) of out.mp4 kept").message == (
        "interrupted: 3 finished segment(s) of out.mp4 kept; run again with --resume"
    )
    assert isinstance(Interrupted(2), KeyboardInterrupt)  # every `except BaseException` cleanup runs for it


WRITE_UNDER_LIMIT = """
import resource, signal, sys
from fractions import Fraction
import numpy as np
from vidtoon.errors import DiskFullError
from vidtoon.io.writer import VideoWriter
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
noise = np.random.default_rng(0).integers(0, 256, (40, 120, 160, 3), dtype=np.uint8)
try:
    with VideoWriter(sys.argv[1], fps=Fraction(24)) as writer:
        for index, rgb in enumerate(noise):
            writer.write(rgb)
except DiskFullError as exc:
    print(exc.message)
"""


def test_video_writer_disk_full_removes_its_temporary_file(tmp_path):
    output = tmp_path / "noise.mp4"
    result = subprocess.run(
        [sys.executable, "-c", WRITE_UNDER_LIMIT, str(output)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    line = result.stdout.strip()
    assert line.startswith(f"disk full while writing {output} (0.2 MB written)"), (result.stdout, result.stderr)
    assert line.endswith("free space and run again")
    assert list(tmp_path.iterdir()) == []  # no output, no partial file, no lock


def test_atomic_file_keeps_nothing_on_failure(tmp_path):
    target = tmp_path / "x.bin"
    with pytest.raises(RuntimeError):
        with AtomicFile(target) as staged:
            staged.path.write_bytes(np.zeros(10, np.uint8).tobytes())
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_file_gets_the_umasks_mode_even_when_the_writer_replaced_it(tmp_path, umask):
    """Writers such as safetensors put a new 0600 file where the temporary one was: the finished file still gets
    the mode any new file gets under the user's umask (0644 under 022), like the files written directly."""
    old = os.umask(umask)
    try:
        with AtomicFile(tmp_path / "w.safetensors") as staged:
            staged.path.unlink()
            os.close(os.open(staged.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_second_training_into_the_same_run_folder_is_refused(tmp_path):
    from typer.testing import CliRunner

    from vidtoon.cli import app

    run = tmp_path / "run"
    run.mkdir()
    child = hold_lock_in_child(run, folder=True)
    try:
        result = CliRunner().invoke(app, ["train", "cyclegan", "-o", str(run), "--a", str(tmp_path), "--b", str(tmp_path)])
    finally:
        child.kill()
        child.wait()
    assert result.exit_code == 1
    assert f"{run} is being written by process {child.pid} (started " in " ".join(result.stderr.split())


def test_sidecar_names_stay_within_the_file_name_limit():
    assert sidecar_name(".", "out.mp4", ".vidtoon-parts") == ".out.mp4.vidtoon-parts"
    long_names = ["é" * 127, "é" * 126 + "x", "L" * 255]  # 254, 253, 255 bytes: files the system allows
    shortened = {sidecar_name(".", name, ".vidtoon-parts") for name in long_names}
    assert len(shortened) == 3
    for name in shortened:
        assert len(os.fsencode(name)) <= NAME_MAX and name.startswith(".") and name.endswith(".vidtoon-parts")
        name.encode("utf-8")  # cut between characters, never inside one
    assert len(os.fsencode(sidecar_name(".", "L" * 250, ".partial-", reserve=12))) == NAME_MAX - 12


def test_restyle_to_a_name_of_255_bytes(tmp_path):
    from conftest import make_clip
    from typer.testing import CliRunner

    from vidtoon.cli import app
    from vidtoon.io.probe import probe

    source = make_clip(tmp_path / ("é" * 123 + ".mp4"), 6, audio_seconds=0.25)  # default output: 246 + 9 = 255 bytes
    result = CliRunner().invoke(app, ["restyle", str(source), "--to", "toon", "--device", "cpu"])
    assert result.exit_code == 0, result.output  # was: cannot create the lock file ... (File name too long)
    output = tmp_path / ("é" * 123 + ".toon.mp4")
    assert len(os.fsencode(output.name)) == NAME_MAX and probe(output).frame_count == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, output.name])


def test_an_unwritable_current_folder_is_named_by_its_path(monkeypatch):
    monkeypatch.chdir("/proc")  # not writable, even by root
    with pytest.raises(OutputError) as caught:
        check_output("out.mp4")
    assert caught.value.message.startswith("/proc: cannot write to this folder")  # was ".: cannot write ..."


def test_a_staging_folder_that_made_its_output_folder_removes_it_again_on_abort(tmp_path):
    # an output folder made for a run that then failed would refuse the next run as "exists — pass --force"
    made = StagingDir(tmp_path / "new" / "out", make=True)
    (made.path / "a.png").write_bytes(b"x")
    made.abort()
    assert not (tmp_path / "new" / "out").exists()
    (tmp_path / "kept").mkdir()
    existing = StagingDir(tmp_path / "kept", make=True)
    existing.abort()
    assert (tmp_path / "kept").is_dir() and list((tmp_path / "kept").iterdir()) == []  # the user's own folder stays
    done = StagingDir(tmp_path / "done", make=True)
    (done.path / "a.png").write_bytes(b"x")
    done.commit()
    assert [p.name for p in (tmp_path / "done").iterdir()] == ["a.png"]


def test_a_dangling_link_under_the_output_name_is_kept_unless_forced(tmp_path):
    """A live link is refused as an existing output; a link to a missing file was silently replaced by the output."""
    output = tmp_path / "out.png"
    output.symlink_to(tmp_path / "renders" / "out.png")  # its folder is not made yet
    args = ["restyle", REPO / "clips" / "sample.jpg", "--to", "toon", "-o", output]
    assert_one_line_error(run_vidtoon(*args), f"output is a symbolic link to {tmp_path / 'renders' / 'out.png'}", "--force")
    assert output.is_symlink()
    assert run_vidtoon(*args, "--force").returncode == 0
    assert output.is_file() and not output.is_symlink() and not (tmp_path / "renders").exists()


def test_a_commit_holds_a_signal_until_the_rename_is_done_and_puts_the_handlers_back_exactly(tmp_path):
    import signal
    import threading

    from vidtoon.files import AtomicFile as Staged

    arrived = []

    def mine(signum, frame):
        arrived.append((signum, (tmp_path / "out.txt").exists()))

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, mine)
    try:
        staged = Staged(tmp_path / "out.txt")
        staged.path.write_text("done")
        os.kill(os.getpid(), signal.SIGINT)
        assert arrived == [(signal.SIGINT, False)]  # delivered at once outside a hold...
        arrived.clear()
        from vidtoon.interrupts import held_signals

        with held_signals():
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C just before the rename
            time.sleep(0.05)
            assert arrived == []  # ...and held inside one
            staged.commit()  # its own hold, nested
        assert arrived == [(signal.SIGINT, True)]  # after the rename, to the handler that was there, once
        assert signal.getsignal(signal.SIGINT) is mine and signal.getsignal(signal.SIGTERM) is saved[signal.SIGTERM]
        # from another thread (a notebook's worker, a Ray actor's unit): no handler is touched, the commit works
        seen = []

        def commit_in_a_thread():
            with Staged(tmp_path / "thread.txt") as other:
                other.path.write_text("thread")
            seen.append(signal.getsignal(signal.SIGINT))

        worker = threading.Thread(target=commit_in_a_thread)
        worker.start()
        worker.join()
        assert seen == [mine] and (tmp_path / "thread.txt").read_text() == "thread"
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "thread.txt"]
