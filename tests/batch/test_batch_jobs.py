"""Job lists read and checked whole before anything starts: YAML, text and folder lists, every problem one line,
outputs named like `vidtoon restyle` names them, and how many workers a machine gets. No worker is started here."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, make_clip
from typer.testing import CliRunner

from vidtoon.batch import JobListError, default_workers, plan_batch
from vidtoon.batch.jobs import folder_sources, style_names
from vidtoon.batch.local import worker_devices
from vidtoon.batch.report import REPORT_NAME, BatchReport, JobResult
from vidtoon.cli import app
from vidtoon.errors import InputError, UsageError
from vidtoon.io.formats import EncodeOptions

runner = CliRunner()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sources")
    for name, frames in (("a.mp4", 12), ("b.mp4", 24), ("c.mov", 6)):
        make_clip(folder / name, frames)
    return folder


def test_a_yaml_list_merges_defaults_jobs_and_flags(clips, tmp_path):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        f"defaults: {{to: sketch, consistency: none, height: 32}}\n"
        f"jobs:\n"
        f"  - source: {clips / 'a.mp4'}\n"
        f"  - {{source: {clips / 'b.mp4'}, output: out/b.mkv, height: 24, crf: 30}}\n"
        f"  - {{source: {clips / 'c.mov'}, to: toon, style-opt: {{levels: 4}}}}\n"
    )
    checked, report = plan_batch(jobs, settings={"strength": 0.5, "preset": "ultrafast"})
    assert report == tmp_path / REPORT_NAME
    a, b, c = checked
    assert a.output == clips / "a.sketch.mp4" and a.style == "sketch"  # as `vidtoon restyle` names it
    assert b.output == tmp_path / "out" / "b.mkv"  # relative to the job file
    assert c.output == clips / "c.toon.mov" and c.style == "toon"
    options = [job.options({}) for job in checked]
    assert [o.height for o in options] == [32, 24, 32]
    assert [o.strength for o in options] == [0.5, 0.5, 0.5]  # the command line's settings under the list's
    assert [o.encode.crf for o in options] == [None, 30, None] and options[0].encode.preset == "ultrafast"
    assert c.style_args()["style_opts"] == {"levels": "4"} and c.style_args()["style"] == "toon"
    assert (a.frames, b.frames, c.frames) == (12, 24, 6) and b.seconds == pytest.approx(1.0, abs=0.05)


def test_a_crf_past_a_jobs_encoder_scale_is_refused_before_any_job_runs(clips, tmp_path):
    """x264 stops at 51, VP9 at 63: each job's --crf is checked against its own output's encoder when the list is."""
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: sketch, crf: 60}\n"
        "jobs:\n"
        f"  - {{source: {clips / 'a.mp4'}, output: {tmp_path / 'a.webm'}}}\n"  # VP9: 60 is on its scale
        f"  - {{source: {clips / 'b.mp4'}, output: {tmp_path / 'b.mp4'}}}\n"
    )
    with pytest.raises(JobListError) as caught:
        plan_batch(jobs)
    assert caught.value.problems == [
        f"jobs.yaml: job 2 ({clips / 'b.mp4'}): {tmp_path / 'b.mp4'}: --crf 60: x264 (.mp4 files) takes 0-51, lower is "
        "better — give --crf between 0 and 51 (VP9's scale, of .webm files, goes to 63)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.yaml"]


def test_the_encoder_flags_are_for_the_films_of_a_batch_not_its_pictures(clips, tmp_path):
    """`vidtoon restyle photo.png --crf 18` is refused (a picture has no video encoder), but a batch's --crf and
    --preset are for its films: its picture and folder jobs drop them and still run (restyle's own check passes)."""
    import cv2

    from vidtoon.restyle import check_restyle

    cv2.imwrite(str(tmp_path / "photo.png"), np.full((24, 32, 3), 90, np.uint8))
    (tmp_path / "stills").mkdir()
    cv2.imwrite(str(tmp_path / "stills" / "f0.png"), np.full((24, 32, 3), 40, np.uint8))
    listing = tmp_path / "mixed.txt"
    listing.write_text(f"{clips / 'a.mp4'}\n{tmp_path / 'photo.png'}\n{tmp_path / 'stills'}\n")
    settings = {"to": "sketch", "crf": 30, "preset": "ultrafast", "pix_fmt": "yuv444p"}
    checked, _ = plan_batch(listing, settings=settings, out_dir=tmp_path / "out")
    by_name = {job.source.name: job for job in checked}
    film = by_name["a.mp4"].options({}).encode
    assert (film.crf, film.preset, film.pix_fmt) == (30, "ultrafast", "yuv444p")
    for name in ("photo.png", "stills"):
        job = by_name[name]
        assert job.options({}).encode == EncodeOptions()
        check_restyle(job.source, job.output, style_name=job.style, options=job.options({}))  # not refused


def test_a_picture_jobs_own_encoder_settings_are_refused_with_its_number(clips, tmp_path):
    """The batch's --crf and `defaults:` are for its films, but a picture job's own `crf: 20` was meant for that job,
    and was dropped without a word: now the check refuses it, naming the job and its file, and nothing starts."""
    import cv2

    cv2.imwrite(str(tmp_path / "photo.png"), np.full((24, 32, 3), 90, np.uint8))
    (tmp_path / "stills").mkdir()
    cv2.imwrite(str(tmp_path / "stills" / "f0.png"), np.full((24, 32, 3), 40, np.uint8))
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: sketch, crf: 30}\n"  # for the films: the pictures drop it
        "jobs:\n"
        f"  - {{source: {clips / 'a.mp4'}, crf: 20}}\n"
        "  - {source: photo.png, crf: 20}\n"
        "  - {source: stills, preset: slow, pix-fmt: yuv444p}\n"
        "  - {source: photo.png, output: plain.png}\n"
    )
    with pytest.raises(JobListError) as refused:
        plan_batch(jobs, settings={"preset": "ultrafast"}, out_dir=tmp_path / "out")
    assert refused.value.problems == [
        "jobs.yaml: job 2 (photo.png): crf: 20: the output is a picture, written without a video encoder, so it changes "
        "nothing; leave crf out of this job (a video's encoder settings)",
        "jobs.yaml: job 3 (stills): preset: slow, pix_fmt: yuv444p: the output is a folder of pictures, written without a "
        "video encoder, so they change nothing; leave preset and pix_fmt out of this job (a video's encoder settings)",
    ]
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, ["batch", str(jobs), "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 1 and "job 2 (photo.png): crf: 20" in " ".join(result.output.split()), result.output
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["jobs.yaml", "photo.png", "stills"]


def test_a_text_list_and_a_folder_with_a_glob(clips, tmp_path):
    listing = tmp_path / "films.txt"
    listing.write_text(f"# two films\n{clips / 'b.mp4'}\n\n{clips / 'a.mp4'}   # the short one\n")
    checked, _ = plan_batch(listing, settings={"to": "sketch"}, out_dir=tmp_path / "out")
    assert [job.source.name for job in checked] == ["b.mp4", "a.mp4"]
    assert [job.output for job in checked] == [tmp_path / "out" / "b.sketch.mp4", tmp_path / "out" / "a.sketch.mp4"]
    folder, report = plan_batch(clips, glob="*.mp4", settings={"to": "paint"})
    assert [job.output.name for job in folder] == ["a.paint.mp4", "b.paint.mp4"] and report == clips / REPORT_NAME
    with pytest.raises(UsageError, match="--glob"):
        plan_batch(clips, settings={"to": "paint"})
    with pytest.raises(InputError, match="no file matches"):
        plan_batch(clips, glob="*.avi", settings={"to": "paint"})


def test_a_text_list_line_naming_a_file_with_a_hash_is_that_file(clips, tmp_path):
    (tmp_path / "Episode #1.mp4").write_bytes((clips / "a.mp4").read_bytes())
    listing = tmp_path / "films.txt"
    listing.write_text(f"Episode #1.mp4\n{clips / 'b.mp4'}  # a comment: no file is named so\n")
    checked, _ = plan_batch(listing, settings={"to": "sketch"})
    assert [job.source.name for job in checked] == ["Episode #1.mp4", "b.mp4"]  # was: source not found: Episode
    assert checked[0].output == tmp_path / "Episode #1.sketch.mp4" and checked[0].frames == 12


def test_a_video_is_a_list_of_one_film(tmp_path):
    """`vidtoon batch film.mp4` (the bundled sample; it was read as a text list: "cannot read the job list")."""
    film = tmp_path / "film.mp4"
    film.write_bytes(SAMPLE.read_bytes())
    checked, report = plan_batch(film, settings={"to": "toon"})
    assert [(job.source, job.output, job.frames) for job in checked] == [(film, tmp_path / "film.toon.mp4", 96)]
    assert report == tmp_path / REPORT_NAME
    with pytest.raises(JobListError, match="source not found"):
        plan_batch(tmp_path / "missing.mkv", settings={"to": "toon"})


def test_a_list_of_dicts_has_no_report_unless_asked(clips, tmp_path):
    checked, report = plan_batch([{"source": str(clips / "a.mp4"), "to": "sketch", "output": str(tmp_path / "x.mp4")}])
    assert report is None and checked[0].output == tmp_path / "x.mp4"


def test_every_problem_is_one_line_and_nothing_starts(clips, tmp_path):
    (tmp_path / "exists.mp4").write_bytes(b"made before")
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: sketch}\n"
        "jobs:\n"
        f"  - {{source: {clips / 'a.mp4'}, to: pixr}}\n"  # 1 unknown style
        "  - source: missing.mp4\n"  # 2 no such file
        f"  - {{source: {clips / 'a.mp4'}, output: same.mp4}}\n"  # 3
        f"  - {{source: {clips / 'b.mp4'}, output: same.mp4}}\n"  # 4 the same output as job 3
        f"  - {{source: {clips / 'c.mov'}, output: {clips / 'a.mp4'}}}\n"  # 5 writes job 1's input
        f"  - {{source: {clips / 'b.mp4'}, strength: 2}}\n"  # 6 bad setting
        f"  - {{source: {clips / 'b.mp4'}, colour: red}}\n"  # 7 unknown setting
        f"  - {{source: {clips / 'c.mov'}, output: exists.mp4}}\n"  # 8 output exists
        "  - source: broken.mp4\n"  # 9 unreadable
    )
    result = runner.invoke(app, ["batch", str(jobs)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == "error: 8 problem(s) in jobs.yaml, nothing was started", result.output
    expected = [
        f"jobs.yaml: job 1 ({clips / 'a.mp4'}): unknown style 'pixr': did you mean 'pixar'? (installed: ",
        f"jobs.yaml: job 2 (missing.mp4): source not found: {tmp_path / 'missing.mp4'}",
        f"jobs.yaml: job 4 ({clips / 'b.mp4'}): writes the same output as job 3: {tmp_path / 'same.mp4'}",
        f"jobs.yaml: job 5 ({clips / 'c.mov'}): the output is the input of job 1: {clips / 'a.mp4'}",
        f"jobs.yaml: job 6 ({clips / 'b.mp4'}): --strength must be in [0, 1), got 2",
        f"jobs.yaml: job 7 ({clips / 'b.mp4'}): unknown setting 'colour'; known: to, model, like",
        f"jobs.yaml: job 8 ({clips / 'c.mov'}): output exists: {tmp_path / 'exists.mp4'} (pass --force",
        f"jobs.yaml: job 9 (broken.mp4): cannot read the source: {tmp_path / 'broken.mp4'}: ",
    ]
    assert len(lines) == 1 + len(expected), result.output
    for line, start in zip(lines[1:], expected):
        assert line.startswith(start), (line, start)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "exists.mp4", "jobs.yaml"]  # no output, no report


def test_a_pixel_format_the_output_encoder_refuses_is_a_problem_of_its_job(clips, tmp_path):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: sketch}\n"
        "jobs:\n"
        f"  - {{source: {clips / 'a.mp4'}, output: a.mp4, pix_fmt: pal8}}\n"  # 1 a palette: GIF only
        f"  - {{source: {clips / 'b.mp4'}, output: b.webm, pix_fmt: rgb24}}\n"  # 2 VP9 takes no RGB
        f"  - {{source: {clips / 'c.mov'}, output: c.gif, pix_fmt: pal8}}\n"  # 3 fine
    )
    result = runner.invoke(app, ["batch", str(jobs)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: 2 problem(s) in jobs.yaml, nothing was started",
        f"jobs.yaml: job 1 ({clips / 'a.mp4'}): {tmp_path / 'a.mp4'}: --pix-fmt pal8: the libx264 encoder of .mp4 files "
        "cannot encode it — use one of yuv420p, yuvj420p, yuv422p, yuv444p, yuv420p10le, yuv422p10le, yuv444p10le, nv12, "
        "gray; pal8 is for .gif files",
        f"jobs.yaml: job 2 ({clips / 'b.mp4'}): {tmp_path / 'b.webm'}: --pix-fmt rgb24: the libvpx-vp9 encoder of .webm "
        "files cannot encode it — use one of yuv420p, yuv422p, yuv444p",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.yaml"]  # no output, no parts folder, no report
    gif = {"source": str(clips / "a.mp4"), "to": "sketch", "output": str(tmp_path / "a.gif"), "pix_fmt": "pal8"}
    assert plan_batch([gif])[0][0].output == tmp_path / "a.gif"


def test_a_start_past_the_end_and_a_video_name_for_a_picture_are_refused_before_anything_starts(clips, tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "still.png"), np.full((48, 64, 3), 128, np.uint8))
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "defaults: {to: sketch}\n"
        "jobs:\n"
        f"  - {{source: {clips / 'a.mp4'}, output: a.mp4, start: 3}}\n"  # 1 the clip lasts 0.5 s
        "  - {source: still.png, output: still.mp4}\n"  # 2 a picture's output is a picture
        f"  - {{source: {clips / 'b.mp4'}, output: b.mp4, start: 0.5}}\n"  # 3 fine
    )
    result = runner.invoke(app, ["batch", str(jobs)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: 2 problem(s) in jobs.yaml, nothing was started",
        f"jobs.yaml: job 1 ({clips / 'a.mp4'}): --start 3s is past the end of the video (0.500s) — the input is "
        f"{clips / 'a.mp4'}",
        f"jobs.yaml: job 2 (still.png): output {tmp_path / 'still.mp4'} of an image must be an image file — use .png or .jpg",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.yaml", "still.png"]  # no output, no report


def test_a_report_that_cannot_be_written_is_refused_before_any_job_runs(clips, tmp_path):
    (tmp_path / "jobs.txt").write_text(f"{clips / 'a.mp4'}\n")
    (tmp_path / "reports").mkdir()
    base = ["batch", str(tmp_path / "jobs.txt"), "--to", "sketch", "--out-dir", str(tmp_path / "out")]
    folder = runner.invoke(app, [*base, "--report", str(tmp_path / "reports")])
    assert folder.exit_code == 1
    assert folder.output.strip().splitlines() == [
        f"error: {tmp_path / 'reports'}: the report's name is a folder — pass --report {tmp_path / 'reports' / REPORT_NAME}"
    ]
    under_a_file = runner.invoke(app, [*base, "--report", str(tmp_path / "jobs.txt" / "report.json")])
    assert under_a_file.exit_code == 1
    (line,) = under_a_file.output.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'jobs.txt'}: cannot write to this folder (")
    assert line.endswith(" — pass --report with a file in a folder you can write to")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.txt", "reports"]  # no output, no partial report
    assert list((tmp_path / "reports").iterdir()) == []


def test_existing_outputs_are_replaced_with_force_and_skipped_with_resume(clips, tmp_path):
    out = tmp_path / "a.mp4"
    out.write_bytes(b"made before")
    job = [{"source": str(clips / "a.mp4"), "to": "sketch", "output": str(out)}]
    with pytest.raises(JobListError) as refused:
        plan_batch(job)
    assert len(refused.value.problems) == 1 and "output exists" in refused.value.problems[0]
    assert plan_batch(job, force=True)[0][0].skip is None
    assert plan_batch(job, resume=True)[0][0].skip == "output exists"
    made_with = plan_batch(job, force=True)[0][0].made_with
    report = tmp_path / "report.json"  # an earlier run's report that made this output so: a re-run skips it
    BatchReport([JobResult(1, str(clips / "a.mp4"), str(out), "done", 12, 1.0, 12.0, made_with=made_with)]).write(report)
    assert plan_batch(job, report=report)[0][0].skip == "done in an earlier run"
    assert plan_batch(job, report=report, resume=True)[0][0].skip == "done in an earlier run"
    BatchReport([JobResult(1, str(clips / "a.mp4"), str(out), "done", 12, 1.0, 12.0)]).write(report)  # says not how
    with pytest.raises(JobListError, match="output exists: "):
        plan_batch(job, report=report)
    assert plan_batch(job, report=report, resume=True)[0][0].skip == "output exists"


def test_what_made_an_output_is_the_style_the_model_and_the_options_that_change_pixels(clips, tmp_path):
    job = {"source": str(clips / "a.mp4"), "to": "sketch", "output": str(tmp_path / "a.mp4"), "height": 32}

    def made_with(**settings):
        return plan_batch([{**job, **settings}])[0][0].made_with

    first = made_with()
    assert first["style"] == "sketch" and first["options"]["height"] == 32
    assert first["source_size"] == (clips / "a.mp4").stat().st_size
    for unchanged in ({"device": "cpu"}, {"batch_size": 4}, {"segment_seconds": 5}, {"compile": False}):
        assert made_with(**unchanged) == first, unchanged
    for changed in ({"to": "paint"}, {"height": 48}, {"crf": 30}, {"strength": 0.2}, {"style_opt": {"shading": 0.2}}):
        assert made_with(**changed) != first, changed


def test_a_weights_file_is_known_by_its_digest(tiny_checkpoint, clips, tmp_path):
    copy = tmp_path / "model.safetensors"
    copy.write_bytes(tiny_checkpoint.read_bytes())
    job = [{"source": str(clips / "a.mp4"), "model": str(copy), "output": str(tmp_path / "a.mp4")}]
    before = plan_batch(job)[0][0].made_with
    assert before["model"]["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
    data = bytearray(copy.read_bytes())
    data[-1] ^= 1  # weights retrained in place: the same size, other bytes
    copy.write_bytes(bytes(data))
    retrained = plan_batch(job)[0][0].made_with
    assert retrained["model"]["sha256"] != before["model"]["sha256"]
    assert retrained["model"] == {"kind": "checkpoint", "label": None, "sha256": hashlib.sha256(data).hexdigest()}
    moved = tmp_path / "elsewhere" / "model.safetensors"  # the same weights in another folder: the same model
    moved.parent.mkdir()
    copy.rename(moved)
    assert plan_batch([{**job[0], "model": str(moved)}])[0][0].made_with == retrained


def test_the_shape_of_a_job_list_is_checked(tmp_path):
    bad = tmp_path / "bad.yaml"
    for text, message in (
        ("jobs: [a.mp4\n", "not valid YAML"),
        ("defaults: {to: sketch}\n", "needs a `jobs:` list"),
        ("jobs: [a.mp4]\nextra: 1\n", "unknown top-level key"),
        ("defaults: {speed: 3}\njobs: [a.mp4]\n", "unknown setting 'speed'"),
        ("defaults: {heigth: 64}\njobs: [a.mp4]\n", "unknown setting 'heigth' \\(did you mean 'height'\\?\\)"),
    ):
        bad.write_text(text)
        with pytest.raises((InputError, UsageError), match=message):
            plan_batch(bad)
    with pytest.raises(InputError, match="job list not found"):
        plan_batch(tmp_path / "nope.yaml")


def test_worker_counts_and_devices():
    assert default_workers(None, cores=2, visible_gpus=0) == 1
    assert default_workers(None, cores=4, visible_gpus=0) == 1
    assert default_workers(None, cores=16, visible_gpus=0) == 4
    assert default_workers(None, cores=16, visible_gpus=3) == 3
    assert default_workers([0, 2], cores=16, visible_gpus=4) == 2
    assert worker_devices(3, [0, 2], visible_gpus=4) == ["cuda:0", "cuda:2", "cuda:0"]
    assert worker_devices(2, None, visible_gpus=1) == ["cuda:0", "cuda:0"]
    with pytest.raises(UsageError, match=r"--gpus 0,1: GPU 1 is not there \(1 visible\)"):
        worker_devices(2, [0, 1], visible_gpus=1)
    assert worker_devices(2, None, visible_gpus=0) == [None, None]
    with pytest.raises(UsageError, match="--workers"):
        worker_devices(0, None, visible_gpus=0)


def test_every_restyle_flag_is_a_job_setting():
    import typer.main

    from vidtoon.batch.jobs import _ALIASES, SETTING_KEYS

    command = typer.main.get_command(app).commands["restyle"]
    names = {_ALIASES.get(p.name, p.name) for p in command.params}
    batch_level = {"source", "output", "force", "resume"}  # a job's own keys, and the batch's flags
    assert names - batch_level <= set(SETTING_KEYS), sorted(names - batch_level - set(SETTING_KEYS))


def test_an_interrupted_run_is_refused_continued_with_resume_or_restarted_with_force(clips, tmp_path):
    from vidtoon.io.segments import parts_dir_for

    out = tmp_path / "a.mp4"
    parts_dir_for(out).mkdir()  # what an interrupted restyle of `out` leaves
    job = [{"source": str(clips / "a.mp4"), "to": "sketch", "output": str(out)}]
    with pytest.raises(JobListError) as refused:
        plan_batch(job)
    assert refused.value.problems == [
        f"jobs: job 1 ({clips / 'a.mp4'}): an interrupted run of {out} exists: pass --resume to continue it or --force to start over"
    ]
    assert plan_batch(job, resume=True)[0][0].resume is True
    forced = plan_batch(job, force=True)[0][0]
    assert forced.resume is False and forced.skip is None
    report = tmp_path / "report.json"  # an earlier run of this batch failed there: a re-run continues it
    BatchReport([JobResult(1, str(clips / "a.mp4"), str(out), "failed", 5, 1.0, 5.0, "boom")]).write(report)
    again = plan_batch(job, report=report)[0][0]
    assert again.resume is True and again.skip is None


def test_a_changed_job_whose_output_exists_is_refused_with_what_changed(clips, tmp_path):
    out = tmp_path / "a.mp4"
    out.write_bytes(b"made before")
    job = [{"source": str(clips / "a.mp4"), "to": "sketch", "output": str(out), "height": 32}]
    made_with = plan_batch(job, force=True)[0][0].made_with
    report = tmp_path / "report.json"
    BatchReport([JobResult(1, str(clips / "a.mp4"), str(out), "done", 12, 1.0, 12.0, made_with=made_with)]).write(report)
    for settings, changed in (({"height": 48}, "height 32 → 48"), ({"to": "paint"}, "style sketch → paint")):
        for resume in (False, True):  # --resume keeps what exists, not what is known to be stale
            with pytest.raises(JobListError) as refused:
                plan_batch([{**job[0], **settings}], report=report, resume=resume)
            assert refused.value.problems == [
                f"jobs: job 1 ({clips / 'a.mp4'}): output exists, made with other settings ({changed}): {out} "
                "(pass --force to make it again)"
            ]
        assert plan_batch([{**job[0], **settings}], report=report, force=True)[0][0].skip is None


def test_a_folder_takes_no_output_of_vidtoon_for_a_source(clips, tmp_path):
    folder = tmp_path / "films"
    folder.mkdir()
    for name in ("a.mp4", "a.part2.mp4", "b.mp4"):
        (folder / name).write_bytes((clips / "a.mp4").read_bytes())
    for name in ("a.toon.mp4", "a.sketch.mp4", "mine.mp4", REPORT_NAME):  # vidtoon made these
        (folder / name).write_bytes(b"an output")
    BatchReport([JobResult(1, str(folder / "b.mp4"), str(folder / "mine.mp4"), "done", 12)]).write(folder / REPORT_NAME)
    checked, _ = plan_batch(folder, glob="*", settings={"to": "toon"}, resume=True)
    assert [job.source.name for job in checked] == ["a.mp4", "a.part2.mp4", "b.mp4"]  # a.part2: no style of that name
    (folder / "b.like-monalisa.mp4").write_bytes(b"an output of --like monalisa.png")
    assert [p.name for p in folder_sources(folder, "b*.mp4", style_names({"like": "pictures/monalisa.png"}))] == ["b.mp4"]
    assert "like-monalisa" not in style_names({"to": "toon"}) and "mine" in style_names({"model": "models/mine.onnx"})
    with pytest.raises(InputError, match=r"no file matches 'mine\.mp4' besides 1 file\(s\) vidtoon made"):
        plan_batch(folder, glob="mine.mp4", settings={"to": "toon"})
