#!/usr/bin/env bash
# The CPU route of vidtoon issue #14: a long, nice'd, two-thread `vidtoon train cartoon` run of `pixar` (or, with
# STYLE=anime, of `anime`) in a stable folder outside git, started again (resumed) by running this script again.
#
#     bash scripts/train_styles_cpu.sh            # start, or resume where the last session stopped; returns at once
#     STYLE=anime bash scripts/train_styles_cpu.sh   # the anime recipe: anchor "anime", data /work/runs/data/anime
#     tail -f /work/runs/pixar-fine.log       # progress (Rich bar) and the final "stopped at step N" line
#     ls /work/runs/pixar-fine/samples/       # held-out sheets: photos, film-look targets, outputs, cast + grid + blotch
#     .venv/bin/python scripts/look_curve.py /work/runs/pixar-fine   # the look measures of every sheet over CPU-hours
#     kill -INT $(cat /work/runs/pixar-fine.pid)  # stop: finishes the step, saves checkpoints/latest.pt
#     vidtoon export /work/runs/pixar-fine -o styles/ --name pixar --provenance pixar   # a style from its latest checkpoint
# RUN=/work/runs/NAME picks another run folder (docs/training-notes.md lists them all).
# INIT_FROM=pixar (a style, or an exported .safetensors) starts a new RUN from that generator instead of random weights
# (`vidtoon train cartoon --init-from`; fresh Adam state, so give it LR=0.0001 to fine-tune).
#
# The recipe (docs/training-notes.md, 2026-11-30 evening and 2026-12-01): `anchor: film` (each photo's film-look
# target, computed by code once, `vidtoon.train.film_target`) with `palette: true` (those targets given the Blender
# films' palette, fitted when the data is loaded: `vidtoon.train.palette`), generator cyclegan_resnet ngf 16, 4 blocks,
# no normalisation, input skip and long skips (0.7 MB fp16, 0.10-0.23 s a 640x360 frame on 2 cores), 96 px crops
# (zoom 0.8-1.25) of the 288 px frames, batch 8. Anchor-only (L1 to the target, plus 0.03 × the mean-hue distance
# from it, plus 6 × the L1 of the fine detail alone, `lambda_fine`; crops tinted alike with the target: augment.tint
# 0.15) for `init_steps`, then the adversarial phase (surface and texture weight 1, the cast term 2 beyond 2 Lab
# units; no colour-moment term), which has only ever pulled the look back towards the photo: the recipe now stays in
# the anchor phase (100,000 steps). A fresh RUN starts the whole recipe at lr 2e-4. The shipped pixar was made by
# hand in steps: /work/runs/pixar-palette (steps 0-20,105: the first palette target, lr 1e-4 from 9,566, 5e-5 from
# 15,700), /work/runs/pixar-palette3 (20,000-28,250, the present target, lr 1e-4, 5e-5 from 24,250, no fine term),
# /work/runs/pixar-fine (from 28,250: lambda_fine 2, 6 from 31,768; lr 1e-4, 5e-5 from 40,000; the shipped step
# 43,750). On 2 threads at nice 19: 6.5-7.8 anchor steps a second (4.6-6.9 with the fine term), the adversarial
# phase 1.7.
#
# Data (once; needs PyAV): .venv/bin/python scripts/prepare_style_data.py pixar -o /work/runs/data/pixar
#   (633 photos, 557 Blender frames with green frames capped at the photos' share; shorter side 288 px).
# Two torch threads at nice 19: tests and other work still come first. Checkpoints every 250 steps, a held-out
# sheet every 250; its look measures (step, colour cast, checkerboard, blotches) are in checkpoints/latest.pt
# (trainer.extra.quality) and on the sheets, and `vidtoon export` writes the last ones into the style card.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
STYLE="${STYLE:-pixar}"
case "$STYLE" in
  pixar) ANCHOR=film; DEFAULT_RUN=/work/runs/pixar-fine; INIT_STEPS=100000; LOAD_SIZE=288; PALETTE=true; LAMBDA_FINE=6 ;;
  # 256 px face photos (.venv/bin/python scripts/prepare_style_data.py anime -o /work/runs/data/anime); the shipped
  # anime is step 36,250 of the anchor phase (docs/training-notes.md, 2026-11-30 night)
  anime) ANCHOR=anime; DEFAULT_RUN=/work/runs/anime-cel; INIT_STEPS=40000; LOAD_SIZE=256; PALETTE=false; LAMBDA_FINE=0 ;;
  *) echo "STYLE must be pixar or anime, got $STYLE" >&2; exit 2 ;;
esac
RUN="${RUN:-$DEFAULT_RUN}"
DATA="${DATA:-/work/runs/data/$STYLE}"
PY="${PY:-/work/main/.venv/bin/python}"
LOG="${RUN}.log"
ARGS=(--a "$DATA/a" --b "$DATA/b" -o "$RUN" --size 96 --batch-size 8 --steps 200000 --save-every 250 --sample-every 250
      --device cpu --precision fp32 --set anchor=$ANCHOR --set init_steps=$INIT_STEPS --set load_size=$LOAD_SIZE --set palette=$PALETTE --set lambda_fine=$LAMBDA_FINE --set lr=${LR:-0.0002} --set lambda_detail=5
      --set lambda_colour=0 --set lambda_hue=2 --set hue_margin=2 --set augment.tint=0.15 --set lambda_anchor_cast=0.03 --set log_every=10 --set workers=1)
if [ -n "${INIT_FROM:-}" ]; then ARGS+=(--init-from "$INIT_FROM"); fi
# resume-or-start: a resumed run keeps its own config.yaml (the recipe above is for a fresh RUN)
if [ -f "$RUN/checkpoints/latest.pt" ]; then ARGS=(-o "$RUN" --resume); fi
cd /  # the run must not depend on this worktree staying checked out at this commit: it imports the code below
PYTHONPATH="$REPO" setsid nohup nice -n 19 env OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 "$PY" -m vidtoon train cartoon "${ARGS[@]}" >>"$LOG" 2>&1 &
echo $! > "${RUN}.pid"
echo "started PID $(cat "${RUN}.pid"): $PY -m vidtoon train cartoon ${ARGS[*]}  (log $LOG)"
