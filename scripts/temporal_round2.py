"""The CPU temporal stage after its second speed-up (`vidtoon.temporal.FlowBlend` at commit a14015e, 2026-11-30).

Kept only as the "today" row `scripts/bench_temporal.py` measures the third round against (speed and E_warp in the
same run); never imported by the package. Its helpers from `vidtoon.flow.warp` are the ones the third round left
unchanged (the package's tests pin them).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidtoon.flow.warp import consistent, pixel_grid, remap, sample_positions
from vidtoon.temporal.base import FlowBlendSettings


class Round2FlowBlend(FlowBlendSettings):
    """Flow-guided blending of the previous output into the current translation.

    Runs frame by frame on the CPU with OpenCV: two flows, the trust mask and its warps at flow resolution; at full
    size only a resize of the flow and of the weight, one remap and one blend. The past output is kept as the uint8
    frame the encoder would write (rounded half to even, as `cv2.convertScaleAbs`): its warp is OpenCV's fixed-point
    uint8 remap (~1.5× cheaper than the float one, a quarter of the memory traffic) and its values come back to
    [-1, 1] through a 256-entry table. Tensors on another device are copied over and the output copied back. Work
    arrays are kept per frame size and reused (a frame allocates only its output); scripts/bench_temporal.py
    measures it against the implementations before these changes.

    Args:
        flow: the flow backend (computed on the input frames).
        strength: weight of the warped previous output where the flow is trustworthy (0..1).
        flow_max_side: flow and trust are estimated on frames downscaled to this longer side, then
            scaled up; only the warp and the blend run at full size.
        photometric_tolerance: mean |input_t − warped input_{t−1}| of low-passed colours (in [-1, 1]
            units) at which trust reaches zero (it ramps down linearly from no difference).
        cut_fraction: a frame with less than this fraction of trustworthy pixels starts a new shot.
        feather: side (px, at flow resolution) of the box filters: trust-mask edges, colour low-pass.
            Defaults tuned on the DVP pairs (see scripts/bench_temporal.py).
    """

    def reset(self) -> None:
        self._previous_small: np.ndarray | None = None  # h×w×3 float32 input at flow resolution, [-1, 1]
        self._previous_small_u8: np.ndarray | None = None  # the same as uint8 RGB, for the flow backend
        self._previous_output: np.ndarray | None = None  # H×W×3 uint8: the last output rounded to grey levels
        self._scratch: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}  # reused work arrays, by name and shape
        self._parity = 0  # which of the two past buffers ("past0", "past1") the next frame writes

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1] -> N×3×H×W float32 on translated's device (channels-last), a new
        tensor (the stage keeps its own uint8 copy of the last frame)."""
        if source.shape != translated.shape:
            raise ValueError(f"source {tuple(source.shape)} and translated {tuple(translated.shape)} differ in shape")
        count, height, width = translated.shape[0], *translated.shape[2:]
        if self._previous_output is not None and self._previous_output.shape != (height, width, 3):
            self.reset()
        source_hwc = _frames_hwc(source)  # a view for channels-last CPU frames (restyle's decoded frames)
        translated_cpu = translated.detach().to("cpu", torch.float32)
        smalls = [self._downscale(frame) for frame in source_hwc]
        smalls_u8 = [cv2.convertScaleAbs(small, alpha=127.5, beta=127.5) for small in smalls]
        # every flow of the batch in one call (RAFT batches them on its device): t -> t-1, then t-1 -> t
        first = 0 if self._previous_small_u8 is not None else 1  # the very first frame has no past
        previous_u8 = ([self._previous_small_u8] if first == 0 else []) + smalls_u8[:-1]
        flows = self.flow.estimate(smalls_u8[first:] + previous_u8, previous_u8 + smalls_u8[first:])
        backward, forward = flows[: len(previous_u8)], flows[len(previous_u8) :]
        output = np.empty((count, height, width, 3), np.float32)
        for i in range(count):
            k = i - first
            flow_pair = (backward[k], forward[k]) if k >= 0 else ()
            self._step(smalls[i], smalls_u8[i], _frame_rows(translated_cpu[i]), output[i], *flow_pair)
        return torch.from_numpy(output).permute(0, 3, 1, 2).to(translated.device)

    def _step(
        self,
        small: np.ndarray,
        small_u8: np.ndarray,
        translated: np.ndarray | tuple[np.ndarray, ...],
        out: np.ndarray,
        backward: np.ndarray | None = None,
        forward: np.ndarray | None = None,
    ) -> None:
        """One frame: its source at flow resolution (float32 and uint8), its translation (H×W×3 float32 in
        [-1, 1], or its three H×W planes), the flows to and from the previous frame (none for the first); the result
        goes into `out`, its grey levels into the stage's other past buffer, which becomes the past."""
        blended = False
        past = self._array(f"past{self._parity}", out.shape, np.uint8)  # the buffer the current past is not in
        if backward is not None:
            trust = self.trust(small, self._previous_small, backward, forward)
            if trust.mean() < self.cut_fraction:
                self.cuts += 1  # a new shot: nothing from the past
            else:
                self._blend(translated, backward, trust, out, past)
                blended = True
        if not blended:
            if isinstance(translated, tuple):
                cv2.merge(translated, dst=out)
            else:
                out[...] = translated
            cv2.convertScaleAbs(out, alpha=127.5, beta=127.5, dst=past)  # x·127.5 + 127.5, rounded half to even
        self._previous_small, self._previous_small_u8, self._previous_output = small, small_u8, past
        self._parity ^= 1

    def _blend(
        self,
        translated: np.ndarray | tuple[np.ndarray, ...],
        backward: np.ndarray,
        trust: np.ndarray,
        out: np.ndarray,
        past: np.ndarray,
    ) -> None:
        """out = (1 − w)·translated + w·(previous output warped along `backward`), w = strength × trust scaled up,
        and `past` = out's grey levels. One resize of the flow and one of the weight at full size; then, in strips of
        `_STRIP_ROWS` rows that stay in the core's cache, the positions (grid + flow), the uint8 remap of the past,
        its levels back to [-1, 1] by table, the interleave of a planar translation, `cv2.blendLinear` and the
        rounding to grey levels: each full-size array is read from memory once instead of once per operation."""
        height, width = out.shape[:2]
        flow = _upscale_flow(backward, (height, width), out=self._array("flow", (height, width, 2)))
        weight = self._array("weight", (height, width))
        if trust.shape == (height, width):  # flow at full size (frames ≤ flow_max_side): no resize, the same values
            np.multiply(trust, self.strength, out=weight)
        else:
            cv2.resize(trust * self.strength, (width, height), dst=weight, interpolation=cv2.INTER_LINEAR)
        grid, rows = pixel_grid(height, width), _STRIP_ROWS
        positions = self._array("positions", (rows, width, 2))
        warped_u8 = self._array("warped_u8", (rows, width, 3), np.uint8)
        warped, keep = self._array("warped", (rows, width, 3)), self._array("keep", (rows, width))
        merged = self._array("merged", (rows, width, 3))
        for top in range(0, height, rows):
            strip, n = slice(top, min(top + rows, height)), min(rows, height - top)
            cv2.add(grid[strip], flow[strip], dst=positions[:n])  # absolute positions, as sample_positions makes them
            cv2.remap(
                self._previous_output, positions[:n], None, cv2.INTER_LINEAR, dst=warped_u8[:n], borderMode=cv2.BORDER_REPLICATE
            )
            cv2.LUT(warped_u8[:n], _UNIT_LUT, dst=warped[:n])  # level v -> v / 127.5 − 1
            np.subtract(1, weight[strip], out=keep[:n])
            fresh = (
                cv2.merge([plane[strip] for plane in translated], dst=merged[:n])
                if isinstance(translated, tuple)
                else translated[strip]
            )
            cv2.blendLinear(fresh, warped[:n], keep[:n], weight[strip], dst=out[strip])  # one pass: (1−w)·new + w·warped
            cv2.convertScaleAbs(out[strip], alpha=127.5, beta=127.5, dst=past[strip])

    def trust(self, source: np.ndarray, previous_source: np.ndarray, backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
        """Soft trust h×w float32 in [0, 1]: where the flow is consistent and the input agrees with its warp.

        source, previous_source: h×w×3 float32 in [-1, 1]; backward (t -> t-1), forward (t-1 -> t):
        h×w×2 float32. Occlusion: the forward–backward mask, shrunk by the feather radius (min-pool)
        and softened, so nothing is blended right at an occlusion edge. Photometric: |input_t −
        warped input_{t−1}| of box-low-passed colours (fine texture and noise average out), ramping
        trust from 1 at zero difference down to 0 at `photometric_tolerance`, and zero wherever one
        pixel's own colour is far off (the uncovered background behind a moving edge).
        """
        box = (self.feather, self.feather)
        positions = sample_positions(backward)  # once: for the consistency check and the warp of the past input
        visible = consistent(backward, forward, positions=positions).view(np.uint8)  # 0/1: a uint8 erode is cheaper
        occlusion = cv2.blur(cv2.erode(visible, np.ones(box, np.uint8)).astype(np.float32), box)
        mismatch = cv2.subtract(source, remap(previous_source, positions))
        low = max(3, self.feather // 2 | 1)
        smooth = cv2.blur(mismatch, (low, low))
        difference = cv2.transform(np.abs(smooth, out=smooth), _CHANNEL_MEAN)  # h×w: mean over RGB
        photometric = np.divide(difference, self.photometric_tolerance, out=difference)  # in place: 1 − d / tolerance, clipped
        np.clip(np.subtract(1, photometric, out=photometric), 0, 1, out=photometric)
        # no channel off by the outlier threshold (|m| < t, as inRange's inclusive bounds): one pass over the 3 channels
        below = float(np.nextafter(np.float32(self.outlier_threshold), np.float32(0)))
        photometric *= cv2.inRange(mismatch, (-below,) * 3, (below,) * 3) > 0
        return cv2.multiply(occlusion, photometric, dst=occlusion)

    def _downscale(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        scale = min(1.0, self.flow_max_side / max(height, width))
        if scale >= 1.0:
            return frame.copy()  # kept as the next frame's past: never a view of the caller's tensor
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    def _array(self, name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
        """A work array of `shape` and `dtype`, reused from frame to frame (its contents are overwritten by each user)."""
        key = (name, shape)
        if key not in self._scratch:
            self._scratch[key] = np.empty(shape, dtype)
        return self._scratch[key]


_CHANNEL_MEAN = np.full((1, 3), 1 / 3)
_STRIP_ROWS = 32  # rows per strip of the full-size blend: its ~6 strip arrays (~1.2 MB at 1280 px) stay in cache
_UNIT_LUT = (np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1)).reshape(1, 256)  # grey level -> [-1, 1]


def _frame_rows(frame: torch.Tensor) -> np.ndarray | tuple[np.ndarray, ...]:
    """3×H×W float32 CPU tensor -> an H×W×3 array (a view) when channels-last, else its three H×W planes (views for a
    contiguous N×3×H×W batch), which the stage interleaves strip by strip (`cv2.merge`: 4-7× faster than torch's
    permute-and-copy)."""
    hwc = frame.permute(1, 2, 0)
    if hwc.is_contiguous():
        return hwc.numpy()
    return tuple(plane.contiguous().numpy() for plane in frame)


def _frames_hwc(x: torch.Tensor) -> np.ndarray:
    """N×3×H×W tensor -> N×H×W×3 float32 contiguous numpy array on the CPU (no copy for a channels-last CPU tensor)."""
    return x.detach().to("cpu", torch.float32).permute(0, 2, 3, 1).contiguous().numpy()


def _upscale_flow(flow: np.ndarray, size: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """h×w×2 flow (pixel offsets) -> H×W×2 for `size` = (H, W), offsets scaled with the grid, into `out` if given
    (`flow` itself at the same size)."""
    (height, width), (small_h, small_w) = size, flow.shape[:2]
    if (small_h, small_w) == (height, width):
        return flow
    scaled = cv2.multiply(flow, (width / small_w, height / small_h, 0, 0))  # scaling first is the same and 4× cheaper
    return cv2.resize(scaled, (width, height), dst=out, interpolation=cv2.INTER_LINEAR)
