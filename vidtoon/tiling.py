"""Tiled inference: run a translator on overlapping tiles and blend them back without seams.

A generator with a fixed input size (an ONNX graph that takes exactly 512×512), or a frame too
large for the GPU, is run tile by tile. Tiles overlap; each tile's output is weighted by a
feathered window that is 1 inside and falls to a small positive value at the tile's edges,
where the model saw the least context; the weighted sum divided by the summed weights is the
result. For any per-pixel function the tiled result equals the whole-image result exactly.

Also the padding the pipeline needs for frames whose size is not a multiple of a generator's
`size_multiple`: `pad_to_multiple` and its inverse `crop_to`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from vidtoon.errors import UsageError

PAD_MODES = ("reflect", "replicate", "constant")


def _pair(value: int | tuple[int, int], what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 1 for v in pair):
        raise UsageError(f"{what} must be a positive int or an (h, w) pair of positive ints, got {value!r}")
    return pair  # type: ignore[return-value]


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _axis_starts(length: int, tile: int, overlap: int, align: int) -> list[int]:
    """Tile starts along one axis: first at 0, last flush with the end, steps ≤ tile - overlap, multiples of align."""
    if length <= tile:
        return [0]
    span = length - tile
    if span % align or tile % align:
        raise UsageError(f"tile {tile} and length {length} must be multiples of the alignment {align}")
    units = span // align
    step = (tile - overlap) // align  # the longest step, in units of `align`, that keeps `overlap`
    if step < 1:
        raise UsageError(f"overlap {overlap} leaves no room to step a tile of {tile} px by multiples of {align}")
    count = -(-units // step)  # number of steps
    # evenly spread (rounded): consecutive starts differ by at most ceil(units / count) <= step units
    return [align * ((2 * i * units + count) // (2 * count)) for i in range(count + 1)]


def tile_grid(height: int, width: int, tile: int | tuple[int, int], overlap: int, *, align: int = 1) -> list[tuple[int, int]]:
    """Top-left corners (y0, x0) of tiles that cover a height×width image.

    Tiles are spread evenly along each axis: the first starts at 0, the last ends flush with the
    border, and neighbours overlap by at least `overlap` pixels. Along an axis no longer than
    the tile there is one tile at 0 (the caller pads the image up to the tile size).

    Args:
        height, width: the image size in pixels.
        tile: tile size, an int or (tile_h, tile_w).
        overlap: the least overlap of neighbouring tiles, 0 <= overlap < min(tile_h, tile_w).
        align: every start is a multiple of this (then tile and image sizes must be multiples
            too); a strided network then sees the same sampling grid in every tile.

    Returns:
        the corners, row by row (y0 ascending, then x0 ascending).
    """
    th, tw = _pair(tile, "tile")
    if height < 1 or width < 1:
        raise UsageError(f"cannot tile an empty {height}×{width} image")
    if not 0 <= overlap < min(th, tw):
        raise UsageError(f"overlap must be in [0, {min(th, tw)}) for a {th}×{tw} tile, got {overlap}")
    if align < 1:
        raise UsageError(f"align must be >= 1, got {align}")
    ys = _axis_starts(height, th, overlap, align)
    xs = _axis_starts(width, tw, overlap, align)
    return [(y0, x0) for y0 in ys for x0 in xs]


def _ramp(length: int, overlap: int, device: torch.device | str | None) -> torch.Tensor:
    """length: raised cosine from ~0 at both ends to 1 at `overlap` px in, strictly positive."""
    index = torch.arange(length, device=device, dtype=torch.float64)
    distance = torch.minimum(index, length - 1 - index)  # 0 at the edge pixels
    if overlap == 0:
        return torch.ones(length, device=device, dtype=torch.float32)
    t = ((distance + 1) / (overlap + 1)).clamp(max=1.0)  # in (0, 1]
    return (0.5 - 0.5 * torch.cos(math.pi * t)).float()


def feather_weights(tile_h: int, tile_w: int, overlap: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Blending window of one tile: 1 inside, falling smoothly to a small positive value at the edges.

    The profile along each axis is a raised cosine over the `overlap` pixels next to each edge
    (edge pixel: 0.5 - 0.5·cos(π/(overlap+1)), about 0.002 for overlap 32); the window is the
    outer product of the two axes. overlap = 0 gives all ones.

    Returns:
        (tile_h, tile_w) float32 on `device`, in (0, 1], symmetric under flips of either axis.
    """
    if tile_h < 1 or tile_w < 1 or overlap < 0:
        raise UsageError(f"feather_weights needs a positive tile size and overlap >= 0, got {tile_h}×{tile_w}, {overlap}")
    return _ramp(tile_h, overlap, device)[:, None] * _ramp(tile_w, overlap, device)[None, :]


def _pad_axis(x: torch.Tensor, amount: int, axis: int, mode: str, value: float) -> torch.Tensor:
    """Pad (B, H, W) at the end of axis 1 (H) or 2 (W)."""
    if amount == 0:
        return x
    if mode == "reflect" and amount >= x.shape[axis]:
        mode = "replicate"  # reflection cannot pad by as much as the image is long
    pad = (0, 0, 0, amount) if axis == 1 else (0, amount, 0, 0)
    if mode == "constant":
        return F.pad(x, pad, mode="constant", value=value)
    return F.pad(x, pad, mode=mode)


def pad_to_size(x: torch.Tensor, size: tuple[int, int], *, mode: str = "reflect", value: float = 0.0) -> torch.Tensor:
    """Pad the bottom and right of an image batch up to `size`.

    Args:
        x: (*, H, W) floating point, e.g. N×3×H×W.
        size: (H', W') with H' >= H and W' >= W.
        mode: "reflect" (mirror without repeating the edge pixel; an axis padded by as much as its
            length or more falls back to "replicate"), "replicate" or "constant" (`value`).

    Returns:
        (*, H', W'), the input in its top-left corner.
    """
    if mode not in PAD_MODES:
        raise UsageError(f"unknown padding mode {mode!r}", hint=f"use one of {', '.join(PAD_MODES)}")
    if x.ndim < 2:
        raise UsageError(f"pad_to_size needs a (*, H, W) tensor, got shape {tuple(x.shape)}")
    height, width = x.shape[-2:]
    target_h, target_w = size
    if target_h < height or target_w < width:
        raise UsageError(f"cannot pad {height}×{width} to the smaller {target_h}×{target_w}")
    if (target_h, target_w) == (height, width):
        return x
    if height == 0 or width == 0:
        raise UsageError(f"cannot pad an empty {height}×{width} image")
    lead = x.shape[:-2]
    flat = x.reshape(-1, height, width)
    flat = _pad_axis(flat, target_h - height, 1, mode, value)
    flat = _pad_axis(flat, target_w - width, 2, mode, value)
    return flat.reshape(*lead, target_h, target_w)


def pad_to_multiple(x: torch.Tensor, multiple: int, mode: str = "reflect") -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom and right of (*, H, W) so that both sides are multiples of `multiple`.

    Returns:
        (padded (*, H', W') with H' = ceil(H / multiple)·multiple and the same for W', (H, W)):
        `crop_to(padded, (H, W))` gives `x` back.
    """
    if not isinstance(multiple, int) or multiple < 1:
        raise UsageError(f"multiple must be a positive int, got {multiple!r}")
    height, width = x.shape[-2:]
    return pad_to_size(x, (_round_up(height, multiple), _round_up(width, multiple)), mode=mode), (height, width)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(*, H', W') -> (*, H, W): the top-left corner, undoing `pad_to_size` / `pad_to_multiple`."""
    height, width = size
    if height > x.shape[-2] or width > x.shape[-1]:
        raise UsageError(f"cannot crop {x.shape[-2]}×{x.shape[-1]} to the larger {height}×{width}")
    return x[..., :height, :width]


def translate_tiled(
    x: torch.Tensor,
    translate: Callable[[torch.Tensor], torch.Tensor],
    *,
    tile: int | tuple[int, int],
    overlap: int,
    multiple: int = 1,
    max_batch: int = 8,
) -> torch.Tensor:
    """Run `translate` on overlapping tiles of `x` and blend the outputs with feathered weights.

    The batch is reflection-padded (bottom/right) to at least the tile size and to multiples of
    `multiple`; tiles start at multiples of `multiple` (so a strided network sees the same
    sampling grid as on the whole image); tiles of all images are sent to `translate` up to
    `max_batch` at a time; outputs are accumulated with `feather_weights`, divided by the summed
    weights, and cropped back to H×W. An identity or any per-pixel `translate` gives exactly
    `translate(x)`; a network with spatial context differs only near the seams.

    Args:
        x: N×3×H×W float in [-1, 1].
        translate: (B×3×tile_h×tile_w) -> (B×C×tile_h×tile_w), e.g. a `Translator`.
        tile: tile size, int or (tile_h, tile_w), multiples of `multiple`.
        overlap: least overlap of neighbouring tiles in pixels (e.g. 32), < the tile size.
        multiple: the translator's `size_multiple`.
        max_batch: most tiles per call of `translate`.

    Returns:
        N×C×H×W float32 (or wider, if `translate` returns float64), on x's device.
    """
    th, tw = _pair(tile, "tile")
    if x.ndim != 4:
        raise UsageError(f"translate_tiled needs an N×C×H×W batch, got shape {tuple(x.shape)}")
    if not isinstance(multiple, int) or multiple < 1 or th % multiple or tw % multiple:
        raise UsageError(f"the tile {th}×{tw} must be a multiple of the model's size multiple {multiple}")
    if max_batch < 1:
        raise UsageError(f"max_batch must be >= 1, got {max_batch}")
    count, _, height, width = x.shape
    if count == 0 or height == 0 or width == 0:
        raise UsageError(f"translate_tiled got an empty batch of shape {tuple(x.shape)}")
    padded_h, padded_w = _round_up(max(height, th), multiple), _round_up(max(width, tw), multiple)
    padded = pad_to_size(x, (padded_h, padded_w), mode="reflect")
    corners = tile_grid(padded_h, padded_w, (th, tw), overlap, align=multiple)
    weights = feather_weights(th, tw, overlap, device=x.device)

    jobs = [(i, y0, x0) for (y0, x0) in corners for i in range(count)]
    out: torch.Tensor | None = None
    for start in range(0, len(jobs), max_batch):
        chunk = jobs[start : start + max_batch]
        y = translate(torch.stack([padded[i, :, y0 : y0 + th, x0 : x0 + tw] for i, y0, x0 in chunk]))
        if y.ndim != 4 or y.shape[0] != len(chunk) or tuple(y.shape[-2:]) != (th, tw):
            raise UsageError(
                f"the translator turned {len(chunk)} tiles of {th}×{tw} into shape {tuple(y.shape)}",
                hint="a translator must keep the batch size and the tile size",
            )
        if out is None:
            dtype = torch.promote_types(y.dtype, torch.float32)
            out = torch.zeros(count, y.shape[1], padded_h, padded_w, dtype=dtype, device=x.device)
        y = y.to(device=x.device, dtype=out.dtype) * weights.to(out.dtype)
        for k, (i, y0, x0) in enumerate(chunk):
            out[i, :, y0 : y0 + th, x0 : x0 + tw] += y[k]

    total = torch.zeros(padded_h, padded_w, dtype=out.dtype, device=x.device)
    for y0, x0 in corners:
        total[y0 : y0 + th, x0 : x0 + tw] += weights
    return crop_to(out / total, (height, width))
