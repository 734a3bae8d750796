#!/usr/bin/env bash
# Train the learned styles `pixar` and `anime` on one GPU in one command (vidtoon issue #14).
#
# CARRY (ignored paths that must travel with the working tree; the device tool's `carry`):
#     out/gpu_data
# made beforehand on any machine with PyAV (pixar 30.0 MiB + anime 23.2 MiB = 53.4 MiB; the tracked tree ~1 MiB; all must stay under 64 MiB):
#     .venv/bin/python scripts/prepare_style_data.py pixar -o out/gpu_data/pixar --short-side 256 --jpeg-quality 90
#     .venv/bin/python scripts/prepare_style_data.py anime -o out/gpu_data/anime --short-side 256 --jpeg-quality 90 --limit 700
# Run it (device tool): command "bash scripts/train_styles_gpu.sh", carry ["out/gpu_data"], timeout_s 600.
# Writes into $OUT (default out/gpu_styles), 7 files: pixar.{safetensors,yaml,preview.png}, anime.{...}, report.txt.
# Then, here: copy the safetensors + yaml + preview.png into vidtoon/styles/bundled/ if the held-out sheets hold up.
#
# Needs on the machine: Python 3.12 with torch (CUDA), numpy, opencv-python-headless, pillow, pyyaml, rich,
# safetensors, typer (all preinstalled there). No PyAV: the training path reads image folders only.
#
# Recipe: `vidtoon train cartoon` (vidtoon/train/cartoon.py): one-way generator cyclegan_resnet (32 base channels,
# 4 blocks, resize+conv upsampling, no normalisation, input skip before the tanh (CartoonConfig's defaults since 2026-11-30: the
# instance-norm generator gave a colour cast and "droplets" on whole frames, docs/training-notes.md), 1.37M
# parameters, 2.7 MB fp16), two PatchGANs (surface and texture views), 256 px crops of
# 256 px-short-side frames, batch 32, bf16 autocast, channels_last, cuDNN benchmark; 300 anchor-only steps,
# then adversarial. A 30-step calibration per style measures steps/s and sizes the run to its share of
# BUDGET seconds of training (pixar 62 %, anime 38 %); the learning rate decays over the second half.
#
# Budget notes: BUDGET=420 s of training + start-up (imports, reading ~1,200 + 1,400 JPEGs twice, calibration,
# cuDNN autotuning; estimated 40–80 s) + export ≈ 8–9 minutes of the 10-minute command limit.
# steps/s on the H200: NOT MEASURED YET (no GPU was lent to the session that wrote this). Estimate from FLOPs
# (~80 GFLOP per 256 px crop per step, G + both Ds, fwd + bwd): 5–15 steps/s at batch 32, i.e. 1,300–4,000 pixar
# steps ≈ 40k–130k crops seen. report.txt records the measured rate, steps and crops seen: copy them here.
# torch.compile: off by default (`--compile`): untested on the GPU; compile time (~30–60 s for G + 2 Ds) would eat
# 10–15 % of this budget, so it pays only if it speeds steps up by more than that.
# CPU check of the same path, tiny and in seconds (tests/train/test_train_styles_gpu.py):
#     python scripts/train_styles_gpu.py --smoke --out /tmp/o --data DIR_WITH_pixar_AND_anime
set -euo pipefail
cd "$(dirname "$0")/.."
export OUT="${OUT:-out/gpu_styles}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
du -sh out/gpu_data/* 2>/dev/null || true
exec "$PYTHON" scripts/train_styles_gpu.py --out "$OUT" --budget "${BUDGET:-420}" "$@"
