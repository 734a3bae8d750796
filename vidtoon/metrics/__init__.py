"""Quality metrics: full-reference image metrics (PSNR, SSIM) and temporal consistency (E_warp)."""

from vidtoon.metrics.image import psnr, ssim
from vidtoon.metrics.temporal import WarpingError, pair_warping_error, warping_error, warping_errors

__all__ = ["WarpingError", "pair_warping_error", "psnr", "ssim", "warping_error", "warping_errors"]
