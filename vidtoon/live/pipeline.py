"""The live loop: input thread -> model thread -> finish (this thread) -> writer thread, the preview fed on the side.

Decode, the model, the temporal stage (or an animator) and encode run on separate threads, so each stage's time
overlaps the others' (a serial loop is as slow as their sum). Each hand-over before the writer keeps only the newest
frame (`Mailbox`): when a stage is slower than the input, frames are dropped and counted, never queued, so the
latency stays bounded. The temporal stage runs online (it only knows the past). Where frames were dropped, the
writer repeats the last restyled frame at their times, so a recording keeps the input's frame rate and length.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

import cv2
import numpy as np

from vidtoon.errors import UsageError
from vidtoon.live.input import LiveFrame, LiveInput
from vidtoon.live.mailbox import Closed, Mailbox
from vidtoon.live.options import LiveOptions
from vidtoon.live.output import LiveWriter
from vidtoon.models.translator import Translator
from vidtoon.restyle import RestyleOptions, make_restyler
from vidtoon.restyle.frames import FrameRestyler
from vidtoon.streaming import BackgroundSink


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


@dataclass
class LiveStats:
    """What the run measured: frames in, restyled, dropped, written (and of those repeated), latencies (s)."""

    frames_in: int = 0
    restyled: int = 0
    dropped: int = 0
    written: int = 0
    repeated: int = 0
    started: float = field(default_factory=time.monotonic)
    latencies: list[float] = field(default_factory=list)  # input arrival -> frame encoded and sent, per restyled frame
    _recent: deque = field(default_factory=lambda: deque(maxlen=120), repr=False)  # monotonic times of restyled frames

    def restyled_now(self) -> None:
        self.restyled += 1
        self._recent.append(time.monotonic())

    @property
    def fps(self) -> float:
        """Restyled frames per second over the last few seconds."""
        if len(self._recent) < 2:
            return 0.0
        span = self._recent[-1] - self._recent[0]
        return (len(self._recent) - 1) / span if span > 0 else 0.0

    def latency_ms(self, quantile: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]

    def snapshot(self) -> dict:
        """The numbers the preview page shows (JSON-ready)."""
        recent = self.latencies[-60:]
        return {
            "frames_in": self.frames_in,
            "restyled": self.restyled,
            "dropped": self.dropped,
            "written": self.written,
            "fps": round(self.fps, 1),
            "latency_ms": round(1000 * statistics.median(recent), 1) if recent else None,
        }


@dataclass(frozen=True)
class LiveReport:
    """The end of a live run: counts, rates, latency percentiles (ms), the output, and why it stopped."""

    output: str | None
    frames_in: int
    restyled: int
    dropped: int
    written: int
    repeated: int
    seconds: float
    fps: float
    latency_median_ms: float | None
    latency_p99_ms: float | None
    stopped_by: str  # "input end", "max frames", "signal", "request" (the `stop` event)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Preview:
    """What the pipeline tells a preview: the newest input and output pictures (the page's server reads them)."""

    def publish(self, input_rgb: np.ndarray, output_rgb: np.ndarray) -> None: ...


class Stages(NamedTuple):
    """The per-frame work of a live run, in two halves that overlap on two threads (two cores):

    `model(rgb, time) -> item` holds no state (the translator's work) and runs on the model thread, while `finish(item)
    -> rgb` (the temporal stage, or an animator's pose tracking: state, so in frame order) runs on the main thread for
    the frame before. Input frames are H×W×3 uint8 RGB with their time in seconds; the result is the picture to send."""

    model: Callable[[np.ndarray, Fraction], Any]
    finish: Callable[[Any], np.ndarray]


def restyle_stages(translator: Translator, options: RestyleOptions) -> Stages:
    """Restyle each frame as `vidtoon restyle` does, the temporal stage online (it knows only the past)."""
    restyler = make_restyler(translator, options)
    restyler.reset()
    if isinstance(restyler, FrameRestyler):
        return Stages(lambda rgb, at: restyler.translate([rgb]), lambda batch: restyler.blend(batch)[0])
    return Stages(lambda rgb, at: (rgb, at), lambda item: restyler([item[0]], [item[1]])[0])  # faces: whole


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
    """Run `stages` on `live_input` until it ends, `live.max_frames` are read, or a signal (Ctrl-C, SIGTERM) stops it;
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

    state = {"last": None}  # (time, rgb) of the last frame written

    def write(item: tuple[LiveFrame, np.ndarray]) -> None:
        frame, rgb = item
        last = state["last"]
        if live.fill_gaps and last is None and frame.time > 0:  # the first frames were dropped: lead in from time 0
            last = (-frame_step, rgb)
        if live.fill_gaps and last is not None:
            at = last[0] + frame_step
            while at < frame.time - frame_step / 2:  # dropped input frames: repeat the last picture at their times
                writer.write(last[1], at)
                stats.repeated += 1
                stats.written += 1
                at += frame_step
        writer.write(rgb, frame.time)
        stats.written += 1
        stats.latencies.append(time.monotonic() - frame.arrival)
        state["last"] = (frame.time, rgb)

    stats.started = time.monotonic()  # the input is open: its first data has arrived
    modelled: Mailbox[tuple[LiveFrame, Stages, Any]] = Mailbox()
    current = {"stages": stages}
    model_thread = threading.Thread(
        target=_run_model, args=(live_input, current, modelled), name="vidtoon-live-model", daemon=True
    )
    live_input.start(on_audio=writer.add_sound if writer is not None else None)
    model_thread.start()
    stale = 0  # frames modelled with a style the page has since replaced
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
                if control.style != style and make_stages is not None:  # the page picked another style
                    style = control.style
                    current["stages"] = make_stages(style)
                if made_by is not current["stages"]:
                    stale += 1
                    continue
                out = made_by.finish(result)
                if control.mix < 1 and out.shape == frame.rgb.shape:
                    out = cv2.addWeighted(out, control.mix, frame.rgb, 1 - control.mix, 0)
                stats.restyled_now()
                stats.frames_in, stats.dropped = live_input.frames_read, live_input.dropped + modelled.dropped + stale
                if preview is not None:
                    preview.publish(frame.rgb, out)
                if writer is None:
                    stats.latencies.append(time.monotonic() - frame.arrival)
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
        if writer is not None:
            writer.abort()
        raise
    _stop_threads(live_input, modelled, model_thread)
    output = writer.close() if writer is not None else None
    stats.frames_in, stats.dropped = live_input.frames_read, live_input.dropped + modelled.dropped + stale
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
    )


def _run_model(live_input: LiveInput, current: dict, modelled: Mailbox) -> None:
    """The model thread: the newest input frame through the current stages' `model`, handed on (newest only)."""
    try:
        while True:
            frame = live_input.frames.take(timeout=0.5)
            if frame is not None:
                stages = current["stages"]
                modelled.put((frame, stages, stages.model(frame.rgb, frame.time)))
    except Closed:  # the input ended (or the run stopped and closed the hand-over)
        pass
    except BaseException as exc:  # noqa: BLE001 - raised again on the main thread
        current["error"] = exc
    finally:
        modelled.close()


def _stop_threads(live_input: LiveInput, modelled: Mailbox, model_thread: threading.Thread) -> None:
    modelled.close()
    live_input.stop()  # closes the input's hand-over: the model thread ends
    model_thread.join(timeout=30)


def _discard(item) -> None:
    """No output (a preview-only run)."""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
