"""The blind A/B page: a static folder (index.html, app.js, style.css, study.js, the clips) people open to judge.

The page runs every pair of methods × every question as a trial, in a random order with a random side for each
method, shows the methods only under ids (m1, m2, ...: which is which is in `key.json`, which the page never
reads), keeps the votes in the browser's localStorage and saves them as JSON ("Download votes"). It opens from
disk (file://) or any web server: no network, no CDN, the study is a script (`study.js`), not fetched JSON.
Videos are re-encoded small (H.264 MP4, silent) into `clips/`; stills are written as PNG.
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from vidtoon.compare.inputs import Entry, Lineup
from vidtoon.errors import UsageError
from vidtoon.files import StagingDir
from vidtoon.io.aligned import frames_at_size
from vidtoon.io.formats import EncodeOptions
from vidtoon.io.images import check_output_folder, read_image, resize, write_image
from vidtoon.io.writer import VideoWriter
from vidtoon.progress import NoProgress, Progress

QUESTIONS = (
    ("style", "Which looks more like the style?"),
    ("flicker", "Which flickers less?"),
    ("preference", "Which do you prefer?"),
)
ASSETS = ("index.html", "app.js", "style.css")
PAGE_HEIGHT = 360  # default height of the page's clips
CLIP_OPTIONS = EncodeOptions(crf=23, preset="veryfast")


def clip_size(entry: Entry, height: int) -> tuple[int, int]:
    """(width, height) of a page clip: at most `height` high (never enlarged), even sides, the entry's aspect."""
    height = min(height, entry.size[1])
    height = max(2, height - height % 2)
    return max(2, round(height * entry.aspect / 2) * 2), height


def write_page(
    output: Path,
    lineup: Lineup,
    *,
    height: int = PAGE_HEIGHT,
    questions: tuple[tuple[str, str], ...] = QUESTIONS,
    seed: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write the A/B page folder `output` (see the module doc); it appears whole or not at all.

    Args:
        height: the clips' height at most (pixels).
        questions: (id, text) of each question asked about every pair.
        seed: fixes the ids given to the methods (None: random).
    Raises:
        UsageError: fewer than two results; the output folder exists (without `force`) or is an input.
    """
    results = lineup.results
    if len(results) < 2:
        raise UsageError(f"an A/B page compares at least two results; got {len(results)}", hint="give two or more results")
    output = check_output_folder(Path(output), inputs=[entry.path for entry in lineup.entries], force=force)
    rng = random.Random(seed)
    ids = [f"m{i + 1}" for i in range(len(results))]
    rng.shuffle(ids)
    study = secrets.token_hex(6) if seed is None else f"{rng.getrandbits(48):012x}"
    progress = progress or NoProgress()
    progress.start(lineup.frames * len(lineup.entries), f"writing the page {output.name}")
    staging = StagingDir(output, make=True)
    try:
        clips = staging.path / "clips"
        clips.mkdir()
        media = {}
        for method_id, entry in sorted(zip(ids, results)):
            media[method_id] = _write_clip(clips, method_id, entry, lineup, height, progress)
        source = _write_clip(clips, "source", lineup.entries[0], lineup, height, progress) if lineup.has_source else None
        config = {
            "study": study,
            "kind": "image" if lineup.still else "video",
            "methods": sorted(ids),
            "media": media,
            "source": source,
            "questions": [{"id": key, "text": text} for key, text in questions],
        }
        (staging.path / "study.js").write_text(f"window.VIDTOON_STUDY = {json.dumps(config, indent=1)};\n")
        key = {
            "study": study,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "methods": {mid: {"label": e.label, "path": str(e.path.resolve())} for mid, e in sorted(zip(ids, results))},
            "source": str(lineup.entries[0].path.resolve()) if lineup.has_source else None,
        }
        (staging.path / "key.json").write_text(json.dumps(key, indent=2) + "\n")
        assets = resources.files("vidtoon.compare") / "assets"
        for name in ASSETS:
            (staging.path / name).write_bytes((assets / name).read_bytes())
        if (output / "clips").is_dir():  # an earlier page replaced (--force): its clips go, the new ones come
            shutil.rmtree(output / "clips")
        staging.commit()
    except BaseException as exc:
        staging.fail(exc)  # a full disk is said of the page, not of a file in its hidden staging folder
        raise
    return output


def _write_clip(folder: Path, name: str, entry: Entry, lineup: Lineup, height: int, progress: Progress) -> str:
    """Write `entry` small into `folder` as NAME.mp4 (sequences) or NAME.png (stills); its path relative to the page."""
    size = clip_size(entry, height)
    if lineup.still:
        write_image(folder / f"{name}.png", resize(read_image(entry.path), *size))
        progress.advance(lineup.frames)
        return f"clips/{name}.png"
    time_base = entry.info.time_base if entry.kind == "video" else 1 / lineup.fps
    frames = frames_at_size(entry.path, lineup.frames, entry.size, size, fps=lineup.fps)
    try:
        with VideoWriter(folder / f"{name}.mp4", fps=lineup.fps, time_base=time_base, options=CLIP_OPTIONS, lock=False) as writer:
            for frame in frames:
                writer.write(frame.rgb, frame.time)
                progress.advance()
    finally:
        frames.close()
    return f"clips/{name}.mp4"
