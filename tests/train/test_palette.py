"""A style domain's palette (`vidtoon.train.palette`): fitted by matching distributions, applied pointwise, never a
colour cast."""

import cv2
import numpy as np
import pytest

from vidtoon.train.palette import HUE_GAIN_RANGE, MAX_SLOPE, SECTORS, Palette, fit_palette, hue_gain


def lab(rgb_u8: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb_u8.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def scene(seed: int, light: float = 1.0, green_gain: float = 1.0) -> np.ndarray:
    """64×96 RGB: patches of grass green, sky blue, skin orange and grey, each with a lightness ramp and noise;
    `light` scales all levels, `green_gain` pushes the green patch's colour away from grey."""
    rng = np.random.default_rng(seed)
    image = np.empty((64, 96, 3), np.float32)
    grey = np.array([120, 120, 120], np.float32)
    colours = [grey + green_gain * (np.array([95, 140, 60], np.float32) - grey), (90, 140, 190), (200, 140, 110), grey]
    for i, colour in enumerate(colours):
        image[:, i * 24 : (i + 1) * 24] = colour
    image *= np.linspace(0.6, 1.1, 64, dtype=np.float32)[:, None, None] * light
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).round().astype(np.uint8)


def test_a_domain_fitted_to_itself_leaves_images_as_they_are():
    images = [scene(seed) for seed in range(4)]
    palette = fit_palette(images, images)
    assert np.allclose(palette.hue_gains, 1.0, atol=1e-3)
    out = palette.apply(images[0])
    assert out.shape == images[0].shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - images[0]).mean() < 1.0


def test_a_brighter_domain_brightens_and_keeps_the_mean_hue():
    palette = fit_palette([scene(seed) for seed in range(4)], [scene(seed + 10, light=1.25) for seed in range(4)])
    photo = scene(99)
    out = palette.apply(photo)
    before, after = lab(photo), lab(out)
    assert after[..., 0].mean() - before[..., 0].mean() > 5  # the style's brighter key
    # the order of tones is kept (a monotone curve): the ramp still rises from top to bottom
    assert np.all(np.diff(after[:, 72:96, 0].mean(1)[::8]) > 0)
    shift = after[..., 1:].reshape(-1, 2).mean(0) - before[..., 1:].reshape(-1, 2).mean(0)
    assert np.hypot(*shift) < 0.5  # no colour cast


def test_a_domain_with_vivid_greens_gains_chroma_in_the_greens_only_within_range():
    palette = fit_palette([scene(seed) for seed in range(4)], [scene(seed + 10, green_gain=1.8) for seed in range(4)])
    low, high = HUE_GAIN_RANGE
    assert len(palette.hue_gains) == SECTORS and all(low <= g <= high for g in palette.hue_gains)
    photo = scene(99)
    hue = np.degrees(np.arctan2(lab(photo)[..., 2], lab(photo)[..., 1])) % 360
    # the chroma curve lifts every colour; the hue gains lift the green beyond the sky and the skin
    green, sky, skin = hue_gain(np.median(hue[:, :72].reshape(64, 3, 24), (0, 2)), np.array(palette.hue_gains))
    assert green > 1.03 and green > sky + 0.03 and green > skin + 0.03
    out = palette.apply(photo)
    chroma_in, chroma_out = (np.hypot(lab(x)[..., 1], lab(x)[..., 2]) for x in (photo, out))
    assert chroma_out[:, :24].mean() > 1.1 * chroma_in[:, :24].mean()  # the grass is livelier
    assert chroma_out[:, 72:].mean() < chroma_in[:, 72:].mean() + 2  # the grey (its noise's chroma) stays grey


def test_curves_keep_their_slope_within_bounds():
    # a style domain of nearly one tone would crush every tone into it: the slope limit keeps them apart
    flat_style = [np.full((32, 48, 3), 128, np.uint8) for _ in range(2)]
    palette = fit_palette([scene(seed) for seed in range(2)], flat_style)
    for source, target in (palette.lightness, palette.chroma):
        slopes = np.diff(target) / np.diff(source)
        assert slopes.min() >= 1 / MAX_SLOPE - 1e-6 and slopes.max() <= MAX_SLOPE + 1e-6


def test_hue_gain_is_each_sectors_gain_at_its_centre_and_linear_between_around_the_circle():
    gains = np.arange(1, SECTORS + 1, dtype=np.float32)
    width = 360 / SECTORS
    assert np.allclose(hue_gain(np.arange(SECTORS) * width + width / 2, gains), gains)
    assert np.isclose(hue_gain(np.array([width]), gains)[0], 1.5)  # halfway between sectors 0 and 1
    assert np.isclose(hue_gain(np.array([0.0]), gains)[0], (gains[0] + gains[-1]) / 2)  # wraps at 0°/360°


def test_fit_palette_needs_images_on_both_sides():
    with pytest.raises(ValueError, match="at least one image on each side"):
        fit_palette([], [scene(0)])


def test_describe_names_the_moves():
    palette = Palette(
        lightness=(tuple(np.linspace(0, 100, 101)), tuple(np.linspace(0, 100, 101))),
        chroma=(tuple(np.linspace(0, 120, 101)), tuple(np.linspace(0, 120, 101))),
        hue_gains=(1.0,) * SECTORS,
    )
    assert palette.describe().startswith("lightness 50->50, 75->75, 95->95; chroma 60->60")


def test_the_tone_curve_moves_tones_and_keeps_the_texture():
    # a much brighter style domain: a steep curve through the mid-tones; the fine grain of a photo keeps its size
    palette = fit_palette([scene(seed) for seed in range(4)], [scene(seed + 10, light=1.6) for seed in range(4)])
    photo = scene(99)
    light_in, light_out = lab(photo)[..., 0], lab(palette.apply(photo))[..., 0]
    assert light_out.mean() - light_in.mean() > 10

    def grain(light: np.ndarray) -> float:
        return float(np.abs(light - cv2.GaussianBlur(light, (0, 0), 2))[8:56, 26:70].mean())

    assert grain(light_out) < 1.15 * grain(light_in)


def test_a_duller_domain_mutes_no_colour():
    # muting a colour that fills the frame, then putting the mean (a, b) back, would tint the paler regions
    dull = [cv2.addWeighted(scene(seed + 10), 0.5, np.full((64, 96, 3), 120, np.uint8), 0.5, 0) for seed in range(4)]
    palette = fit_palette([scene(seed) for seed in range(4)], dull)
    assert all(g == 1.0 for g in palette.hue_gains)
    photo = scene(99)
    out = palette.apply(photo)
    chroma_in, chroma_out = (np.hypot(lab(x)[..., 1], lab(x)[..., 2]) for x in (photo, out))
    assert chroma_out.mean() > chroma_in.mean() - 0.5
    assert np.abs(lab(out)[..., 1:] - lab(photo)[..., 1:]).mean() < 1.0  # every colour where it was
