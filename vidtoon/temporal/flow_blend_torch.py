"""The flow-guided temporal stage in torch: `FlowBlend`'s arithmetic, run on the frames' device.

`FlowBlend` (vidtoon.temporal) works frame by frame with OpenCV on the CPU, so frames on a GPU go
to the host and back. `TorchFlowBlend` keeps them on their device: the downscale for the flow, the
trust mask, the flow upscaling, the warp and the blend all run in torch; only the small uint8
frames the flow backend needs go to the host (its `estimate` is numpy) and the flows come back.

Each step reproduces the OpenCV operation `FlowBlend` uses, so both give the same frames (within a
grey level on real footage, see tests/test_temporal_torch.py):

* `cv2.resize(INTER_AREA)` (downscale for the flow): OpenCV's area weights along each axis, applied
  as a few gathered taps per output pixel, rows first then columns, in OpenCV's order: bit-exact.
  (Torch's `interpolate(mode="area")` is adaptive average pooling: the same only for integer factors.
  Measured on DAVIS frames at 910 -> 640: mean 1.8, 99th percentile 16, max 68 grey levels apart;
  bedroom 800 -> 640: 1.0 / 10 / 57. Integer factors (720p, 1080p -> 640) use avg_pool2d.)
* `cv2.remap(INTER_LINEAR, BORDER_REPLICATE)` (warps): `grid_sample` bilinear with border padding
  (clamping the coordinate = OpenCV's clamping of each neighbour), at positions rounded to 1/32 px as
  OpenCV's fixed-point remap tables do. The past output is kept as grey levels
  (`cv2.convertScaleAbs`: x·127.5 + 127.5 fused, half to even) and warped as OpenCV warps uint8 images: integer
  bilinear weights in 1/1024ths, the sum rounded half up (`remap_levels`, bit-exact); a level v reads back as
  v / 127.5 − 1 (`FlowBlend`'s table).
* `cv2.erode` with a box (border ignored) = −max_pool(−x); `cv2.blur` (BORDER_REFLECT_101) =
  reflect padding + avg_pool; `cv2.resize(INTER_LINEAR)` = `interpolate(bilinear,
  align_corners=False)` without antialiasing (half-pixel centres, edge clamp);
  `cv2.blendLinear` = (w1·a + w2·b) / (w1 + w2 + 1e-5).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vidtoon.filters.cv_resize import area_downscale, area_downscale_levels, resize_linear
from vidtoon.flow.warp import position_tables
from vidtoon.temporal.base import FlowBlendSettings, outlier_levels, photometric_ramp, trust_size

_REMAP_STEPS = 32  # OpenCV's INTER_TAB_SIZE: remap positions are quantized to 1/32 px


class TorchFlowBlend(FlowBlendSettings):
    """Flow-guided blending of the previous output into the current translation, on the frames' device.

    Same arguments, defaults, state and results as `vidtoon.temporal.FlowBlend` (read its docstring):
    flow at ≤ `flow_max_side` and trust at half that, the previous output warped along the backward flow and blended
    with weight `strength` × trust, a scene cut (mean trust < `cut_fraction`) counted in `cuts` and
    blending nothing. The flow backend's `estimate` runs where it runs (DIS: the CPU) on uint8 frames
    at flow resolution; everything else stays on `translated`'s device.
    """

    def reset(self) -> None:
        self._previous_levels: torch.Tensor | None = None  # 1×3×h×w uint8 input at flow resolution (grey levels)
        self._previous_small_u8: np.ndarray | None = None  # h×w×3 uint8 RGB of the same, for the flow backend
        self._previous_output: torch.Tensor | None = None  # 1×3×H×W uint8: the last output as grey levels

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1] (source moved to translated's device) -> N×3×H×W float32 there.

        A new tensor: the stage keeps its own grey-level copy of the last frame."""
        if source.shape != translated.shape or source.ndim != 4 or source.shape[1] != 3:
            raise ValueError(f"source {tuple(source.shape)} and translated {tuple(translated.shape)} must both be N×3×H×W")
        device = translated.device
        translated = translated.detach().to(torch.float32)
        height, width = translated.shape[-2:]
        if self._previous_output is not None and self._previous_output.shape[-2:] != (height, width):
            self.reset()
        smalls = area_downscale(source.detach().to(device, torch.float32), _flow_size(height, width, self.flow_max_side))
        # N×3×h×w uint8: the flow's input and the past input the trust warps, rounded as FlowBlend's convertScaleAbs
        # (x·127.5 + 127.5 fused, half to even; `vidtoon.convert.unit_to_u8`'s (x + 1)·127.5 differs on ~1 pixel in 10⁵)
        levels = to_levels(smalls)
        smalls_u8 = list(levels.permute(0, 2, 3, 1).contiguous().cpu().numpy())  # the one download, for the flow backend
        first = 0 if self._previous_small_u8 is not None else 1  # the very first frame has no past
        previous_u8 = ([self._previous_small_u8] if first == 0 else []) + smalls_u8[:-1]
        count = len(previous_u8)
        output = torch.empty_like(translated)
        trusts, means = None, []
        if count:
            flows = self.flow.estimate(smalls_u8[first:], previous_u8)  # one flow per frame: t -> t−1
            backward = torch.from_numpy(np.stack(flows)).to(device).permute(0, 3, 1, 2)  # count×2×h×w
            previous_levels = torch.cat(([self._previous_levels] if first == 0 else []) + [levels[:-1]])
            trusts = trust_map(
                levels[first:],
                previous_levels,
                backward,
                feather=self.feather,
                photometric_tolerance=self.photometric_tolerance,
                outlier_threshold=self.outlier_threshold,
                contraction=self.contraction,
            )
            means = trusts.mean(dim=(1, 2, 3)).tolist()  # the one synchronisation: which frames are cuts
            # FlowBlend warps the past at absolute positions (the small pixels' centres + flow, enlarged: `upscale_positions`,
            # then rounded to 1/32 px by the remap)
            positions = upscale_positions(backward, (height, width))  # count×H×W×2
            weights = resize_linear(trusts * self.strength, (height, width))  # count×1×H×W
        for i in range(len(translated)):
            k = i - first
            if k >= 0 and means[k] < self.cut_fraction:
                self.cuts += 1  # a new shot: nothing from the past
                output[i] = translated[i]
            elif k >= 0:
                warped = remap_levels(self._previous_output, positions[k : k + 1]).to(torch.float32) / 127.5 - 1
                output[i] = blend_linear(translated[i : i + 1], warped, 1 - weights[k : k + 1], weights[k : k + 1])[0]
            else:
                output[i] = translated[i]
            self._previous_output = to_levels(output[i : i + 1])
        self._previous_levels, self._previous_small_u8 = levels[-1:].clone(), smalls_u8[-1]
        return output


def trust_map(
    levels: torch.Tensor,
    previous_levels: torch.Tensor,
    backward: torch.Tensor,
    *,
    feather: int = 5,
    photometric_tolerance: float = 0.6,
    outlier_threshold: float = 0.8,
    contraction: float = 0.15,
) -> torch.Tensor:
    """Soft trust N×1×h'×w' float32 in [0, 1] at half the flow's resolution (`trust_size`): `FlowBlend.trust` for a
    batch of frame pairs.

    levels, previous_levels: the inputs t and t−1 as N×3×h×w uint8 grey levels at flow resolution; backward (t -> t−1):
    N×2×h×w float32 pixel offsets. At flow resolution: the past inputs warped as OpenCV warps uint8 (`remap_levels`)
    and the outlier test (0 where one pixel differs by `outlier_threshold` or more in a channel, `outlier_levels`).
    Then at half that, on OpenCV's area means (`area_downscale_levels`, `area_downscale`; the offsets scaled with the
    sides; a trust pixel is calm only if all it covers is): occlusion, pixels whose flow stays in the frame and does
    not fold (`disoccluded`), eroded and box-blurred by `feather`; photometric, in grey levels, box sums of
    source − warped previous source, their mean magnitude over RGB ramping trust to 0 at `photometric_tolerance`
    (`photometric_ramp`).
    """
    flow_h, flow_w = backward.shape[-2:]
    warped = remap_levels(previous_levels, sample_positions(backward))
    calm = (levels.to(torch.int16) - warped.to(torch.int16)).abs().amax(dim=1, keepdim=True) <= outlier_levels(outlier_threshold)
    height, width = trust_size(flow_h, flow_w)
    if (height, width) != (flow_h, flow_w):
        levels, warped = area_downscale_levels(levels, (height, width)), area_downscale_levels(warped, (height, width))
        calm = area_downscale_levels(calm.to(torch.uint8) * 255, (height, width)) == 255
        scale = torch.tensor([width / flow_w, height / flow_h], device=backward.device).view(1, 2, 1, 1)
        backward = area_downscale(backward, (height, width)) * scale
    positions = sample_positions(backward)  # N×h'×w'×2
    x, y = positions[..., 0], positions[..., 1]
    inside = ((x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1))[:, None]
    visible = (inside & ~disoccluded(backward, contraction=contraction)).to(torch.float32)  # N×1×h'×w'
    occlusion = box_blur(erode(visible, feather), feather)
    difference = levels.to(torch.float32) - warped.to(torch.float32)  # exact
    low = max(3, feather // 2 | 1)
    sums = box_sum(difference, low).abs_()  # whole numbers: exact in float32
    ramp = [float(np.float32(m)) for m in photometric_ramp(low * low, photometric_tolerance)]  # cv2.transform's float32 matrix
    photometric = (sums[:, :1] * ramp[0] + sums[:, 1:2] * ramp[1] + sums[:, 2:3] * ramp[2] + ramp[3]).clamp_(min=0)
    return occlusion * (photometric * calm)


def disoccluded(flow_ts: torch.Tensor, *, contraction: float = 0.15) -> torch.Tensor:
    """N×1×h×w bool: `vidtoon.flow.warp.disoccluded` on an N×2×h×w float32 flow: its divergence (central differences,
    mirrored at the border as `cv2.Sobel(ksize=1)`) at or below −`contraction`. Bit-exact: each difference and their
    sum are single float32 roundings in both."""
    padded_x = F.pad(flow_ts[:, :1], (1, 1, 0, 0), mode="reflect")  # reflect = OpenCV's BORDER_REFLECT_101
    padded_y = F.pad(flow_ts[:, 1:], (0, 0, 1, 1), mode="reflect")
    total = (padded_x[..., 2:] - padded_x[..., :-2]) + (padded_y[..., 2:, :] - padded_y[..., :-2, :])  # 2 × divergence
    return total <= torch.tensor(-2 * contraction, dtype=torch.float32).item()


def consistent(flow_ts: torch.Tensor, flow_st: torch.Tensor, *, alpha1: float = 0.01, alpha2: float = 0.5) -> torch.Tensor:
    """N×1×h×w bool: the forward–backward check of `vidtoon.flow.warp.consistent` on N×2×h×w float32 flows."""
    height, width = flow_ts.shape[-2:]
    positions = sample_positions(flow_ts)  # N×h×w×2
    back = remap(flow_st, positions)
    total = flow_ts + back
    square = total * total
    lhs = square[:, :1] + square[:, 1:]
    energy = flow_ts * flow_ts + back * back
    alpha = torch.tensor(alpha1, dtype=torch.float32).item()
    rhs = (energy[:, :1] * alpha + energy[:, 1:] * alpha) + alpha2
    x, y = positions[..., 0], positions[..., 1]
    inside = ((x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1))[:, None]
    return (lhs < rhs) & inside


def sample_positions(flow: torch.Tensor) -> torch.Tensor:
    """N×2×H×W flow (pixel offsets) -> N×H×W×2 float32 absolute (x, y) positions p + flow(p), for `remap`."""
    height, width = flow.shape[-2:]
    ys, xs = torch.meshgrid(
        torch.arange(height, device=flow.device, dtype=torch.float32),
        torch.arange(width, device=flow.device, dtype=torch.float32),
        indexing="ij",
    )
    return torch.stack((xs, ys), dim=-1) + flow.permute(0, 2, 3, 1)


def remap(image: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Bilinear sample of N×C×H×W `image` at N×h×w×2 absolute (x, y) `positions` -> N×C×h×w, nearest border pixel
    outside: `cv2.remap(INTER_LINEAR, BORDER_REPLICATE)`, including its rounding of positions to 1/32 px."""
    height, width = image.shape[-2:]
    quantized = torch.round(positions * _REMAP_STEPS) / _REMAP_STEPS
    scale = torch.tensor([2 / max(width - 1, 1), 2 / max(height - 1, 1)], device=positions.device, dtype=torch.float32)
    grid = quantized * scale - 1  # align_corners=True: -1 and 1 are the centres of the corner pixels
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def remap_levels(levels: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Bilinear sample of N×C×H×W uint8 `levels` at N×h×w×2 absolute (x, y) `positions` -> N×C×h×w uint8, nearest
    border pixel outside: `cv2.remap(INTER_LINEAR, BORDER_REPLICATE)` of a uint8 image, bit-exact — positions rounded
    to 1/32 px, the four neighbours weighted by integers summing to 1024 ((32 − fx)(32 − fy), ...), the sum rounded
    half up. (Exact in float32: sums stay below 2²⁴.)"""
    count, channels, height, width = levels.shape
    fixed = torch.round(positions * _REMAP_STEPS)  # N×h×w×2, whole 32nds
    cell = torch.floor(fixed / _REMAP_STEPS)
    fraction = fixed - cell * _REMAP_STEPS  # 0..31
    x0, y0 = cell[..., 0], cell[..., 1]
    fx, fy = fraction[..., 0], fraction[..., 1]
    flat = levels.reshape(count, channels, height * width).to(torch.float32)
    total = torch.zeros(count, channels, *positions.shape[1:3], device=levels.device, dtype=torch.float32)
    for dy, wy in ((0, _REMAP_STEPS - fy), (1, fy)):
        for dx, wx in ((0, _REMAP_STEPS - fx), (1, fx)):
            x = (x0 + dx).clamp(0, width - 1).to(torch.long)
            y = (y0 + dy).clamp(0, height - 1).to(torch.long)
            index = (y * width + x).reshape(count, 1, -1).expand(count, channels, -1)
            total += torch.gather(flat, 2, index).reshape(total.shape) * (wx * wy)[:, None]
    return torch.floor((total + 512) / 1024).to(torch.uint8)


def to_levels(x: torch.Tensor) -> torch.Tensor:
    """N×3×H×W in [-1, 1] -> N×3×H×W uint8 grey levels as `cv2.convertScaleAbs(x, alpha=127.5, beta=127.5)` makes them:
    one fused x·127.5 + 127.5, rounded half to even, saturated."""
    half = torch.full((), 127.5, device=x.device)
    return torch.addcmul(half, x, half).round_().clamp_(0, 255).to(torch.uint8)


def erode(x: torch.Tensor, size: int) -> torch.Tensor:
    """Minimum over a size×size box (odd size), pixels outside ignored: `cv2.erode` with a box. N×C×H×W -> same.
    Separable (a row pass, then a column pass): exact for a minimum, 2·size instead of size² comparisons."""
    rows = F.max_pool2d(-x, (1, size), stride=1, padding=(0, size // 2))
    return -F.max_pool2d(rows, (size, 1), stride=1, padding=(size // 2, 0))


def box_blur(x: torch.Tensor, size: int) -> torch.Tensor:
    """Mean over a size×size box (odd size), borders mirrored without repeating the edge (BORDER_REFLECT_101):
    `cv2.blur`. N×C×H×W -> same (H and W must exceed size // 2)."""
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    return F.avg_pool2d(F.avg_pool2d(padded, (1, size), stride=1), (size, 1), stride=1)  # separable: rows, then columns


def box_sum(x: torch.Tensor, size: int) -> torch.Tensor:
    """Sum over a size×size box (odd size), borders mirrored without repeating the edge (BORDER_REFLECT_101):
    `cv2.boxFilter(normalize=False)`. N×C×H×W -> same (H and W must exceed size // 2)."""
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    rows = F.avg_pool2d(padded, (1, size), stride=1, divisor_override=1)
    return F.avg_pool2d(rows, (size, 1), stride=1, divisor_override=1)


def upscale_positions(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N×2×h×w flow (t -> t−1) -> N×H×W×2 absolute (x, y) positions for size (H, W): `FlowBlend`'s
    `upscale_positions` (`vidtoon.flow.warp`) (the small pixels' centres in full-size coordinates plus the scaled flow, enlarged
    bilinearly, the border pixels put right), so both stages sample the past at the same places."""
    (height, width), (small_h, small_w) = size, flow.shape[-2:]
    if (small_h, small_w) == (height, width):
        return sample_positions(flow)
    centres, (columns, column_shift), (rows, row_shift) = position_tables(small_h, small_w, height, width)
    scale = torch.tensor([width / small_w, height / small_h], device=flow.device, dtype=torch.float32).view(1, 2, 1, 1)
    small = flow * scale + torch.tensor(centres, device=flow.device).permute(2, 0, 1)[None]  # a copy: the table is read-only
    positions = resize_linear(small, size).permute(0, 2, 3, 1).contiguous()  # N×H×W×2
    positions[:, :, columns, 0] += torch.tensor(column_shift, device=flow.device)
    positions[:, rows, :, 1] += torch.tensor(row_shift, device=flow.device)[:, None]
    return positions


def blend_linear(a: torch.Tensor, b: torch.Tensor, weight_a: torch.Tensor, weight_b: torch.Tensor) -> torch.Tensor:
    """(weight_a·a + weight_b·b) / (weight_a + weight_b + 1e-5), per pixel: `cv2.blendLinear`. Weights N×1×H×W."""
    return (a * weight_a + b * weight_b) / (weight_a + weight_b + 1e-5)


def _flow_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(h, w) at which `FlowBlend` estimates flow: the longer side at most `max_side`, each side at least 8."""
    scale = min(1.0, max_side / max(height, width))
    if scale >= 1.0:
        return height, width
    return max(8, round(height * scale)), max(8, round(width * scale))
