#!/usr/bin/env bash
# The CPU route of vidtoon issue #14: a long, nice'd, one-thread `vidtoon train cartoon` run of `pixar` in a stable
# folder outside git, started again (resumed) by running this script again.
#
#     bash scripts/train_styles_cpu.sh            # start, or resume where the last session stopped; returns at once
#     tail -f /work/runs/pixar-cpu.log            # progress (Rich bar) and the final "stopped at step N" line
#     ls /work/runs/pixar-cpu/samples/            # held-out sheets: photos, anchors, outputs, cast + grid scores
#     kill -INT $(cat /work/runs/pixar-cpu.pid)   # stop: finishes the step, saves checkpoints/latest.pt
#     vidtoon export /work/runs/pixar-cpu -o styles/ --name pixar --provenance pixar   # a style from its latest checkpoint
#
# Data (once; needs PyAV): .venv/bin/python scripts/prepare_style_data.py pixar -o /work/runs/data/pixar
#   (633 photos, 557 Blender frames with green frames capped at the photos' share; shorter side 288 px).
# Recipe: 96 px crops (zoom 0.8-1.25) of the 288 px frames, batch 6, 500 anchor-only steps, then adversarial;
# generator cyclegan_resnet ngf 32, 4 blocks, resize+conv (2.7 MB fp16); steps 200000 (the learning rate stays
# constant until step 100000). One torch thread, nice 19: tests and other work keep the machine.
# sample_every 1000: sized for an idle machine (FACTS.md's probe: 0.6 s per 96 px step of a similar recipe on two
# threads, so ~1.5-3 s on one: a sheet every ~25-50 min). Measured 2026-11-29 20:40-21:10 at load average 6-10
# (five agents' tests): 6-28 s per anchor-only step and 5-11 s per adversarial step (two threads), so while the
# machine is busy a sheet comes every few hours. Checkpoints every 250 steps.
# The look measures of every sheet (step, colour cast, checkerboard) are in checkpoints/latest.pt (trainer.extra.quality)
# and on the sheets; `vidtoon export` writes the last ones into the style card.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
RUN="${RUN:-/work/runs/pixar-cpu}"
DATA="${DATA:-/work/runs/data/pixar}"
PY="${PY:-/work/main/.venv/bin/python}"
LOG="${RUN}.log"
ARGS=(--a "$DATA/a" --b "$DATA/b" -o "$RUN" --size 96 --batch-size 6 --steps 200000 --save-every 250 --sample-every 1000
      --device cpu --precision fp32 --set init_steps=500 --set log_every=10 --set workers=1)
if [ -f "$RUN/checkpoints/latest.pt" ]; then ARGS+=(--resume); fi   # resume-or-start
cd /  # the run must not depend on this worktree staying checked out at this commit: it imports the code below
PYTHONPATH="$REPO" nohup nice -n 19 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PY" -m vidtoon train cartoon "${ARGS[@]}" >>"$LOG" 2>&1 &
echo $! > "${RUN}.pid"
echo "started PID $(cat "${RUN}.pid"): $PY -m vidtoon train cartoon ${ARGS[*]}  (log $LOG)"
