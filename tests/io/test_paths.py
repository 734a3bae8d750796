"""User file names that FFmpeg would read as something else: `a:b.mp4` and `file:x.mp4` as a protocol, `img%03d.png`
as a numbered sequence. Each must open the file of that name, relative to the current folder."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
from conftest import SAMPLE, make_clip
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.io.paths import ffmpeg_path
from vidtoon.io.probe import probe

runner = CliRunner()


def test_ffmpeg_path_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ffmpeg_path("file:x.mp4") == str(tmp_path / "file:x.mp4")
    assert ffmpeg_path("-y.mp4") == str(tmp_path / "-y.mp4")


def test_probe_reads_the_named_file_not_a_protocol(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_clip(tmp_path / "x.mp4", 5, size=(96, 64))  # what "file:x.mp4" read: another file
    shutil.copy(SAMPLE, tmp_path / "file:x.mp4")
    shutil.copy(SAMPLE, tmp_path / "a:b.mp4")  # was "Protocol not found"
    for name in ("file:x.mp4", "a:b.mp4"):
        info = probe(name)
        assert (info.width, info.height, info.frame_count) == (480, 270, 96)


def test_probe_reads_an_image_named_like_a_sequence_pattern(tmp_path):
    cv2.imwrite(str(tmp_path / "img%03d.png"), np.zeros((30, 40, 3), np.uint8))
    for i in (1, 2):  # what FFmpeg's image2 read instead: img001.png, img002.png
        cv2.imwrite(str(tmp_path / f"img{i:03d}.png"), np.zeros((10, 20, 3), np.uint8))
    info = probe(tmp_path / "img%03d.png")
    assert (info.width, info.height) == (40, 30)


def test_restyle_and_stitch_write_and_read_colon_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_clip(tmp_path / "a:b.mp4", 6, audio_seconds=0.25)
    result = runner.invoke(app, ["restyle", "a:b.mp4", "--to", "toon", "--device", "cpu", "-o", "c:d.mp4"])
    assert result.exit_code == 0, result.output
    info = probe("c:d.mp4")
    assert info.frame_count == 6 and len(info.audio) == 1
    frames = tmp_path / "f:%03d"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i}.png"), np.full((48, 64, 3), 60 * i, np.uint8))
    result = runner.invoke(app, ["stitch", "f:%03d", "--fps", "4", "--audio", "a:b.mp4", "-o", "s:%03d.mp4"])
    assert result.exit_code == 0, result.output
    info = probe("s:%03d.mp4")
    assert info.frame_count == 3 and len(info.audio) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a:b.mp4", "c:d.mp4", "f:%03d", "s:%03d.mp4"]
