"""The code-made look targets (`vidtoon.train.look_targets`):

- film (`vidtoon.train.film_target`): texture gone, edges and shading kept, livelier colour, no cast;
- anime (`vidtoon.train.anime_target`): a high key, a few flat tones, ink on strong edges only, livelier colour, no cast.
"""

import cv2
import numpy as np
import pytest
import torch

from vidtoon.errors import UsageError
from vidtoon.train import anime_target
from vidtoon.train.anime_target import anime_look
from vidtoon.train.film_target import CHROMA_GAIN, film_look
from vidtoon.train.look_targets import LOOK_TARGETS, look_targets


def lab(rgb_u8: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb_u8.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def textured_scene(seed: int = 0, texture: float = 12, warm=(170, 110, 60), cool=(60, 120, 170)) -> np.ndarray:
    """96×128 RGB: a warm left half and a cool right half (a hard edge at x = 64), a lightness ramp from top to
    bottom (shading), and a fine ±`texture`-level texture over all of it."""
    rows = np.linspace(0.75, 1.15, 96, dtype=np.float32)[:, None, None]
    base = np.empty((96, 128, 3), np.float32)
    base[:, :64] = warm
    base[:, 64:] = cool
    grain = np.random.default_rng(seed).uniform(-texture, texture, (96, 128, 1)).astype(np.float32)
    return np.clip(base * rows + grain, 0, 255).round().astype(np.uint8)


def test_the_texture_goes_and_the_edge_and_the_shading_stay():
    photo = textured_scene()
    target = film_look(photo)
    assert target.shape == photo.shape and target.dtype == np.uint8
    light_in, light_out = lab(photo)[..., 0], lab(target)[..., 0]
    inner = (slice(8, 88), slice(8, 56))  # inside the warm half, away from the edge and the borders
    detail_in = light_in[inner] - cv2.GaussianBlur(light_in, (0, 0), 4)[inner]
    detail_out = light_out[inner] - cv2.GaussianBlur(light_out, (0, 0), 4)[inner]
    assert detail_out.std() < 0.35 * detail_in.std()  # the fine texture is simplified away
    warm, cool = target[:, 58:61].astype(float).mean((0, 1)), target[:, 67:70].astype(float).mean((0, 1))
    assert warm[0] - cool[0] > 90 and cool[2] - warm[2] > 90  # the edge is kept sharp: 6 px apart, full contrast
    top, bottom = light_out[4:16, 8:56].mean(), light_out[80:92, 8:56].mean()
    assert bottom - top > 0.8 * (light_in[80:92, 8:56].mean() - light_in[4:16, 8:56].mean())  # the shading stays


def test_colour_is_livelier_between_regions_and_a_frame_of_one_colour_keeps_it():
    # muted colours, no grain: room in the gamut to spread them, and no grain whose chroma the smoothing would take
    photo = textured_scene(1, texture=0, warm=(150, 115, 90), cool=(90, 115, 150))
    lab_in, lab_out = lab(photo), lab(film_look(photo))
    shift = np.linalg.norm(lab_out[..., 1:].reshape(-1, 2).mean(0) - lab_in[..., 1:].reshape(-1, 2).mean(0))
    assert shift < 0.5, shift  # no colour cast: the mean (a, b) is the photo's

    def apart(lab_image: np.ndarray) -> float:  # the (a, b) distance between the two regions, near their edge
        return float(np.linalg.norm(lab_image[:, 48:58, 1:].mean((0, 1)) - lab_image[:, 70:80, 1:].mean((0, 1))))

    # the regions move apart in colour (the spread is about the local mean: most where they meet)
    assert apart(lab_out) > (1 + 0.3 * (CHROMA_GAIN - 1)) * apart(lab_in), (apart(lab_out), apart(lab_in))
    # a frame of one colour has nothing to move apart from: it keeps its colour (a spread about the image's mean
    # would too; one about the typical photo's, which a generator seeing crops learns, would not)
    red = np.full((96, 128, 3), (170, 60, 50), np.uint8)
    assert np.abs(lab(film_look(red))[..., 1:] - lab(red)[..., 1:]).max() < 1.0


@pytest.mark.parametrize("look", ["film", "anime"])
def test_the_targets_of_a_bank_keep_order_and_shape(look):
    photos = [torch.from_numpy(textured_scene(seed)).permute(2, 0, 1).contiguous() for seed in range(3)]
    targets = look_targets(photos, look, threads=2)
    assert [t.shape for t in targets] == [p.shape for p in photos] and all(t.dtype == torch.uint8 for t in targets)
    for photo, target in zip(photos, targets):
        assert np.array_equal(target.permute(1, 2, 0).numpy(), LOOK_TARGETS.get(look)(photo.permute(1, 2, 0).numpy()))


def test_an_unknown_look_names_the_known_ones():
    with pytest.raises(UsageError, match="unknown look target 'pixar' — known: anime, film"):
        look_targets([], "pixar")


def face_like_scene() -> np.ndarray:
    """128×128 RGB: dim skin (a soft lightness gradient from left to right, fine grain), with a thin dark stroke
    (an eyebrow: 2 px high, x 32-96, y 48) and a darker hair block on top (rows 0-23)."""
    columns = np.linspace(0.55, 1.0, 128, dtype=np.float32)[None, :, None]
    skin = np.array([150, 110, 90], np.float32) * columns * np.ones((128, 1, 1), np.float32)
    skin[:24] = (60, 40, 30)
    skin[48:50, 32:96] = (45, 35, 30)
    grain = np.random.default_rng(3).uniform(-5, 5, (128, 128, 1)).astype(np.float32)
    return np.clip(skin + grain, 0, 255).round().astype(np.uint8)


def test_anime_is_high_key_with_flat_tones():
    photo = face_like_scene()
    target = anime_look(photo)
    light_in, light_out = lab(photo)[..., 0], lab(target)[..., 0]
    cheek = (slice(60, 120), slice(8, 120))  # skin only: no stroke, no hair, no border
    assert light_out[cheek].mean() > light_in[cheek].mean() + 10  # lighter: a high key
    # a smooth gradient becomes flatter tones with steps between them: the 12 largest of the 111 column-to-column
    # changes carry more than twice an even ramp's share (12/111 = 0.11; measured 0.34)
    steps = np.abs(np.diff(light_out[cheek].mean(0)))
    assert np.sort(steps)[-12:].sum() > 0.25 * steps.sum(), np.sort(steps)[-12:].sum() / steps.sum()
    grain_in = (light_in - cv2.GaussianBlur(light_in, (0, 0), 3))[cheek].std()
    grain_out = (light_out - cv2.GaussianBlur(light_out, (0, 0), 3))[cheek].std()
    assert grain_out < 0.5 * grain_in  # the skin's grain is gone


def test_anime_inks_strong_edges_and_leaves_smooth_skin_clean():
    photo = face_like_scene()
    light = lab(anime_look(photo))[..., 0]
    assert light[44:54, 40:88].min(0).mean() < 25  # the eyebrow is drawn dark
    surroundings = cv2.GaussianBlur(light, (0, 0), 3)
    skin = (slice(60, 120), slice(8, 120))
    assert not (light[skin] < surroundings[skin] - 12).any()  # no line in the smooth skin (a lightness ramp, grain)
    cheek_lines = anime_target.xdog_lines(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY))[64:120, 8:120]
    assert cheek_lines.min() > 0.5  # the ink itself is paper there, not merely lifted by the tone


def test_anime_colour_is_livelier_about_the_local_mean_and_a_tint_is_kept():
    # small patches of two muted colours (16 px checks): the local mean mixes them, so they move apart
    checks = (np.indices((96, 128)) // 16).sum(0) % 2 == 1
    photo = np.where(checks[..., None], np.uint8([150, 115, 90]), np.uint8([90, 115, 150])).astype(np.uint8)
    lab_in, lab_out = lab(photo).reshape(-1, 3), lab(anime_look(photo)).reshape(-1, 3)
    assert np.linalg.norm(lab_out[:, 1:].mean(0) - lab_in[:, 1:].mean(0)) < 0.5  # no colour cast
    assert (lab_out[:, 1:].std(0) / lab_in[:, 1:].std(0) > 1 + 0.5 * (anime_target.CHROMA_GAIN - 1)).all()
    # one flat, strongly tinted colour (a yellow wall): its own mean is its local mean, so its hue stays exactly
    wall = np.full((96, 128, 3), (200, 170, 90), np.uint8)
    shift = lab(anime_look(wall))[..., 1:].reshape(-1, 2).mean(0) - lab(wall)[..., 1:].reshape(-1, 2).mean(0)
    assert np.abs(shift).max() < 1.0, shift
