"""`live`: restyle a camera or a live stream in real time, to a stream or a file, with a browser preview.

Modules: `options` (LiveOptions, which outputs are streams), `mailbox` (the newest-frame hand-over), `input` (the
reading thread), `output` (the zero-latency writer with the sound), `pipeline` (the loop, its numbers and
controls), `preview` (the page and its server).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidtoon.live.options import LiveOptions
from vidtoon.live.pipeline import LiveControl, LiveReport, LiveStats, run_live
from vidtoon.restyle.options import RestyleOptions

log = logging.getLogger(__name__)

__all__ = ["LiveControl", "LiveOptions", "LiveReport", "LiveStats", "live"]


def live(
    source: str,
    output: str | None = None,
    *,
    style: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    like_strength: float | None = None,
    style_opts: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    live_options: LiveOptions = LiveOptions(),
    device: str = "auto",
    precision: str = "auto",
    force: bool = False,
    on_ready: Callable[[str | None], None] | None = None,
    stop: threading.Event | None = None,
) -> LiveReport:
    """Restyle the live `source` (a camera, a stream URL, or a file — with `live_options.realtime` played at its own
    rate) into `output` (a stream URL, a file, or None) until it ends or Ctrl-C / SIGTERM stops it. `settings`: restyle
    settings by their `RestyleOptions` names (height, consistency, strength, flow, faces, ...).

    Everything cheap is checked first (the style's card, the output, the preview's port); then the model loads and
    the input opens. `on_ready(preview_url)` is called once the input is open (None without `--preview`); setting
    `stop` (from another thread) ends the run cleanly, as Ctrl-C does.

    Raises:
        UsageError, InputError, OutputError: one line each, before any frame is processed.
    """
    from vidtoon.live.input import LiveInput
    from vidtoon.live.output import LiveWriter, check_live_output
    from vidtoon.live.preview import PreviewServer
    from vidtoon.styles import list_styles, load_translator, resolve_style

    card = resolve_style(style=style, model=model, like=like, like_strength=like_strength, style_opts=style_opts)
    options = RestyleOptions.from_style(card.defaults, device=device, precision=precision, **(settings or {}))
    if output is not None:
        check_live_output(output, inputs=(source,), force=force)
    offered = sorted({c.name for c in list_styles()} | {card.name})
    control = LiveControl(mix=live_options.mix, style=card.name, styles=offered)
    stats = LiveStats()
    preview = PreviewServer(live_options.host, live_options.port, control=control, stats=stats) if live_options.preview else None
    if preview is not None and live_options.exposed:
        log.warning(
            "the preview is reachable from other machines at %s (--host %s): anyone there can watch",
            preview.url,
            live_options.host,
        )
    try:
        loaded = load_translator(card=card, device=device, precision=precision, compile=options.compile)

        def load_style(name: str):
            if name == card.name:
                return loaded.translator
            return load_translator(style=name, device=device, precision=precision).translator

        live_input = LiveInput(
            source,
            realtime=live_options.realtime,
            open_timeout=live_options.open_timeout,
            read_timeout=live_options.read_timeout,
            max_frames=live_options.max_frames,
        )
        writer = None
        try:
            if output is not None:
                writer = LiveWriter(
                    output, fps=live_input.fps, options=live_options, audio=live_input.audio, inputs=(source,), force=force
                )
            if preview is not None:
                preview.start()
            if on_ready is not None:
                on_ready(preview.url if preview is not None else None)
        except BaseException:
            live_input.stop()
            raise
        return run_live(
            live_input,
            writer,
            translator=loaded.translator,
            options=options,
            live=live_options,
            control=control,
            load_style=load_style,
            preview=preview,
            stats=stats,
            stop=stop,
        )
    finally:
        if preview is not None:
            preview.close()
