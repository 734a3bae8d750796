"""The first-order motion model (Siarohin et al., NeurIPS 2019) for `vidtoon animate --method fomm`: the animator
(face crop, relative motion, paste back). The networks are in `vidtoon.animate.fomm_model`, the safe checkpoint
loader in `vidtoon.animate.fomm_checkpoint`.

Images are (B, 3, H, W) float in [0, 1]; keypoints are (B, K, 2) (x, y) in [-1, 1] with (B, K, 2, 2) Jacobians.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor

from vidtoon.animate.fomm_checkpoint import load_fomm
from vidtoon.animate.warp import blend, border_ramp
from vidtoon.device import resolve_device
from vidtoon.errors import InputError
from vidtoon.faces import detect_face_box, face_detector, square_crop

MODEL_SIZE = 256
"""The published checkpoints were trained on 256×256 crops."""


# -- relative motion ------------------------------------------------------------------------------------


def hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of (K, 2) points."""
    return float(cv2.contourArea(cv2.convexHull(np.asarray(points, np.float32).reshape(-1, 1, 2))))


def relative_keypoints(
    source: dict[str, Tensor], driving: dict[str, Tensor], driving_initial: dict[str, Tensor], *, adapt_scale: bool = True
) -> dict[str, Tensor]:
    """FOMM's relative motion: the source's keypoints moved as the driver's moved since its first frame.

    value = source + s · (driving − driving_initial), s = sqrt(area(source) / area(driving_initial)) of the
    keypoints' convex hulls when `adapt_scale` (else 1); jacobian = (J_drv · J_drv0⁻¹) · J_src.

    Args:
        source, driving, driving_initial: {"value": (B, K, 2), optional "jacobian": (B, K, 2, 2)}.
    """
    scale = 1.0
    if adapt_scale:
        initial_area = hull_area(driving_initial["value"][0].detach().cpu().numpy())
        if initial_area > 0:
            scale = float(np.sqrt(hull_area(source["value"][0].detach().cpu().numpy()) / initial_area))
    out = {"value": source["value"] + scale * (driving["value"] - driving_initial["value"])}
    if "jacobian" in driving and "jacobian" in source:
        change = driving["jacobian"] @ torch.inverse(driving_initial["jacobian"])
        out["jacobian"] = change @ source["jacobian"]
    return out


# -- the animator --------------------------------------------------------------------------------------------------


class FommAnimator:
    """`--method fomm`: the source (or a square crop around its face) at 256×256 driven by FOMM, pasted back.

    Driver frames are cropped with the square found on the first driver frame with a face (a fixed crop,
    as FOMM expects) and resized to 256×256. Frames where no face is detected hold the last good pose.
    """

    def __init__(
        self,
        source_rgb: np.ndarray,
        source_path: Path,
        checkpoint: str | Path,
        *,
        relative: bool = True,
        crop: bool = True,
        device: str = "auto",
    ):
        self.device = resolve_device(device)
        self.kp_detector, self.generator = load_fomm(checkpoint, device=self.device)
        self.source = source_rgb
        self.relative = relative
        self.faces = face_detector()
        height, width = source_rgb.shape[:2]
        if crop:
            face = detect_face_box(source_rgb, self.faces)
            if face is None:
                raise InputError(
                    "no face found in the source image",
                    path=source_path,
                    hint="use a picture with one clearly visible, frontal face, or pass --no-crop",
                )
            x0, y0, side = square_crop(face, (width, height))
            self.box = (x0, y0, side, side)
        else:
            self.box = (0, 0, width, height)
        x0, y0, w, h = self.box
        self.patch = np.ascontiguousarray(source_rgb[y0 : y0 + h, x0 : x0 + w])
        self.ramp = border_ramp((w, h), width=0.08 * min(w, h)) if crop else None
        with torch.inference_mode():
            self.source_tensor = self._tensor(self.patch)
            self.kp_source = self.kp_detector(self.source_tensor)
        self.driver_crop: tuple[int, int, int] | None = None
        self.kp_initial: dict[str, Tensor] | None = None
        self.last: np.ndarray | None = None
        self.faces_found = 0

    def _tensor(self, rgb: np.ndarray) -> Tensor:
        resized = cv2.resize(rgb, (MODEL_SIZE, MODEL_SIZE), interpolation=cv2.INTER_AREA)
        return torch.from_numpy(resized).to(self.device).permute(2, 0, 1)[None].float().div_(255.0)

    @torch.inference_mode()
    def __call__(self, driver_rgb: np.ndarray, time: float) -> np.ndarray:
        face = detect_face_box(driver_rgb, self.faces)
        if face is None:
            return self.last if self.last is not None else self.source.copy()
        self.faces_found += 1
        if self.driver_crop is None:
            self.driver_crop = square_crop(face, (driver_rgb.shape[1], driver_rgb.shape[0]))
        x0, y0, side = self.driver_crop
        kp_driving = self.kp_detector(self._tensor(driver_rgb[y0 : y0 + side, x0 : x0 + side]))
        if self.kp_initial is None:
            self.kp_initial = kp_driving
        kp = relative_keypoints(self.kp_source, kp_driving, self.kp_initial) if self.relative else kp_driving
        prediction = self.generator(self.source_tensor, kp, self.kp_source)["prediction"]
        rgb = prediction[0].mul(255).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        bx, by, w, h = self.box
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC if w > MODEL_SIZE else cv2.INTER_AREA)
        out = self.source.copy()
        out[by : by + h, bx : bx + w] = blend(rgb, self.patch, self.ramp) if self.ramp is not None else rgb
        self.last = out
        return out
