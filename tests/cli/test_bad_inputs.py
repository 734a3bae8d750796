"""Bad and odd inputs against every command (vidtoon issue #15): each refusal is one clear line, exit != 0, no
traceback, nothing left behind, and it comes fast (checked before any model loads or any frame is decoded).

Table-driven: each case is a command line with placeholders (filled from the `work` folder made once per module)
and the fragment its error line must hold. `{out}` is a fresh folder per case that must stay empty.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE, make_audio_only, make_clip, no_leftovers
from typer.testing import CliRunner

from vidtoon.cli import app

runner = CliRunner()
REFUSAL_SECONDS = 2.0  # the contract for a refusal, in CPU seconds of this process (in-process: interpreter
# start-up does not count; CPU time, because wall time on a shared, loaded CI machine measures the neighbours)


@pytest.fixture(scope="module")
def work(tmp_path_factory, tiny_checkpoint) -> dict[str, Path]:
    """The inputs every case draws on: good ones (a tiny clip, a photo, a frame folder) and bad ones."""
    # Import what the commands import once up front: like interpreter start-up, it is not part of a refusal's time.
    import vidtoon.animate.pipeline  # noqa: F401
    import vidtoon.evaluate  # noqa: F401
    import vidtoon.evaluate_fid  # noqa: F401
    import vidtoon.restyle  # noqa: F401
    import vidtoon.stabilize  # noqa: F401
    import vidtoon.train.export  # noqa: F401
    import vidtoon.train.run  # noqa: F401

    folder = tmp_path_factory.mktemp("work")
    make_clip(folder / "clip.mp4", 12, size=(64, 48))  # 0.5 s at 24 fps
    make_clip(folder / "other.mp4", 8, size=(64, 48))
    make_clip(folder / "wide.mp4", 12, size=(96, 48))
    make_clip(folder / "existing.mp4", 4, size=(64, 48))
    cv2.imwrite(str(folder / "photo.png"), np.full((48, 64, 3), 90, np.uint8))
    frames = folder / "frames"
    frames.mkdir()
    for i in range(4):
        cv2.imwrite(str(frames / f"f{i}.png"), np.full((32, 32, 3), 40 * i, np.uint8))
    (folder / "no_images").mkdir()
    junk = folder / "junk_frames"
    junk.mkdir()
    (junk / "f0.png").write_text("not a picture")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is a text file, renamed\n" * 40)
    data = SAMPLE.read_bytes()
    (folder / "cut.mp4").write_bytes(data[: len(data) // 2])
    make_audio_only(folder / "song.m4a")
    (folder / "a_folder.mp4").mkdir()
    (folder / "bad.yaml").write_text("steps: [1, 2\n")
    (folder / "list.yaml").write_text("- 1\n- 2\n")
    (folder / "unknown_key.yaml").write_text("stepz: 10\n")
    (folder / "fake.safetensors").write_text("not weights")
    (folder / "fake.onnx").write_text("not a graph")
    (folder / "not_a_run").mkdir()
    make_clip(folder / ("M" * 250 + ".mp4"), 4)  # a name the system takes; its default output's (259 bytes) it does not
    return {"dir": folder, "model": tiny_checkpoint}


# (case id, command line, fragment of the one error line). Placeholders: {w} the work folder, {out} a fresh
# folder that must stay empty, {model} a tiny real checkpoint, {long} a name of 300 bytes (no file system takes it).
CASES = [
    # names longer than a file name may be: one line, not ENAMETOOLONG's traceback
    ("probe-name-too-long", "probe {w}/{long}.mp4", "file not found: its name is 304 bytes"),
    ("restyle-output-name-too-long", "restyle {w}/clip.mp4 --to toon -o {out}/{long}/x.mp4", "a folder name is 300 bytes"),
    ("restyle-default-name-too-long", "restyle {w}/" + "M" * 250 + ".mp4 --to toon", "name is 259 bytes"),
    ("restyle-model-name-too-long", "restyle {w}/clip.mp4 --model {w}/{long}.pt -o {out}/x.mp4", "at most 255 bytes"),
    ("compare-name-too-long", "compare {w}/clip.mp4 {w}/{long}.mp4 -o {out}/x.mp4", "at most 255 bytes"),
    ("batch-list-name-too-long", "batch {w}/{long}.yaml", "at most 255 bytes"),
    # probe
    ("probe-missing", "probe {w}/missing.mp4", "file not found"),
    ("probe-folder", "probe {w}/a_folder.mp4", "is a folder"),
    ("probe-empty", "probe {w}/empty.mp4", "empty (0 bytes)"),
    ("probe-text", "probe {w}/notes.mp4", "not a video"),
    ("probe-truncated", "probe {w}/cut.mp4", "truncated"),
    ("probe-audio-only", "probe {w}/song.m4a", "no video stream"),
    # frames
    ("frames-missing", "frames {w}/missing.mp4 -o {out}/ds", "file not found"),
    ("frames-empty", "frames {w}/empty.mp4 -o {out}/ds", "empty (0 bytes)"),
    ("frames-text", "frames {w}/notes.mp4 -o {out}/ds", "not a video"),
    ("frames-truncated", "frames {w}/cut.mp4 -o {out}/ds", "truncated"),
    ("frames-audio-only", "frames {w}/song.m4a -o {out}/ds", "no video stream"),
    ("frames-fps-zero", "frames {w}/clip.mp4 -o {out}/ds --fps 0", "--fps"),
    ("frames-fps-text", "frames {w}/clip.mp4 -o {out}/ds --fps fast", "--fps"),
    ("frames-fps-nan", "frames {w}/clip.mp4 -o {out}/ds --fps nan", "--fps"),
    ("frames-fps-inf", "frames {w}/clip.mp4 -o {out}/ds --fps inf", "--fps"),
    ("frames-size-zero", "frames {w}/clip.mp4 -o {out}/ds --size 0", "--size"),
    ("frames-size-text", "frames {w}/clip.mp4 -o {out}/ds --size big", "--size"),
    ("frames-crop", "frames {w}/clip.mp4 -o {out}/ds --crop left", "--crop"),
    ("frames-format", "frames {w}/clip.mp4 -o {out}/ds --format gif", "--format"),
    ("frames-start-past-end", "frames {w}/clip.mp4 -o {out}/ds --start 30", "--start"),
    ("frames-end-before-start", "frames {w}/clip.mp4 -o {out}/ds --start 0.4 --end 0.2", "--end"),
    ("frames-bad-time", "frames {w}/clip.mp4 -o {out}/ds --start 1:xx", "--start"),
    ("frames-bad-tag", "frames {w}/clip.mp4 -o {out}/ds --tag oops", "key=value"),
    ("frames-output-is-file", "frames {w}/clip.mp4 -o {w}/photo.png", "not a folder"),
    ("frames-unwritable", "frames {w}/clip.mp4 -o /proc/vidtoon/ds", "cannot write"),
    # stitch
    ("stitch-missing", "stitch {w}/no_such_folder -o {out}/x.mp4", "not found"),
    ("stitch-no-images", "stitch {w}/no_images -o {out}/x.mp4", "no images"),
    ("stitch-junk-images", "stitch {w}/junk_frames -o {out}/x.mp4", "f0.png"),
    ("stitch-file-not-folder", "stitch {w}/clip.mp4 -o {out}/x.mp4", "not a folder"),
    ("stitch-fps-zero", "stitch {w}/frames -o {out}/x.mp4 --fps 0", "--fps"),
    ("stitch-fps-negative", "stitch {w}/frames -o {out}/x.mp4 --fps -24", "--fps"),
    ("stitch-fps-text", "stitch {w}/frames -o {out}/x.mp4 --fps 24fps", "--fps"),
    ("stitch-fps-slash-zero", "stitch {w}/frames -o {out}/x.mp4 --fps 30/0", "--fps"),
    ("stitch-fps-huge", "stitch {w}/frames -o {out}/x.mp4 --fps 1e9", "--fps"),
    ("stitch-fit", "stitch {w}/frames -o {out}/x.mp4 --fit squash", "--fit"),
    ("stitch-size", "stitch {w}/frames -o {out}/x.mp4 --size 0x10", "--size"),
    ("stitch-crf", "stitch {w}/frames -o {out}/x.mp4 --crf 99", "--crf"),
    ("stitch-crf-negative", "stitch {w}/frames -o {out}/x.mp4 --crf -1", "--crf"),
    # a --crf is checked against the output's encoder: x264 stops at 51, VP9 at 63
    ("stitch-crf-x264", "stitch {w}/frames -o {out}/x.mp4 --crf 60", "--crf 60: x264 (.mp4 files) takes 0-51"),
    ("stitch-crf-vp9", "stitch {w}/frames -o {out}/x.webm --crf 64", "between 0 and 63, got 64"),
    ("stitch-preset-gif", "stitch {w}/frames -o {out}/x.gif --preset slow", "--preset slow: the gif encoder"),
    ("stitch-preset-webm", "stitch {w}/frames -o {out}/x.webm --preset slow", "no x264 speed presets"),
    ("stitch-preset", "stitch {w}/frames -o {out}/x.mp4 --preset warp", "--preset"),
    ("stitch-pix-fmt", "stitch {w}/frames -o {out}/x.mp4 --pix-fmt yuv999", "--pix-fmt"),
    ("stitch-pix-fmt-pal8", "stitch {w}/frames -o {out}/x.mp4 --pix-fmt pal8", "pal8 is for .gif files"),
    ("stitch-pix-fmt-rgb24", "stitch {w}/frames -o {out}/x.mp4 --pix-fmt rgb24", "--pix-fmt rgb24: the libx264 encoder"),
    ("stitch-suffix", "stitch {w}/frames -o {out}/x.xyz", "unknown output type"),
    ("stitch-exists", "stitch {w}/frames -o {w}/existing.mp4", "already exists"),
    ("stitch-output-folder", "stitch {w}/frames -o {w}/a_folder.mp4", "existing folder"),
    ("stitch-unwritable", "stitch {w}/frames -o /proc/vidtoon/x.mp4", "cannot write"),
    ("stitch-audio-missing", "stitch {w}/frames -o {out}/x.mp4 --audio {w}/missing.m4a", "file not found"),
    ("stitch-audio-is-output", "stitch {w}/frames --audio {w}/song.m4a -o {w}/song.m4a --force", "same file as the input"),
    # restyle
    ("restyle-missing", "restyle {w}/missing.mp4 --to toon -o {out}/x.mp4", "file not found"),
    ("restyle-folder-as-video", "restyle {w}/a_folder.mp4 --to toon -o {out}/x.mp4", "no images"),
    ("restyle-empty", "restyle {w}/empty.mp4 --model {model} -o {out}/x.mp4", "empty (0 bytes)"),
    ("restyle-text", "restyle {w}/notes.mp4 --model {model} -o {out}/x.mp4", "not a video"),
    ("restyle-truncated", "restyle {w}/cut.mp4 --model {model} -o {out}/x.mp4", "truncated"),
    ("restyle-audio-only", "restyle {w}/song.m4a --model {model} -o {out}/x.mp4", "no video stream"),
    ("restyle-output-is-input", "restyle {w}/clip.mp4 --model {model} -o {w}/clip.mp4 --force", "same file as the input"),
    ("restyle-unwritable", "restyle {w}/clip.mp4 --model {model} -o /proc/vidtoon/x.mp4", "cannot write"),
    ("restyle-start-past-end", "restyle {w}/clip.mp4 --model {model} -o {out}/x.mp4 --start 30", "--start"),
    ("restyle-exists", "restyle {w}/clip.mp4 --model {model} -o {w}/existing.mp4", "already exists"),
    ("restyle-image-to-video", "restyle {w}/photo.png --to toon -o {out}/x.mp4", "image file"),
    ("restyle-unknown-style", "restyle {w}/clip.mp4 --to nosuchstyle -o {out}/x.mp4", "nosuchstyle"),
    ("restyle-no-style", "restyle {w}/clip.mp4 -o {out}/x.mp4", "give exactly one of"),
    ("restyle-like-and-to", "restyle {w}/clip.mp4 --to toon --like {w}/photo.png -o {out}/x.mp4", "give exactly one of"),
    ("restyle-bad-style-opt", "restyle {w}/clip.mp4 --to toon --style-opt levels -o {out}/x.mp4", "--style-opt"),
    ("restyle-unknown-style-opt", "restyle {w}/clip.mp4 --to toon --style-opt nosuch=3 -o {out}/x.mp4", "nosuch"),
    ("restyle-style-opt-value", "restyle {w}/clip.mp4 --to toon --style-opt levels=many -o {out}/x.mp4", "levels"),
    ("restyle-missing-model", "restyle {w}/clip.mp4 --model {w}/missing.safetensors -o {out}/x.mp4", "not found"),
    ("restyle-model-folder", "restyle {w}/clip.mp4 --model {w}/a_folder.mp4 -o {out}/x.mp4", "is a folder"),
    ("restyle-model-empty", "restyle {w}/clip.mp4 --model {w}/empty.mp4 -o {out}/x.mp4", "empty (0 bytes)"),
    ("restyle-fake-model", "restyle {w}/clip.mp4 --model {w}/fake.safetensors -o {out}/x.mp4", "fake.safetensors"),
    ("restyle-fake-onnx", "restyle {w}/clip.mp4 --model {w}/fake.onnx -o {out}/x.mp4", "fake.onnx"),
    ("restyle-height-zero", "restyle {w}/clip.mp4 --to toon --height 0 -o {out}/x.mp4", "--height"),
    ("restyle-height-negative", "restyle {w}/clip.mp4 --to toon --height -5 -o {out}/x.mp4", "--height"),
    ("restyle-height-text", "restyle {w}/clip.mp4 --to toon --height tall -o {out}/x.mp4", "--height"),
    ("restyle-strength-nan", "restyle {w}/clip.mp4 --to toon --strength nan -o {out}/x.mp4", "--strength"),
    ("restyle-strength-inf", "restyle {w}/clip.mp4 --to toon --strength inf -o {out}/x.mp4", "--strength"),
    ("restyle-flow", "restyle {w}/clip.mp4 --to toon --flow magic -o {out}/x.mp4", "--flow"),
    ("restyle-device", "restyle {w}/clip.mp4 --to toon --device tpu -o {out}/x.mp4", "--device"),
    ("restyle-precision", "restyle {w}/clip.mp4 --to toon --precision fp8 -o {out}/x.mp4", "--precision"),
    ("restyle-segment-zero", "restyle {w}/clip.mp4 --to toon --segment-seconds 0 -o {out}/x.mp4", "--segment-seconds"),
    ("restyle-face-margin", "restyle {w}/clip.mp4 --to toon --face-margin -1 -o {out}/x.mp4", "--face-margin"),
    ("restyle-max-side", "restyle {w}/clip.mp4 --to toon --max-side 4 -o {out}/x.mp4", "--max-side"),
    ("restyle-start-text", "restyle {w}/clip.mp4 --to toon --start soon -o {out}/x.mp4", "--start"),
    ("restyle-start-seconds-75", "restyle {w}/clip.mp4 --to toon --start 1:75 -o {out}/x.mp4", "--start time '1:75'"),
    ("train-time-limit-61", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --time-limit 1:61", "--time-limit"),
    ("restyle-crf", "restyle {w}/clip.mp4 --to toon --crf 500 -o {out}/x.mp4", "--crf"),
    ("restyle-crf-x264", "restyle {w}/clip.mp4 --to toon --crf 60 -o {out}/x.mkv", "--crf 60: x264 (.mkv files) takes 0-51"),
    ("restyle-like-missing", "restyle {w}/clip.mp4 --like {w}/missing.png -o {out}/x.mp4", "missing.png"),
    ("restyle-like-strength", "restyle {w}/clip.mp4 --like {w}/photo.png --like-strength 7 -o {out}/x.mp4", "strength"),
    ("restyle-suffix", "restyle {w}/clip.mp4 --to toon -o {out}/x.xyz", "unknown output type"),
    ("restyle-no-suffix", "restyle {w}/clip.mp4 --to toon -o {out}/newdir", "has no file type"),
    # a pixel format the output's encoder cannot take: refused before a parts folder or a model (issue: pal8/rgb24)
    ("restyle-pix-fmt-pal8", "restyle {w}/clip.mp4 --to toon --pix-fmt pal8 -o {out}/x.mp4", "pal8 is for .gif files"),
    ("restyle-pix-fmt-rgb24", "restyle {w}/clip.mp4 --to toon --pix-fmt rgb24 -o {out}/x.mp4", "x.mp4: --pix-fmt rgb24"),
    ("restyle-pix-fmt-webm", "restyle {w}/clip.mp4 --to toon --pix-fmt rgb24 -o {out}/x.webm", "yuv420p, yuv422p, yuv444p"),
    ("restyle-pix-fmt-gif", "restyle {w}/clip.mp4 --to toon --pix-fmt yuv444p -o {out}/x.gif", "gray, pal8, rgb8"),
    # a flag the output's encoder has no use for: refused, not silently ignored
    ("restyle-preset-webm", "restyle {w}/clip.mp4 --to toon --preset slow -o {out}/x.webm", "no x264 speed presets"),
    ("restyle-preset-gif", "restyle {w}/clip.mp4 --to toon --preset slow -o {out}/x.gif", "--preset slow: the gif"),
    ("restyle-crf-gif", "restyle {w}/clip.mp4 --to toon --crf 5 -o {out}/x.gif", "--crf 5: the gif encoder"),
    # pictures are written without a video encoder: its flags would change nothing
    ("restyle-crf-photo", "restyle {w}/photo.png --to toon --crf 18 -o {out}/x.png", "x.png: --crf 18: the output is a picture"),
    ("restyle-preset-frames", "restyle {w}/frames --to toon --preset slow -o {out}/styled", "is a folder of pictures"),
    (
        "restyle-pix-fmt-photo",
        "restyle {w}/photo.png --to toon --pix-fmt yuv444p --crf 5 -o {out}/x.jpg",
        "leave --crf and --pix-fmt out",
    ),
    # stabilize and eval
    ("stabilize-missing", "stabilize {w}/missing.mp4 --source {w}/clip.mp4 -o {out}/x.mp4", "file not found"),
    ("stabilize-source-missing", "stabilize {w}/clip.mp4 --source {w}/missing.mp4 -o {out}/x.mp4", "file not found"),
    ("stabilize-counts", "stabilize {w}/clip.mp4 --source {w}/other.mp4 -o {out}/x.mp4", "--truncate"),
    ("stabilize-strength", "stabilize {w}/clip.mp4 --source {w}/clip.mp4 --strength 2 -o {out}/x.mp4", "--strength"),
    ("stabilize-flow", "stabilize {w}/clip.mp4 --source {w}/clip.mp4 --flow magic -o {out}/x.mp4", "--flow"),
    ("stabilize-fps", "stabilize {w}/frames --source {w}/frames --fps 0 -o {out}/x.mp4", "--fps"),
    ("stabilize-device", "stabilize {w}/clip.mp4 --source {w}/clip.mp4 --device gpu9 -o {out}/x.mp4", "--device"),
    ("stabilize-pix-fmt", "stabilize {w}/clip.mp4 --source {w}/clip.mp4 --pix-fmt pal8 -o {out}/x.mp4", "--pix-fmt pal8"),
    (
        "stabilize-crf-x264",
        "stabilize {w}/clip.mp4 --source {w}/clip.mp4 --crf 52 -o {out}/x.mp4",
        "--crf 52: x264 (.mp4 files) takes 0-51",
    ),
    # a folder of frames is written without a video encoder: its flags would change nothing (--preset has no default)
    (
        "stabilize-preset-frames",
        "stabilize {w}/clip.mp4 --source {w}/clip.mp4 --preset slow --pix-fmt yuv444p -o {out}/stable",
        "stable: --preset slow --pix-fmt yuv444p: the output is a folder of pictures",
    ),
    ("stabilize-is-input", "stabilize {w}/clip.mp4 --source {w}/other.mp4 -o {w}/clip.mp4 --force", "same file"),
    ("eval-missing", "eval {w}/missing.mp4 --source {w}/clip.mp4", "file not found"),
    ("eval-text", "eval {w}/notes.mp4 --source {w}/clip.mp4", "not a video"),
    ("eval-sizes", "eval {w}/wide.mp4 --source {w}/clip.mp4", "wide.mp4"),
    ("eval-max-side", "eval {w}/clip.mp4 --source {w}/clip.mp4 --max-side 2", "--max-side"),
    ("eval-flow", "eval {w}/clip.mp4 --source {w}/clip.mp4 --flow magic", "--flow"),
    # compare
    ("compare-missing", "compare {w}/missing.mp4 --source {w}/clip.mp4 -o {out}/s.png", "file not found"),
    ("compare-source-missing", "compare {w}/clip.mp4 --source {w}/missing.mp4 -o {out}/s.png", "file not found"),
    ("compare-lengths", "compare {w}/other.mp4 --source {w}/clip.mp4 -o {out}/s.png", "--truncate"),
    ("compare-aspect", "compare {w}/wide.mp4 --source {w}/clip.mp4 -o {out}/s.png", "wide.mp4 is 96x48"),
    ("compare-kind", "compare {w}/clip.mp4 --source {w}/clip.mp4 -o {out}/s.xyz", "unknown kind of output"),
    ("compare-page-one", "compare {w}/clip.mp4 --source {w}/clip.mp4 -o {out}/page", "at least two results"),
    ("compare-wipe-two", "compare {w}/clip.mp4 {w}/clip.mp4 --source {w}/clip.mp4 --layout wipe -o {out}/w.mp4", "ONE result"),
    ("compare-pix-fmt", "compare {w}/clip.mp4 --source {w}/clip.mp4 --pix-fmt rgb24 -o {out}/w.mp4", "--pix-fmt rgb24"),
    ("compare-crf-x264", "compare {w}/clip.mp4 --source {w}/clip.mp4 --crf 60 -o {out}/w.mp4", "x264 (.mp4 files) takes 0-51"),
    # a sheet and a page have no encoder the flags could set
    (
        "compare-crf-sheet",
        "compare {w}/clip.mp4 --source {w}/clip.mp4 --crf 20 -o {out}/s.png",
        "s.png: --crf 20: the output is a sheet",
    ),
    (
        "compare-preset-page",
        "compare {w}/clip.mp4 {w}/clip.mp4 --preset slow -o {out}/page",
        "page: --preset slow: the output is an A/B page",
    ),
    ("compare-pix-fmt-page", "compare {w}/clip.mp4 {w}/clip.mp4 --pix-fmt yuv444p -o {out}/page", "leave --pix-fmt out"),
    ("compare-layout", "compare {w}/clip.mp4 --layout grid -o {out}/w.mp4", "--layout"),
    ("compare-no-output", "compare {w}/clip.mp4 --source {w}/clip.mp4", "no output"),
    ("compare-at-past", "compare {w}/clip.mp4 --at 0.2,9 -o {out}/s.png", "--at 9"),
    ("compare-at-text", "compare {w}/clip.mp4 --at soon -o {out}/s.png", "--at"),
    ("compare-labels", "compare {w}/clip.mp4 --label a --label b -o {out}/s.png", "--label"),
    ("compare-stills-and-videos", "compare {w}/photo.png --source {w}/clip.mp4 -o {out}/s.png", "mixed"),
    ("compare-tally-missing", "compare --tally {w}/missing.json", "vote file not found"),
    ("compare-tally-not-votes", "compare --tally {w}/bad.yaml", "not a JSON vote file"),
    ("eval-nothing", "eval {w}/clip.mp4", "--source"),
    ("eval-kid-alone", "eval {w}/clip.mp4 --source {w}/clip.mp4 --kid", "--fid"),
    ("eval-fid-no-weights", "eval {w}/clip.mp4 --fid {w}/frames", "--inception-weights"),
    ("eval-fid-missing-weights", "eval {w}/clip.mp4 --fid {w}/frames --inception-weights {w}/missing.pth", "missing.pth"),
    ("eval-fid-text-weights", "eval {w}/clip.mp4 --fid {w}/frames --inception-weights {w}/notes.mp4", "cannot read Inception"),
    ("eval-fid-no-images", "eval {w}/clip.mp4 --fid {w}/no_images --inception-weights {w}/notes.mp4", "no images"),
    ("eval-fid-missing-ref", "eval {w}/clip.mp4 --fid {w}/missing_folder --inception-weights {w}/notes.mp4", "missing_folder"),
    ("eval-fid-photo", "eval {w}/photo.png --fid {w}/frames --inception-weights {w}/notes.mp4", "one image"),
    ("eval-fid-mode", "eval {w}/clip.mp4 --fid {w}/frames --inception-weights {w}/notes.mp4 --fid-mode tf", "--fid-mode"),
    ("eval-fid-frames", "eval {w}/clip.mp4 --fid {w}/frames --inception-weights {w}/notes.mp4 --fid-frames 1", "--fid-frames"),
    # animate
    ("animate-missing-source", "animate {w}/missing.png {w}/clip.mp4 -o {out}/x.mp4", "missing.png"),
    ("animate-missing-driver", "animate {w}/photo.png {w}/missing.mp4 -o {out}/x.mp4", "file not found"),
    ("animate-method", "animate {w}/photo.png {w}/clip.mp4 --method puppet -o {out}/x.mp4", "--method"),
    ("animate-fomm-no-checkpoint", "animate {w}/photo.png {w}/clip.mp4 --method fomm -o {out}/x.mp4", "--checkpoint"),
    ("animate-size", "animate {w}/photo.png {w}/clip.mp4 --size 0 -o {out}/x.mp4", "--size"),
    ("animate-turn", "animate {w}/photo.png {w}/clip.mp4 --turn 3d -o {out}/x.mp4", "unknown head turn '3d' for --turn"),
    ("animate-to", "animate {w}/photo.png {w}/clip.mp4 --to pixr -o {out}/x.mp4", "unknown style 'pixr'"),
    ("animate-pix-fmt", "animate {w}/photo.png {w}/clip.mp4 --pix-fmt pal8 -o {out}/x.mp4", "pal8 is for .gif files"),
    ("animate-crf-x264", "animate {w}/photo.png {w}/clip.mp4 --crf 60 -o {out}/x.mp4", "--crf 60: x264 (.mp4 files) takes"),
    ("animate-preset-gif", "animate {w}/photo.png {w}/clip.mp4 --preset slow -o {out}/x.gif", "--preset slow: the gif"),
    ("animate-preset-webm", "animate {w}/photo.png {w}/clip.mp4 --preset slow -o {out}/x.webm", "no x264 speed presets"),
    ("animate-driver-audio-only", "animate {w}/photo.png {w}/song.m4a -o {out}/x.mp4", "no video stream"),
    # train, prep, export, styles
    ("train-no-data", "train cyclegan -o {out}/run --steps 1", "--a"),
    ("train-steps-zero", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --steps 0", "steps"),
    ("train-size", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --size 100", "size"),
    ("train-generator", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --generator vit", "generator"),
    ("train-set-unknown", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --set lr_typo=1", "lr_typo"),
    ("train-set-nan", "train cartoon -o {out}/run --a {w}/frames --b {w}/frames --set lr=.nan", "lr"),
    ("train-set-text", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --set lr=fast", "lr"),
    ("train-config-bad-yaml", "train cyclegan -o {out}/run --config {w}/bad.yaml", "bad.yaml"),
    ("train-config-list", "train cyclegan -o {out}/run --config {w}/list.yaml", "mapping"),
    ("train-config-unknown", "train caae -o {out}/run --config {w}/unknown_key.yaml", "stepz"),
    ("train-resume-nothing", "train cartoon -o {w}/not_a_run --resume", "no run to resume"),
    ("train-fps", "train cyclegan -o {out}/run --a {w}/frames --b {w}/frames --fps 0", "fps"),
    ("train-caae-missing-data", "train caae -o {out}/run --data {w}/missing_folder", "missing_folder"),
    ("prep-smooth-kernel", "prep smooth {w}/frames -o {out}/smooth --kernel 4", "--kernel"),
    ("prep-smooth-missing", "prep smooth {w}/missing_folder -o {out}/smooth", "missing_folder"),
    ("export-not-a-run", "export {w}/not_a_run -o {out}/styles", "not_a_run"),
    ("export-direction", "export {w}/not_a_run -o {out}/styles --direction sideways", "--direction"),
    ("export-provenance", "export {w}/not_a_run -o {out}/styles --provenance disney", "--provenance"),
    ("styles-add-missing", "styles add mine --like {w}/missing.png --dir {out}/styles", "missing.png"),
    ("styles-add-name", "styles add ../evil --like {w}/photo.png --dir {out}/styles", "name"),
    ("styles-add-builtin", "styles add toon --like {w}/photo.png --dir {out}/styles", "built-in style"),
    ("styles-add-strength", "styles add mine --like {w}/photo.png --strength 3 --dir {out}/styles", "--strength"),
]


# The only refusals that may load a model: the model file itself is what is wrong.
LOADING = {"restyle-fake-model", "restyle-fake-onnx"}


def fill(template: str, work: dict[str, Path], out: Path) -> list[str]:
    return [part.format(w=work["dir"], out=out, model=work["model"], long="N" * 300) for part in template.split()]


@pytest.mark.parametrize(("case", "command", "fragment"), [pytest.param(*case, id=case[0]) for case in CASES])
def test_bad_input_is_refused_in_one_line(work, tmp_path, monkeypatch, case, command, fragment):
    restyle_api = sys.modules["vidtoon.restyle"]
    loads = []
    real_load = restyle_api.load_translator
    monkeypatch.setattr(restyle_api, "load_translator", lambda **kw: loads.append(kw) or real_load(**kw))
    out = tmp_path / "out"
    out.mkdir()
    before = sorted(p.name for p in work["dir"].iterdir())
    began = time.process_time()
    result = runner.invoke(app, fill(command, work, out))
    seconds = time.process_time() - began
    text = result.output
    lines = [line for line in text.splitlines() if line.strip()]
    assert result.exit_code not in (0, None), text
    assert "Traceback" not in text and isinstance(result.exception, SystemExit), (text, result.exception)
    assert 1 <= len(lines) <= 2, text
    assert fragment in " ".join(lines), (fragment, text)
    assert list(out.iterdir()) == [], "output left behind"
    assert sorted(p.name for p in work["dir"].iterdir()) == before, "a file appeared beside the inputs"
    assert no_leftovers(work["dir"]) == []
    assert not loads or case in LOADING, "a model was loaded before the cheap checks refused"
    assert seconds < REFUSAL_SECONDS, f"refused after {seconds:.2f} s of CPU"


@pytest.mark.parametrize(
    ("command", "hint"),
    [
        ("stitch {w}/no_images -o {out}/x.mp4", "check the folder, or pass --pattern"),  # stitch has --pattern
        ("eval {w}/clip.mp4 --fid {w}/no_images --inception-weights {w}/notes.mp4", "check the folder"),  # eval has not
    ],
)
def test_an_empty_folders_hint_names_only_flags_the_command_has(work, tmp_path, command, hint):
    result = runner.invoke(app, fill(command, work, tmp_path))
    line = " ".join(result.output.split())
    assert result.exit_code == 1 and line.startswith("error: ") and "no_images: no images" in line, result.output
    assert line.endswith(hint) and ("--pattern" in hint) == ("--pattern" in line)
