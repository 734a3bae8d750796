"""Chunked films (`vidtoon.batch.chunks`), for real: tiny clips with keyframes every 12 frames, the real sketch style.

Each chunked output is checked against one `vidtoon.restyle` of the same job: same frame count, timestamps and
audio packets; frames at chunk borders within 2 grey levels (the temporal stage was warmed up there), others
equal up to rounding. The encoding is lossless (crf 0), so encoder noise (each chunk's segment starts its own
group of pictures: about 1.5 grey levels at the default crf) does not hide what the chunking changes.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import REPO, SAMPLE, make_alpha_clip, make_clip, video_times

from vidtoon.batch import batch, plan_batch
from vidtoon.batch.chunks import join_chunks, keyframe_times, open_film, plan_chunks, run_chunk
from vidtoon.errors import OutputError, UsageError
from vidtoon.io.probe import probe
from vidtoon.io.segments import parts_dir_for
from vidtoon.restyle import load_translator, restyle

SETTINGS = {"to": "sketch", "consistency": "flow", "strength": 0.5, "preset": "ultrafast", "crf": 0}


def textured(count: int, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """Frames with edges that move (what a sketch and the flow see), tinted by their index."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(count):
        pattern = 0.5 + 0.5 * np.sin((x + 2 * i) / 4.0) * np.cos((y - i) / 5.0)
        tint = np.array([40 + (i * 37) % 180, 200 - (i * 23) % 160, 60 + (i * 53) % 150]) / 255.0
        frames.append((255 * pattern[..., None] * (0.4 + 0.6 * tint)).astype(np.uint8))
    return frames


def the_job(source: Path, output: Path, **settings):
    jobs, _ = plan_batch([{"source": str(source), "output": str(output), **SETTINGS, **settings}])
    return jobs[0]


def single_run(job, output: Path) -> Path:
    """The same job as one `vidtoon.restyle` call, with the style loaded as `vidtoon restyle` and the batch chunks load
    it (on the CPU: its uint8 twin)."""
    loaded = load_translator(style="sketch", twin=True)
    options = job.options(loaded.defaults)
    return restyle(job.source, output, translator=loaded.translator, style_name="sketch", options=options, job_key=loaded.key)


def chunked_run(job, chunk_seconds: float = 1) -> tuple[Path, list]:
    chunks = plan_chunks(job, probe(job.source), chunk_seconds=chunk_seconds)
    cache: dict = {}
    results = [run_chunk(job, chunk, translator_cache=cache) for chunk in chunks]
    assert sum(r.frames for r in results) > 0
    return join_chunks(job, chunks), chunks


def frames_of(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)])


def audio_packets(path: Path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        stream = container.streams.audio[0]
        return [(p.pts, bytes(p)) for p in container.demux(stream) if p.size]


def frame_differences(chunked: Path, single: Path) -> list[float]:
    """Mean absolute difference (grey levels) of each frame pair."""
    a, b = frames_of(chunked), frames_of(single)
    assert a.shape == b.shape
    return [float(np.abs(x - y).mean()) for x, y in zip(a, b)]


def assert_same_film(chunked: Path, single: Path, borders: list[Fraction]) -> None:
    times = video_times(chunked)
    assert times == video_times(single)
    assert audio_packets(chunked) == audio_packets(single)
    for i, (t, diff) in enumerate(zip(times, frame_differences(chunked, single))):
        assert diff <= (2.0 if t in borders else 0.5), (i, float(t), diff)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """3 s at 24 fps (72 frames), a keyframe every 12 frames (0.5 s), 3 s of stereo sound."""
    return make_clip(tmp_path_factory.mktemp("src") / "film.mp4", textured(72), keyint=12, audio_seconds=3.0)


@pytest.fixture(scope="module")
def single(clip, tmp_path_factory) -> Path:
    return single_run(the_job(clip, tmp_path_factory.mktemp("single") / "film.mp4"), tmp_path_factory.mktemp("s") / "one.mp4")


def test_borders_are_the_first_keyframes_after_each_multiple(clip, tmp_path):
    info = probe(clip)
    keys = keyframe_times(clip, info)
    assert keys == [Fraction(i, 2) for i in range(6)]
    job = the_job(clip, tmp_path / "out.mp4")
    chunks = plan_chunks(job, info, chunk_seconds=1)
    assert [(c.index, c.start, c.end, c.warmup_start) for c in chunks] == [
        (0, 0, 1, 0),
        (1, 1, 2, 0),  # warmed up from 1 s before its start
        (2, 2, None, 1),
    ]
    assert chunks[0].borders == (1, 2) and all(c.job == job.number for c in chunks)
    assert [c.start for c in plan_chunks(job, info, chunk_seconds=0.8)] == [0, 1, 2, Fraction(5, 2)]
    frames = video_times(clip)
    for chunk in plan_chunks(job, info, chunk_seconds=0.8):
        assert chunk.start in keys
    owners = [[c.index for c in chunks if c.start <= t and (c.end is None or t < c.end)] for t in frames]
    assert all(len(o) == 1 for o in owners) and len(frames) == 72  # every frame in exactly one chunk
    assert len(plan_chunks(job, info, chunk_seconds=1.6)) == 1  # shorter than two chunks: one
    for bad in (0, -1, "1", True):
        with pytest.raises(UsageError, match="--chunk-seconds must be a positive number"):
            plan_chunks(job, info, chunk_seconds=bad)
    cut = the_job(clip, tmp_path / "cut.mp4", start="0.25", end="2.75", consistency="none")
    assert [(c.start, c.end, c.warmup_start) for c in plan_chunks(cut, info, chunk_seconds=1)] == [
        (0, Fraction(5, 4), 0),  # the keyframe at 1.5 s of the source
        (Fraction(5, 4), Fraction(9, 4), Fraction(5, 4)),  # no temporal stage: no warm-up
        (Fraction(9, 4), None, Fraction(9, 4)),
    ]


def test_a_film_with_one_keyframe_is_one_chunk(tmp_path):
    source = make_clip(tmp_path / "long-gop.mp4", 72)
    assert len(plan_chunks(the_job(source, tmp_path / "out.mp4"), probe(source), chunk_seconds=1)) == 1


def test_chunked_film_matches_a_single_run(clip, single, tmp_path):
    job = the_job(clip, tmp_path / "film.sketch.mp4")
    output, chunks = chunked_run(job)
    assert output == job.output and not parts_dir_for(output).exists()
    assert len(video_times(output)) == 72
    assert_same_film(output, single, [c.start for c in chunks])
    assert frame_differences(output, single) == [0.0] * 72  # warmed up for 1 s: the very same frames
    cold, _ = chunked_run(the_job(clip, tmp_path / "cold.mp4", warmup_seconds=0))
    diffs = frame_differences(cold, single)
    assert diffs[:24] == [0.0] * 24 and diffs[24] > 0.3 and diffs[48] > 0.3  # no warm-up: the borders show
    assert max(diffs) <= 2.0 and diffs[40] < 0.05  # and it fades within the chunk


def test_vfr_six_channel_film_keeps_timestamps_and_sound(tmp_path):
    steps = [Fraction(0), Fraction(1, 24), Fraction(3, 24), Fraction(4, 24), Fraction(7, 24), Fraction(8, 24)]
    times = [t + k * Fraction(9, 24) for k in range(8) for t in steps]  # 48 frames over 3 s, uneven gaps
    source = make_clip(tmp_path / "vfr.mp4", textured(48), times=times, keyint=6, audio_seconds=3.0, audio_layout="5.1")
    job = the_job(source, tmp_path / "out.mp4")
    assert probe(source).variable_fps
    output, chunks = chunked_run(job)
    assert len(chunks) == 3
    with av.open(str(output)) as container:
        assert container.streams.audio[0].codec_context.channels == 6
    assert video_times(output) == times
    assert_same_film(output, single_run(job, tmp_path / "single.mp4"), [c.start for c in chunks])


def test_real_avi_cut_at_its_keyframes(media, tmp_path):
    """Megamind.avi: 23.976 fps (2997/125), AC3 sound, keyframes 2-4 s apart; 3.9 s to 4.9 s of it (24 frames)."""
    job = the_job(media / "Megamind.avi", tmp_path / "mega.mp4", start="3.9", end="4.9", height=96)
    output, chunks = chunked_run(job, chunk_seconds=0.2)
    keys = [t - Fraction(39, 10) for t in keyframe_times(job.source, probe(job.source))]
    assert len(chunks) == 2 and chunks[1].start in keys and 0.2 < chunks[1].start < 0.3  # the keyframe at 4.129 s
    assert len(video_times(output)) == 24
    assert_same_film(output, single_run(job, tmp_path / "single.mp4"), [c.start for c in chunks])


def test_two_processes_write_one_folder_then_join(clip, single, tmp_path):
    job = the_job(clip, tmp_path / "film.mp4")
    chunks = plan_chunks(job, probe(clip), chunk_seconds=1)
    work = tmp_path / "units.pickle"
    work.write_bytes(pickle.dumps((job, chunks)))
    script = (
        "import pickle, sys; from vidtoon.batch.chunks import run_chunk; "
        f"job, chunks = pickle.loads(open({str(work)!r}, 'rb').read()); "
        "[run_chunk(job, chunks[int(i)]) for i in sys.argv[1:]]"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen([sys.executable, "-c", script, *ids.split()], env=env, stderr=subprocess.PIPE) for ids in ("0 2", "1")
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()
    assert_same_film(join_chunks(job, chunks), single, [c.start for c in chunks])


def test_a_deleted_chunk_is_the_only_one_redone(clip, single, tmp_path):
    job = the_job(clip, tmp_path / "film.mp4")
    chunks = plan_chunks(job, probe(clip), chunk_seconds=1)
    cache: dict = {}
    assert [run_chunk(job, c, translator_cache=cache).frames for c in chunks] == [24, 24, 24]
    parts = parts_dir_for(job.output)
    (parts / "part-00001.times").unlink()  # as if its writer died before the chunk was complete
    with pytest.raises(OutputError, match="chunk\\(s\\) 1 of 3 are not finished"):
        join_chunks(job, chunks)
    again = [run_chunk(job, c, translator_cache=cache) for c in chunks]
    assert [(r.skipped, r.frames) for r in again] == [(True, 24), (False, 24), (True, 24)]
    assert_same_film(join_chunks(job, chunks), single, [c.start for c in chunks])


def test_local_batch_resumes_only_the_missing_chunk(clip, single, tmp_path):
    """Two workers, one film: chunks 0 and 2 were finished by an interrupted run; --resume makes chunk 1 and joins."""
    job = the_job(clip, tmp_path / "film.mp4")
    chunks = plan_chunks(job, probe(clip), chunk_seconds=1)
    parts = open_film(job, chunks, resume=False, force=False)
    for chunk in (chunks[0], chunks[2]):
        run_chunk(job, chunk)
    parts.release()
    other = plan_chunks(job, probe(clip), chunk_seconds=0.8)
    with pytest.raises(OutputError, match="borders"):
        open_film(job, other, resume=True, force=False).release()  # another plan: refused
    report = batch([{"source": str(clip), "output": str(job.output), **SETTINGS}], workers=2, resume=True, chunk_seconds=1)
    assert [(j.status, j.frames) for j in report.jobs] == [("done", 72)], report.jobs
    assert_same_film(job.output, single, [c.start for c in chunks])
    assert not parts_dir_for(job.output).exists()


def test_local_batch_runs_one_film_as_chunks_on_every_worker(clip, single, tmp_path):
    """One film, two workers, 1-s chunks: both workers run its chunks (the report counts 2 workers, not 1 per film),
    the film's one bar counts each of its 72 frames once, and the joined film is the single run's."""
    from test_batch_progress import Bars

    bars = Bars()
    output = tmp_path / "film.mp4"
    report = batch([{"source": str(clip), "output": str(output), **SETTINGS}], workers=2, chunk_seconds=1, progress=bars)
    assert [(j.status, j.frames) for j in report.jobs] == [("done", 72)], report.jobs
    assert report.workers == 2
    assert bars.starts == {1: 1} and bars.frames == {1: 72} and bars.finished == [1]
    assert_same_film(output, single, [Fraction(0), Fraction(1), Fraction(2)])


def test_the_command_takes_one_film_and_runs_its_chunks_on_every_worker(tmp_path):
    """`vidtoon batch film.mp4 --workers 2` (README, "One film, many workers"): the bundled sample is the one job, its
    chunks run on both workers, and the output keeps the film's frame times and sound."""
    film = tmp_path / "film.mp4"
    film.write_bytes(SAMPLE.read_bytes())
    command = [sys.executable, "-m", "vidtoon", "batch", film.name, "--workers", "2", "--to", "sketch", "--chunk-seconds", "1"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "batch-report.json").read_text())
    assert report["workers"] == 2 and [(j["status"], j["frames"]) for j in report["jobs"]] == [("done", 96)], report
    output = tmp_path / "film.sketch.mp4"
    assert video_times(output) == video_times(film)
    assert [s.codec for s in probe(output).audio] == ["aac"]


def test_a_transparent_film_cut_into_chunks_is_said_once(tmp_path, caplog):
    """`vidtoon restyle` says a transparent film's alpha is dropped; a batch film cut into chunks never went through
    `restyle_video` and said nothing. Now the driver says it once for the film (not once per chunk)."""
    import logging

    source = make_alpha_clip(tmp_path / "film.mov", "png", "rgba", frames=48)  # every frame a keyframe: 1-s chunks
    output = tmp_path / "film.sketch.mp4"
    assert len(plan_chunks(the_job(source, output), probe(source), chunk_seconds=1)) == 2
    with caplog.at_level(logging.WARNING):
        report = batch([{"source": str(source), "output": str(output), **SETTINGS}], workers=2, chunk_seconds=1)
    assert [(j.status, j.frames) for j in report.jobs] == [("done", 48)], report.jobs
    said = [r.getMessage() for r in caplog.records if "alpha channel" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{source}: its alpha channel (transparency) is dropped"), said
    assert not probe(output).alpha
