#!/usr/bin/env bash
# The GPU benchmark in one command (vidtoon issues #20, #13): toon/sketch/paint, the temporal stage, learned
# generators, the restyle path, and decode -> restyle -> encode end to end (section 5: overlap ratio, peak GPU
# memory), at 1080p on one CUDA device (scripts/bench_gpu.py).
#
# Device tool call (from the repository root; nothing to carry):
#     run(command="bash scripts/bench_gpu.sh", timeout_s=360)
# CARRY: nothing needed. The tracked tree (~3.5 MiB, including clips/sample.mp4, decoded with OpenCV) is all it reads.
# Optional, for x264 in section 5: put av-18.1.0-cp311-abi3-manylinux_2_28_x86_64.whl (34 MiB; abi3, so Python 3.12
# takes it) into wheels/ (git-ignored): `mkdir -p wheels && pip download av==18.1.0 --no-deps --only-binary :all: -d wheels`
# (or copy it from a local wheel cache), then run(command="bash scripts/bench_gpu.sh", carry=["wheels"], timeout_s=360).
# Needs on the machine: python3 with torch (CUDA), numpy, opencv-python-headless (all in the GPU image). No PyAV.
# Expected runtime: ~4–5 minutes: BUDGET (default 240 s) of measuring — rows that no longer fit are skipped and
# recorded as skipped — plus ~20–40 s of start-up (imports, CUDA init, reading and resizing 48 frames).
# The torch.compile row runs last, in a child process killed after 60 s of compiling (+30 s start-up).
# Order with scripts/train_styles_gpu.sh: TRAINING FIRST (it needs ~9 of the 15 device minutes and the carried
# data); run this one afterwards only if the device tool's `status` shows budget_left_s ≥ 330, else in a later
# task that draws a GPU. A shorter run: `BUDGET=150 bash scripts/bench_gpu.sh` (the later rows get skipped).
# Writes into $OUT (default out/bench_gpu), 2 small files: report.json (every row, with extra fields) and
# report.md (the table printed at the end). Copy the table into docs/benchmarks.md with the date.
# CPU check of the same code path, tiny (64×96, 2 iterations, ~40 s here; tests/test_bench_gpu_smoke.py):
#     bash scripts/bench_gpu.sh --smoke        (or python scripts/bench_gpu.py --smoke --out /tmp/o)
set -euo pipefail
cd "$(dirname "$0")/.."
export OUT="${OUT:-out/bench_gpu}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONIOENCODING=utf-8  # the table has ×, ≥ and ≤ in it, whatever the locale
PYTHON="${PYTHON:-python3}"
# PyAV is not in the GPU image: a carried wheel (run(..., carry=["wheels"]) with wheels/av-*.whl, an abi3 build, 34 MiB)
# is unpacked into a scratch folder and put on the path, so section 5 decodes and encodes (x264) as `restyle` does.
# Without it, section 5 uses OpenCV (its encode is MPEG-4 part 2, not x264: the row says so).
shopt -s nullglob
for wheel in wheels/av-*.whl; do
  target="${TMPDIR:-/tmp}/vidtoon-bench-av"
  rm -rf "$target" && "$PYTHON" -m zipfile -e "$wheel" "$target" && export PYTHONPATH="$PYTHONPATH:$target" \
    && echo "PyAV from $wheel" || echo "could not unpack $wheel: section 5 falls back to OpenCV"
done
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader || true
exec "$PYTHON" scripts/bench_gpu.py --out "$OUT" --budget "${BUDGET:-240}" "$@"
