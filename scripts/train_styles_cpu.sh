#!/usr/bin/env bash
# The CPU route of vidtoon issue #14: a long, nice'd, one-thread `vidtoon train cartoon` run of `pixar` in a stable
# folder outside git, started again (resumed) by running this script again.
#
#     bash scripts/train_styles_cpu.sh            # start, or resume where the last session stopped; returns at once
#     tail -f /work/runs/pixar-cpu4.log           # progress (Rich bar) and the final "stopped at step N" line
#     ls /work/runs/pixar-cpu4/samples/           # held-out sheets: photos, anchors, outputs, cast + grid + blotch scores
#     .venv/bin/python scripts/look_curve.py /work/runs/pixar-cpu4   # the look measures of every sheet over CPU-hours
#     kill -INT $(cat /work/runs/pixar-cpu4.pid)  # stop: finishes the step, saves checkpoints/latest.pt
#     vidtoon export /work/runs/pixar-cpu4 -o styles/ --name pixar --provenance pixar   # a style from its latest checkpoint
# RUN=/work/runs/NAME picks another run folder. /work/runs/pixar-cpu (2026-11-29, instance norm: green cast and
# "droplets", see docs/training-notes.md) resumes only with `norm: instance` added to its config.yaml.
# The current run (2026-11-30 11:45): /work/runs/pixar-cpu4, warm-started from pixar-cpu3 (itself from pixar-cpu2) with a
# stronger anchor (anchor_radius 4, anchor_eps 0.02, anchor_passes 2), lambda_detail 5, lambda_colour 0.3, lambda_hue 2
# (margin 2) edited into its config.yaml, and from step 8,289 (2026-11-30 15:56) lambda_surface / lambda_texture 2 (were 5):
# docs/training-notes.md.
#
# Data (once; needs PyAV): .venv/bin/python scripts/prepare_style_data.py pixar -o /work/runs/data/pixar
#   (633 photos, 557 Blender frames with green frames capped at the photos' share; shorter side 288 px).
# Recipe: 96 px crops (zoom 0.8-1.25) of the 288 px frames, batch 6, 500 anchor-only steps, then adversarial;
# generator cyclegan_resnet ngf 32, 4 blocks, resize+conv, NO normalisation (CartoonConfig.norm's default since
# 2026-11-30: instance norm gave the cast and the droplets; docs/training-notes.md has the A/B table)
# and the input added before the final tanh (skip: sharp, no blur; the generator learns the change from the photo),
# 2.7 MB fp16; steps 200000 (the learning rate stays constant until step 100000). One torch thread, nice 19:
# tests and other work keep the machine.
# sample_every 500 (was 1000): FACTS.md's probe gave 0.6 s per 96 px step of a similar recipe on two idle threads
# (~1.5-3 s on one), but measured 2026-11-29 at load average 6-10 (five agents' tests) it was 6-28 s per anchor-only
# and 5-11 s per adversarial step (two threads), and 2026-11-30 at load 6-13 ~2 s / ~3.5 s per 64 px step on one
# thread: at 500 a busy machine still gives a sheet every 1-2 hours. Checkpoints every 250 steps.
# The look measures of every sheet (step, colour cast, checkerboard, blotches) are in checkpoints/latest.pt (trainer.extra.quality)
# and on the sheets; `vidtoon export` writes the last ones into the style card.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
RUN="${RUN:-/work/runs/pixar-cpu4}"
DATA="${DATA:-/work/runs/data/pixar}"
PY="${PY:-/work/main/.venv/bin/python}"
LOG="${RUN}.log"
ARGS=(--a "$DATA/a" --b "$DATA/b" -o "$RUN" --size 96 --batch-size 6 --steps 200000 --save-every 250 --sample-every 500
      --device cpu --precision fp32 --set init_steps=500 --set log_every=10 --set workers=1)
if [ -f "$RUN/checkpoints/latest.pt" ]; then ARGS+=(--resume); fi   # resume-or-start
cd /  # the run must not depend on this worktree staying checked out at this commit: it imports the code below
PYTHONPATH="$REPO" setsid nohup nice -n 19 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PY" -m vidtoon train cartoon "${ARGS[@]}" >>"$LOG" 2>&1 &
echo $! > "${RUN}.pid"
echo "started PID $(cat "${RUN}.pid"): $PY -m vidtoon train cartoon ${ARGS[*]}  (log $LOG)"
