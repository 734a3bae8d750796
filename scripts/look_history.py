#!/usr/bin/env python
"""The look metrics of the learned `pixar` and `anime` styles against the compute spent on them, from
docs/training-notes.md (the run folders are gone; every value below is copied from the notes).

    .venv/bin/python scripts/look_history.py            # markdown tables + docs/images/look_history.png
    .venv/bin/python scripts/look_history.py --all      # also every value, one line each, with its hours basis

Hours are wall-clock hours of the training process on the shared 2-core machine (nice 5-19, beside other work):
what the notes call CPU time. A run warm-started from another run's checkpoint inherits the hours that
checkpoint cost (a run's own discarded steps are not inherited). Each leg of a run says where its hours come from:

    S  a duration the notes state for the leg
    T  the times of the notes' entries (e.g. "07:20 UTC, step 3,000"); an entry is written after the step, so these
       are upper bounds
    R  a rate the notes state for that run ("~2.2 s a step", "4.6-6.9 steps a second")
    A  no rate stated for the run: another run's stated rate assumed (named in the leg)
    -  nothing stated to estimate from: the checkpoint gets no hours and is left off the plot

A stated range of rates gives a range of hours; the plot puts a point at the middle of it.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.ticker
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PNG = REPO / "docs" / "images" / "look_history.png"


@dataclass(frozen=True)
class Leg:
    """Steps up to `to_step` of a run, and what they cost: a duration in hours or seconds per step (lo, hi)."""

    to_step: int
    code: str  # S, T, R, A, or "-" (not known)
    basis: str
    hours: tuple[float, float] | None = None
    sec_per_step: tuple[float, float] | None = None


def per_s(lo: float, hi: float | None = None) -> tuple[float, float]:
    """Seconds per step from steps per second (hi steps/s is the fast end: fewer seconds)."""
    hi = lo if hi is None else hi
    return (1.0 / hi, 1.0 / lo)


@dataclass(frozen=True)
class Run:
    style: str
    parent: tuple[str, int] | None  # (run, step) it was warm-started from
    start_step: int
    legs: tuple[Leg, ...]
    dead_end: bool  # False: on the path to a shipped checkpoint
    section: str  # heading of the notes' section that describes it


# fmt: off
RUNS: dict[str, Run] = {
    # "## What went wrong (run `/work/runs/pixar-cpu`, 2026-11-29)"; its hours from the A/B table's first row
    "pixar-cpu": Run("pixar", None, 0, (
        Leg(2000, "S", "2.25 h wall with 2 threads (A/B table, reference row)", hours=(2.25, 2.25)),), True,
        "What went wrong"),
    # "## A/B experiments (2026-11-30, `scripts/ab_cartoon.py`)": 64 px crops, one thread, load 6-13
    "ab norm=none": Run("pixar", None, 0, (
        Leg(400, "S", "19.9 min wall (6.8 CPU min) stated", hours=(19.9 / 60, 19.9 / 60)),), True, "A/B experiments"),
    "ab norm=instance": Run("pixar", None, 0, (
        Leg(400, "S", "18.8 min wall (7.7 CPU min) stated", hours=(18.8 / 60, 18.8 / 60)),), True, "A/B experiments"),
    "ab norm=none skip=true": Run("pixar", None, 0, (
        Leg(400, "S", "11.1 min wall (6.5 CPU min) stated", hours=(11.1 / 60, 11.1 / 60)),), True, "A/B experiments"),
    # "## 2026-11-30 06:15 UTC: the long run at step 1,000, and a lower content weight"
    "ab content1": Run("pixar", None, 0, (
        Leg(400, "S", "6.2 CPU min stated; its wall time is not", hours=(6.2 / 60, 6.2 / 60)),), True,
        "2026-11-30 06:15 UTC"),
    "ab skip=false init=200": Run("pixar", None, 0, (
        Leg(600, "S", "9.0 min wall stated", hours=(9.0 / 60, 9.0 / 60)),), True, "2026-11-30 06:15 UTC (A/B 07:20-07:30)"),
    "ab init=100 surface/texture 5": Run("pixar", None, 0, (
        Leg(600, "S", "9.8 min wall stated", hours=(9.8 / 60, 9.8 / 60)),), True, "2026-11-30 06:15 UTC (A/B 07:20-07:30)"),
    # "## The long run (started 2026-11-30 ~03:03 UTC)" and "## 2026-11-30 06:15 UTC: ..."
    "pixar-cpu2": Run("pixar", None, 0, (
        Leg(1700, "T", "started ~03:03; the 06:15 entry already gives the trend to step 1,700 (≤3.2 h)", hours=(3.2, 3.2)),
        Leg(3000, "T", "06:15 entry → 07:20 entry (step 3,000)", hours=(65 / 60, 65 / 60)),
        Leg(3250, "A", "3.0 s a step (06:15-07:20 average) to 3.3 s (pixar-cpu3's stated rate)", sec_per_step=(3.0, 3.3))),
        True, "The long run / 2026-11-30 06:15 UTC"),
    # "## 2026-11-30 08:50 UTC: the GPU recipe takes the 5× adversarial weights; ..." and "## 2026-11-30 11:00 UTC"
    "pixar-cpu3": Run("pixar", ("pixar-cpu2", 3250), 3250, (
        Leg(3500, "R", "~3.3 s a step stated", sec_per_step=(3.3, 3.3)),
        Leg(4500, "R", "~2.2 s a step stated", sec_per_step=(2.2, 2.2)),
        Leg(5500, "T", "09:30 entry (step 4,500) → 10:42 entry (step 5,500)", hours=(1.2, 1.2)),
        Leg(6073, "T", "resumed ~11:00, stopped at 6,073 by the 11:45 entry (≤0.75 h)", hours=(0.75, 0.75))),
        True, "2026-11-30 08:50 UTC / 11:00 UTC / 11:45 UTC"),
    # "## 2026-11-30 11:45 UTC: the cast is gone, and so is the look; a stronger anchor (pixar-cpu4)"
    "pixar-cpu4": Run("pixar", ("pixar-cpu3", 6073), 6073, (
        Leg(8289, "R", "~3 s a step at load 2 (stated at 7,000) to 0.21 steps/s ≈ 4.8 s (stated at 8,289)",
            sec_per_step=(3.0, 4.8)),
        Leg(10110, "R", "~2.7 s a step un-paused stated (SIGSTOP pauses not counted)", sec_per_step=(2.7, 2.7))),
        True, "2026-11-30 11:45 UTC"),
    "pixar-anchor-check": Run("pixar", ("pixar-cpu4", 10110), 10110, (
        Leg(10750, "R", "~1 s a step with 2 threads stated (19:30-19:41)", sec_per_step=(1.0, 1.0)),), True,
        "2026-11-30 11:45 UTC (19:30-19:41 check)"),
    # "## 2026-11-30 evening: a film-look target computed by code, long skips, and the first shipped `pixar`"
    "pixar-film16u": Run("pixar", None, 0, (
        Leg(3995, "R", "~0.28 s a step stated", sec_per_step=(0.28, 0.28)),), False, "2026-11-30 evening"),
    "pixar-film16s": Run("pixar", ("pixar-film16u", 3995), 3995, (
        Leg(9000, "A", "not stated; pixar-film16u's ~0.28 s a step (same 2 threads, batch 8, 96-px crops)",
            sec_per_step=(0.28, 0.28)),), False, "2026-11-30 evening"),
    "pixar-ship-adv": Run("pixar", ("pixar-film16s", 8750), 8750, (
        Leg(9250, "R", "~1.1-1.3 s a step stated", sec_per_step=(1.1, 1.3)),), True, "2026-11-30 evening"),
    # "## 2026-12-01: `pixar` takes the Blender films' palette (`palette: true`), ..."
    "pixar-palette": Run("pixar", None, 0, (
        Leg(20000, "R", "6.5-7.8 steps a second stated (~50 min stated)", sec_per_step=per_s(6.5, 7.8)),), False,
        "2026-12-01: palette"),
    "palette lifting/global (no folder named)": Run("pixar", ("pixar-palette", 20000), 20000, (
        Leg(21000, "A", "not stated; pixar-palette's 6.5-7.8 steps a second", sec_per_step=per_s(6.5, 7.8)),), True,
        "2026-12-01: palette"),
    "pixar-palette-adv": Run("pixar", ("pixar-palette", 20000), 20000, (
        Leg(20257, "R", "1.7 steps a second stated", sec_per_step=per_s(1.7)),), True, "2026-12-01: palette"),
    "pixar-palette3": Run("pixar", ("pixar-palette", 20000), 20000, (
        Leg(28250, "S", "~18 min stated", hours=(18 / 60, 18 / 60)),), False, "2026-12-01: palette"),
    "pixar-adv-both": Run("pixar", ("pixar-palette3", 28250), 28250, (
        Leg(28625, "R", "~375 steps at 2.3 steps a second stated", sec_per_step=per_s(2.3)),), True, "2026-12-01: palette"),
    "pixar-adv-surface": Run("pixar", ("pixar-palette3", 28250), 28250, (
        Leg(28625, "R", "~375 steps at 2.3 steps a second stated", sec_per_step=per_s(2.3)),), True, "2026-12-01: palette"),
    "pixar-adv-texture": Run("pixar", ("pixar-palette3", 28250), 28250, (
        Leg(28625, "R", "~375 steps at 2.3 steps a second stated", sec_per_step=per_s(2.3)),), True, "2026-12-01: palette"),
    # "## 2026-12-01 morning: the fine detail weighted (`lambda_fine`), and `pixar` re-shipped at step 43,750"
    "pixar-refine": Run("pixar", ("pixar-palette3", 28250), 28250, (
        Leg(31500, "-", "rate not stated"),), True, "2026-12-01 morning"),
    "pixar-fine": Run("pixar", ("pixar-palette3", 28250), 28250, (
        Leg(45750, "R", "4.6-6.9 steps a second stated (the 1,646 discarded adversarial steps after 40,000 not counted)",
            sec_per_step=per_s(4.6, 6.9)),), False, "2026-12-01 morning"),
    "pixar-fine adv trap (discarded)": Run("pixar", ("pixar-fine", 40000), 40000, (
        Leg(41646, "-", "adversarial steps; rate not stated"),), True, "2026-12-01 morning"),
    "pixar-fine12": Run("pixar", ("pixar-fine", 43750), 43750, (
        Leg(48550, "A", "not stated (~4,800 steps); pixar-fine's 4.6-6.9 steps a second", sec_per_step=per_s(4.6, 6.9)),),
        True, "2026-12-01 morning"),
    # "## 2026-12-01 07:00-: the GPU recipe fine-tunes the shipped styles; `--init-from`; a deeper pixar tried"
    "pixar-deep": Run("pixar", ("pixar-fine", 43750), 43750, (
        Leg(66500, "R", "~4.7 steps a second stated", sec_per_step=per_s(4.7)),), True, "2026-12-01 07:00-"),
    "pixar-crop128": Run("pixar", ("pixar-fine", 43750), 43750, (
        Leg(87580, "A", "not stated ('ran unattended'); 2.5 steps/s (pixar-flat: same generator, crops, batch) to "
            "4.7 steps/s (pixar-deep)", sec_per_step=per_s(2.5, 4.7)),), True, "2026-12-01 07:00-"),
    # "## 2026-12-02: a flatter film look tried (FGS λ 1200), not shipped: it washes faces out" (--init-from: steps from 0)
    "pixar-flat": Run("pixar", ("pixar-fine", 43750), 0, (
        Leg(8096, "R", "2.5 steps a second stated", sec_per_step=per_s(2.5)),), True, "2026-12-02: flatter film look"),
    # "## 2026-12-02 (later): the flatter look with faces kept in the target — ..."
    "pixar-face": Run("pixar", ("pixar-fine", 43750), 0, (
        Leg(2977, "R", "2.9 steps/s stated", sec_per_step=per_s(2.9)),), True, "2026-12-02 (later)"),
    # "## 2026-11-30 night: `anime`, distilled from a cel-anime target made by code": no rate is stated for anime
    "anime-cel": Run("anime", None, 0, (
        Leg(37607, "A", "not stated; the same generator's pixar rates on 96-px crops: 7.8 steps/s (pixar-palette) to "
            "0.28 s a step (pixar-film16u)", sec_per_step=(1 / 7.8, 0.28)),), False, "2026-11-30 night: anime"),
    "anime-adv": Run("anime", ("anime-cel", 26500), 26500, (
        Leg(27280, "R", "0.73 s a step stated", sec_per_step=(0.73, 0.73)),), True, "2026-11-30 night: anime"),
    # "## 2026-12-01 morning: ..." (`anime` with the same term)
    "anime-fine": Run("anime", ("anime-cel", 36250), 36250, (
        Leg(48500, "A", "not stated; pixar-fine's 4.6-6.9 steps a second (same generator and fine term)",
            sec_per_step=per_s(4.6, 6.9)),), False, "2026-12-01 morning (anime)"),
}
# fmt: on


@dataclass(frozen=True)
class Checkpoint:
    style: str
    run: str
    step: int | tuple[int, int]  # a pair: a range of checkpoints the notes sum up together
    values: dict[str, str]  # metric -> the value as the notes write it ("0.4-1.5" is a range over photos/faces)
    shipped: str = ""
    note: str = ""
    plot: bool = True
    extra: dict[str, str] = field(default_factory=dict)


# Metric names. pixar: "held-out" = the run's 8 held-out photos (256 px whole frames in the early entries);
# fire2 / sample / head = fire2.mp4, the bundled sample, talking_head_d3.mp4 at 640×360 as the tests measure.
# "/photo" = the range over the sheet's photos. cast in Lab units (bound 6); texture = fine-detail ratio output over
# input; to target = mean absolute distance to the run's own target (grey levels); grid = checkerboard (bound 5).
# anime: "head sq" = the talking head's 4 face squares (range), "head8" = its 8 faces (every 15th frame), "head4" =
# the test's 4 faces, "6 faces" = those 4 + the astronaut + the Mona Lisa, "sq1" = the talking head's first square.
# fmt: off
CHECKPOINTS: list[Checkpoint] = [
    # --- pixar ---
    # "## What went wrong (run `/work/runs/pixar-cpu`, 2026-11-29)" + "## A/B experiments" table (reference row)
    Checkpoint("pixar", "pixar-cpu", 2000, {"held-out cast": "11.1", "held-out cast/photo": "3.6-22.6",
               "held-out grid": "1.7", "held-out grid/photo": "1.2-2.3", "held-out blotch": "0.013",
               "held-out blotch/photo": "0.004-0.025"}, note="instance norm, ngf 32"),
    # "## A/B experiments (2026-11-30, `scripts/ab_cartoon.py`)" table
    Checkpoint("pixar", "ab norm=none", 400, {"held-out cast": "1.5", "held-out grid": "2.5", "held-out blotch": "0.0021",
               "held-out cast/photo": "0.5-3.6"}),
    Checkpoint("pixar", "ab norm=instance", 400, {"held-out cast": "11.5", "held-out grid": "1.9",
               "held-out blotch": "0.0192", "held-out cast/photo": "1.4-26.2"}),
    Checkpoint("pixar", "ab norm=none skip=true", 400, {"held-out cast": "0.1", "held-out grid": "1.6",
               "held-out blotch": "0.0000", "held-out grid/photo": "1.1-2.0"}),
    # "## 2026-11-30 06:15 UTC: the long run at step 1,000, and a lower content weight"
    Checkpoint("pixar", "ab content1", 400, {"held-out cast/photo": "0.0-0.4", "held-out grid/photo": "1.3-1.9"}),
    Checkpoint("pixar", "ab skip=false init=200", 600, {"held-out cast": "0.8", "held-out grid": "2.6",
               "held-out blotch": "0.0015"}),
    Checkpoint("pixar", "ab init=100 surface/texture 5", 600, {"held-out cast": "0.6", "held-out grid": "2.4",
               "held-out blotch": "0.0000"}),
    Checkpoint("pixar", "pixar-cpu2", 1000, {"held-out cast/photo": "0.4-0.7", "held-out grid/photo": "2.3-4.6",
               "held-out blotch/photo": "0"}, note="skip + no norm, ngf 32, guided anchor"),
    Checkpoint("pixar", "pixar-cpu2", 3000, {"held-out cast/photo": "0.2-1.3", "held-out grid/photo": "1.3-2.0",
               "held-out blotch/photo": "0"}),
    # "## 2026-11-30 08:50 UTC: the GPU recipe takes the 5× adversarial weights; the long CPU run warm-started with them"
    Checkpoint("pixar", "pixar-cpu3", 3500, {"held-out cast/photo": "0.7-2.6"}, note="surface/texture 5"),
    Checkpoint("pixar", "pixar-cpu3", 4500, {"held-out cast/photo": "1.2-3.2", "held-out blotch/photo": "0.10-0.31 %"}),
    Checkpoint("pixar", "pixar-cpu3", 5500, {"held-out cast/photo": "3.3-4.9", "held-out blotch/photo": "0.0-0.35 %"}),
    # "## 2026-11-30 11:45 UTC: ..." (grid at 6,000 from the 12:20 bullet: "was 1.7-3.1 at step 6,000")
    Checkpoint("pixar", "pixar-cpu3", 6000, {"held-out cast/photo": "0.4-1.5", "held-out grid/photo": "1.7-3.1",
               "held-out blotch/photo": "0.00-0.11 %"}, note="lambda_hue 2 from 5,500"),
    Checkpoint("pixar", "pixar-cpu4", 6500, {"held-out cast/photo": "0.1-2.1", "held-out grid/photo": "2.6-5.6",
               "held-out blotch/photo": "≤0.38 %"}, note="anchor 4/0.02/2"),
    Checkpoint("pixar", "pixar-cpu4", 7000, {"held-out cast/photo": "0.2-0.7", "held-out grid/photo": "1.7-3.0",
               "held-out blotch/photo": "0.00-0.03 %"}),
    Checkpoint("pixar", "pixar-cpu4", 7500, {"held-out cast/photo": "0.4-1.4", "held-out grid/photo": "2.5-5.6",
               "held-out blotch/photo": "≤0.08 %"}),
    Checkpoint("pixar", "pixar-cpu4", 8000, {"held-out cast/photo": "0.1-1.3", "held-out grid/photo": "1.6-2.9",
               "held-out blotch/photo": "0.30 %"}),
    Checkpoint("pixar", "pixar-cpu4", (8500, 10000), {"held-out cast": "0.7-0.9", "held-out grid/photo": "2.2-3.5",
               "held-out blotch/photo": "≤0.02 %"}, note="surface/texture 2; cast = sheet means over these steps"),
    Checkpoint("pixar", "pixar-anchor-check", 10750, {"held-out cast/photo": "0.2-0.4",
               "held-out grid/photo": "3.0-7.9"}, note="anchor-only from 10,110"),
    # "## 2026-11-30 evening: a film-look target computed by code, long skips, and the first shipped `pixar`"
    Checkpoint("pixar", "pixar-film16u", 3995, {"fire2 texture": "0.81", "fire2 chroma": "1.05",
               "held-out texture": "0.68", "held-out chroma": "1.08"}, note="ngf 16, long skips, mild film target"),
    Checkpoint("pixar", "pixar-film16s", 5500, {"fire2 texture": "0.74", "fire2 chroma": "1.07", "fire2 cast": "1.39",
               "fire2 grid": "3.95", "held-out texture": "0.59", "held-out chroma": "1.12", "held-out cast": "1.70",
               "held-out grid": "1.97"}, note="stronger film target"),
    Checkpoint("pixar", "pixar-film16s", 7000, {"fire2 texture": "0.74", "fire2 chroma": "1.05", "fire2 cast": "2.23",
               "fire2 grid": "4.08", "held-out texture": "0.61", "held-out chroma": "1.11", "held-out cast": "2.12",
               "held-out grid": "1.83"}),
    Checkpoint("pixar", "pixar-film16s", 8000, {"fire2 texture": "0.74", "fire2 chroma": "1.07", "fire2 cast": "2.13",
               "fire2 grid": "3.97", "held-out texture": "0.60", "held-out chroma": "1.12", "held-out cast": "1.54",
               "held-out grid": "1.92"}),
    # + "## 2026-12-01: `pixar` takes the Blender films' palette" table, first row (sample, head, key)
    Checkpoint("pixar", "pixar-film16s", 8750, {"fire2 texture": "0.75", "fire2 chroma": "1.09", "fire2 cast": "1.24",
               "fire2 grid": "4.04", "held-out texture": "0.60", "held-out chroma": "1.13", "held-out cast": "1.58",
               "held-out grid": "2.10", "fire2 cast max": "1.55", "sample cast": "3.89", "sample cast max": "8.46",
               "head cast": "2.65", "head cast max": "3.08", "fire2 key": "+0.7", "sample key": "+0.3",
               "head key": "+0.4", "sample texture": "0.65", "sample chroma": "1.17"}, shipped="2026-11-30"),
    Checkpoint("pixar", "pixar-film16s", 9000, {"fire2 texture": "0.75", "fire2 chroma": "1.04", "fire2 cast": "2.02",
               "fire2 grid": "3.96", "held-out texture": "0.60", "held-out chroma": "1.11", "held-out cast": "1.29",
               "held-out grid": "1.97"}),
    Checkpoint("pixar", "pixar-ship-adv", 9000, {"fire2 texture": "0.79", "fire2 chroma": "0.97", "fire2 cast": "0.68",
               "fire2 grid": "3.84", "held-out texture": "0.67", "held-out chroma": "1.00", "held-out cast": "0.54",
               "held-out grid": "1.77"}, note="adversarial, weight 1"),
    Checkpoint("pixar", "pixar-ship-adv", 9250, {"fire2 texture": "0.77", "fire2 chroma": "1.01", "fire2 cast": "0.54",
               "fire2 grid": "3.96", "held-out texture": "0.62", "held-out chroma": "1.01", "held-out cast": "0.70",
               "held-out grid": "1.76"}),
    # "## 2026-12-01: `pixar` takes the Blender films' palette (`palette: true`), and the film look spreads colour locally"
    Checkpoint("pixar", "pixar-palette", 17250, {"fire2 cast": "0.65", "fire2 cast max": "0.73", "sample cast": "1.75",
               "sample cast max": "3.38", "head cast": "0.53", "head cast max": "0.68", "fire2 key": "+10.0",
               "sample key": "+5.7", "head key": "+12.3", "fire2 texture": "0.83", "sample texture": "0.77",
               "fire2 chroma": "1.04", "sample chroma": "1.04"}, note="fresh; muting palette target"),
    Checkpoint("pixar", "pixar-palette", 20000, {"fire2 chroma": "1.04", "fire2 key": "+9.7", "sample chroma": "1.06",
               "sample key": "+5.7"}, note="from the adversarial paragraph ('from ... to')"),
    Checkpoint("pixar", "pixar-palette-adv", 20200, {"fire2 chroma": "0.97", "fire2 key": "+8.6", "sample chroma": "1.02",
               "sample key": "+4.3"}, note="'200 steps'"),
    Checkpoint("pixar", "palette lifting/global (no folder named)", 21000, {"fire2 cast": "1.29", "fire2 cast max": "1.67",
               "sample cast": "3.94", "sample cast max": "8.12", "head cast": "1.61", "head cast max": "1.95",
               "fire2 key": "+9.1", "sample key": "+5.5", "head key": "+11.9", "fire2 texture": "0.81",
               "sample texture": "0.74", "fire2 chroma": "1.07", "sample chroma": "1.16"}),
    # + "## 2026-12-01 morning" table, first row (head texture, head chroma, to target)
    Checkpoint("pixar", "pixar-palette3", 28250, {"fire2 cast": "0.77", "fire2 cast max": "0.91", "sample cast": "1.14",
               "sample cast max": "1.82", "head cast": "0.44", "head cast max": "0.53", "fire2 key": "+10.1",
               "sample key": "+5.9", "head key": "+12.5", "fire2 texture": "0.82", "sample texture": "0.74",
               "head texture": "0.75", "fire2 chroma": "1.01", "sample chroma": "1.04", "head chroma": "1.04",
               "fire2 grid": "4.28", "sample grid": "2.73", "head grid": "1.82", "held-out cast": "0.81",
               "fire2 to target": "4.36", "sample to target": "4.12", "head to target": "3.64"},
               shipped="2026-12-01", note="present (local-spread palette) target"),
    Checkpoint("pixar", "pixar-adv-both", 28625, {"fire2 chroma": "1.02", "sample chroma": "1.03", "head chroma": "0.99",
               "fire2 key": "+8.7", "sample key": "+4.9", "head key": "+11.7", "fire2 texture": "0.83",
               "sample texture": "0.74"}, note="'~375 steps'"),
    Checkpoint("pixar", "pixar-adv-surface", 28625, {"fire2 chroma": "0.96", "sample chroma": "0.99", "head chroma": "0.97",
               "fire2 key": "+9.2", "sample key": "+5.3", "head key": "+12.1", "fire2 texture": "0.82",
               "sample texture": "0.75"}, note="'~375 steps'"),
    Checkpoint("pixar", "pixar-adv-texture", 28625, {"fire2 chroma": "1.01", "sample chroma": "1.02", "head chroma": "1.00",
               "fire2 key": "+8.9", "sample key": "+5.2", "head key": "+11.2", "fire2 texture": "0.82",
               "sample texture": "0.74"}, note="'~375 steps'"),
    # "## 2026-12-01 morning: the fine detail weighted (`lambda_fine`), and `pixar` re-shipped at step 43,750"
    Checkpoint("pixar", "pixar-refine", 31500, {"fire2 texture": "0.81", "sample texture": "0.72", "head texture": "0.73"},
               note="2 full-resolution blocks"),
    Checkpoint("pixar", "pixar-fine", 37500, {"fire2 cast": "0.68", "sample cast": "0.77", "head cast": "0.36",
               "fire2 texture": "0.78", "sample texture": "0.68", "head texture": "0.70", "fire2 key": "+10.1",
               "sample key": "+5.4", "head key": "+12.6", "fire2 chroma": "0.99", "sample chroma": "1.02",
               "head chroma": "1.01", "fire2 to target": "4.30", "sample to target": "4.24", "head to target": "3.59",
               "fire2 grid": "4.21"}, note="lambda_fine 2 to 31,768, then 6"),
    Checkpoint("pixar", "pixar-fine", 40000, {"sample key": "+5.4", "sample to target": "4.2"},
               note="from the trap paragraph ('from +5.4', 'from 4.2')"),
    Checkpoint("pixar", "pixar-fine adv trap (discarded)", 41646, {"sample key": "+4.8", "sample to target": "5.4"}),
    Checkpoint("pixar", "pixar-fine", 43750, {"fire2 cast": "0.55", "fire2 cast max": "0.65", "sample cast": "0.88",
               "sample cast max": "1.76", "head cast": "0.38", "head cast max": "0.61", "fire2 texture": "0.79",
               "sample texture": "0.67", "head texture": "0.70", "fire2 key": "+10.1", "sample key": "+5.6",
               "head key": "+12.4", "fire2 chroma": "1.01", "sample chroma": "1.04", "head chroma": "1.03",
               "fire2 to target": "4.08", "sample to target": "4.01", "head to target": "3.17", "fire2 grid": "4.08",
               "held-out cast": "0.76"}, shipped="2026-12-01 (current)"),
    Checkpoint("pixar", "pixar-fine12", 48250, {"fire2 texture": "0.77", "sample texture": "0.66", "head texture": "0.68",
               "fire2 to target": "3.97", "sample to target": "4.31", "head to target": "3.56", "fire2 cast": "0.72",
               "sample cast": "1.03", "head cast": "0.36"}, note="lambda_fine 12"),
    # "## 2026-12-01 07:00-: the GPU recipe fine-tunes the shipped styles; `--init-from`; a deeper pixar tried"
    Checkpoint("pixar", "pixar-deep", 55500, {"fire2 texture": "0.78", "fire2 cast": "0.48", "fire2 to target": "3.84",
               "sample texture": "0.67", "sample cast": "0.93", "sample to target": "3.93", "head texture": "0.68",
               "head cast": "0.74", "head to target": "2.92"}, note="8 blocks, 128-px crops"),
    Checkpoint("pixar", "pixar-deep", (58000, 61750), {"fire2 texture": "0.77-0.78", "fire2 cast": "0.44-0.77",
               "fire2 to target": "3.90-4.03", "sample texture": "0.66-0.67", "sample cast": "0.57-0.73",
               "sample to target": "3.81-4.20", "head texture": "0.68-0.69", "head cast": "0.28-0.76",
               "head to target": "3.10-3.32"}, note="ranges over these checkpoints"),
    Checkpoint("pixar", "pixar-deep", (64500, 66500), {"fire2 texture": "0.77", "fire2 cast": "0.42-0.66",
               "fire2 to target": "3.75-3.79", "sample texture": "0.66-0.67", "sample cast": "0.69-0.93",
               "sample to target": "3.65-3.76", "head texture": "0.69", "head cast": "0.53-0.96",
               "head to target": "3.08-3.11"}, note="lr 3e-5; ranges over these checkpoints"),
    Checkpoint("pixar", "pixar-crop128", 87500, {"fire2 to target": "3.93", "sample to target": "3.75",
               "head to target": "3.14", "fire2 texture": "0.77", "sample texture": "0.66", "head texture": "0.69",
               "fire2 cast": "0.77", "sample cast": "1.39", "sample cast max": "3.21", "head cast": "0.96"},
               note="4 blocks, 128-px crops"),
    # "## 2026-12-02: a flatter film look tried (FGS λ 1200), ..." (the shipped 43,750 re-measured, talking head at
    # 360×360; not plotted: it sits on the row above)
    Checkpoint("pixar", "pixar-fine", 43750, {"fire2 cast": "0.55", "fire2 cast max": "0.65", "sample cast": "0.85",
               "sample cast max": "1.69", "head cast": "0.39", "head cast max": "0.65", "fire2 texture": "0.79",
               "sample texture": "0.68", "head texture": "0.70", "fire2 key": "+10.1", "sample key": "+5.6",
               "head key": "+12.3", "fire2 chroma": "1.01", "sample chroma": "1.04", "head chroma": "1.03",
               "fire2 grid": "4.08"}, shipped="2026-12-01 (current)", note="re-measured 2026-12-02", plot=False),
    Checkpoint("pixar", "pixar-flat", 3250, {"fire2 cast": "0.44", "sample cast": "1.27", "head cast": "1.17",
               "fire2 texture": "0.63", "sample texture": "0.53", "head texture": "0.59", "fire2 key": "+8.4",
               "sample key": "+5.6", "head key": "+12.2", "fire2 chroma": "0.99", "sample chroma": "1.06",
               "head chroma": "0.96", "fire2 grid": "4.60"}, note="flat1200 target, from 43,750"),
    Checkpoint("pixar", "pixar-flat", 6500, {"fire2 cast": "0.83", "sample cast": "0.47", "head cast": "0.30",
               "fire2 texture": "0.62", "sample texture": "0.51", "head texture": "0.58", "fire2 key": "+7.5",
               "sample key": "+5.2", "head key": "+12.1", "fire2 chroma": "1.00", "sample chroma": "1.04",
               "head chroma": "0.93", "fire2 grid": "4.88"}),
    Checkpoint("pixar", "pixar-flat", 7500, {"fire2 cast": "0.85", "fire2 cast max": "1.02", "sample cast": "0.95",
               "sample cast max": "1.55", "head cast": "0.62", "head cast max": "0.93", "fire2 texture": "0.62",
               "sample texture": "0.52", "head texture": "0.58", "fire2 key": "+7.6", "sample key": "+5.1",
               "head key": "+11.8", "fire2 chroma": "0.99", "sample chroma": "1.05", "head chroma": "0.94",
               "fire2 grid": "4.90"}),
    # "## 2026-12-02 (later): the flatter look with faces kept in the target — the generator still washes faces out"
    Checkpoint("pixar", "pixar-face", 2750, {"fire2 cast": "0.63", "fire2 cast max": "0.80", "sample cast": "1.69",
               "sample cast max": "1.89", "head cast": "0.32", "head cast max": "0.56", "fire2 texture": "0.65",
               "sample texture": "0.53", "head texture": "0.59", "fire2 key": "+7.7", "sample key": "+5.3",
               "head key": "+12.2", "fire2 chroma": "0.97", "sample chroma": "1.05", "head chroma": "1.01",
               "fire2 grid": "4.75"}, note="flat target, faces kept, from 43,750"),
    # --- anime ---
    # "## 2026-11-30 night: `anime`, distilled from a cel-anime target made by code" (checkpoint table)
    Checkpoint("anime", "anime-cel", 18000, {"head sq cast": "2.62-3.49", "astronaut cast": "1.20",
               "Mona Lisa cast": "2.23", "held-out selfies cast": "1.39", "6 faces lighter": "8.1",
               "6 faces chroma": "1.13", "sq1 flat share": "0.41", "sq1 ink share": "0.057"},
               note="local target, no tint"),
    Checkpoint("anime", "anime-cel", 20750, {"head sq cast": "2.72-3.49", "astronaut cast": "0.71",
               "Mona Lisa cast": "2.05", "held-out selfies cast": "1.18", "6 faces lighter": "8.4",
               "6 faces chroma": "1.14", "sq1 flat share": "0.42", "sq1 ink share": "0.057"}, note="+ tint"),
    Checkpoint("anime", "anime-cel", 24000, {"head sq cast": "1.32-1.44", "astronaut cast": "0.33",
               "Mona Lisa cast": "2.35", "held-out selfies cast": "0.67", "6 faces lighter": "6.6",
               "6 faces chroma": "1.14", "sq1 flat share": "0.39", "sq1 ink share": "0.056"}, note="+ cast term"),
    # + the anime-adv paragraph's "before" values (cast 1.0 on the 6 faces)
    Checkpoint("anime", "anime-cel", 26500, {"head sq cast": "1.14-1.42", "astronaut cast": "0.12",
               "Mona Lisa cast": "0.94", "held-out selfies cast": "0.77", "6 faces lighter": "7.3",
               "6 faces chroma": "1.15", "sq1 flat share": "0.40", "sq1 ink share": "0.055", "6 faces cast": "1.0"},
               shipped="2026-11-30"),
    Checkpoint("anime", "anime-adv", 27280, {"6 faces chroma": "1.00", "sq1 flat share": "0.36", "sq1 ink share": "0.050",
               "6 faces cast": "0.9"}, note="adversarial; 'on the 6 faces above'"),
    Checkpoint("anime", "anime-cel", 27500, {"head sq cast": "2.37-2.77", "astronaut cast": "0.59",
               "Mona Lisa cast": "1.38", "held-out selfies cast": "0.99", "6 faces lighter": "8.5",
               "6 faces chroma": "1.14", "sq1 flat share": "0.43", "sq1 ink share": "0.049"}),
    Checkpoint("anime", "anime-cel", 32750, {"head sq cast": "1.07-1.24", "astronaut cast": "0.42",
               "Mona Lisa cast": "1.26", "held-out selfies cast": "0.57", "6 faces lighter": "7.6",
               "6 faces chroma": "1.14", "sq1 flat share": "0.43", "sq1 ink share": "0.058"}, note="lr 1e-4 from 28,604"),
    # + "## 2026-12-01 morning" anime table, first row, and the test's 4 faces ("before 0.75 / 0.77")
    Checkpoint("anime", "anime-cel", 36250, {"head sq cast": "0.72-0.77", "astronaut cast": "0.55",
               "Mona Lisa cast": "1.18", "held-out selfies cast": "0.57", "6 faces lighter": "7.4",
               "6 faces chroma": "1.15", "sq1 flat share": "0.42", "sq1 ink share": "0.058", "head8 cast": "0.76",
               "head8 cast max": "0.84", "head8 lighter": "+7.34", "head8 chroma": "1.17", "head8 flat ×": "2.20",
               "head8 ink ×": "6.27", "head8 texture": "1.80", "head8 to target": "5.69", "head4 cast": "0.75",
               "head4 cast max": "0.77"}, shipped="2026-12-01"),
    Checkpoint("anime", "anime-cel", 36500, {"head sq cast": "1.17-1.38", "astronaut cast": "0.78",
               "Mona Lisa cast": "2.23", "held-out selfies cast": "0.61", "6 faces lighter": "7.8",
               "6 faces chroma": "1.15", "sq1 flat share": "0.44", "sq1 ink share": "0.057"}),
    # "## 2026-12-01 morning: ..." (`anime` with the same term)
    Checkpoint("anime", "anime-fine", 43250, {"head8 cast": "0.96", "head8 cast max": "1.24", "head8 lighter": "+7.51",
               "head8 chroma": "1.13", "head8 flat ×": "2.30", "head8 ink ×": "6.23", "head8 texture": "1.72",
               "head8 to target": "5.39"}, note="lambda_fine 6"),
    Checkpoint("anime", "anime-fine", 45250, {"head8 cast": "0.82", "head8 cast max": "1.04", "head8 lighter": "+7.58",
               "head8 chroma": "1.13", "head8 flat ×": "2.32", "head8 ink ×": "6.07", "head8 texture": "1.69",
               "head8 to target": "5.18", "held-out selfies cast": "0.47", "head4 cast": "0.85", "head4 cast max": "1.04",
               "head4 lighter": "+7.56", "head4 chroma": "1.13", "head4 flat ×": "2.21", "head4 ink ×": "5.91"},
               shipped="2026-12-01 (current)"),
    Checkpoint("anime", "anime-fine", 48000, {"head8 cast": "0.44", "head8 cast max": "0.53", "head8 lighter": "+7.62",
               "head8 chroma": "1.15", "head8 flat ×": "2.35", "head8 ink ×": "5.95", "head8 texture": "1.66",
               "head8 to target": "5.05"}),
]
# fmt: on


def run_hours(run: str, step: int) -> tuple[float, float] | None:
    """Wall-clock hours (lo, hi) that went into `run`'s checkpoint at `step`, its warm-start parents included."""
    spec = RUNS[run]
    total = (0.0, 0.0)
    if spec.parent is not None:
        inherited = run_hours(*spec.parent)
        if inherited is None:
            return None
        total = inherited
    at = spec.start_step
    for leg in spec.legs:
        if at >= step:
            break
        upto = min(step, leg.to_step)
        if leg.hours is not None:
            share = (upto - at) / (leg.to_step - at)  # a stated duration, shared out evenly over its steps
            cost = (leg.hours[0] * share, leg.hours[1] * share)
        elif leg.sec_per_step is not None:
            cost = ((upto - at) * leg.sec_per_step[0] / 3600, (upto - at) * leg.sec_per_step[1] / 3600)
        else:
            return None
        total = (total[0] + cost[0], total[1] + cost[1])
        at = upto
    if at < step:
        raise ValueError(f"{run} has no leg up to step {step}")
    return total


def lineage(run: str, step: int) -> list[tuple[str, Leg]]:
    """The legs, oldest first, whose steps went into `run` at `step`."""
    spec = RUNS[run]
    legs = lineage(*spec.parent) if spec.parent else []
    at = spec.start_step
    for leg in spec.legs:
        if at >= step:
            break
        legs.append((run, leg))
        at = leg.to_step
    return legs


def basis_codes(run: str, step: int) -> str:
    codes: list[str] = []
    for _, leg in lineage(run, step):
        if not codes or codes[-1] != leg.code:
            codes.append(leg.code)
    return "+".join(codes)


def hours_of(c: Checkpoint) -> tuple[float, float] | None:
    """(lo, hi) hours; a range of steps gives (lo of the first, hi of the last)."""
    first, last = (c.step, c.step) if isinstance(c.step, int) else c.step
    a, b = run_hours(c.run, first), run_hours(c.run, last)
    return None if a is None or b is None else (a[0], b[1])


def fmt_hours(h: tuple[float, float] | None) -> str:
    if h is None:
        return "not stated"
    return f"{h[0]:.2f}" if abs(h[1] - h[0]) < 0.005 else f"{h[0]:.2f}-{h[1]:.2f}"


def fmt_step(c: Checkpoint) -> str:
    text = f"{c.step:,}" if isinstance(c.step, int) else f"{c.step[0]:,}-{c.step[1]:,}"
    return f"**{text}**" if c.shipped else text


def parse(value: str) -> tuple[float, float] | None:
    """'1.24' -> (1.24, 1.24); '0.4-1.5' -> (0.4, 1.5); '≤0.38 %' and the like -> None (not plotted)."""
    text = value.replace("%", "").replace("+", "").strip()
    m = re.fullmatch(r"(-?[\d.]+)(?:-([\d.]+))?", text)
    if not m:
        return None
    lo = float(m.group(1))
    return (lo, float(m.group(2)) if m.group(2) else lo)


def joined(c: Checkpoint, keys: list[str]) -> str:
    parts = [c.values.get(k, "") for k in keys]
    return " / ".join(p or "–" for p in parts) if any(parts) else ""


# columns of the compact tables: (header, metrics joined by " / ")
PIXAR_COLUMNS = [
    ("texture kept fire2 / sample / head", ["fire2 texture", "sample texture", "head texture"]),
    ("cast fire2 / sample / head (mean, Lab)", ["fire2 cast", "sample cast", "head cast"]),
    ("to target fire2 / sample / head", ["fire2 to target", "sample to target", "head to target"]),
    ("held-out cast: mean / per photo", ["held-out cast", "held-out cast/photo"]),
    ("grid: held-out mean / per photo / fire2", ["held-out grid", "held-out grid/photo", "fire2 grid"]),
]
ANIME_COLUMNS = [
    ("cast: head squares / held-out selfies / head8 mean", ["head sq cast", "held-out selfies cast", "head8 cast"]),
    ("lighter: 6 faces / head8", ["6 faces lighter", "head8 lighter"]),
    ("chroma ×: 6 faces / head8", ["6 faces chroma", "head8 chroma"]),
    ("flat: share sq1 / × head8", ["sq1 flat share", "head8 flat ×"]),
    ("to target head8", ["head8 to target"]),
]


def markdown(style: str, columns: list[tuple[str, list[str]]]) -> str:
    head = ["run", "step", "hours", "basis"] + [h for h, _ in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in CHECKPOINTS:
        if c.style != style or not c.plot:
            continue
        cells = [c.run, fmt_step(c), fmt_hours(hours_of(c)), basis_codes(c.run, c.step if isinstance(c.step, int) else c.step[1])]
        cells += [joined(c, keys) for _, keys in columns]
        if not any(cells[4:]):
            continue
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def every_value() -> str:
    lines = []
    for c in CHECKPOINTS:
        last = c.step if isinstance(c.step, int) else c.step[1]
        legs = "; ".join(f"{run} to {leg.to_step:,}: {leg.code} {leg.basis}" for run, leg in lineage(c.run, last))
        lines.append(
            f"{c.style} {c.run} @ {fmt_step(c).strip('*')}: {fmt_hours(hours_of(c))} h [{legs}]"
            + (f" shipped {c.shipped}" if c.shipped else "")
            + (f" ({c.note})" if c.note else "")
        )
        lines += [f"    {k} = {v}" for k, v in c.values.items()]
    return "\n".join(lines)


# panels: (style, title, y label, [(metric, colour, label)], y limits or None)
PANELS = [
    (
        "pixar",
        "pixar: texture kept (lower = simpler)",
        "fine-detail ratio, output / input",
        [
            ("fire2 texture", "C0", "fire2"),
            ("sample texture", "C1", "sample"),
            ("head texture", "C2", "talking head"),
            ("held-out texture", "C3", "held-out photos"),
        ],
        (0.45, 0.9),
    ),
    (
        "pixar",
        "pixar: colour cast (bound 6)",
        "Lab units",
        [
            ("fire2 cast", "C0", "fire2 mean"),
            ("sample cast", "C1", "sample mean"),
            ("head cast", "C2", "talking head mean"),
            ("held-out cast", "C3", "held-out mean"),
            ("held-out cast/photo", "C7", "held-out per photo (range)"),
        ],
        (0, 12),
    ),
    (
        "pixar",
        "pixar: checkerboard (bound 5)",
        "grid score",
        [
            ("fire2 grid", "C0", "fire2"),
            ("held-out grid", "C3", "held-out mean"),
            ("held-out grid/photo", "C7", "held-out per photo (range)"),
        ],
        (0, 8.5),
    ),
    (
        "pixar",
        "pixar: distance to its target",
        "grey levels",
        [("fire2 to target", "C0", "fire2"), ("sample to target", "C1", "sample"), ("head to target", "C2", "talking head")],
        (2.5, 6),
    ),
    (
        "anime",
        "anime: colour cast",
        "Lab units",
        [
            ("head sq cast", "C2", "talking head, 4 squares (range)"),
            ("head8 cast", "C4", "talking head, 8 faces mean"),
            ("held-out selfies cast", "C3", "held-out selfies mean"),
            ("6 faces cast", "C5", "6 faces"),
        ],
        (0, 4),
    ),
    (
        "anime",
        "anime: lighter (lift of L)",
        "Lab units",
        [("6 faces lighter", "C5", "6 faces"), ("head8 lighter", "C4", "talking head, 8 faces")],
        (5, 10),
    ),
    (
        "anime",
        "anime: flat skin share (talking head, 1st square)",
        "share of pixels",
        [("sq1 flat share", "C2", "flat share (target 0.53)")],
        (0.3, 0.55),
    ),
    ("anime", "anime: distance to its target", "grey levels", [("head8 to target", "C4", "talking head, 8 faces")], (4.5, 6)),
]

# what the bars of the early runs are (they carry no texture measure, so the texture panel cannot name them)
NOTES = {
    "pixar: colour cast (bound 6)": [
        ("A/B runs,\n400-600 steps", 0.09, 4.6),
        ("pixar-cpu:\ninstance norm", 1.0, 9.5),
        ("pixar-cpu2 → cpu3 → cpu4 → anchor-check\n(ngf 32, guided-filter anchor: no look)", 1.6, 5.2),
    ],
    "pixar: checkerboard (bound 5)": [("pixar-cpu2 → … → anchor-check", 2.5, 7.4)],
}

LABELLED_RUNS = {
    "pixar-cpu",
    "pixar-cpu2",
    "pixar-cpu3",
    "pixar-cpu4",
    "pixar-anchor-check",
    "pixar-film16s",
    "pixar-palette3",
    "pixar-fine",
    "pixar-deep",
    "pixar-crop128",
    "pixar-flat",
    "pixar-face",
    "anime-cel",
    "anime-fine",
    "anime-adv",
    "pixar-ship-adv",
}


def plot(path: Path) -> None:
    fig, axes = plt.subplots(4, 2, figsize=(13, 14.5), dpi=72)
    for (style, title, ylabel, series, ylim), ax in zip(PANELS, axes.T.flatten()):
        for metric, colour, label in series:
            ranged = metric.endswith("/photo") or metric == "head sq cast"
            drew = False
            for run, spec in RUNS.items():
                pts = []
                if spec.parent:  # start each branch at its parent's value, so branches hang off their trunk
                    for c in CHECKPOINTS:
                        if (c.run, c.step) == spec.parent and metric in c.values and c.plot:
                            pts.append((c, hours_of(c), parse(c.values[metric])))
                for c in CHECKPOINTS:
                    if c.run == run and c.plot and metric in c.values:
                        h, v = hours_of(c), parse(c.values[metric])
                        if h is not None and v is not None:
                            pts.append((c, h, v))
                pts = [p for p in pts if p[1] is not None and p[2] is not None]
                if not pts:
                    continue
                pts.sort(key=lambda p: p[1][0])
                xs = [(h[0] + h[1]) / 2 for _, h, _ in pts]
                if ranged:
                    for (_, _, v), x in zip(pts, xs):
                        ax.plot([x, x], [v[0], min(v[1], ylim[1])], color=colour, lw=3, alpha=0.55, solid_capstyle="butt")
                        if v[1] > ylim[1]:
                            ax.annotate(
                                f"to {v[1]:g}",
                                (x, ylim[1]),
                                xytext=(-34, -10),
                                textcoords="offset points",
                                fontsize=8,
                                color=colour,
                            )
                else:
                    ys = [(v[0] + v[1]) / 2 for _, _, v in pts]
                    ax.plot(
                        xs,
                        ys,
                        color=colour,
                        lw=1.0 if spec.dead_end else 2.0,
                        ls="--" if spec.dead_end else "-",
                        marker="o",
                        ms=3.5,
                    )
                    for (c, h, v), x, y in zip(pts, xs, ys):
                        if v[1] != v[0]:
                            ax.plot([x, x], [v[0], v[1]], color=colour, lw=1)
                        if h[1] - h[0] > 0.02:
                            ax.plot([h[0], h[1]], [y, y], color=colour, lw=0.8, alpha=0.6)
                        if c.shipped and c.run == run:
                            ax.plot(x, y, marker="*", ms=15, mfc="gold", mec="black", mew=0.8, zorder=5)
                if not drew:  # one legend entry per metric, drawn solid whatever run came first
                    ax.plot(
                        [],
                        [],
                        color=colour,
                        lw=3 if ranged else 2,
                        alpha=0.55 if ranged else 1,
                        marker=None if ranged else "o",
                        ms=3.5,
                        label=label,
                    )
                    drew = True
                if run in LABELLED_RUNS and metric == series[0][0] and ax in (axes[0][0], axes[0][1]):
                    c, h, v = pts[-1]
                    ax.annotate(
                        run.replace("pixar-", "").replace("anime-", ""),
                        (xs[-1], (v[0] + v[1]) / 2),
                        xytext=(4, 4),
                        textcoords="offset points",
                        fontsize=8,
                        color="0.3",
                    )
        for text, x, y in NOTES.get(title, []):
            ax.text(x, y, text, fontsize=8, color="0.25")
        ax.set_title(title, fontsize=11)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_ylim(*ylim)
        if style == "pixar":  # 0.1 h A/B runs to the 11 h guided-anchor lineage: a log axis keeps both readable
            ax.set_xscale("log")
            ax.set_xlim(0.08, 15)
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            ax.set_xlim(0, 4)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9)
        ax.legend(fontsize=8, loc="best", framealpha=0.85)
    for ax in axes[:, 0]:
        ax.set_xlabel("wall-clock hours on the shared 2-core machine, warm starts included (log)", fontsize=9)
    for ax in axes[:, 1]:
        ax.set_xlabel("wall-clock hours (no anime rate in the notes: the same generator's pixar rates)", fontsize=9)
    fig.suptitle(
        "The look over CPU time (from docs/training-notes.md). Solid: runs on the path to a shipped style; "
        "dashed: dead ends; ★ shipped",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        buffer.seek(0)
        # 128 colours are plenty for a line plot and keep the file small
        Image.open(buffer).convert("RGB").quantize(128).save(tmp, optimize=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also print every value with its hours basis")
    parser.add_argument("--png", type=Path, default=PNG, help=f"where the plot goes (default {PNG.relative_to(REPO)})")
    args = parser.parse_args()
    print("pixar\n")
    print(markdown("pixar", PIXAR_COLUMNS))
    print("\nanime\n")
    print(markdown("anime", ANIME_COLUMNS))
    if args.all:
        print("\n" + every_value())
    plot(args.png)
    print(f"\nwrote {args.png}")


if __name__ == "__main__":
    main()
