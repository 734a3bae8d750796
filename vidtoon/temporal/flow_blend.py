"""The `flow` temporal mode (the default for videos), on the CPU with OpenCV.

Optical flow is computed on the *input* frames; the previous
*output* is warped onto the current frame and blended with the fresh translation where the flow
is trustworthy — inside the frame and not folding onto a moving edge (a disocclusion), photometrically
consistent in the input, and not across a scene cut. Occluded and disoccluded pixels come from
the fresh translation alone, so moving edges do not ghost; every frame keeps a (1 − strength)
share of its own translation, so errors fade instead of accumulating. A scene cut (too little of
the frame trustworthy) resets the state. `none` passes translations through.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import cv2
import numpy as np

from vidtoon.cpu_threads import SizedPool, usable_cores
from vidtoon.flow import make_flow
from vidtoon.flow.warp import disoccluded, sample_positions, upscale_positions
from vidtoon.settings import DEFAULT_STRENGTH
from vidtoon.temporal.base import TEMPORAL_MODES, FlowBlendSettings, outlier_levels, photometric_ramp, trust_size

if TYPE_CHECKING:  # the tensor entry (`__call__`) imports torch itself: `blend_u8` needs none
    import torch


class FlowBlend(FlowBlendSettings):
    """Flow-guided blending of the previous output into the current translation.

    Runs frame by frame on the CPU with OpenCV: one flow per frame (t -> t−1), the trust mask at half the flow's
    resolution (`trust`); at full size only a resize of the flow and of the weight, one remap and one blend. The past output is
    kept as the uint8 frame the encoder would write (rounded half to even, as `cv2.convertScaleAbs`): its warp is
    OpenCV's fixed-point uint8 remap (~1.5× cheaper than the float one, a quarter of the memory traffic) and its values
    come back to [-1, 1] through a 256-entry table. Tensors on another device are copied over and the output copied
    back. Work arrays are kept per frame size and reused (a frame allocates only its output); scripts/bench_temporal.py
    measures it against the implementations before these changes.

    On `threads` ≥ 2 a small pool runs a batch's downscales and trust masks side by side and each frame's full-size
    warp-and-blend in bands of rows (a band per worker; every pixel is computed as on one thread, so the output is
    the same bit for bit); the flow backend runs a batch's pairs side by side on its own workers (DIS: `DISFlow`).

    Args:
        flow: the flow backend (computed on the input frames).
        strength: weight of the warped previous output where the flow is trustworthy (0..1).
        flow_max_side: the flow is estimated on frames downscaled to this longer side, the trust mask at half that
            (`trust_size`), both then scaled up; only the warp and the blend run at full size.
        photometric_tolerance: mean |input_t − warped input_{t−1}| of low-passed colours (in [-1, 1]
            units) at which trust reaches zero (it ramps down linearly from no difference).
        cut_fraction: a frame with less than this fraction of trustworthy pixels starts a new shot.
        feather: side (px, at the trust mask's resolution: half the flow's) of the trust mask's box filters: its
            edges (erode and blur), and the colour low-pass (half of it, at least 3).
        contraction: the flow's divergence at or below −contraction marks a disocclusion (`disoccluded`).
            Defaults tuned on the DVP pairs (see scripts/bench_temporal.py).
        threads: workers of the stage's pool; None = the usable cores, at most OpenCV's thread count and 4
            (`cv2.setNumThreads(1)` gives the one-thread path), read at each call.
    """

    _pool: SizedPool | None = None  # made at the first call with ≥ 2 threads, kept across resets

    def reset(self) -> None:
        self._previous_small_u8: np.ndarray | None = None  # h×w×3 uint8 RGB input at flow resolution (grey levels)
        self._previous_output: np.ndarray | None = None  # H×W×3 uint8: the last output rounded to grey levels
        self._scratch: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}  # reused work arrays, by name and shape
        self._parity = 0  # which of the two past buffers ("past0", "past1") the next frame writes

    def __call__(self, source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
        """source, translated: N×3×H×W in [-1, 1] -> N×3×H×W float32 on translated's device (channels-last), a new
        tensor (the stage keeps its own uint8 copy of the last frame)."""
        import torch

        if source.shape != translated.shape:
            raise ValueError(f"source {tuple(source.shape)} and translated {tuple(translated.shape)} differ in shape")
        count, height, width = translated.shape[0], *translated.shape[2:]
        if self._previous_output is not None and self._previous_output.shape != (height, width, 3):
            self.reset()
        pool = self._workers()
        source_hwc = _frames_hwc(source)  # a view for channels-last CPU frames (restyle's decoded frames)
        translated_cpu = translated.detach().to("cpu", torch.float32)
        smalls = _map(pool, self._downscale, source_hwc)
        motion = self._motion([cv2.convertScaleAbs(small, alpha=127.5, beta=127.5) for small in smalls], pool)
        output = np.empty((count, height, width, 3), np.float32)
        for i, past in enumerate(motion):
            self._step(_frame_rows(translated_cpu[i]), output[i], pool, *past)
        return torch.from_numpy(output).permute(0, 3, 1, 2).to(translated.device)

    def blend_u8(self, sources_u8: Sequence[np.ndarray], translated_u8: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The stage on uint8 frames, no tensors: N consecutive source frames and their translations, each H×W×3 uint8
        RGB (as decoded, as the encoder takes them) -> N new H×W×3 uint8 frames to encode.

        The same flow, trust and blend as `__call__` (the two share the past: calls may alternate), computed in 8 bits
        where `__call__` works in float: the sources are shrunk to flow resolution in uint8, and the blend
        (1 − w)·translated + w·warped past is `cv2.blendLinear` on uint8, rounded once (half to even) — within one grey
        level of `__call__` on the same frames' [-1, 1] values. A frame that starts a shot (or the very first) is
        returned as its translation itself, not a copy; the stage keeps the last frame it returned as its past, so
        callers must not write into the frames they get."""
        if len(sources_u8) != len(translated_u8) or any(s.shape != t.shape for s, t in zip(sources_u8, translated_u8)):
            raise ValueError("blend_u8: sources and translations differ in number or shape")
        if not len(translated_u8):
            return []
        height, width = translated_u8[0].shape[:2]
        if self._previous_output is not None and self._previous_output.shape != (height, width, 3):
            self.reset()
        pool = self._workers()
        outputs = []
        for translated, past in zip(translated_u8, self._motion(_map(pool, self._downscale, sources_u8), pool), strict=True):
            if past and self._continues(past[1]):
                out = np.empty((height, width, 3), np.uint8)
                self._blend(translated, *past, out, None, pool)
            else:
                out = translated
            self._previous_output = out
            outputs.append(out)
        return outputs

    def _motion(
        self, smalls_u8: list[np.ndarray], pool: ThreadPoolExecutor | None
    ) -> list[tuple[np.ndarray, np.ndarray] | tuple]:
        """Per frame of a batch (its inputs at flow resolution, uint8): (its flow t -> t−1, its trust mask), or () for
        the very first frame of a shot-less stage (no past). Keeps the last small input as the past."""
        first = 0 if self._previous_small_u8 is not None else 1  # the very first frame has no past
        previous_u8 = ([self._previous_small_u8] if first == 0 else []) + smalls_u8[:-1]
        # one flow per frame, t -> t−1, every pair of the batch in one call (DIS side by side, RAFT batched)
        backward = self.flow.estimate(smalls_u8[first:], previous_u8) if previous_u8 else []
        trusts = _map(pool, self.trust, smalls_u8[first:], previous_u8, backward)
        self._previous_small_u8 = smalls_u8[-1]
        return [()] * first + list(zip(backward, trusts, strict=True))

    def _continues(self, trust: np.ndarray) -> bool:
        """Whether a frame with this trust mask continues the shot (else it is a cut: counted, nothing blended)."""
        if trust.mean() < self.cut_fraction:
            self.cuts += 1
            return False
        return True

    def _step(
        self,
        translated: np.ndarray | tuple[np.ndarray, ...],
        out: np.ndarray,
        pool: ThreadPoolExecutor | None,
        backward: np.ndarray | None = None,
        trust: np.ndarray | None = None,
    ) -> None:
        """One frame: its translation (H×W×3 float32 in [-1, 1], or its three H×W planes), its flow to the previous
        frame and its trust mask (none for the first); the result goes into `out`, its grey levels into the stage's
        other past buffer, which becomes the past."""
        past = self._array(f"past{self._parity}", out.shape, np.uint8)  # the buffer the current past is not in
        blended = backward is not None and self._continues(trust)  # else a new shot (or the first frame): no past
        if blended:
            self._blend(translated, backward, trust, out, past, pool)
        else:
            if isinstance(translated, tuple):
                cv2.merge(translated, dst=out)
            else:
                out[...] = translated
            cv2.convertScaleAbs(out, alpha=127.5, beta=127.5, dst=past)  # x·127.5 + 127.5, rounded half to even
        self._previous_output = past
        self._parity ^= 1

    def _blend(
        self,
        translated: np.ndarray | tuple[np.ndarray, ...],
        backward: np.ndarray,
        trust: np.ndarray,
        out: np.ndarray,
        past: np.ndarray | None,
        pool: ThreadPoolExecutor | None,
    ) -> None:
        """out = (1 − w)·translated + w·(previous output warped along `backward`), w = strength × trust scaled up,
        and `past` = out's grey levels (None: `out` and `translated` are uint8 already, `blend_u8`): one resize of the
        flow and one of the weight at full size, then the rows in bands, one per worker (`_blend_rows`)."""
        height, width = out.shape[:2]
        positions = self._array("positions", (height, width, 2))
        if backward.shape[:2] == (height, width):  # flow at full size (frames ≤ flow_max_side)
            sample_positions(backward, out=positions)
        else:
            upscale_positions(backward, positions)
        weight = self._array("weight", (height, width))
        if trust.shape == (height, width):  # a frame of at most 8 px a side: no resize, the same values
            np.multiply(trust, self.strength, out=weight)
        else:
            cv2.resize(trust * self.strength, (width, height), dst=weight, interpolation=cv2.INTER_LINEAR)
        bands = _bands(height, 1 if pool is None else self._pool.size)
        if len(bands) == 1:
            self._blend_rows(0, 0, height, translated, positions, weight, out, past)
            return
        jobs = [
            pool.submit(self._blend_rows, n, top, bottom, translated, positions, weight, out, past)
            for n, (top, bottom) in enumerate(bands)
        ]
        for job in jobs:
            job.result()  # waits, and raises what a worker raised

    def _blend_rows(
        self,
        worker: int,
        top: int,
        bottom: int,
        translated: np.ndarray | tuple[np.ndarray, ...],
        positions: np.ndarray,
        weight: np.ndarray,
        out: np.ndarray,
        past: np.ndarray | None,
    ) -> None:
        """`_blend`'s rows top..bottom, in strips of `_STRIP_ROWS` rows that stay in the core's cache: the uint8 remap
        of the past at `positions` (H×W×2, where each pixel's flow lands), its levels back to [-1, 1] by table, the interleave of a planar
        translation, `cv2.blendLinear` and the rounding to grey levels (uint8 frames: the remap and `cv2.blendLinear`
        on uint8 alone). Each full-size array is read from memory once instead of once per operation; `worker` picks
        the strip arrays (one set per worker)."""
        width, rows = out.shape[1], _STRIP_ROWS
        warped_u8 = self._array(f"warped_u8{worker}", (rows, width, 3), np.uint8)
        keep = self._array(f"keep{worker}", (rows, width))
        cells, fractions = (
            self._array(f"cells{worker}", (rows, width, 2), np.int16),
            self._array(f"fractions{worker}", (rows, width), np.uint16),
        )
        for start in range(top, bottom, rows):
            strip, n = slice(start, min(start + rows, bottom)), min(rows, bottom - start)
            cv2.convertMaps(positions[strip], None, cv2.CV_16SC2, dstmap1=cells[:n], dstmap2=fractions[:n])
            cv2.remap(
                self._previous_output,
                cells[:n],
                fractions[:n],
                cv2.INTER_LINEAR,
                dst=warped_u8[:n],
                borderMode=cv2.BORDER_REPLICATE,
            )
            np.subtract(1, weight[strip], out=keep[:n])
            if past is None:  # uint8 in, uint8 out: (1 − w)·new + w·warped, rounded once
                cv2.blendLinear(translated[strip], warped_u8[:n], keep[:n], weight[strip], dst=out[strip])
                continue
            warped, merged = self._array(f"warped{worker}", (rows, width, 3)), self._array(f"merged{worker}", (rows, width, 3))
            cv2.LUT(warped_u8[:n], _UNIT_LUT, dst=warped[:n])  # level v -> v / 127.5 − 1
            fresh = (
                cv2.merge([plane[strip] for plane in translated], dst=merged[:n])
                if isinstance(translated, tuple)
                else translated[strip]
            )
            cv2.blendLinear(fresh, warped[:n], keep[:n], weight[strip], dst=out[strip])  # one pass: (1−w)·new + w·warped
            cv2.convertScaleAbs(out[strip], alpha=127.5, beta=127.5, dst=past[strip])

    def trust(self, source_u8: np.ndarray, previous_u8: np.ndarray, backward: np.ndarray) -> np.ndarray:
        """Soft trust in [0, 1], float32 at half the flow's resolution (`trust_size`): where the flow is trustworthy
        and the input agrees with its warp.

        source_u8, previous_u8: the inputs t and t−1 at flow resolution as h×w×3 uint8 grey levels (what the flow is
        estimated on); backward (t -> t-1): h×w×2 float32. At flow resolution: the past input warped along the flow
        (uint8 remap) and the outlier test, zero wherever one pixel's own colour is off by `outlier_threshold` or more
        in a channel (the uncovered background behind a moving edge: this sharp test keeps ghosts off moving edges).
        Then at half that, on area means of the inputs, the warped past, the flow (its offsets scaled with the sides)
        and the outlier test (a trust pixel is calm only if all it covers is): occlusion, pixels whose flow leaves the
        frame or folds onto others (`disoccluded`: what t uncovers behind a moving edge), the rest shrunk by the feather
        radius (min-pool) and softened, so nothing is blended right at an occlusion edge; photometric, in grey levels
        (integers until the box sums, so a still shot matches exactly), the box-low-passed difference input_t − warped
        input_{t−1} (fine texture and noise average out), its mean magnitude over RGB ramping trust from 1 at zero down
        to 0 at `photometric_tolerance` (in [-1, 1] units: 127.5 levels each).
        """
        (flow_h, flow_w), (height, width) = backward.shape[:2], trust_size(*backward.shape[:2])
        warped = cv2.remap(previous_u8, sample_positions(backward), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        calm = cv2.inRange(cv2.absdiff(source_u8, warped), (0,) * 3, (outlier_levels(self.outlier_threshold),) * 3)
        if (height, width) != (flow_h, flow_w):
            source_u8, warped, calm = (
                cv2.resize(x, (width, height), interpolation=cv2.INTER_AREA) for x in (source_u8, warped, calm)
            )
            backward = cv2.resize(backward, (width, height), interpolation=cv2.INTER_AREA)
            cv2.multiply(backward, (width / flow_w, height / flow_h, 0, 0), dst=backward)
        box = (self.feather, self.feather)
        inside = cv2.inRange(sample_positions(backward), (0, 0), (width - 1, height - 1)) > 0  # both coordinates, one pass
        folded = disoccluded(backward, contraction=self.contraction)
        visible = np.greater(inside, folded).view(np.uint8)  # inside and not folded (True > False): 0/1
        occlusion = cv2.blur(cv2.erode(visible, np.ones(box, np.uint8)).astype(np.float32), box)
        low = max(3, self.feather // 2 | 1)
        difference = cv2.subtract(source_u8, warped, dtype=cv2.CV_16S)  # levels, exact
        sums = cv2.boxFilter(difference, cv2.CV_32F, (low, low), normalize=False)  # whole numbers: exact in float32
        # 1 − mean over RGB of |box mean| / tolerance, in one affine transform; ≤ 1, clipped at 0 below
        photometric = cv2.transform(np.abs(sums, out=sums), np.array([photometric_ramp(low * low, self.photometric_tolerance)]))
        np.maximum(photometric, 0, out=photometric)
        photometric *= calm == 255  # no outlier under the pixel (area means of 0 / 255 stay 255 only where all are)
        return cv2.multiply(occlusion, photometric, dst=occlusion)

    def _workers(self) -> ThreadPoolExecutor | None:
        """The stage's pool for this call (None: one thread), rebuilt when the thread count changed."""
        threads = self.threads if self.threads is not None else min(4, usable_cores(), max(1, cv2.getNumThreads()))
        if threads < 2:
            return None  # no pool made
        if self._pool is None:
            self._pool = SizedPool("vidtoon-temporal")
        return self._pool.sized(threads)

    def _downscale(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        scale = min(1.0, self.flow_max_side / max(height, width))
        if scale >= 1.0:
            return frame  # read only, and not kept past the call (the past is its uint8 levels)
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    def _array(self, name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
        """A work array of `shape` and `dtype`, reused from frame to frame (its contents are overwritten by each user)."""
        key = (name, shape)
        if key not in self._scratch:
            self._scratch[key] = np.empty(shape, dtype)
        return self._scratch[key]


def _map(pool: ThreadPoolExecutor | None, function, *arguments) -> list:
    """[function(*a) for a in zip(*arguments)], side by side on `pool` when there is one and more than one call."""
    calls = list(zip(*arguments))
    if pool is None or len(calls) < 2:
        return [function(*call) for call in calls]
    return list(pool.map(function, *arguments))


def _bands(height: int, workers: int) -> list[tuple[int, int]]:
    """(top, bottom) rows of up to `workers` bands of whole strips (`_STRIP_ROWS`), as even as the strips allow."""
    strips = -(-height // _STRIP_ROWS)
    count = max(1, min(workers, strips))
    edges = [min(height, round(strips * n / count) * _STRIP_ROWS) for n in range(count + 1)]
    return [(top, bottom) for top, bottom in zip(edges, edges[1:]) if bottom > top]


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
    import torch

    return x.detach().to("cpu", torch.float32).permute(0, 2, 3, 1).contiguous().numpy()


@TEMPORAL_MODES.register("flow")
def build_flow_blend(
    *,
    strength: float = DEFAULT_STRENGTH,
    flow: str = "dis",
    flow_preset: str = "fast",
    flow_weights: str | None = None,
    flow_size: int | None = None,
    device=None,
    **_settings,
) -> FlowBlend:
    """`--consistency flow`: the flow backend `flow` (computed on the input frames) and a `FlowBlend` — on a GPU its torch
    twin `TorchFlowBlend` (same trust mask, warp and blend, within 1 level), so frames stay on the device."""
    backend = make_flow(flow, preset=flow_preset, weights=flow_weights, device=device)
    sizing = {"flow_max_side": flow_size} if flow_size is not None else {}
    if device is not None and str(device).split(":")[0] == "cuda":  # a torch.device or its name
        from vidtoon.temporal.flow_blend_torch import TorchFlowBlend

        return TorchFlowBlend(backend, strength=strength, **sizing)
    return FlowBlend(backend, strength=strength, **sizing)
