"""`live`: restyle a camera or a live stream in real time, to a stream or a file, with a browser preview.

Modules: `options` (LiveOptions, which outputs are streams), `mailbox` (the newest-frame hand-over), `input` (the
reading thread), `output` (the zero-latency writer with the sound), `pipeline` (the loop and its controls),
`report` (its numbers), `timing` (where each frame's latency goes, stage by stage), `preview` (the page and its
server).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidtoon.checks import renamed
from vidtoon.errors import UsageError
from vidtoon.live.options import LiveOptions
from vidtoon.live.pipeline import LiveControl, Stages, restyle_stages, run_live
from vidtoon.live.report import LiveReport, LiveStats
from vidtoon.restyle.options import RestyleOptions

log = logging.getLogger(__name__)

__all__ = ["LiveControl", "LiveOptions", "LiveReport", "LiveStats", "live"]


def live(
    source: str,
    output: str | None = None,
    *,
    to: str | None = None,
    model: str | Path | None = None,
    like: str | Path | None = None,
    like_strength: float | None = None,
    style_opts: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    animate: str | Path | None = None,
    turn: str = "2.5d",
    live_options: LiveOptions = LiveOptions(),
    device: str = "auto",
    precision: str = "auto",
    force: bool = False,
    on_ready: Callable[[str | None], None] | None = None,
    stop: threading.Event | None = None,
    style: str | None = None,
) -> LiveReport:
    """Restyle the live `source` (a camera, a stream URL, or a file — with `live_options.realtime` played at its own
    rate) into `output` (a stream URL, a file, `virtualcam[:DEVICE]`, or None) until it ends or Ctrl-C / SIGTERM / SIGHUP stops it.
    The style: `to` (an installed style's name, `--to`), `model` or `like`, as `vidtoon.restyle` takes them (`style=`
    is `to`'s older name, still taken). `settings`: restyle settings by their `RestyleOptions` names (height,
    consistency, strength, flow, faces, ...); one not given (None) is the style card's, as on the command line.

    With `animate` (a still image of a face), the input drives that face instead (the avatar use of `vidtoon
    animate`): the output is the face, moving as the input's face does; a style, when given, restyles the still once.
    `turn`: its head turns, as `vidtoon animate --turn` ("2.5d", "2d" or "none"; only with `animate`).

    Everything cheap is checked first (the style's card, the output, the face, the preview's port); then the model
    loads and the input opens. `on_ready(preview_url)` is called once the input is open (None without `--preview`);
    setting `stop` (from another thread) ends the run cleanly, as Ctrl-C does.

    Raises:
        UsageError, InputError, OutputError: one line each, before any frame is processed.
    """
    from vidtoon.animate.options import TURNS, check_turn
    from vidtoon.live.input import LiveInput
    from vidtoon.live.output import LiveWriter, check_live_output
    from vidtoon.live.preview import PreviewServer
    from vidtoon.live.virtualcam import VirtualCamera, is_virtual_camera
    from vidtoon.styles import list_styles, load_translator, resolve_style

    to = renamed("to", to, "style", style)
    check_turn(turn)
    if animate is None and turn != TURNS[0]:
        raise UsageError("--turn is for --animate", hint="drop --turn, or add --animate FACE")
    styled = animate is None or any(choice is not None for choice in (to, model, like))
    card = resolve_style(style=to, model=model, like=like, like_strength=like_strength, style_opts=style_opts) if styled else None
    settings = dict(settings or {})
    if settings.get("flow_size") is None:  # the live loop's own flow size unless the settings name one
        settings["flow_size"] = live_options.flow_max_side
    options = RestyleOptions.from_style(card.defaults if card else {}, device=device, precision=precision, **settings)
    if output is not None:
        check_live_output(output, inputs=(source,), force=force)
    face = _load_face(animate) if animate is not None else None
    offered = sorted({c.name for c in list_styles()} | ({card.name} if card else set()))
    control = LiveControl(mix=live_options.mix, style=card.name if card else None, styles=offered)
    stats = LiveStats()
    preview = PreviewServer(live_options.host, live_options.port, control=control, stats=stats) if live_options.preview else None
    if preview is not None and live_options.exposed:
        log.warning(
            "the preview is reachable from other machines at %s (--host %s): anyone there can watch",
            preview.url,
            live_options.host,
        )
    animators: list = []  # the face's animators (a style picked on the page makes another): how many faces they saw
    try:
        twin = face is None and not options.faces  # a procedural style on the CPU: its uint8 twin (`restyle.twins`)
        first = (
            load_translator(card=card, device=device, precision=precision, compile=options.compile, twin=twin) if card else None
        )

        def make_stages(name: str | None) -> Stages:
            translator = None
            if name is not None:
                translator = (
                    first.translator
                    if card and name == card.name
                    else load_translator(style=name, device=device, twin=twin).translator
                )
            if face is None:
                return restyle_stages(translator, options)
            return _animate_stages(face, animate, translator, options, device, turn, animators)

        stages = make_stages(card.name if card else None)
        live_input = LiveInput(
            source,
            realtime=live_options.realtime,
            open_timeout=live_options.open_timeout,
            read_timeout=live_options.read_timeout,
            max_frames=live_options.max_frames,
        )
        writer = None
        try:
            if output is not None and is_virtual_camera(output):
                height, width = face.shape[:2] if face is not None else (live_input.height, live_input.width)
                writer = VirtualCamera(output, width=width, height=height, fps=live_input.fps)
            elif output is not None:
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
        report = run_live(
            live_input,
            writer,
            stages=stages,
            live=live_options,
            control=control,
            make_stages=make_stages,
            preview=preview,
            stats=stats,
            stop=stop,
        )
        missed = report.restyled - sum(animator.faces_found for animator in animators)
        if animators and missed > 0:  # as `vidtoon animate` says it: else a face that never moved is a mystery
            log.warning(
                "no face in %d of %d frames of %s: the face held its last pose there (the still, before the first face)",
                missed,
                report.restyled,
                source,
            )
        return report
    finally:
        if preview is not None:
            preview.close()


def _load_face(path: str | Path):
    """The still face to animate, as H×W×3 uint8 RGB (checked cheaply: an image that exists)."""
    from vidtoon.animate.pipeline import load_source

    return load_source(Path(path), None)


def _animate_stages(face, face_path, translator, options: RestyleOptions, device: str, turn: str, animators: list) -> Stages:
    """The input's face drives `face` (restyled once with `translator` when given): MediaPipe landmarks, as `vidtoon
    animate --method landmarks` does, online. The animator is added to `animators`."""
    from vidtoon.animate.pipeline import make_animator
    from vidtoon.restyle import make_restyler

    if translator is not None:
        still = make_restyler(translator, RestyleOptions(height=options.height, consistency="none"))
        face = still([face])[0]
    animator = make_animator(
        "landmarks", face, Path(face_path), relative=True, crop=True, checkpoint=None, device=device, turn=turn
    )
    animators.append(animator)
    # tracking: in order; an input of another size starts the motion afresh (`LandmarkAnimator.reset`)
    return Stages(lambda rgb, at: (rgb, at), lambda item: animator(item[0], float(item[1])), animator.reset)
