"""Still images: listing a frame folder in natural order, reading any image as RGB, fitting sizes."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from vidtoon.errors import DiskFullError, InputError, OutputError, UsageError
from vidtoon.files import StagingDir, bytes_on_disk, is_disk_full
from vidtoon.io.budget import DEFAULT_MAX_PIXELS, check_image_file
from vidtoon.io.paths import IMAGE_SUFFIXES, WRITABLE_IMAGE_SUFFIXES
from vidtoon.progress import Progress

log = logging.getLogger(__name__)

FIT_MODES = ("pad", "crop", "stretch")
ALPHA_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})  # written with their transparency
ORIENTATION_TAG = 0x0112  # EXIF: how the stored pixels are turned for display (1: as stored)
ORIENTED_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})  # besides JPEG: the stills that carry an orientation
# Written with a folder of frames: the images vidtoon wrote there (name -> size and mtime), so a run with --force can
# replace its own older images whole and never touch anything else.
FRAMES_MARKER = ".vidtoon-frames.json"


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: frame2 < frame10."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def list_images(folder: str | Path, pattern: str | None = None, *, pattern_flag: str | None = None) -> list[Path]:
    """Image files in `folder` (not its subfolders), in natural order.

    Args:
        pattern: a glob on file names (e.g. "shot1_*.png"); None = every image suffix.
        pattern_flag: the caller's option that sets `pattern` (e.g. "--pattern"), suggested when nothing matches;
            None for commands that have none.

    Raises:
        InputError: the folder is missing, a file, or holds no matching image.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError("folder not found", path=folder, hint="check the path and the spelling")
    if not folder.is_dir():
        raise InputError("is a file, not a folder of frames", path=folder, hint="give the folder that holds the images")
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and (fnmatch.fnmatch(p.name, pattern) if pattern else p.suffix.lower() in IMAGE_SUFFIXES)
    ]
    if not files:
        looked_for = f"files matching {pattern!r}" if pattern else f"images ({', '.join(sorted(IMAGE_SUFFIXES))})"
        hint = "check the folder" + (f", or pass {pattern_flag}" if pattern_flag else "")
        raise InputError(f"no {looked_for} in this folder", path=folder, hint=hint)
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read any image as H×W×3 uint8 RGB: greyscale is expanded, alpha composited over black,
    16-bit and float images scaled to 8 bits, turned upright by its EXIF orientation (`exif_orientation`: a JPEG,
    PNG, WebP or TIFF), as viewers and `probe` show it.

    Raises:
        InputError: the file cannot be read as an image (damaged or truncated, too), or its header promises more
            than `max_pixels` (refused before decoding).
    """
    return read_image_and_alpha(path, max_pixels=max_pixels)[0]


def read_image_and_alpha(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, np.ndarray | None]:
    """`read_image`'s H×W×3 uint8 RGB (alpha composited over black, upright) and the image's alpha, H×W uint8, turned
    with it (None when it has none, or is opaque throughout).

    Raises:
        InputError: as `read_image`.
    """
    path = Path(path)
    check_image_file(path, max_pixels=max_pixels)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        return _read_jpeg(path), None
    orientation = exif_orientation(path) if path.suffix.lower() in ORIENTED_SUFFIXES else 1
    if orientation != 1 and path.suffix.lower() in (".tif", ".tiff"):
        image = _read_turned_tiff(path, max_pixels=max_pixels)
    else:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # as stored (OpenCV ignores a PNG's or WebP's orientation)
    if image is None:
        raise InputError("cannot be read as an image (damaged, or not an image)", path=path, hint="remove it or replace it")
    image = upright(image, orientation)  # before alpha is split off and bit depths scaled: all of it turns
    if image.dtype == np.uint16:
        image = (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB), None
    alpha = None
    if image.shape[2] == 4:
        alpha = image[:, :, 3]
        image = (image[:, :, :3].astype(np.float32) * (alpha[:, :, None] / np.float32(255.0)) + 0.5).astype(np.uint8)
        alpha = None if alpha.min() == 255 else alpha.copy()
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), alpha


def exif_orientation(path: str | Path) -> int:
    """The EXIF orientation of a still (1-8, as `ORIENTATION_TAG`; 1: shown as stored), from its header through
    Pillow's lazy open: a JPEG's, PNG's (its eXIf chunk, or ImageMagick's "Raw profile type exif", before the pixels:
    where viewers look for it), WebP's or TIFF's. 1 for a file without one, a value outside 1-8, or a format Pillow
    does not read (the decoder says what is wrong with a damaged file)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.format == "PNG" and "exif" not in image.info and "Raw profile type exif" not in image.info:
                return 1  # the common case, without asking `getexif`, which would decode the pixels to look after them
            orientation = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - not an image Pillow knows, or a damaged header: the decoder will say
        return 1
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """An H×W(×C) image as stored, turned as EXIF `orientation` says it is shown (Pillow's `ImageOps.exif_transpose`:
    6 is turned 90° clockwise, 8 counter-clockwise, 3 half a turn, 2/4/5/7 mirrored). Any dtype and channel count;
    contiguous; the same array for orientation 1."""
    turned = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }.get(orientation)
    return image if turned is None else np.ascontiguousarray(turned(image))


def _read_turned_tiff(path: Path, *, max_pixels: int) -> np.ndarray:
    """A TIFF whose EXIF orientation is not 1, decoded by FFmpeg as stored, in the layout OpenCV reads it in (BGR,
    BGRA or grey; 8 or 16 bits), for `upright` to turn: OpenCV's TIFF decoder turns orientations 2-4 itself, even
    under IMREAD_UNCHANGED, and fails on 5-8 (printing an error line); Pillow's turns an RGB one but mirrors an RGBA
    one (OpenCV 4.14, Pillow 13). Imports PyAV."""
    import av

    from vidtoon.io.open import open_input

    with open_input(path, max_pixels=max_pixels) as container:
        try:
            frame = next(container.decode(video=0))
        except (av.FFmpegError, StopIteration):
            raise InputError(
                "cannot be read as an image (damaged, or not an image)", path=path, hint="remove it or replace it"
            ) from None
    fmt = frame.format
    deep = max(component.bits for component in fmt.components) > 8
    alpha = fmt.has_palette or len(fmt.components) in (2, 4)
    if len(fmt.components) == 1 and not fmt.has_palette:
        return frame.to_ndarray(format="gray16le" if deep else "gray")
    array = frame.to_ndarray(format=("rgba64le" if deep else "rgba") if alpha else ("rgb48le" if deep else "rgb24"))
    return cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA if alpha else cv2.COLOR_RGB2BGR)


def _read_jpeg(path: Path) -> np.ndarray:
    """A JPEG through Pillow: the same pixels as OpenCV (both libjpeg-turbo), but a damaged or truncated file
    raises instead of printing libjpeg's warnings to the terminal and coming out grey at the bottom. Turned upright
    by its EXIF orientation (a phone's portrait photo), as viewers, `probe` and the video reader show it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image) if image.getexif().get(ORIENTATION_TAG, 1) != 1 else image
            return np.asarray(upright.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputError(
            f"cannot be read as an image (damaged, or not an image: {exc})", path=path, hint="remove it or replace it"
        ) from None


def write_image(path: Path, rgb: np.ndarray, *, jpeg_quality: int = 95) -> None:
    """Write H×W×3 uint8 RGB (or H×W×4 RGBA, for a suffix in `ALPHA_SUFFIXES`) to `path` (format from the suffix).

    Raises:
        DiskFullError: no room left for it (the partly written file is removed).
        OutputError: the format is unknown or the file cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES and suffix not in WRITABLE_IMAGE_SUFFIXES:  # before OpenCV, which prints its own error
        raise OutputError(f"a colour picture cannot be written as {suffix}", path=path, hint="use a .png or .jpg file name")
    params = []  # each encoder gets only its own settings: another's makes OpenCV print a warning
    if path.suffix.lower() in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    elif path.suffix.lower() == ".png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    try:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGBA2BGRA if rgb.shape[2] == 4 else cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(path.suffix, bgr, params)
    except cv2.error:
        ok = False
    if not ok:
        raise OutputError("cannot encode an image of this type", path=path, hint="use a .png or .jpg file name")
    try:
        path.write_bytes(encoded.tobytes())  # Python's write, not OpenCV's: a full disk comes back as ENOSPC
    except OSError as exc:
        written = bytes_on_disk(path)
        path.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise DiskFullError(path, written=written) from None
        raise OutputError(f"cannot write this image ({exc.strerror or exc})", path=path, hint="check permissions") from None


def write_staged_image(staging: StagingDir, name: str, rgb: np.ndarray, *, hint: str | None = None) -> None:
    """`write_image` of `name` into `staging`'s hidden folder; a refusal names the file as the user will see it
    (`staging.folder / name`), never the temporary folder, with `hint` instead of `write_image`'s when given.

    Raises:
        DiskFullError: as `write_image` (the caller's `staging.fail` names the folder instead).
        OutputError: the format is unknown or the file cannot be written, naming `staging.folder / name`.
    """
    try:
        write_image(staging.path / name, rgb)
    except DiskFullError:
        raise
    except OutputError as exc:
        raise OutputError(exc.what, path=staging.folder / name, hint=hint or exc.hint) from None


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to exactly width×height (area filter when shrinking, cubic when enlarging)."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    shrinking = width * height < rgb.shape[0] * rgb.shape[1]
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def center_crop_to_aspect(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The largest centred crop of `rgb` with the aspect ratio width:height."""
    h, w = rgb.shape[:2]
    if w * height > h * width:  # too wide
        new_w = max(1, round(h * width / height))
        x0 = (w - new_w) // 2
        return rgb[:, x0 : x0 + new_w]
    new_h = max(1, round(w * height / width))
    y0 = (h - new_h) // 2
    return rgb[y0 : y0 + new_h]


def fit(rgb: np.ndarray, width: int, height: int, mode: str = "pad") -> np.ndarray:
    """Bring an image to width×height.

    Modes: "pad" keeps the aspect ratio and fills the rest with black (letterbox), "crop" keeps
    the aspect ratio and cuts the overflow (centred), "stretch" ignores the aspect ratio.
    """
    if mode not in FIT_MODES:
        raise UsageError(f"unknown fit mode {mode!r}", hint=f"use one of {', '.join(FIT_MODES)}")
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    if mode == "stretch":
        return resize(rgb, width, height)
    if mode == "crop":
        return resize(center_crop_to_aspect(rgb, width, height), width, height)
    scale = min(width / w, height / h)
    new_w, new_h = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    canvas = np.zeros((height, width, 3), np.uint8)
    x0, y0 = (width - new_w) // 2, (height - new_h) // 2
    canvas[y0 : y0 + new_h, x0 : x0 + new_w] = resize(rgb, new_w, new_h)
    return canvas


def check_output_folder(output: Path, *, inputs: Iterable[Path] = (), force: bool = False) -> Path:
    """UsageError unless the folder `output` may be written: absent (or `force`), and not one of `inputs`."""
    output = Path(output)
    # what --force cannot help first: its hint would send the user round in a circle
    if any(output.resolve() == Path(path).resolve() for path in inputs):
        raise UsageError(f"output folder {output} is an input", hint="choose another with -o")
    if output.exists() and not output.is_dir():
        raise UsageError(f"output {output} is a file, not a folder", hint="give a folder name with -o")
    if output.exists() and not force:
        raise UsageError(f"output folder {output} exists", hint="choose another with -o, or pass --force")
    return output


def write_image_folder(
    output: Path,
    images: Iterable[tuple[str, np.ndarray]],
    *,
    inputs: Iterable[Path] = (),
    force: bool = False,
    progress: Progress | None = None,
    final: bool = False,
) -> Path:
    """Write (file name, H×W×3 uint8 RGB) pairs into the folder `output`, all appearing at once when the last is done.

    An existing `output` needs `force`; `output` may not be one of `inputs`. The files are staged in a
    hidden folder inside it, so a failure (or Ctrl-C) leaves no half-written folder under the final name, nor an empty
    one made for it (which would refuse the next run). Beside them goes `FRAMES_MARKER`, listing the images written:
    replacing a folder with `force`, the images an earlier run listed there and this one did not write again are
    removed once the new ones are in (only while still as written: a file changed since is kept); any other file is
    kept, and the images among them are named in a warning. A folder without a marker keeps everything it holds.
    """
    output = check_output_folder(output, inputs=inputs, force=force)
    staging = StagingDir(output, make=True)
    try:
        names = []
        for name, rgb in images:
            write_staged_image(staging, name, rgb)
            names.append(name)
            if progress is not None:
                progress.advance()
        before = _marked_images(output)  # under the folder's lock: the earlier run's list, before it is replaced
        _write_marker(staging.path, names)
        written = {path.name for path in staging.commit(final=final)} - {FRAMES_MARKER}
    except BaseException as exc:
        staging.fail(exc)  # a folder made for this run goes too: the next run is not refused as "output folder exists"
        raise
    if before is None:
        _warn_older_images(output, written)
    else:
        _replace_older_images(output, written, before)
    return output


def _write_marker(folder: Path, names: list[str]) -> None:
    """`FRAMES_MARKER` in `folder`: each of the images `names` there with its size and modification time (a rename
    into the final folder keeps both)."""
    files = {}
    for name in names:
        info = (folder / name).stat()
        files[name] = {"size": info.st_size, "mtime_ns": info.st_mtime_ns}
    (folder / FRAMES_MARKER).write_text(json.dumps({"written_by": "vidtoon", "files": files}, indent=1) + "\n")


def _marked_images(folder: Path) -> dict[str, tuple[int, int]] | None:
    """The images an earlier run listed in `folder`'s `FRAMES_MARKER` (name -> (size, mtime_ns)); None when the
    folder has no readable marker (not written by vidtoon, or before markers). Only plain file names count."""
    try:
        files = json.loads((folder / FRAMES_MARKER).read_text())["files"]
        return {
            name: (int(entry["size"]), int(entry["mtime_ns"]))
            for name, entry in files.items()
            if name == Path(name).name and not name.startswith(".") and "\\" not in name
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _replace_older_images(folder: Path, written: set[str], before: dict[str, tuple[int, int]]) -> None:
    """Remove from `folder` the images an earlier run listed (`before`) that this run did not write again, when each
    is still the file it wrote (a regular file of that size and time); warn about the images vidtoon did not write."""
    for name, (size, mtime_ns) in before.items():
        if name in written:
            continue
        path = folder / name
        try:
            info = path.lstat()
        except OSError:
            continue  # gone already
        if stat.S_ISREG(info.st_mode) and (info.st_size, info.st_mtime_ns) == (size, mtime_ns):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    _warn_kept_images(
        folder,
        written,
        "%s: the earlier run's images replaced; %d image%s vidtoon did not write %s kept (%s); remove them before "
        "using the folder as one sequence",
    )


def _warn_older_images(folder: Path, written: set[str]) -> None:
    """Say when `folder` (replaced with --force) still holds images this run did not write: they are never deleted
    (the folder may be the user's own), but a stitch of it would mix them with the new ones."""
    _warn_kept_images(
        folder,
        written,
        "%s: %d image%s from before this run %s still there (%s); remove them before using the folder as one sequence",
    )


def _warn_kept_images(folder: Path, written: set[str], message: str) -> None:
    """Warn with `message` (its fields: the folder, how many, plural s, is/are, the first names) when `folder` holds
    images besides the `written` ones."""
    kept = [path.name for path in list_images(folder) if path.name not in written] if written else []
    if kept:
        log.warning(
            message,
            folder,
            len(kept),
            "" if len(kept) == 1 else "s",
            "is" if len(kept) == 1 else "are",
            ", ".join(kept[:3]) + (", …" if len(kept) > 3 else ""),
        )
