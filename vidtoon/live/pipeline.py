"""The live loop: input thread -> model thread -> finish (this thread) -> writer thread, the preview fed on the side.

Decode, the model, the temporal stage (or an animator) and encode run on separate threads, so each stage's time
overlaps the others' (a serial loop is as slow as their sum). Each hand-over before the writer keeps only the newest
frame (`Mailbox`): when a stage is slower than the input, frames are dropped and counted, never queued, so the
latency stays bounded. The temporal stage runs online (it only knows the past). Where frames were dropped, the
writer repeats the last restyled frame at their times, so a recording keeps the input's frame rate and length.
An input that changes size mid-stream (a camera switched, a scene change in OBS) restarts the temporal stage (or the
animator's motion) and is fitted into the output's size, keeping its shape (black bars): a stream or an encoder keeps
one size (an animated face has the still's size whatever the input's).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

import cv2
import numpy as np
import torch

from vidtoon.errors import UsageError
from vidtoon.io.images import fit
from vidtoon.live.input import LiveFrame, LiveInput
from vidtoon.live.mailbox import Closed, Mailbox
from vidtoon.live.options import LiveOptions
from vidtoon.live.output import LiveWriter
from vidtoon.live.report import LiveReport, LiveStats
from vidtoon.live.timing import stage_breakdown
from vidtoon.models.translator import Translator
from vidtoon.restyle import RestyleOptions, make_restyler
from vidtoon.restyle.batches import in_two_halves
from vidtoon.streaming import BackgroundSink

log = logging.getLogger(__name__)


@dataclass
class LiveControl:
    """What the preview page can change while running: the mix of restyled and input, and the style (by name)."""

    mix: float = 1.0
    style: str | None = None
    styles: list[str] = field(default_factory=list)  # the names the page offers
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set(self, *, mix: float | None = None, style: str | None = None) -> None:
        """Change the mix (0..1) or the style (one of `styles`); takes effect from the next frame.

        Raises:
            UsageError: a mix outside 0..1 or a style not offered.
        """
        with self._lock:
            if mix is not None:
                if not 0 <= mix <= 1:
                    raise UsageError(f"mix must be in [0, 1], got {mix}")
                self.mix = float(mix)
            if style is not None:
                if style not in self.styles:
                    raise UsageError(f"unknown style {style!r}", hint=f"use one of {', '.join(self.styles)}")
                self.style = style


class Preview:
    """What the pipeline tells a preview: the newest input and output pictures (the page's server reads them)."""

    def publish(self, input_rgb: np.ndarray, output_rgb: np.ndarray) -> None: ...


class Stages(NamedTuple):
    """The per-frame work of a live run, in two halves that overlap on two threads (two cores):

    `model(rgb, time) -> item` holds no state (the translator's work) and runs on the model thread, while `finish(item)
    -> rgb` (the temporal stage, or an animator's pose tracking: state, so in frame order) runs on the main thread for
    the frame before. Input frames are H×W×3 uint8 RGB with their time in seconds; the result is the picture to send.
    `reset()` makes `finish` forget the past, as at a scene cut: the loop calls it when the
    input changes size, so two differently framed pictures are never blended."""

    model: Callable[[np.ndarray, Fraction], Any]
    finish: Callable[[Any], np.ndarray]
    reset: Callable[[], None]


def restyle_stages(translator: Translator, options: RestyleOptions) -> Stages:
    """Restyle each frame as `vidtoon restyle` does, the temporal stage online (it knows only the past)."""
    restyler = make_restyler(translator, options)
    restyler.reset()
    if in_two_halves(restyler):
        return Stages(lambda rgb, at: restyler.translate([rgb]), lambda batch: restyler.blend(batch)[0], restyler.reset)
    return Stages(lambda rgb, at: (rgb, at), lambda item: restyler([item[0]], [item[1]])[0], restyler.reset)  # faces: whole


def run_live(
    live_input: LiveInput,
    writer: LiveWriter | None,
    *,
    stages: Stages,
    live: LiveOptions,
    control: LiveControl | None = None,
    make_stages: Callable[[str], Stages] | None = None,
    preview: Preview | None = None,
    stats: LiveStats | None = None,
    stop: threading.Event | None = None,
) -> LiveReport:
    """Run `stages` on `live_input` until it ends, `live.max_frames` are read, or a signal (Ctrl-C, SIGTERM, SIGHUP) stops it;
    the output is closed properly in every case. `make_stages(style)` serves the preview's style picker; setting
    `stop` ends the run as a signal would (from another thread: a GUI, a notebook, a test).

    Threads: input (decode) -> newest frame -> model thread (`stages.model`) -> newest result -> this thread
    (`stages.finish`, mix, preview) -> writer thread. Both hand-overs keep only the newest item, so a slow stage drops
    frames (counted) instead of queueing them."""
    control = control or LiveControl(mix=live.mix)
    stats = stats or LiveStats()
    style = control.style
    stopped_by = "input end"
    frame_step = 1 / live_input.fps

    state = {"last": None}  # the time of the last frame written
    taken: deque[Fraction] = deque(maxlen=64)  # times of the frames the model took (appended by the model thread), in order

    def fill(until: Fraction) -> None:
        """Repeat the last picture at the times of the dropped input frames before `until`."""
        at = state["last"] + frame_step
        while at < until - frame_step / 2:
            writer.repeat(at)
            stats.repeated += 1
            stats.written += 1
            state["last"], at = at, at + frame_step

    def write(item: tuple[LiveFrame, np.ndarray]) -> None:
        frame, rgb = item
        frame.times.write_start = time.monotonic()
        if live.fill_gaps and state["last"] is None and frame.time >= frame_step / 2:  # the first frames were dropped
            writer.write(rgb, Fraction(0))  # lead in from time 0
            stats.repeated += 1
            stats.written += 1
            state["last"] = Fraction(0)
        if live.fill_gaps and state["last"] is not None:
            fill(frame.time)  # what was not filled after the frame before (see below)
        frame.times.fresh_start = time.monotonic()
        writer.write(rgb, frame.time)
        stats.written += 1
        _sent(stats, frame)
        state["last"] = frame.time
        if live.fill_gaps:  # the frames dropped between this one and the next the model took: now, not before the next
            while taken and taken[0] <= frame.time:
                taken.popleft()
            if taken:
                fill(taken[0])

    stats.started = time.monotonic()  # the input is open: its first data has arrived
    cpu_started = _cpu_seconds()
    modelled: Mailbox[tuple[LiveFrame, Stages, Any]] = Mailbox()
    current = {"stages": stages, "stale": 0, "taken": taken}
    torch_threads = torch.get_num_threads()
    if live.model_threads is not None:
        torch.set_num_threads(live.model_threads)  # before the model thread starts: it takes the count when it starts
    stale_age = None if live.stale_after is None else live.stale_after * float(frame_step)
    model_thread = threading.Thread(
        target=_run_model,
        args=(live_input, current, modelled, stale_age, float(frame_step)),
        name="vidtoon-live-model",
        daemon=True,
    )
    live_input.start(on_audio=writer.add_sound if writer is not None else None)
    model_thread.start()
    stale = 0  # frames modelled with a style the page has since replaced
    sizes: dict[str, tuple[int, int]] = {}  # "input": the last finished frame's (h, w); "output": the first picture's

    def dropped() -> int:
        return live_input.dropped + modelled.dropped + stale + current["stale"]

    try:
        with BackgroundSink(write if writer is not None else _discard, depth=4) as sink:
            while stop is None or not stop.is_set():
                try:
                    item = modelled.take(timeout=0.5)
                except Closed:
                    break
                if item is None:
                    continue
                frame, made_by, result = item
                frame.times.finish_start = time.monotonic()
                if control.style != style and make_stages is not None:  # the page picked another style
                    style = control.style
                    current["stages"] = make_stages(style)
                if made_by is not current["stages"]:
                    stale += 1
                    continue
                resized = _input_resized(sizes, frame, made_by)
                out = made_by.finish(result)
                if control.mix < 1 and out.shape == frame.rgb.shape:
                    out = cv2.addWeighted(out, control.mix, frame.rgb, 1 - control.mix, 0)
                out = _fitted(sizes, out, frame, resized)
                stats.restyled_now()
                stats.frames_in, stats.dropped = live_input.frames_read, dropped()
                if preview is not None:
                    preview.publish(frame.rgb, out)
                frame.times.finished = time.monotonic()
                if writer is None:
                    frame.times.write_start = frame.times.fresh_start = frame.times.finished
                    _sent(stats, frame)
                sink.put((frame, out))
        if "error" in current:
            raise current["error"]
        if live_input.error is not None:
            raise live_input.error
        if live.max_frames is not None and live_input.frames_read >= live.max_frames:
            stopped_by = "max frames"
        elif stop is not None and stop.is_set():
            stopped_by = "request"
    except KeyboardInterrupt:
        stopped_by = "signal"  # a live run is stopped this way: close everything properly, report, exit 0
    except BaseException:
        _stop_threads(live_input, modelled, model_thread)
        if live.model_threads is not None:
            torch.set_num_threads(torch_threads)
        if writer is not None:
            writer.abort()
        raise
    _stop_threads(live_input, modelled, model_thread)
    if live.model_threads is not None:
        torch.set_num_threads(torch_threads)
    output = writer.close() if writer is not None else None
    stats.frames_in, stats.dropped = live_input.frames_read, dropped()
    seconds = time.monotonic() - stats.started
    return LiveReport(
        output=output,
        frames_in=stats.frames_in,
        restyled=stats.restyled,
        dropped=stats.dropped,
        written=stats.written,
        repeated=stats.repeated,
        seconds=round(seconds, 3),
        fps=round(stats.restyled / seconds, 2) if seconds > 0 else 0.0,
        latency_median_ms=_rounded(stats.latency_ms(0.5)),
        latency_p99_ms=_rounded(stats.latency_ms(0.99)),
        stopped_by=stopped_by,
        cpu_seconds=round(_cpu_seconds() - cpu_started, 2),
        stages={
            row.name: {"median_ms": row.median_ms, "p99_ms": row.p99_ms, "mean_ms": row.mean_ms}
            for row in stage_breakdown(stats.frame_times)
        },
    )


def _run_model(live_input: LiveInput, current: dict, modelled: Mailbox, stale_age: float | None, frame_step: float) -> None:
    """The model thread: the newest input frame through the current stages' `model`, handed on (newest only).

    With `stale_age` (s): a frame older than that when taken is replaced by the next one if it arrives within the
    frame interval (`current["stale"]` counts the replaced ones): its latency would start that much behind."""
    try:
        ended = False
        while not ended:
            frame = live_input.frames.take(timeout=0.5)
            if frame is None:
                continue
            age = time.monotonic() - frame.arrival
            if stale_age is not None and age > stale_age:
                try:
                    newer = live_input.frames.take(timeout=max(0.0, frame_step - age) + 0.005)
                except Closed:  # the input has ended: this frame is its last
                    newer, ended = None, True
                if newer is not None:
                    current["stale"] += 1
                    frame = newer
            frame.times.taken = time.monotonic()
            current["taken"].append(frame.time)
            stages = current["stages"]
            result = stages.model(frame.rgb, frame.time)
            frame.times.modelled = time.monotonic()
            modelled.put((frame, stages, result))
    except Closed:  # the input ended (or the run stopped and closed the hand-over)
        pass
    except BaseException as exc:  # noqa: BLE001 - raised again on the main thread
        current["error"] = exc
    finally:
        modelled.close()


def _input_resized(sizes: dict, frame: LiveFrame, stages: Stages) -> tuple[int, int] | None:
    """The input's previous (h, w) when `frame` has another size (its stages' past forgotten), else None."""
    size, before = frame.rgb.shape[:2], sizes.get("input")
    sizes["input"] = size
    if before is None or size == before:
        return None
    stages.reset()  # as at a scene cut: nothing of the old framing is blended into the new
    return before


def _fitted(sizes: dict, out: np.ndarray, frame: LiveFrame, resized: tuple[int, int] | None) -> np.ndarray:
    """`out` at the output's size (its first picture's: an encoder, a stream or a camera keeps one), fitted into it
    keeping its shape (black bars) when it differs; said once per change of the input's size, as it is: fitted, or
    the output unchanged (an animated face keeps the still's size whatever drives it; an input back at its first
    size)."""
    size = sizes.setdefault("output", out.shape[:2])
    fitted = out.shape[:2] != size
    if resized is not None:
        log.warning(
            "input changed size from %dx%d to %dx%d at frame %d: %s %dx%d%s",
            resized[1],
            resized[0],
            frame.rgb.shape[1],
            frame.rgb.shape[0],
            frame.index,
            "fitted into" if fitted else "the output stays",
            size[1],
            size[0],
            ", keeping its shape" if fitted else "",
        )
    return fit(out, size[1], size[0], "pad") if fitted else out


def _stop_threads(live_input: LiveInput, modelled: Mailbox, model_thread: threading.Thread) -> None:
    modelled.close()
    live_input.stop()  # closes the input's hand-over: the model thread ends
    model_thread.join(timeout=30)


def _sent(stats: LiveStats, frame: LiveFrame) -> None:
    """`frame` was handed to the muxer (or, without an output, finished): its latency and stamps are final."""
    frame.times.sent = time.monotonic()
    stats.frame_times.append(frame.times)


def _cpu_seconds() -> float:
    """The process's CPU time so far (user + sys, every thread)."""
    times = os.times()
    return times.user + times.system


def _discard(item) -> None:
    """No output (a preview-only run)."""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
