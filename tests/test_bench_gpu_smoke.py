"""scripts/bench_gpu.sh --smoke: the GPU benchmark's code path on the CPU at 64×96, with PyAV blocked in every process
(and OpenCV's contrib module ximgproc removed, as on that machine).

The GPU machine has no PyAV, and the benchmark runs there once with no second try: this runs the same script
through the same shell wrapper, with `sys.modules['av'] = None` set before anything imports vidtoon (a
`sitecustomize` on PYTHONPATH, so the torch.compile child process is blocked too), and checks the report's rows,
their known answers and the files it leaves in $OUT.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench_gpu")
    (tmp / "sitecustomize.py").write_text(
        "import sys\nsys.modules['av'] = None  # PyAV is not on the GPU machine\n"
        "import cv2\ndel cv2.ximgproc  # its OpenCV is opencv-python-headless: no contrib modules\n"
    )
    out = tmp / "out"
    env = dict(os.environ, PYTHONPATH=f"{tmp}{os.pathsep}{REPO}", PYTHON=sys.executable, OUT=str(out))
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "bench_gpu.sh"), "--smoke"], capture_output=True, text=True, env=env, cwd=tmp, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return out, report, done.stdout


def rows(report, section, what=None):
    return [r for r in report["rows"] if r["section"] == section and (what is None or r["what"].startswith(what))]


def test_writes_two_small_files_and_prints_the_table(smoke):
    out, report, stdout = smoke
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md"]
    assert all(p.stat().st_size < 64_000 for p in out.iterdir())
    table = (out / "report.md").read_text(encoding="utf-8")
    assert table.count("\n| ") == 1 + len(report["rows"])  # the header and one line per row
    assert table.strip() in stdout  # printed at the end: the device tool's output carries it
    assert report["meta"]["smoke"] is True and report["meta"]["device"] == "cpu"


def test_nothing_failed_and_nothing_imported_pyav(smoke):
    _, report, _ = smoke
    assert [r for r in report["rows"] if r["status"] not in ("ok",)] == []
    assert report["meta"]["av_modules"] == []
    assert all(r["av_modules"] == [] for r in rows(report, "4"))
    assert rows(report, "3", "cartoon G (ngf 32, 4 blocks, resize-conv) torch.compile")[0]["child_av_modules"] == []


def test_filter_rows(smoke):
    _, report, _ = smoke
    toon = rows(report, "1", "toon")
    assert [(r["precision"], r["batch"]) for r in toon] == [(p, b) for p in ("fp32", "bf16") for b in (1, 2, 4)]
    assert toon[0]["ratio"] == pytest.approx(1.0)  # the baseline row: toon fp32 at batch 1
    assert all(r["fps"] > 0 and r["size"] == "96x64" for r in toon)
    assert [(r["what"], r["precision"]) for r in rows(report, "1")[6:]] == [
        ("sketch", "fp32"),
        ("sketch", "bf16"),
        ("paint", "fp32"),
        ("paint", "bf16"),
    ]
    assert all("bf16_vs_fp32_max_levels" in r for r in rows(report, "1") if r["precision"] == "bf16")


def test_temporal_rows_and_the_equality_check(smoke):
    _, report, _ = smoke
    opencv, torch_blend, equality = rows(report, "2")
    assert opencv["what"].startswith("FlowBlend") and opencv["ratio"] == pytest.approx(1.0)
    assert torch_blend["what"] == "TorchFlowBlend on cpu" and torch_blend["fps"] > 0
    assert equality["max_levels"] <= 1  # the torch stage reproduces the OpenCV one within a grey level
    assert equality["identical_pct"] > 99


def test_generator_rows(smoke):
    _, report, _ = smoke
    generators = rows(report, "3")
    assert [(r["what"][:9], r["precision"]) for r in generators] == [
        ("cartoon G", "fp32"),
        ("cartoon G", "bf16"),
        ("cyclegan_", "fp32"),
        ("cyclegan_", "bf16"),
        ("cartoon G", "bf16"),
    ]
    assert "1.37M params" in generators[0]["note"] and "11.38M params" in generators[2]["note"]
    assert generators[4]["compile_s"] > 0 and generators[4]["fps"] > 0


def test_restyle_path_rows(smoke):
    _, report, _ = smoke
    none, flow = rows(report, "4")
    assert (none["temporal"], flow["temporal"]) == ("PassThrough", "FlowBlend")  # on a CUDA device: TorchFlowBlend
    assert none["frames"] == flow["frames"] == 16  # the 16 smoke frames in batches of 2, after a warm-up batch
    assert none["ratio"] == pytest.approx(1.0) and flow["fps"] > 0


def test_end_to_end_rows_without_pyav(smoke):
    """Section 5 on the GPU machine's terms (no PyAV): OpenCV decodes and encodes, every stage sees all 16 frames."""
    _, report, _ = smoke
    decode, plain, new, equality, encode, e2e = rows(report, "5")
    assert [r["what"] for r in (decode, plain, new, encode, e2e)] == [
        "decode alone",
        "restyle alone, plain copies",
        "restyle alone",
        "encode alone",
        "end to end",
    ]
    assert all(r["frames"] == 16 and r["fps"] > 0 and r["cpu_s"] >= 0 for r in (decode, plain, new, encode, e2e))
    assert "OpenCV" in decode["note"] and "cv2.VideoWriter" in encode["note"] and "not x264" in e2e["note"]
    assert plain["overlap_transfers"] is False and new["overlap_transfers"] is True
    assert new["ratio"] == pytest.approx(new["fps"] / plain["fps"])
    assert equality["what"].startswith("equality") and equality["max_levels"] == 0 and equality["identical"] is True
    assert e2e["overlap_ratio"] == pytest.approx(
        e2e["fps"] / min(decode["fps"], new["fps"], encode["fps"]), abs=0.005
    )  # rounded values
    assert e2e["slowest_stage"] == "restyle alone"  # 16 tiny frames: the model and the flow stage are the slow part


def test_end_to_end_rows_with_pyav(tmp_path):
    """The same section where PyAV imports (a user's machine, or the GPU machine with the av wheel carried): decode
    through vidtoon.io.VideoReader, encode through VideoWriter's x264."""
    pytest.importorskip("av")
    sys.path.insert(0, str(REPO / "scripts"))
    import bench_gpu

    args = bench_gpu.parse(["--smoke", "--out", str(tmp_path)])
    report = bench_gpu.Report(tmp_path, {"_t0": 0.0})
    frames, _ = bench_gpu.source_frames(6, (32, 48))
    args.e2e_frames = 8
    bench_gpu.bench_e2e(report, bench_gpu.Budget(120), frames, torch.device("cpu"), args)
    got = {r["what"]: r for r in report.rows}
    assert [r["status"] for r in report.rows] == ["ok"] * 6
    assert "PyAV" in got["decode alone"]["note"] and "x264 via PyAV" in got["encode alone"]["note"]
    assert got["decode alone"]["frames"] == got["end to end"]["frames"] == 8  # every frame of the x264 clip decoded
