"""FID and KID between two sets of feature vectors (Inception pool3 features, see `vidtoon.metrics.inception`).

FID (Heusel et al. 2017) is the Fréchet distance between Gaussians fitted to the two sets:

    FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½

with μ the mean and Σ the unbiased (N − 1) covariance, as pytorch-fid computes them. The trace of the
matrix square root is taken by eigen-decomposition, not scipy's `sqrtm`: Σ₁Σ₂ is similar to the
symmetric positive semi-definite S Σ₂ S with S = Σ₁^½, so tr (Σ₁Σ₂)^½ = Σᵢ √λᵢ(S Σ₂ S), computed
with two symmetric `eigh` calls in float64, tiny negative round-off eigenvalues clipped to 0. This is
the same number pytorch-fid's `sqrtm` gives on well-conditioned matrices, needs no ε fallback on the
singular covariances of fewer samples than dimensions, and never has an imaginary part to discard.

KID (Bińkowski et al. 2018) is the unbiased estimate of the squared MMD with the cubic polynomial
kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets as clean-fid and torch-fidelity do
(100 subsets of min(1000, N₁, N₂) samples each, drawn without replacement), reported as mean and
standard deviation over the subsets. Its expectation is 0 when both sets come from one distribution.

`GaussianStats` accumulates the sums FID needs batch by batch, so memory is flat in the number of
samples (d + d² float64 values: 32 MiB for d = 2048); KID needs the features themselves. With no more
samples than dimensions (N ≤ d: any FID under 2048 frames) the covariances have rank < N and the same
trace comes exactly from the singular values of an N₁×N₂ matrix (`frechet_distance_low_rank`):
the d×d route costs two 2048² eigen-decompositions, about 5–50 s on two loaded cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


class GaussianStats:
    """Running mean and covariance of d-dimensional samples, fed in batches (float64).

    The covariance is the unbiased one (divided by N − 1, as `numpy.cov`), from sums of the samples less a
    shift (the first batch's mean) so that large means do not cancel the variance away in the subtraction.
    While there are at most d samples they are kept as they are (no more memory than the d×d sum they would
    need): `samples` then lets `fid_from_stats` work in the N-dimensional span of the samples instead of d×d.
    """

    def __init__(self, dims: int):
        self.dims = dims
        self.count = 0
        self._shift: np.ndarray | None = None
        self._sum = np.zeros(dims)
        self._rows: list[np.ndarray] | None = []
        self._outer: np.ndarray | None = None

    def update(self, features: np.ndarray | torch.Tensor) -> None:
        """Add N×d samples."""
        features = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != self.dims:
            raise ValueError(f"GaussianStats: expected N×{self.dims} features, got {features.shape}")
        if self._shift is None:
            self._shift = features.mean(axis=0)
        centred = features - self._shift
        self._sum += centred.sum(axis=0)
        self.count += len(features)
        if self._rows is not None and self.count <= self.dims:
            self._rows.append(centred)
            return
        if self._outer is None:
            kept = np.concatenate(self._rows) if self._rows else np.zeros((0, self.dims))
            self._outer, self._rows = kept.T @ kept, None
        self._outer += centred.T @ centred

    @property
    def mean(self) -> np.ndarray:
        """μ, shape (d,)."""
        self._need(1)
        return self._shift + self._sum / self.count

    @property
    def samples(self) -> np.ndarray | None:
        """The N×d samples less their mean when N ≤ d (so Σ = samplesᵀ·samples / (N − 1)), else None."""
        if self._rows is None or not self._rows:
            return None
        return np.concatenate(self._rows) - self._sum / self.count

    @property
    def cov(self) -> np.ndarray:
        """Σ (unbiased), shape (d, d)."""
        self._need(2)
        centred_mean = self._sum / self.count
        if self._outer is None:
            kept = np.concatenate(self._rows)
            return (kept.T @ kept - self.count * np.outer(centred_mean, centred_mean)) / (self.count - 1)
        return (self._outer - self.count * np.outer(centred_mean, centred_mean)) / (self.count - 1)

    def _need(self, count: int) -> None:
        if self.count < count:
            raise ValueError(f"GaussianStats: {self.count} sample(s), at least {count} needed")


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (negative round-off clipped)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2): ‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½.

    Args:
        mu1, mu2: means, shape (d,).
        sigma1, sigma2: covariances (symmetric positive semi-definite), shape (d, d).
    Returns:
        The distance (≥ 0 up to round-off; 0 for identical Gaussians), as a float.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"frechet_distance: shapes {mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape} do not fit")
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum())  # eigenvalues only
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt)


def fid_from_stats(a: GaussianStats, b: GaussianStats) -> float:
    """FID between the Gaussians fitted to two accumulated feature sets (each of at least 2 samples).

    When both sets hold no more samples than dimensions, the same number comes from their span (see
    `frechet_distance_low_rank`): milliseconds instead of two d×d eigen-decompositions.
    """
    a._need(2)
    b._need(2)
    if a.samples is not None and b.samples is not None:
        return frechet_distance_low_rank(a.mean, a.samples / np.sqrt(a.count - 1), b.mean, b.samples / np.sqrt(b.count - 1))
    return frechet_distance(a.mean, a.cov, b.mean, b.cov)


def frechet_distance_low_rank(mu1: np.ndarray, factor1: np.ndarray, mu2: np.ndarray, factor2: np.ndarray) -> float:
    """`frechet_distance` for covariances given as Σ₁ = F₁ᵀF₁ and Σ₂ = F₂ᵀF₂ (F: N×d, e.g. centred samples / √(N−1)).

    The non-zero eigenvalues of Σ₁Σ₂ = F₁ᵀF₁F₂ᵀF₂ are those of (F₁F₂ᵀ)(F₁F₂ᵀ)ᵀ, so tr (Σ₁Σ₂)^½ is the sum of the
    singular values of the N₁×N₂ matrix F₁F₂ᵀ, and tr Σ = ‖F‖²: exact, in O(N₁N₂d) instead of O(d³).
    """
    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    singular = np.linalg.svd(factor1 @ factor2.T, compute_uv=False)
    return float(diff @ diff + (factor1**2).sum() + (factor2**2).sum() - 2 * singular.sum())


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² between samples x (m×d) and y (n×d) under k(u, v) = (uᵀv / d + 1)³ (m, n ≥ 2).

    = mean of k over pairs i ≠ j within x + the same within y − 2 · mean of k over all x–y pairs.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise ValueError(f"mmd2_unbiased: expected m×d and n×d with m, n ≥ 2, got {x.shape} and {y.shape}")
    d, m, n = x.shape[1], len(x), len(y)
    kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * kxy.mean())


@dataclass(frozen=True)
class KID:
    """Kernel Inception Distance: mean and standard deviation of the unbiased MMD² over `subsets` random subsets
    of `subset_size` samples from each set."""

    mean: float
    std: float
    subsets: int
    subset_size: int


def kernel_inception_distance(
    x: np.ndarray,
    y: np.ndarray,
    *,
    subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 0,
) -> KID:
    """KID between feature sets x (N₁×d) and y (N₂×d), as clean-fid / torch-fidelity compute it.

    Each of `subsets` draws takes min(subset_size, N₁, N₂) samples from each set without replacement (a fixed
    `seed`, so a run repeats) and computes `mmd2_unbiased`; the result is their mean and standard deviation.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError(f"kernel_inception_distance: needs at least 2 samples in each set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            mmd2_unbiased(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
            for _ in range(subsets)
        ]
    )
    return KID(mean=float(values.mean()), std=float(values.std()), subsets=subsets, subset_size=size)
