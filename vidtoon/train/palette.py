"""A style domain's palette, fitted from its images and given to the code-made targets of a cartoon run.

    palette = fit_palette(targets_u8, films_u8)     # lists of H×W×3 uint8 RGB: the look's targets, domain B
    palette.apply(target_u8)                        # H×W×3 uint8 RGB -> the same, in B's lightness and colour
    palette.describe()                              # "lightness 44->49, 61->73, 86->92; chroma ... (percentiles ...)"

The code-made looks (`vidtoon.train.look_targets`) decide the shapes: flat surfaces, smooth shading, ink. What
colours a film uses is in its frames. The Blender films against the photos (Lab, 2026-12-01): the same shadows
(5th percentile of L 9 against 10) but a much brighter key (median L 49 against 45, 3rd quartile 73 against 61),
about the same median chroma (15 against 16) with a longer vivid tail (95th percentile 53 against 43), and sharply
different colour by hue (yellow-greens ×1.8 the photos' chroma, oranges ×0.6).

A palette is three pointwise maps, each fitted by matching distributions (a crop-trained generator can learn a
pointwise map; it cannot learn one that depends on the whole image):
1. lightness: the quantiles of the targets' L moved onto B's (a monotone tone curve, its slope kept within
   [1/MAX_SLOPE, MAX_SLOPE] so no band of tones is crushed or torn apart). The curve moves the local mean (a
   Gaussian of σ DETAIL_SIGMA) and the detail about it is kept: applied to each pixel, a curve steeper than 1 would
   sharpen the very texture the look removed (fire2's frames: detail 0.82 of the photo's against the film look's
   0.73; moving the local mean: 0.77);
2. chroma: the same for chroma (hue kept), with chroma 0 kept at 0 (greys stay grey), and never below the
   target's own: the films' median chroma is below the film looks' (15 against 18), but muting a colour that fills
   the frame moves its mean (a, b), and putting the mean back then tints the paler regions (a red cup's coffee
   came out pink);
3. chroma by hue: per 30° sector of hue, the ratio of B's median chroma to the (mapped) targets', shrunk towards 1
   (its square root: B is one film's world more than a genre's) and kept within HUE_GAIN_RANGE (lifted, never
   muted, for the same reason), interpolated smoothly around the hue circle.

The image's mean (a, b) is put back afterwards (`put_back_mean_ab`), so a palette never teaches a colour cast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vidtoon.train.film_target import put_back_mean_ab

QUANTILES = np.linspace(0.0, 100.0, 101)  # percentiles matched between the two domains
MAX_SLOPE = 2.5  # a tone or chroma curve's slope stays within [1 / MAX_SLOPE, MAX_SLOPE]
SECTORS = 12  # hue sectors of 30°
HUE_MIN_CHROMA = 6.0  # pixels with less chroma have no hue worth counting
HUE_MIN_SHARE = 0.01  # a sector holding less than this share of either domain's coloured pixels keeps gain 1
HUE_GAIN_RANGE = (1.0, 1.25)  # the chroma gain of a hue sector, after shrinking: colour is lifted, never muted
DETAIL_SIGMA = 3.0  # the tone curve moves the local mean lightness (a Gaussian of this σ, px); the detail stays
SAMPLE_WIDTH = 96  # images are measured at this width (the palette is a distribution: detail does not matter)


@dataclass(frozen=True)
class Palette:
    """Pointwise maps from the look's targets to a style domain's palette (Lab units).

    lightness, chroma: (from, to), each a tuple of len(QUANTILES) increasing values: piecewise-linear curves;
    hue_gains: SECTORS chroma gains, sector i centred on hue 30·i + 15 degrees."""

    lightness: tuple[tuple[float, ...], tuple[float, ...]]
    chroma: tuple[tuple[float, ...], tuple[float, ...]]
    hue_gains: tuple[float, ...]

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB -> H×W×3 uint8 RGB in this palette, its mean (a, b) kept."""
        lab = cv2.cvtColor(np.ascontiguousarray(rgb).astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB)
        mean_ab = lab[..., 1:].reshape(-1, 2).mean(0)
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
        mapped = lifted_chroma(chroma, self.chroma) * hue_gain(hue, np.asarray(self.hue_gains))
        scale = (mapped / np.maximum(chroma, 1e-3)).astype(np.float32)
        lightness = lab[..., 0]
        local = cv2.GaussianBlur(lightness, (0, 0), DETAIL_SIGMA)
        lab[..., 0] = np.interp(local, *self.lightness) + (lightness - local)  # the curve moves tones, not texture
        lab[..., 1:] *= scale[..., None]
        out = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0.0, 1.0)
        return (put_back_mean_ab(out, mean_ab) * 255 + 0.5).astype(np.uint8)

    def describe(self) -> str:
        """One line: where the median and third quartile of lightness and chroma go, and the hue gains."""

        def moves(curve: tuple[tuple[float, ...], tuple[float, ...]], floor: bool = False) -> str:
            return ", ".join(
                f"{curve[0][q]:.0f}->{max(curve[1][q], curve[0][q]) if floor else curve[1][q]:.0f}" for q in (50, 75, 95)
            )

        gains = " ".join(f"{g:.2f}" for g in self.hue_gains)
        return (
            f"lightness {moves(self.lightness)}; chroma {moves(self.chroma, floor=True)} (percentiles 50, 75, 95); "
            f"hue gains {gains}"
        )


def lifted_chroma(chroma: np.ndarray, curve: tuple[tuple[float, ...], tuple[float, ...]]) -> np.ndarray:
    """`chroma` (any shape) through the chroma curve, never below itself: colour is lifted, never muted."""
    return np.maximum(np.interp(chroma, *curve), chroma)


def hue_gain(hue: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """The chroma gain at each hue (degrees, any shape): `gains` (SECTORS values, sector centres 30·i + 15°)
    interpolated linearly around the circle."""
    position = (hue - 180.0 / len(gains)) * (len(gains) / 360.0)  # 0 at sector 0's centre
    low = np.floor(position)
    frac = (position - low).astype(np.float32)
    low = low.astype(np.int64) % len(gains)
    return (gains[low] * (1 - frac) + gains[(low + 1) % len(gains)] * frac).astype(np.float32)


def fit_palette(targets: Sequence[np.ndarray], films: Sequence[np.ndarray]) -> Palette:
    """The palette moving `targets` (H×W×3 uint8 RGB, a look's targets) to `films` (the style domain's images)."""
    if not len(targets) or not len(films):
        raise ValueError("fit_palette needs at least one image on each side")
    source, style = _lab_pixels(targets), _lab_pixels(films)
    lightness = _curve(source[:, 0], style[:, 0], low=0.0, high=100.0)
    chroma = _curve(_chroma(source), _chroma(style), low=0.0, high=None)
    mapped = source.copy()
    mapped[:, 1:] *= (lifted_chroma(_chroma(source), chroma) / np.maximum(_chroma(source), 1e-3))[:, None]
    return Palette(lightness, chroma, _hue_gains(mapped, style))


def _lab_pixels(images: Sequence[np.ndarray]) -> np.ndarray:
    """Every pixel of every image (resized to SAMPLE_WIDTH wide) as N×3 Lab."""
    pixels = []
    for rgb in images:
        height = max(1, round(rgb.shape[0] * SAMPLE_WIDTH / rgb.shape[1]))
        small = cv2.resize(np.ascontiguousarray(rgb), (SAMPLE_WIDTH, height), interpolation=cv2.INTER_AREA)
        pixels.append(cv2.cvtColor(small.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB).reshape(-1, 3))
    return np.concatenate(pixels)


def _chroma(lab: np.ndarray) -> np.ndarray:
    return np.hypot(lab[:, 1], lab[:, 2])


def _curve(source: np.ndarray, style: np.ndarray, *, low: float, high: float | None) -> tuple[tuple[float, ...], ...]:
    """The monotone map taking `source`'s quantiles onto `style`'s, from `low` to `low` (and `high` to `high` when
    given), its slope kept within [1 / MAX_SLOPE, MAX_SLOPE]."""
    x = np.percentile(source, QUANTILES)
    y = np.percentile(style, QUANTILES)
    x[0], y[0] = low, low
    if high is not None:
        x[-1], y[-1] = high, high
    x = np.maximum.accumulate(x + np.arange(len(x)) * 1e-4)  # strictly increasing, for np.interp
    slope = np.clip(np.diff(y) / np.diff(x), 1 / MAX_SLOPE, MAX_SLOPE)
    y = np.concatenate([[low], low + np.cumsum(slope * np.diff(x))])
    return tuple(float(v) for v in x), tuple(float(v) for v in y)


def _hue_gains(source: np.ndarray, style: np.ndarray) -> tuple[float, ...]:
    """Per hue sector, sqrt(B's median chroma / the source's), within HUE_GAIN_RANGE (1 where a side has too few
    coloured pixels there)."""
    gains = []
    sides = []
    for lab in (source, style):
        chroma = _chroma(lab)
        coloured = chroma > HUE_MIN_CHROMA
        sector = (np.degrees(np.arctan2(lab[coloured, 2], lab[coloured, 1])) % 360.0 // (360.0 / SECTORS)).astype(int)
        sides.append((chroma[coloured], np.minimum(sector, SECTORS - 1)))
    for i in range(SECTORS):
        medians = []
        for chroma, sector in sides:
            inside = chroma[sector == i]
            medians.append(float(np.median(inside)) if len(inside) >= HUE_MIN_SHARE * max(1, len(chroma)) else None)
        ratio = 1.0 if None in medians else medians[1] / medians[0]
        gains.append(float(np.clip(np.sqrt(ratio), *HUE_GAIN_RANGE)))
    return tuple(gains)
