"""The first-order motion model (Siarohin et al., NeurIPS 2019) for `vidtoon animate --method fomm`.

The keypoint detector, dense motion network and occlusion-aware generator as `nn.Module`s whose
parameter names follow the published checkpoints (`vox-cpk.pth.tar`: a dict with `generator` and
`kp_detector` state dicts), so those load as they are, safely (`torch.load(weights_only=True)`, nothing
from the file is executed). The architecture's sizes are read from the state dict's shapes.

Images are (B, 3, H, W) float in [0, 1]; keypoints are (B, K, 2) (x, y) in [-1, 1] with (B, K, 2, 2)
Jacobians; dense motion fields are (B, H, W, 2) sampling grids in [-1, 1] (for `grid_sample`).
"""

from __future__ import annotations

import logging
import pickle
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidtoon.animate.warp import blend, border_ramp
from vidtoon.device import resolve_device
from vidtoon.errors import InputError
from vidtoon.faces import detect_face_box, face_detector, square_crop

log = logging.getLogger(__name__)

MODEL_SIZE = 256
"""The published checkpoints were trained on 256×256 crops."""


# -- pure functions ------------------------------------------------------------------------------------

def coordinate_grid(height: int, width: int, *, device=None, dtype=torch.float32) -> Tensor:
    """(H, W, 2) pixel-centre coordinates (x, y) spanning [-1, 1] corner to corner (align_corners=True)."""
    x = torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype)
    y = torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype)
    return torch.stack(torch.meshgrid(x, y, indexing="xy"), dim=-1)


def keypoint_gaussians(keypoints: Tensor, height: int, width: int, variance: float) -> Tensor:
    """exp(−|z − kp|² / 2σ²) for every keypoint: (B, K, 2) in [-1, 1] → (B, K, H, W)."""
    grid = coordinate_grid(height, width, device=keypoints.device, dtype=keypoints.dtype)
    diff = grid[None, None] - keypoints[:, :, None, None, :]
    return torch.exp(-0.5 * diff.pow(2).sum(-1) / variance)


def heatmap_to_keypoints(heatmap: Tensor) -> Tensor:
    """Expected coordinates of (B, K, H, W) probability maps (each sums to 1): (B, K, 2) in [-1, 1]."""
    grid = coordinate_grid(*heatmap.shape[2:], device=heatmap.device, dtype=heatmap.dtype)
    return (heatmap[..., None] * grid).sum(dim=(2, 3))


def hull_area(points: np.ndarray) -> float:
    """Area of the convex hull of (K, 2) points."""
    return float(cv2.contourArea(cv2.convexHull(np.asarray(points, np.float32).reshape(-1, 1, 2))))


def relative_keypoints(source: dict[str, Tensor], driving: dict[str, Tensor], driving_initial: dict[str, Tensor], *,
                       adapt_scale: bool = True) -> dict[str, Tensor]:
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


# -- building blocks (parameter names as in the published checkpoints) -----------------------------------

class ConvNorm(nn.Module):
    """conv → batch norm → ReLU, then ×0.5 average pooling (`down`), ×2 nearest upsampling first (`up`), or neither."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, *, mode: str = "same"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        self.norm = nn.BatchNorm2d(cout, affine=True)
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "up":
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.relu(self.norm(self.conv(x)))
        return F.avg_pool2d(x, 2) if self.mode == "down" else x


class ResBlock(nn.Module):
    """Pre-activation residual block: x + conv2(relu(norm2(conv1(relu(norm1(x))))))."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm1 = nn.BatchNorm2d(channels, affine=True)
        self.norm2 = nn.BatchNorm2d(channels, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.norm2(self.conv1(F.relu(self.norm1(x))))))


def _width(block_expansion: int, max_features: int, level: int) -> int:
    return min(max_features, block_expansion * 2 ** level)


class _Encoder(nn.Module):
    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        self.down_blocks = nn.ModuleList(
            ConvNorm(in_features if i == 0 else _width(block_expansion, max_features, i),
                     _width(block_expansion, max_features, i + 1), mode="down")
            for i in range(num_blocks))


class _Decoder(nn.Module):
    def __init__(self, block_expansion: int, num_blocks: int, max_features: int):
        super().__init__()
        self.up_blocks = nn.ModuleList(
            ConvNorm((1 if i == num_blocks - 1 else 2) * _width(block_expansion, max_features, i + 1),
                     _width(block_expansion, max_features, i), mode="up")
            for i in reversed(range(num_blocks)))


class Hourglass(nn.Module):
    """U-Net: `num_blocks` halvings, then doublings, each concatenated with the encoder's feature at its size.

    (B, in_features, H, W) → (B, block_expansion + in_features, H, W); H and W divisible by 2**num_blocks.
    """

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        self.encoder = _Encoder(block_expansion, in_features, num_blocks, max_features)
        self.decoder = _Decoder(block_expansion, num_blocks, max_features)
        self.out_filters = block_expansion + in_features

    def forward(self, x: Tensor) -> Tensor:
        skips = [x]
        for block in self.encoder.down_blocks:
            skips.append(block(skips[-1]))
        out = skips.pop()
        for block in self.decoder.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return out


class AntiAliasDown(nn.Module):
    """Gaussian blur then nearest resampling by `scale` (< 1): band-limited downscaling, per channel."""

    def __init__(self, channels: int, scale: float):
        super().__init__()
        sigma = (1 / scale - 1) / 2
        size = 2 * round(sigma * 4) + 1
        self.pad = size // 2
        axis = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
        g = torch.exp(-axis ** 2 / (2 * sigma ** 2))
        kernel = torch.outer(g, g)
        self.register_buffer("weight", (kernel / kernel.sum()).expand(channels, 1, size, size).contiguous())
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        x = F.conv2d(F.pad(x, (self.pad,) * 4), self.weight, groups=x.shape[1])
        return F.interpolate(x, scale_factor=(self.scale, self.scale), mode="nearest")


def _downscaler(channels: int, scale: float) -> AntiAliasDown | None:
    return AntiAliasDown(channels, scale) if scale != 1 else None


# -- the three networks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FommConfig:
    """The architecture's sizes (defaults: the published `vox-256` model)."""

    num_kp: int = 10
    num_channels: int = 3
    estimate_jacobian: bool = True
    kp_block_expansion: int = 32
    kp_max_features: int = 1024
    kp_num_blocks: int = 5
    kp_scale: float = 0.25
    kp_pad: int = 0
    temperature: float = 0.1
    block_expansion: int = 64
    max_features: int = 512
    num_down_blocks: int = 2
    num_bottleneck_blocks: int = 6
    estimate_occlusion_map: bool = True
    dm_block_expansion: int = 64
    dm_max_features: int = 1024
    dm_num_blocks: int = 5
    dm_scale: float = 0.25
    kp_variance: float = 0.01


class KeypointDetector(nn.Module):
    """Image (B, C, H, W) in [0, 1] → {"value": (B, K, 2) in [-1, 1], "jacobian": (B, K, 2, 2)}."""

    def __init__(self, config: FommConfig):
        super().__init__()
        c = config
        self.predictor = Hourglass(c.kp_block_expansion, c.num_channels, c.kp_num_blocks, c.kp_max_features)
        self.kp = nn.Conv2d(self.predictor.out_filters, c.num_kp, 7, padding=c.kp_pad)
        self.jacobian = nn.Conv2d(self.predictor.out_filters, 4 * c.num_kp, 7, padding=c.kp_pad) if c.estimate_jacobian else None
        if self.jacobian is not None:  # start at the identity, as trained
            nn.init.zeros_(self.jacobian.weight)
            self.jacobian.bias.data.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0] * c.num_kp))
        self.down = _downscaler(c.num_channels, c.kp_scale)
        self.temperature = c.temperature

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        x = self.down(image) if self.down is not None else image
        features = self.predictor(x)
        logits = self.kp(features)
        b, k, h, w = logits.shape
        heatmap = F.softmax(logits.view(b, k, -1) / self.temperature, dim=2).view(b, k, h, w)
        out = {"value": heatmap_to_keypoints(heatmap)}
        if self.jacobian is not None:
            maps = self.jacobian(features).view(b, k, 4, h, w)
            out["jacobian"] = (heatmap[:, :, None] * maps).sum(dim=(3, 4)).view(b, k, 2, 2)
        return out


class DenseMotionNetwork(nn.Module):
    """Sparse keypoint motions → a dense motion field (B, h, w, 2) and an occlusion map (B, 1, h, w) at `dm_scale`."""

    def __init__(self, config: FommConfig):
        super().__init__()
        c = config
        self.hourglass = Hourglass(c.dm_block_expansion, (c.num_kp + 1) * (c.num_channels + 1), c.dm_num_blocks, c.dm_max_features)
        self.mask = nn.Conv2d(self.hourglass.out_filters, c.num_kp + 1, 7, padding=3)
        self.occlusion = nn.Conv2d(self.hourglass.out_filters, 1, 7, padding=3) if c.estimate_occlusion_map else None
        self.down = _downscaler(c.num_channels, c.dm_scale)
        self.num_kp, self.kp_variance = c.num_kp, c.kp_variance

    def sparse_motions(self, h: int, w: int, driving: dict[str, Tensor], source: dict[str, Tensor]) -> Tensor:
        """(B, K+1, h, w, 2): for each keypoint, where each driving-frame point comes from in the source
        (first-order Taylor expansion about the keypoint); index 0 is the identity (background)."""
        grid = coordinate_grid(h, w, device=source["value"].device, dtype=source["value"].dtype)
        b = source["value"].shape[0]
        rel = grid[None, None] - driving["value"][:, :, None, None, :]  # (B, K, h, w, 2)
        if "jacobian" in driving:
            jac = source["jacobian"] @ torch.inverse(driving["jacobian"])  # (B, K, 2, 2)
            rel = torch.einsum("bkij,bkhwj->bkhwi", jac, rel)
        motions = rel + source["value"][:, :, None, None, :]
        return torch.cat([grid[None, None].expand(b, 1, h, w, 2), motions], dim=1)

    def forward(self, source_image: Tensor, driving: dict[str, Tensor], source: dict[str, Tensor]) -> dict[str, Tensor]:
        image = self.down(source_image) if self.down is not None else source_image
        b, c, h, w = image.shape
        k1 = self.num_kp + 1
        heat = keypoint_gaussians(driving["value"], h, w, self.kp_variance) - keypoint_gaussians(source["value"], h, w, self.kp_variance)
        heat = torch.cat([heat.new_zeros(b, 1, h, w), heat], dim=1)[:, :, None]  # (B, K+1, 1, h, w)
        motions = self.sparse_motions(h, w, driving, source)
        deformed = F.grid_sample(image[:, None].expand(b, k1, c, h, w).reshape(b * k1, c, h, w),
                                 motions.reshape(b * k1, h, w, 2), align_corners=True).view(b, k1, c, h, w)
        prediction = self.hourglass(torch.cat([heat, deformed], dim=2).view(b, -1, h, w))
        mask = F.softmax(self.mask(prediction), dim=1)  # (B, K+1, h, w)
        out = {"deformation": (motions * mask[..., None]).sum(dim=1), "mask": mask}
        if self.occlusion is not None:
            out["occlusion_map"] = torch.sigmoid(self.occlusion(prediction))
        return out


class OcclusionAwareGenerator(nn.Module):
    """Source image + source/driving keypoints → the source in the driving pose: {"prediction": (B, C, H, W) in [0, 1], ...}."""

    def __init__(self, config: FommConfig):
        super().__init__()
        c = config
        self.dense_motion_network = DenseMotionNetwork(c)
        self.first = ConvNorm(c.num_channels, c.block_expansion, 7)
        self.down_blocks = nn.ModuleList(
            ConvNorm(_width(c.block_expansion, c.max_features, i), _width(c.block_expansion, c.max_features, i + 1), mode="down")
            for i in range(c.num_down_blocks))
        self.up_blocks = nn.ModuleList(
            ConvNorm(_width(c.block_expansion, c.max_features, c.num_down_blocks - i),
                     _width(c.block_expansion, c.max_features, c.num_down_blocks - i - 1), mode="up")
            for i in range(c.num_down_blocks))
        width = _width(c.block_expansion, c.max_features, c.num_down_blocks)
        self.bottleneck = nn.Sequential()
        for i in range(c.num_bottleneck_blocks):
            self.bottleneck.add_module(f"r{i}", ResBlock(width))
        self.final = nn.Conv2d(c.block_expansion, c.num_channels, 7, padding=3)

    @staticmethod
    def deform(x: Tensor, deformation: Tensor) -> Tensor:
        """Sample (B, C, H, W) features along a (B, h, w, 2) field, resized to H×W first."""
        if deformation.shape[1:3] != x.shape[2:]:
            deformation = F.interpolate(deformation.permute(0, 3, 1, 2), size=x.shape[2:], mode="bilinear",
                                        align_corners=False).permute(0, 2, 3, 1)
        return F.grid_sample(x, deformation, align_corners=True)

    def forward(self, source_image: Tensor, driving: dict[str, Tensor], source: dict[str, Tensor]) -> dict[str, Tensor]:
        out = self.first(source_image)
        for block in self.down_blocks:
            out = block(out)
        motion = self.dense_motion_network(source_image, driving, source)
        out = self.deform(out, motion["deformation"])
        if "occlusion_map" in motion:
            occlusion = motion["occlusion_map"]
            if occlusion.shape[2:] != out.shape[2:]:
                occlusion = F.interpolate(occlusion, size=out.shape[2:], mode="bilinear", align_corners=False)
            out = out * occlusion
        out = self.bottleneck(out)
        for block in self.up_blocks:
            out = block(out)
        return {"prediction": torch.sigmoid(self.final(out)), **motion}


# -- checkpoints -----------------------------------------------------------------------------------------------

def _count(state: dict[str, Tensor], pattern: str) -> int:
    found = {int(m.group(1)) for key in state if (m := re.fullmatch(pattern, key))}
    return max(found) + 1 if found else 0


def _scale_from_kernel(state: dict[str, Tensor], key: str) -> float:
    if key not in state:
        return 1.0
    size = state[key].shape[-1]
    for scale in (0.5, 0.25, 0.125, 0.0625):
        if 2 * round((1 / scale - 1) / 2 * 4) + 1 == size:
            return scale
    raise InputError(f"anti-aliasing kernel of size {size} matches no known scale", hint="is this a FOMM checkpoint?")


def infer_config(kp_state: dict[str, Tensor], generator_state: dict[str, Tensor]) -> FommConfig:
    """The architecture's sizes read from the state dicts' shapes (temperature and variance as published)."""
    kp_blocks = _count(kp_state, r"predictor\.encoder\.down_blocks\.(\d+)\.conv\.weight")
    dm_blocks = _count(generator_state, r"dense_motion_network\.hourglass\.encoder\.down_blocks\.(\d+)\.conv\.weight")
    down_blocks = _count(generator_state, r"down_blocks\.(\d+)\.conv\.weight")
    kp_first = kp_state["predictor.encoder.down_blocks.0.conv.weight"]
    dm_first = generator_state["dense_motion_network.hourglass.encoder.down_blocks.0.conv.weight"]
    num_kp = kp_state["kp.weight"].shape[0]
    num_channels = kp_first.shape[1]
    # Not in the weights: the keypoint head's padding (0), softmax temperature (0.1), keypoint variance (0.01),
    # as in every published config.
    return FommConfig(
        num_kp=num_kp,
        num_channels=num_channels,
        estimate_jacobian="jacobian.weight" in kp_state,
        kp_block_expansion=kp_first.shape[0] // 2,
        kp_max_features=max(kp_state[f"predictor.encoder.down_blocks.{i}.conv.weight"].shape[0] for i in range(kp_blocks)),
        kp_num_blocks=kp_blocks,
        kp_scale=_scale_from_kernel(kp_state, "down.weight"),
        block_expansion=generator_state["first.conv.weight"].shape[0],
        max_features=max(generator_state[f"down_blocks.{i}.conv.weight"].shape[0] for i in range(down_blocks)),
        num_down_blocks=down_blocks,
        num_bottleneck_blocks=_count(generator_state, r"bottleneck\.r(\d+)\.conv1\.weight"),
        estimate_occlusion_map="dense_motion_network.occlusion.weight" in generator_state,
        dm_block_expansion=dm_first.shape[0] // 2,
        dm_max_features=max(generator_state[f"dense_motion_network.hourglass.encoder.down_blocks.{i}.conv.weight"].shape[0]
                            for i in range(dm_blocks)),
        dm_num_blocks=dm_blocks,
        dm_scale=_scale_from_kernel(generator_state, "dense_motion_network.down.weight"),
    )


def _read_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise InputError("checkpoint not found", path=path, hint="give the FOMM checkpoint file, e.g. vox-cpk.pth.tar")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL (\S+) was not an allowed global", str(exc))
        if found is None:
            raise InputError("cannot be read as a PyTorch checkpoint (damaged, or another format)", path=path,
                             hint="give the FOMM checkpoint file, e.g. vox-cpk.pth.tar") from None
        raise InputError(f"refused: the checkpoint refers to code ({found.group(1)}), not only tensors and plain values",
                         path=path, hint="vidtoon never runs code from a checkpoint; use the published FOMM weights") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise InputError(f"cannot be read as a PyTorch checkpoint ({exc})", path=path,
                         hint="the file may be damaged or another format") from None


def load_fomm(path: str | Path, *, device: torch.device | str = "cpu") -> tuple[KeypointDetector, OcclusionAwareGenerator]:
    """The keypoint detector and generator of a published FOMM checkpoint (dict with `kp_detector` and
    `generator` state dicts), in eval mode on `device`. Sizes come from the weights; loading is strict.

    Raises:
        InputError: missing, unreadable, holds code (refused), or not a FOMM checkpoint.
    """
    path = Path(path)
    checkpoint = _read_checkpoint(path)
    if not isinstance(checkpoint, dict) or not {"kp_detector", "generator"} <= checkpoint.keys():
        keys = ", ".join(map(str, list(checkpoint)[:6])) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise InputError(f"not a first-order-motion-model checkpoint (has {keys}; expected kp_detector and generator)", path=path,
                         hint="use vox-cpk.pth.tar (or another FOMM checkpoint) from the first-order-model project")
    kp_state, generator_state = checkpoint["kp_detector"], checkpoint["generator"]
    try:
        config = infer_config(kp_state, generator_state)
    except KeyError as exc:
        raise InputError(f"not a first-order-motion-model checkpoint (no {exc} weights)", path=path) from None
    kp_detector, generator = KeypointDetector(config), OcclusionAwareGenerator(config)
    for module, state, name in ((kp_detector, kp_state, "kp_detector"), (generator, generator_state, "generator")):
        state = dict(state)
        for key, value in module.state_dict().items():  # older BatchNorm states lack the batch counter
            if key.endswith("num_batches_tracked") and key not in state:
                state[key] = value
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise InputError(f"{name} weights do not fit the architecture ({str(exc).splitlines()[0]})", path=path,
                             hint="the checkpoint is not a first-order motion model, or a variant vidtoon does not know") from None
    log.debug("FOMM checkpoint %s: %s", path, asdict(config))
    return kp_detector.to(device).eval(), generator.to(device).eval()


# -- the animator --------------------------------------------------------------------------------------------------

class FommAnimator:
    """`--method fomm`: the source (or a square crop around its face) at 256×256 driven by FOMM, pasted back.

    Driver frames are cropped with the square found on the first driver frame with a face (a fixed crop,
    as FOMM expects) and resized to 256×256. Frames where no face is detected hold the last good pose.
    """

    def __init__(self, source_rgb: np.ndarray, source_path: Path, checkpoint: str | Path, *, relative: bool = True,
                 crop: bool = True, device: str = "auto"):
        self.device = resolve_device(device)
        self.kp_detector, self.generator = load_fomm(checkpoint, device=self.device)
        self.source = source_rgb
        self.relative = relative
        self.faces = face_detector()
        height, width = source_rgb.shape[:2]
        if crop:
            face = detect_face_box(source_rgb, self.faces)
            if face is None:
                raise InputError("no face found in the source image", path=source_path,
                                 hint="use a picture with one clearly visible, frontal face, or pass --no-crop")
            x0, y0, side = square_crop(face, (width, height))
            self.box = (x0, y0, side, side)
        else:
            self.box = (0, 0, width, height)
        x0, y0, w, h = self.box
        self.patch = np.ascontiguousarray(source_rgb[y0:y0 + h, x0:x0 + w])
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
        kp_driving = self.kp_detector(self._tensor(driver_rgb[y0:y0 + side, x0:x0 + side]))
        if self.kp_initial is None:
            self.kp_initial = kp_driving
        kp = relative_keypoints(self.kp_source, kp_driving, self.kp_initial) if self.relative else kp_driving
        prediction = self.generator(self.source_tensor, kp, self.kp_source)["prediction"]
        rgb = prediction[0].mul(255).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        bx, by, w, h = self.box
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC if w > MODEL_SIZE else cv2.INTER_AREA)
        out = self.source.copy()
        out[by:by + h, bx:bx + w] = blend(rgb, self.patch, self.ramp) if self.ramp is not None else rgb
        self.last = out
        return out
