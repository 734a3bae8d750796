"""Everything cheap about a restyle, checked before anything expensive is loaded: the source is there and readable,
the output may be written, and what the output is called by default. Imports neither torch nor OpenCV; PyAV only
to probe a source that exists."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from vidtoon.errors import InputError, UsageError
from vidtoon.io.budget import DEFAULT_MAX_PIXELS
from vidtoon.io.paths import IMAGE_SUFFIXES, WRITABLE_IMAGE_SUFFIXES, check_input_file
from vidtoon.restyle.options import RestyleOptions

if TYPE_CHECKING:
    from vidtoon.io.probe import VideoInfo


def default_output(source: Path, style: str) -> Path:
    """film.mp4 -> film.pixar.mp4; photo.jpg -> photo.pixar.png; frames/ -> frames.pixar/."""
    if source.is_dir():
        folder = source.resolve()  # "." and "frames/" have a name once resolved
        output = folder.with_name(f"{folder.name}.{style}")
        return output.relative_to(Path.cwd()) if output.is_relative_to(Path.cwd()) else output
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return source.with_name(f"{source.stem}.{style}.png")
    suffix = source.suffix.lower() if source.suffix.lower() in (".mp4", ".mkv", ".mov", ".webm") else ".mp4"
    return source.with_name(f"{source.stem}.{style}{suffix}")


def still_names(files: list[Path], source: Path) -> list[str]:
    """The file name each of a folder's pictures `files` gets in the output folder: its stem, as PNG.

    Raises:
        InputError: two pictures would get one name (photo.jpg and photo.png), so one would replace the other.
    """
    names = [f"{path.stem}.png" for path in files]
    seen: dict[str, Path] = {}
    for path, name in zip(files, names):
        if name in seen:
            raise InputError(
                f"{seen[name].name} and {path.name} would both be written as {name}",
                path=source,
                hint="rename one of them, or move it to another folder",
            )
        seen[name] = path
    return names


class RestyleJob(NamedTuple):
    """A restyle checked before anything is loaded: the source, the output, and the source's probe (None: a folder)."""

    source: Path
    output: Path
    info: VideoInfo | None


def check_source(source: str | Path) -> Path:
    """The first and cheapest check of all (microseconds, nothing imported): `source` is a folder, or an existing,
    non-empty file. What the file holds is `check_restyle`'s to find out.

    Raises:
        InputError: not found, or an empty file.
    """
    source = Path(source)
    if not source.is_dir():
        check_input_file(source)
    return source


def check_restyle(
    source: str | Path,
    output: str | Path | None,
    *,
    style_name: str,
    options: RestyleOptions,
    force: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> RestyleJob:
    """Everything cheap about a restyle, checked before a model is loaded: the source is a readable video, image or
    image folder; the output may be written (not the input, not existing without `force`, a known type, a folder
    that can be written, a pixel format its encoder takes); `options.start` lies within the video. Takes milliseconds.

    Raises:
        InputError, OutputError, UsageError: what is wrong, naming the file or flag.
    """
    from vidtoon.files import check_name_length, check_output

    source = check_source(source)
    output = Path(output) if output is not None else default_output(source, style_name)
    check_name_length(output)  # a long film's default name too: before the file system is asked about it
    if not source.is_dir() and output.is_dir():  # -o FOLDER: the default name, in that folder
        output = output / default_output(source, style_name).name
    if source.is_dir():
        from vidtoon.io.formats import FORMATS, check_picture_flags
        from vidtoon.io.images import check_output_folder, list_images  # OpenCV

        still_names(list_images(source), source)  # first: a folder without images (a film's name?) says so
        if not output.is_dir() and output.suffix.lower() in IMAGE_SUFFIXES | FORMATS.keys():
            raise UsageError(
                f"output {output} of a folder of images is a folder of images, not a {output.suffix} file",
                hint=f"give a folder name with -o (the default is {default_output(source, style_name)})",
            )
        check_picture_flags(output, options.encode, what="a folder of pictures")
        return RestyleJob(source, check_output_folder(output, inputs=(source,), force=force), None)
    from vidtoon.io.probe import probe  # PyAV

    info = probe(source, max_pixels=max_pixels)
    if not info.is_image and not output.suffix:
        raise UsageError(
            f"output {output} has no file type",
            hint=f"end it in .mp4, .mkv, .mov, .webm or .gif, or give an existing folder to write "
            f"{default_output(source, style_name).name} into",
        )
    check_output_fits(info, source, output, options)
    if info.is_image:  # not in check_output_fits: batch's flags apply to its films, and its pictures' jobs drop them
        from vidtoon.io.formats import check_picture_flags

        check_picture_flags(output, options.encode, what="a picture")
    check_output(output, inputs=(source,), force=force)
    return RestyleJob(source, output, info)


def check_image_output(output: Path) -> None:
    """UsageError unless `output`, the restyle of an image, is named as a picture that can be written."""
    suffix = output.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise UsageError(f"output {output} of an image must be an image file", hint="use .png or .jpg")
    if suffix not in WRITABLE_IMAGE_SUFFIXES:
        raise UsageError(f"output {output}: a colour picture cannot be written as {suffix}", hint="use .png or .jpg")


def check_output_fits(info: VideoInfo, source: Path, output: Path, options: RestyleOptions) -> None:
    """The output's type fits the probed `source` (an image file for an image; for a video a known suffix and a pixel
    format its encoder takes, --preset/--crf only for an encoder that has them) and `options.start`..`options.end`
    lies within the video. Reads nothing.

    Raises:
        UsageError, OutputError: what does not fit, naming the file or flag.
    """
    from vidtoon.io.formats import check_encoding, check_quality_flags
    from vidtoon.io.probe import check_span  # PyAV

    if info.is_image:
        check_image_output(output)
        return
    check_encoding(output, options.encode)  # the suffix, and --pix-fmt for its encoder
    check_quality_flags(output, options.encode)  # --preset and --crf only where the encoder has them
    check_span(info, options.start, options.end, source)
