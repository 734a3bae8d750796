"""Ground-truth optical flow files and the end-point error, for measuring backends.

Both formats store FORWARD flow from frame 1 to frame 2: frame1(p) ≈ frame2(p + gt(p)). In
vidtoon's convention (`vidtoon.flow.warp`) that is the flow from target = frame 1 to source =
frame 2, so a backend's estimate to compare with it is `backend(target=frame1, source=frame2)`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidtoon.errors import InputError

FLO_MAGIC = 202021.25
FLO_UNKNOWN = 1e9  # Middlebury marks pixels without ground truth with values above this (1e10)
_FLO_HEADER = 12  # float32 magic, int32 width, int32 height


def read_flo(path: str | Path) -> np.ndarray:
    """A Middlebury `.flo` file -> H×W×2 float32 flow (u, v) in pixels.

    Layout: float32 magic 202021.25, int32 width, int32 height, then H*W*2 float32 (u, v),
    row-major, little-endian. A wrong magic or a wrong size raises InputError. Pixels without
    ground truth hold huge values (1e10): mask them with `flo_valid`.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read flow file ({error.strerror or error})", path=path) from error
    if len(data) < _FLO_HEADER:
        raise InputError(f"not a .flo file: {len(data)} bytes, shorter than its 12-byte header", path=path)
    magic = float(np.frombuffer(data, "<f4", 1)[0])
    if magic != FLO_MAGIC:
        raise InputError(f"not a .flo file: magic {magic!r}, expected {FLO_MAGIC}", path=path)
    width, height = (int(v) for v in np.frombuffer(data, "<i4", 2, offset=4))
    expected = _FLO_HEADER + width * height * 2 * 4
    if width <= 0 or height <= 0 or len(data) != expected:
        raise InputError(f"damaged .flo file: {width}x{height} needs {expected} bytes, the file has {len(data)}", path=path)
    return np.frombuffer(data, "<f4", width * height * 2, offset=_FLO_HEADER).reshape(height, width, 2).astype(np.float32)


def flo_valid(flow: np.ndarray) -> np.ndarray:
    """Where a `.flo` ground truth is known: H×W×2 flow -> H×W bool (Middlebury stores 1e10 where it is not)."""
    return np.all(np.isfinite(flow) & (np.abs(flow) < FLO_UNKNOWN), axis=-1)


def read_kitti_flow(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A KITTI 16-bit flow PNG -> (H×W×2 float32 flow (u, v) in pixels, H×W bool valid).

    Channels (RGB): u = (R - 2**15) / 64, v = (G - 2**15) / 64, valid where B > 0. Flow where
    B == 0 is meaningless (set to 0 here): use `valid` to exclude it.
    """
    path = Path(path)
    bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if bgr is None:
        raise InputError("cannot read as an image (missing or not a PNG)", path=path)
    if bgr.dtype != np.uint16 or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise InputError(f"not a KITTI flow PNG: expected 16-bit 3-channel, got {bgr.dtype} {bgr.shape}", path=path)
    valid = bgr[..., 0] > 0
    flow = (np.stack((bgr[..., 2], bgr[..., 1]), axis=-1).astype(np.float32) - 2**15) / 64
    flow[~valid] = 0
    return flow, valid


def endpoint_error(flow: np.ndarray, gt: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean Euclidean distance |flow - gt| over the valid pixels, in pixels.

    `flow` and `gt` are H×W×2 (u, v); `valid` is an optional H×W bool mask (all pixels when None).
    Torch tensors from a backend are N×2×H×W: convert with `flow[0].permute(1, 2, 0).cpu().numpy()`.
    """
    flow, gt = np.asarray(flow, np.float64), np.asarray(gt, np.float64)
    if flow.shape != gt.shape or flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow {flow.shape} and gt {gt.shape} must both be H×W×2")
    error = np.sqrt(((flow - gt) ** 2).sum(-1))
    if valid is not None:
        valid = np.asarray(valid, bool)
        if valid.shape != error.shape:
            raise ValueError(f"valid {valid.shape} must be H×W like the flow {error.shape[:2]}")
        if not valid.any():
            raise ValueError("no valid pixels to measure the end-point error on")
        error = error[valid]
    return float(error.mean())
