"""The film-look target of the `pixar` recipe: a photo turned, by code, into the look of 3D feature animation.

3D animated films show smooth shading on clean surfaces, no fine natural texture (fur, gravel, skin pores and
wall grain are simplified away), crisp silhouettes and vivid colour. This target builds that from the photo with
no network, so a CPU run can distil it into the generator (`CartoonConfig.anchor: film`) and the adversarial phase
only has to add what code cannot:

1. texture removal with crisp edges: the fast global smoother (Min et al., "Fast Global Image Smoothing Based on
   Weighted Least Squares", IEEE TIP 2014), which flattens regions into clean surfaces. (OpenCV's L0 smoothing
   looks alike but moves an image's mean colour, by up to 20 levels a channel on a two-colour test scene.)
2. smooth shading kept: an edge-aware recursive filter (domain transform, Gastal & Oliveira, SIGGRAPH 2011), which
   smooths texture but keeps gradients; the target is the mean of 1 and 2;
3. colour: chroma spread about the *local* mean (a, b) and lightness contrast about the local mean lightness (a
   Gaussian of σ SPREAD_SIGMA), so regions move apart in colour and tone while the mean hue stays the photo's (put
   back after gamut clipping: no colour cast is taught). About the image's mean (until 2026-12-01) the spread was a
   global operation a generator that sees crops cannot learn: it boosted the red of a cup that fills the frame as
   if the red were one region among many, a 3.9 Lab cast (8.1 on one frame) on the bundled sample.

Works on H×W×3 uint8 RGB at the scale the generator will see (the run's load size).
"""

from __future__ import annotations

import cv2
import numpy as np

FGS_LAMBDA, FGS_SIGMA_COLOR = 300.0, 10.0  # global smoother: strength, and the colour step (levels) kept as an edge
RF_SIGMA_S, RF_SIGMA_R = 60.0, 0.3  # recursive filter: spatial extent (px) and range (colour distance, 0..1)
CHROMA_GAIN = 1.4  # chroma spread about the local mean (a, b)
CONTRAST_GAIN = 1.12  # lightness spread about the local mean L
SPREAD_SIGMA = 24.0  # the local mean: a Gaussian of this σ (px at the run's load size)
CAST_PASSES = 3  # corrections of the mean (a, b) after gamut clipping (each about halves what is left)


def film_look(rgb: np.ndarray) -> np.ndarray:
    """The film-look target of one photo: H×W×3 uint8 RGB -> H×W×3 uint8 RGB (same size)."""
    rgb = np.ascontiguousarray(rgb)
    flat = cv2.ximgproc.fastGlobalSmootherFilter(rgb, rgb, FGS_LAMBDA, FGS_SIGMA_COLOR)
    shaded = cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=RF_SIGMA_S, sigma_r=RF_SIGMA_R)
    smooth = cv2.addWeighted(flat, 0.5, shaded, 0.5, 0)
    lab = cv2.cvtColor(smooth.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB)
    mean_ab = lab[..., 1:].reshape(-1, 2).mean(0)
    local = cv2.GaussianBlur(lab, (0, 0), SPREAD_SIGMA)
    gains = np.array([CONTRAST_GAIN, CHROMA_GAIN, CHROMA_GAIN], np.float32)
    lab = (lab - local) * gains + local
    lab[..., 0] = np.clip(lab[..., 0], 0, 100)
    out = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1)
    return (put_back_mean_ab(out, mean_ab) * 255 + 0.5).astype(np.uint8)


def put_back_mean_ab(rgb: np.ndarray, mean_ab: np.ndarray) -> np.ndarray:
    """H×W×3 float32 RGB in [0, 1] with its mean Lab (a, b) moved back to `mean_ab`: clipping to the RGB gamut (and
    darkening) moved it, and a target whose mean hue is not the photo's would teach a colour cast."""
    out = rgb
    for _ in range(CAST_PASSES):  # each pass about halves what is left (clipping again moves it a little)
        lab = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_RGB2LAB)
        lab[..., 1:] += mean_ab - lab[..., 1:].reshape(-1, 2).mean(0)
        out = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1)
    return out
