"""The CPU temporal stage after its first speed-up (`vidtoon.temporal.FlowBlend` at commit 254851e, 2026-11-30).

Kept only as the "today" row `scripts/bench_temporal.py` measures the second round against (speed and E_warp in the
same run); never imported by the package. It uses `vidtoon.flow.warp`'s helpers, which the second round left unchanged
(the package's tests pin them).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidtoon.flow.warp import consistent, remap, remap_by_flow, sample_positions
from vidtoon.temporal.base import FlowBlendSettings


class Round1FlowBlend(FlowBlendSettings):
    """Flow-guided blending of the previous output into the current translation.

    Runs frame by frame on the CPU with OpenCV: two flows, the trust mask and its warps at flow resolution; at full
    size only a resize of the flow and of the weight, one remap and one blend. Tensors on another device are copied
    over and the output copied back. Work arrays are kept per frame size and reused (a frame allocates only its
    output); scripts/bench_temporal.py measures it against the implementation before these changes.

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
        self._scratch: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}  # reused work arrays, by name and shape

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1] -> N×3×H×W on translated's device (channels-last). On the CPU the
        result shares memory with the stage's state (its last frame is the next call's past): read it, do not
        modify it in place."""
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
            self._step(smalls[i], smalls_u8[i], self._frame_hwc(translated_cpu[i]), output[i], *flow_pair)
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
                self._blend(translated, backward, trust, out)
                blended = True
        if not blended:
            out[...] = translated
        self._previous_small, self._previous_small_u8, self._previous_output = small, small_u8, out

    def _blend(self, translated: np.ndarray, backward: np.ndarray, trust: np.ndarray, out: np.ndarray) -> None:
        """out = (1 − w)·translated + w·(previous output warped along `backward`), w = strength × trust scaled up:
        one resize of the flow, one remap by it (OpenCV adds the pixel grid), one resize of the weight and one
        `cv2.blendLinear` at full size, all into reused arrays."""
        size = translated.shape[:2]
        flow = _upscale_flow(backward, size, out=self._array("flow", (*size, 2)))
        warped = remap_by_flow(self._previous_output, flow, out=self._array("warped", (*size, 3)))
        weight = self._array("weight", size)
        if trust.shape == size:  # flow at full size (frames ≤ flow_max_side): no resize, the same values
            np.multiply(trust, self.strength, out=weight)
        else:
            cv2.resize(trust * self.strength, size[::-1], dst=weight, interpolation=cv2.INTER_LINEAR)
        keep = np.subtract(1, weight, out=self._array("keep", size))
        cv2.blendLinear(translated, warped, keep, weight, dst=out)  # one pass: (1−w)·new + w·warped

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

    def _frame_hwc(self, frame: torch.Tensor) -> np.ndarray:
        """3×H×W float32 CPU tensor -> H×W×3 float32 array: a view when channels-last, else its planes interleaved
        by `cv2.merge` into a reused array (4-7× faster than torch's permute-and-copy)."""
        hwc = frame.permute(1, 2, 0)
        if hwc.is_contiguous():
            return hwc.numpy()
        planes = [plane.contiguous().numpy() for plane in frame]  # views for a contiguous N×3×H×W batch
        return cv2.merge(planes, dst=self._array("translated", tuple(hwc.shape)))

    def _array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 work array of `shape`, reused from frame to frame (its contents are overwritten by each user)."""
        key = (name, shape)
        if key not in self._scratch:
            self._scratch[key] = np.empty(shape, np.float32)
        return self._scratch[key]


_CHANNEL_MEAN = np.full((1, 3), 1 / 3)


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
