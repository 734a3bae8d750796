"""`evaluate` and `vidtoon eval`: report fields with known answers, size and count rules, the CLI."""

import json
import logging
import math
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import assert_one_line_error, make_clip, run_vidtoon

from vidtoon.errors import InputError, UsageError
from vidtoon.evaluate import EvalReport, evaluate
from vidtoon.io.images import read_image, write_image


def texture(height=72, width=96, seed=0) -> np.ndarray:
    """A smooth textured H×W×3 uint8 image in [0, 230] (room for the offsets below)."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3)).astype(np.float32), (0, 0), 2)
    return np.clip((noise - noise.mean()) * 4 + 115, 0, 230).astype(np.uint8)


def write_folder(folder: Path, frames) -> Path:
    folder.mkdir(parents=True)
    for i, rgb in enumerate(frames):
        write_image(folder / f"frame{i}.png", rgb)
    return folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """A static 6-frame source; output = source + 4 on odd frames; reference = source + 10 + 12 on odd frames."""
    root = tmp_path_factory.mktemp("eval")
    base = texture()
    return {
        "source": write_folder(root / "source", [base] * 6),
        "output": write_folder(root / "output", [base + np.uint8(4 * (i % 2)) for i in range(6)]),
        "reference": write_folder(root / "reference", [base + np.uint8(10 + 12 * (i % 2)) for i in range(6)]),
        "short": write_folder(root / "short", [base] * 5),
        "narrow": write_folder(root / "narrow", [base[:, :80]] * 6),
        "double": write_folder(root / "double", [cv2.resize(base, (192, 144), interpolation=cv2.INTER_CUBIC)] * 6),
        "root": root,
    }


def test_report_known_answers(clips):
    report = evaluate(clips["output"], clips["source"], clips["reference"], device="cpu")
    assert isinstance(report, EvalReport)
    assert (report.frames, report.size, report.flow, report.truncated) == (6, (96, 72), "dis", False)
    assert report.frame_counts == {"source": 6, "output": 6, "reference": 6}
    # static source: zero flow, every pixel valid, so E_warp is the squared flicker step exactly
    assert report.valid_fraction == 1.0
    assert report.warping_error_source < 1e-10
    assert report.warping_error == pytest.approx((4 / 255) ** 2, rel=1e-5)
    assert report.warping_error_reference == pytest.approx((12 / 255) ** 2, rel=1e-5)
    # output - reference is -10 on even frames, -18 on odd ones
    psnr = [10 * math.log10(255**2 / 10**2), 10 * math.log10(255**2 / 18**2)]
    assert report.per_frame["psnr"] == pytest.approx(psnr * 3, abs=1e-3)
    assert report.psnr == pytest.approx(10 * math.log10(255**2 / ((10**2 + 18**2) / 2)), abs=1e-3)  # PSNR of the mean error
    assert 0.9 < report.ssim < 1 and len(report.per_frame["ssim"]) == 6
    assert {len(report.per_frame[k]) for k in ("warping_error", "warping_error_source", "warping_error_reference")} == {5}


def test_without_reference_and_to_dict(clips):
    report = evaluate(clips["output"], clips["source"], device="cpu")
    assert report.reference is None and report.ssim is None and report.psnr is None and report.warping_error_reference is None
    assert set(report.per_frame) == {"warping_error", "warping_error_source"}
    d = json.loads(json.dumps(report.to_dict()))
    assert d["size"] == [96, 72] and d["reference"] is None and d["truncated"] is False
    assert d["output"] == str(clips["output"]) and len(d["per_frame"]["warping_error"]) == 5


def test_identical_frames_give_null_psnr_in_json(clips):
    report = evaluate(clips["output"], clips["source"], clips["output"], device="cpu")
    assert report.ssim == pytest.approx(1.0) and math.isinf(report.psnr)
    assert report.to_dict()["psnr"] is None


def test_video_and_folder_mix(clips, tmp_path):
    base = texture(48, 64)
    video = make_clip(tmp_path / "source.mp4", [base] * 5, size=(64, 48))
    output = write_folder(tmp_path / "out", [base + np.uint8(6 * (i % 2)) for i in range(5)])
    report = evaluate(output, video, device="cpu")
    assert (report.frames, report.size) == (5, (64, 48))
    assert report.warping_error_source < 1e-4 < report.warping_error


def test_frame_count_mismatch_names_both_counts(clips):
    with pytest.raises(InputError, match="frame counts differ") as info:
        evaluate(clips["short"], clips["source"], device="cpu")
    message = info.value.message
    assert "has 6" in message and "has 5" in message and "--truncate" in message
    assert str(clips["short"]) in message and str(clips["source"]) in message


def test_a_single_frame_input_is_too_short_not_a_count_mismatch(clips, tmp_path):
    # one still against a 6-frame source: "--truncate to use the first 1 frames" would not help
    still = write_folder(tmp_path / "still", [texture()])
    with pytest.raises(InputError, match="has 1 frame") as info:
        evaluate(clips["output"], still, device="cpu")
    assert "--truncate" not in str(info.value) and str(still) in str(info.value)


def test_truncate_uses_the_common_prefix(clips, caplog):
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        report = evaluate(clips["short"], clips["source"], device="cpu", truncate=True)
    assert report.frames == 5 and report.truncated and report.frame_counts == {"source": 6, "output": 5}
    assert len(report.per_frame["warping_error"]) == 4
    assert "using the first 5 frames" in caplog.text


def test_size_mismatch_names_both_sizes_and_files(clips):
    with pytest.raises(InputError, match="sizes differ") as info:
        evaluate(clips["narrow"], clips["source"], device="cpu")
    message = info.value.message
    assert "80x72" in message and "96x72" in message and str(clips["narrow"]) in message and str(clips["source"]) in message
    assert "give an output of the source's size" in str(info.value)


def test_same_aspect_ratio_is_resized_to_the_source(clips, caplog):
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        report = evaluate(clips["double"], clips["source"], device="cpu")
    assert report.size == (96, 72) and "resized to 96x72" in caplog.text
    assert report.warping_error < 1e-10  # a static clip stays static after resizing


def test_max_side(clips):
    report = evaluate(clips["output"], clips["source"], clips["reference"], device="cpu", max_side=48)
    assert report.size == (48, 36)
    with pytest.raises(UsageError, match="too small"):
        evaluate(clips["output"], clips["source"], device="cpu", max_side=8)


def test_missing_input(clips):
    with pytest.raises(InputError, match="not found"):
        evaluate(clips["root"] / "nope", clips["source"], device="cpu")


def test_unknown_flow(clips):
    with pytest.raises(UsageError, match="unknown flow backend"):
        evaluate(clips["output"], clips["source"], flow="magic", device="cpu")


def test_real_pair_with_different_counts(data, caplog):
    """DVP bedroom: 123 input frames, 121 processed (aligned from frame 0): an error, or the first 121 with --truncate."""
    folder = data / "video_seq"
    processed, source = folder / "dvp_bedroom_processed", folder / "dvp_bedroom_input"
    with pytest.raises(InputError, match="frame counts differ") as info:
        evaluate(processed, source, device="cpu", max_side=64)
    assert "has 123" in info.value.message and "has 121" in info.value.message
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        report = evaluate(processed, source, device="cpu", max_side=64, truncate=True)
    assert report.frames == 121 and report.size == (64, 36) and "using the first 121 frames" in caplog.text
    # measured at 64x36: input 0.00059, processed 0.0019; at 800x450: 0.00018 vs 0.0011
    assert report.warping_error > 2 * report.warping_error_source


run_cli = run_vidtoon


def test_cli_json(clips):
    result = run_cli(
        "eval",
        clips["output"],
        "--source",
        clips["source"],
        "--reference",
        clips["reference"],
        "--json",
        "--flow",
        "dis",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    keys = {
        "output",
        "source",
        "reference",
        "flow",
        "frames",
        "frame_counts",
        "size",
        "truncated",
        "warping_error",
        "warping_error_source",
        "warping_error_reference",
        "ssim",
        "psnr",
        "valid_fraction",
        "per_frame",
    }
    assert keys <= set(report)
    assert report["warping_error"] == pytest.approx((4 / 255) ** 2, rel=1e-5) and report["frames"] == 6


def test_cli_table_and_bad_input(clips):
    result = run_cli("eval", clips["output"], "--source", clips["source"], "--max-side", "64")
    assert result.returncode == 0, result.stderr
    assert "E_warp output" in result.stdout and "E_warp source" in result.stdout and "64x48" in result.stdout
    result = run_cli("eval", clips["root"] / "nope", "--source", clips["source"])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "not found" in lines[0] and "Traceback" not in result.stderr


def test_the_table_shows_small_measures_with_4_significant_digits_and_json_keeps_full_floats(clips, tmp_path):
    """A flicker of one grey level: E_warp = (1/255)² = 1.5379e-05, which fixed decimals showed as 0.000015 (and a
    steadier output as 0.000000); the table gives 4 significant digits, --json the full float."""
    base = read_image(clips["source"] / "frame0.png")
    steady = write_folder(tmp_path / "steady", [base + np.uint8(i % 2) for i in range(6)])
    result = run_cli("eval", steady, "--source", clips["source"])
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "E_warp output" in line)
    assert "1.538e-05" in row and "0.0000" not in row, row
    result = run_cli("eval", steady, "--source", clips["source"], "--json")
    assert json.loads(result.stdout)["warping_error"] == pytest.approx((1 / 255) ** 2, rel=1e-6)


def test_videos_at_different_frame_rates_are_paired_by_number_with_a_warning(tmp_path, caplog):
    # the same 6 frames at 24 and at 30000/1001 fps: scored frame for frame, with one line saying so
    frames = [texture(48, 64, seed=i) for i in range(6)]
    source = make_clip(tmp_path / "source.mp4", frames)
    ntsc = make_clip(tmp_path / "ntsc.mp4", frames, fps=Fraction(30000, 1001))
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        report = evaluate(ntsc, source, ntsc, device="cpu")
    assert f"source {source} 24 fps, output {ntsc} 29.97 fps" in caplog.text and "paired by their number" in caplog.text
    assert report.frames == 6 and report.ssim == 1.0 and report.psnr == math.inf  # the output against itself: perfect
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidtoon.io.aligned"):
        evaluate(source, source, device="cpu")
    assert "frame rates differ" not in caplog.text


def test_cli_flags_of_the_flicker_measures_need_a_source(clips, tmp_path):
    # --reference alone was "nothing to measure"; with --fid alone it (and --max-side, --truncate) went unused, silently
    result = run_cli("eval", clips["output"], "--reference", clips["reference"])
    assert_one_line_error(result, "--reference goes with --source ORIGINAL", "add --source")
    weights = tmp_path / "inception.pt"
    weights.write_bytes(b"never read")
    result = run_cli(
        "eval", clips["output"], "--fid", clips["source"], "--inception-weights", weights, "--max-side", "32", "--truncate"
    )
    assert_one_line_error(result, "--truncate, --max-side go with --source ORIGINAL")


def test_a_folder_image_of_another_size_is_named_by_its_file(clips, tmp_path):
    base = texture()
    folder = write_folder(tmp_path / "mixed", [base, base, base[:, :80], base])
    with pytest.raises(InputError) as info:
        evaluate(folder, folder, device="cpu")
    assert str(info.value) == (
        f"{folder / 'frame2.png'}: is 80x72, the first image frame0.png is 96x72 — "
        "every frame must have the same size: give it 96x72, or remove it"
    )
