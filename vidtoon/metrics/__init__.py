"""Quality metrics: full-reference image metrics (PSNR, SSIM), temporal consistency (E_warp), and distribution
distances (FID, KID) on Inception features (`vidtoon.metrics.inception` holds the network; import it by name)."""

from vidtoon.metrics.fid import KID, GaussianStats, frechet_distance, kernel_inception_distance, mmd2_unbiased
from vidtoon.metrics.image import psnr, ssim
from vidtoon.metrics.temporal import WarpingError, pair_warping_error, warping_error, warping_errors

__all__ = [
    "KID",
    "GaussianStats",
    "WarpingError",
    "frechet_distance",
    "kernel_inception_distance",
    "mmd2_unbiased",
    "pair_warping_error",
    "psnr",
    "ssim",
    "warping_error",
    "warping_errors",
]
