"""The CPU temporal stage as it was before the 2026-11-29 speed-up (`vidtoon.temporal.FlowBlend` at commit ac162f6).

Kept only as the baseline `scripts/bench_temporal.py` measures the current stage against (speed and E_warp in the same
run); never imported by the package. Its numpy warp helpers (`vidtoon.flow.warp` of the same commit) come along, so it
stays what it was when the package changes.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import torch

from vidtoon.temporal.base import FlowBlendSettings


@functools.lru_cache(maxsize=8)
def _pixel_grid(height: int, width: int) -> np.ndarray:
    """H×W×2 float32 (x, y) pixel coordinates, read-only (cached per size)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.stack((xs, ys), axis=-1)
    grid.flags.writeable = False
    return grid


def sample_positions(flow_hw2: np.ndarray) -> np.ndarray:
    """Where p + flow(p) lands: H×W×2 float32 absolute (x, y) positions, the map `cv2.remap` takes."""
    return _pixel_grid(*flow_hw2.shape[:2]) + flow_hw2


def remap(image: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Bilinear sample of `image` (H×W or H×W×C float32, C ≤ 4) at `positions` (H×W×2 from `sample_positions`),
    nearest border pixel outside: the numpy twin of `backward_warp`."""
    return cv2.remap(image, positions, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistent(flow_ts: np.ndarray, flow_st: np.ndarray, *, alpha1: float = 0.01, alpha2: float = 0.5) -> np.ndarray:
    """H×W bool: the forward–backward check of `consistency_mask` on one H×W×2 float32 flow pair."""
    height, width = flow_ts.shape[:2]
    positions = sample_positions(flow_ts)
    back = remap(flow_st, positions)
    # OpenCV per-pixel channel sums: 1.7× faster than numpy's einsum, 5× than square().sum(-1)
    lhs = cv2.transform(cv2.multiply(total := cv2.add(flow_ts, back), total), _SUM)
    rhs = cv2.transform(cv2.add(cv2.multiply(flow_ts, flow_ts), cv2.multiply(back, back)), _SUM * alpha1) + alpha2
    inside = cv2.inRange(positions, (0, 0), (width - 1, height - 1)) > 0  # both coordinates, one pass
    return (lhs < rhs) & inside


_SUM = np.ones((1, 2))  # cv2.transform matrix: dx + dy per pixel


class BaselineFlowBlend(FlowBlendSettings):
    """Flow-guided blending of the previous output into the current translation.

    Runs frame by frame on the CPU with OpenCV (remap, resize, box filters: a few ms per 720p frame);
    tensors on another device are copied over and the output copied back.

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
        self._previous_output: np.ndarray | None = None  # H×W×3 float32, [-1, 1]

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1] -> N×3×H×W on translated's device (channels-last). On the CPU the
        result shares memory with the stage's state (its last frame is the next call's past): read it, do not
        modify it in place."""
        if source.shape != translated.shape:
            raise ValueError(f"source {tuple(source.shape)} and translated {tuple(translated.shape)} differ in shape")
        source_hwc, translated_hwc = _frames_hwc(source), _frames_hwc(translated)
        if self._previous_output is not None and self._previous_output.shape != translated_hwc.shape[1:]:
            self.reset()
        smalls = [self._downscale(frame) for frame in source_hwc]
        smalls_u8 = [cv2.convertScaleAbs(small, alpha=127.5, beta=127.5) for small in smalls]
        # every flow of the batch in one call (RAFT batches them on its device): t -> t-1, then t-1 -> t
        first = 0 if self._previous_small_u8 is not None else 1  # the very first frame has no past
        previous_u8 = ([self._previous_small_u8] if first == 0 else []) + smalls_u8[:-1]
        flows = self.flow.estimate(smalls_u8[first:] + previous_u8, previous_u8 + smalls_u8[first:])
        backward, forward = flows[: len(previous_u8)], flows[len(previous_u8) :]
        output = np.empty_like(translated_hwc)
        for i in range(len(source_hwc)):
            k = i - first
            self._step(smalls[i], smalls_u8[i], translated_hwc[i], output[i], *((backward[k], forward[k]) if k >= 0 else ()))
        return torch.from_numpy(output).permute(0, 3, 1, 2).to(translated.device)

    def _step(
        self,
        small: np.ndarray,
        small_u8: np.ndarray,
        translated: np.ndarray,
        out: np.ndarray,
        backward: np.ndarray | None = None,
        forward: np.ndarray | None = None,
    ) -> None:
        """One frame: its source at flow resolution (float32 and uint8), its translation (H×W×3 float32 in
        [-1, 1]), the flows to and from the previous frame (none for the first); the result goes into `out`."""
        blended = False
        if backward is not None:
            trust = self.trust(small, self._previous_small, backward, forward)
            if trust.mean() < self.cut_fraction:
                self.cuts += 1  # a new shot: nothing from the past
            else:
                positions = sample_positions(_upscale_flow(backward, translated.shape[:2]))
                warped = remap(self._previous_output, positions)
                weight = cv2.resize(trust * self.strength, translated.shape[1::-1], interpolation=cv2.INTER_LINEAR)
                out[...] = cv2.blendLinear(translated, warped, 1 - weight, weight)  # one pass: (1−w)·new + w·warped
                blended = True
        if not blended:
            out[...] = translated
        self._previous_small, self._previous_small_u8, self._previous_output = small, small_u8, out

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
        visible = consistent(backward, forward).astype(np.float32)
        occlusion = cv2.blur(cv2.erode(visible, np.ones(box, np.uint8)), box)
        mismatch = source - remap(previous_source, sample_positions(backward))
        low = max(3, self.feather // 2 | 1)
        difference = cv2.transform(np.abs(cv2.blur(mismatch, (low, low))), _CHANNEL_MEAN)  # h×w: mean over RGB
        photometric = np.clip(1 - difference / self.photometric_tolerance, 0, 1)
        worst = np.abs(mismatch)
        worst = np.maximum(np.maximum(worst[..., 0], worst[..., 1]), worst[..., 2])  # 20× faster than .max(-1)
        photometric *= worst < self.outlier_threshold
        return occlusion * photometric

    def _downscale(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        scale = min(1.0, self.flow_max_side / max(height, width))
        if scale >= 1.0:
            return frame.copy()  # kept as the next frame's past: never a view of the caller's tensor
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


_CHANNEL_MEAN = np.full((1, 3), 1 / 3)


def _frames_hwc(x: torch.Tensor) -> np.ndarray:
    """N×3×H×W tensor -> N×H×W×3 float32 contiguous numpy array on the CPU (no copy for a channels-last CPU tensor)."""
    return x.detach().to("cpu", torch.float32).permute(0, 2, 3, 1).contiguous().numpy()


def _upscale_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """h×w×2 flow (pixel offsets) -> H×W×2 for `size` = (H, W), offsets scaled with the grid."""
    (height, width), (small_h, small_w) = size, flow.shape[:2]
    if (small_h, small_w) == (height, width):
        return flow
    scaled = cv2.multiply(flow, (width / small_w, height / small_h, 0, 0))  # scaling first is the same and 4× cheaper
    return cv2.resize(scaled, (width, height), interpolation=cv2.INTER_LINEAR)
