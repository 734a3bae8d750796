"""The cel-anime target of the `anime` recipe: a face photo turned, by code, into the look of a 2D anime portrait.

Anime faces (selfie2anime's trainB against its selfies, 300 of each, Lab) are lighter (mean L 60 against 51),
hold fewer deep shadows (8.5 % of pixels below L 20 against 18 %), have flat skin and hair in a few tones with
livelier colour (a/b spread 10/12.7 against 8.4/11), and more fine contrast than the selfies (8.1 against 3.5 grey
levels of detail): the ink lines. This target builds that with no network, so a CPU run can distil it into the
generator (`CartoonConfig.anchor: anime`):

1. flat regions with crisp borders: the fast global smoother (Min et al., IEEE TIP 2014), milder than the film
   target's so hair and the face's outline stay apart;
2. a high-key cel tone: lightness lifted by a gamma (shadows open up), then pulled towards `LEVELS` soft bands
   (a `tanh` step between bands, so a gradient becomes a few flat tones with narrow transitions);
3. colour: chroma spread ×1.6 about the *local* mean (a, b) (a Gaussian of σ 24 px: hair, skin, eyes and clothes
   move apart in colour while a flat region keeps its own). A spread about the image's mean is what the film target
   does, but a generator that sees a crop can only guess a face's mean: with it, a strongly tinted face came out
   with a 2.8-3.6 Lab cast (the typical selfie's mean in place of the face's own; docs/training-notes.md). The mean
   (a, b) is put back after gamut clipping and ink, so no colour cast is taught. Every step but that last
   correction (a fraction of a Lab unit) is local;
4. ink: an XDoG line drawing (Winnemöller, Kyprianidis & Olsen, "XDoG", Computers & Graphics 2012) of a lightly
   smoothed grey image multiplied in: dark, thin lines on the eyes, brows, mouth, hair and outline, none in the
   smooth skin.

Works on H×W×3 uint8 RGB face crops at the generator's working size (256×256, restyle's `--face-size`).
"""

from __future__ import annotations

import cv2
import numpy as np

from vidtoon.train.film_target import put_back_mean_ab

FGS_LAMBDA, FGS_SIGMA_COLOR = 80.0, 6.0  # flat regions: the global smoother's strength and the colour step kept
LIFT_GAMMA = 1.5  # lightness ** (1 / LIFT_GAMMA): a high key, shadows opened
LEVELS, BAND_SOFTNESS, BAND_WEIGHT = 5, 0.18, 0.6  # cel tones: bands over L, their step width, how far L moves to them
CHROMA_GAIN, CHROMA_SIGMA = 1.6, 24.0  # chroma spread about the local mean (a, b), a Gaussian of this σ (px)
LINE_SMOOTH = (60.0, 8.0)  # the global smoother before the lines: skin pores and hair noise draw no line
LINE_SIGMA, LINE_K, LINE_P, LINE_EPS, LINE_PHI = 0.9, 1.6, 22.0, 0.08, 30.0  # XDoG (sigma px, k, p, threshold, phi)


def xdog_lines(grey_u8: np.ndarray) -> np.ndarray:
    """Ink of an H×W uint8 grey image: H×W float32, 1 = paper, towards 0 = line (XDoG, soft threshold)."""
    grey = grey_u8.astype(np.float32) * np.float32(1 / 255)
    fine = cv2.GaussianBlur(grey, (0, 0), LINE_SIGMA)
    coarse = cv2.GaussianBlur(grey, (0, 0), LINE_SIGMA * LINE_K)
    sharpened = (1 + LINE_P) * fine - LINE_P * coarse
    return np.where(sharpened >= LINE_EPS, 1.0, 1 + np.tanh(LINE_PHI * (sharpened - LINE_EPS))).astype(np.float32)


def cel_tone(lightness: np.ndarray) -> np.ndarray:
    """Lightness in [0, 1] (float32) -> lifted and pulled towards `LEVELS` soft bands, in [0, 1]: a function of each
    pixel alone, which a generator that sees a crop can learn exactly."""
    lifted = np.power(np.clip(lightness, 0, 1), 1 / LIFT_GAMMA)
    scaled = lifted * LEVELS
    band = np.floor(scaled)
    banded = (band + 0.5 * (1 + np.tanh((scaled - band - 0.5) / BAND_SOFTNESS))) / LEVELS
    return np.clip(BAND_WEIGHT * banded + (1 - BAND_WEIGHT) * lifted, 0, 1).astype(np.float32)


def anime_look(rgb: np.ndarray) -> np.ndarray:
    """The cel-anime target of one face photo: H×W×3 uint8 RGB -> H×W×3 uint8 RGB (same size)."""
    rgb = np.ascontiguousarray(rgb)
    flat = cv2.ximgproc.fastGlobalSmootherFilter(rgb, rgb, FGS_LAMBDA, FGS_SIGMA_COLOR)
    lab = cv2.cvtColor(flat.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB)
    mean_ab = lab[..., 1:].reshape(-1, 2).mean(0)
    lab[..., 0] = cel_tone(lab[..., 0] / 100) * 100
    local_ab = cv2.GaussianBlur(lab[..., 1:], (0, 0), CHROMA_SIGMA)
    lab[..., 1:] = (lab[..., 1:] - local_ab) * CHROMA_GAIN + local_ab
    toned = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0, 1)
    softened = cv2.ximgproc.fastGlobalSmootherFilter(rgb, rgb, *LINE_SMOOTH)
    inked = toned * xdog_lines(cv2.cvtColor(softened, cv2.COLOR_RGB2GRAY))[..., None]
    return (put_back_mean_ab(inked, mean_ab) * 255 + 0.5).astype(np.uint8)
