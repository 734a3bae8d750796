"""vidtoon.animate.fomm, fomm_model, fomm_checkpoint: first-order-motion-model shapes, keypoint normalisation, safe
checkpoint loading, and the fomm method end to end, all on weights the tests make (tiny architectures, random values)."""

import logging
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_animate_pipeline import DRIVER, FAST, driver_with_faceless_frames

from vidtoon.animate.fomm import relative_keypoints
from vidtoon.animate.fomm_checkpoint import infer_config, load_fomm
from vidtoon.animate.fomm_model import (
    FommConfig,
    KeypointDetector,
    OcclusionAwareGenerator,
    coordinate_grid,
    heatmap_to_keypoints,
    keypoint_gaussians,
)
from vidtoon.animate.pipeline import animate
from vidtoon.errors import InputError
from vidtoon.io import probe

TINY = FommConfig(
    num_kp=5,
    kp_block_expansion=8,
    kp_max_features=32,
    kp_num_blocks=3,
    block_expansion=8,
    max_features=32,
    num_down_blocks=2,
    num_bottleneck_blocks=2,
    dm_block_expansion=8,
    dm_max_features=32,
    dm_num_blocks=3,
)


def tiny_models(seed=0, config=TINY):
    torch.manual_seed(seed)
    kp, generator = KeypointDetector(config), OcclusionAwareGenerator(config)
    for module in (*kp.modules(), *generator.modules()):  # trained-looking batch-norm statistics, not 0/1
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        kp.jacobian.weight.normal_(0, 0.01)
    return kp.eval(), generator.eval()


def save_checkpoint(path, kp, generator, **extra):
    """The published layout: a dict with kp_detector and generator state dicts (plus optimiser states, epoch)."""
    torch.save(
        {
            "kp_detector": kp.state_dict(),
            "generator": generator.state_dict(),
            "epoch": 42,
            "optimizer_kp_detector": {"state": {}, "param_groups": [{"lr": 2e-4, "params": [0, 1]}]},
            **extra,
        },
        path,
    )
    return path


class TestShapes:
    def test_keypoints_and_jacobians(self):
        kp, _ = tiny_models()
        with torch.inference_mode():
            out = kp(torch.rand(2, 3, 64, 64))
        assert out["value"].shape == (2, 5, 2) and out["jacobian"].shape == (2, 5, 2, 2)
        assert out["value"].abs().max() <= 1.0  # expected coordinates of a softmax over [-1, 1]²

    def test_generator(self):
        kp, generator = tiny_models()
        image = torch.rand(2, 3, 64, 64)
        with torch.inference_mode():
            source = kp(image)
            out = generator(image, kp(torch.rand(2, 3, 64, 64)), source)
        assert out["prediction"].shape == (2, 3, 64, 64)
        assert 0 <= out["prediction"].min() and out["prediction"].max() <= 1 and torch.isfinite(out["prediction"]).all()
        assert out["deformation"].shape == (2, 16, 16, 2) and out["occlusion_map"].shape == (2, 1, 16, 16)
        assert out["mask"].shape == (2, 6, 16, 16)
        torch.testing.assert_close(out["mask"].sum(1), torch.ones(2, 16, 16))

    def test_published_vox_architecture_sizes(self):
        kp, generator = KeypointDetector(FommConfig()), OcclusionAwareGenerator(FommConfig())
        assert sum(p.numel() for p in kp.parameters()) == 14_215_368
        assert sum(p.numel() for p in generator.parameters()) == 45_575_391
        assert kp.state_dict()["down.weight"].shape == (3, 1, 13, 13)


class TestKeypointMaths:
    def test_coordinate_grid_spans_minus_one_to_one(self):
        grid = coordinate_grid(3, 5)
        assert grid.shape == (3, 5, 2)
        torch.testing.assert_close(grid[0, 0], torch.tensor([-1.0, -1.0]))
        torch.testing.assert_close(grid[2, 4], torch.tensor([1.0, 1.0]))
        torch.testing.assert_close(grid[1, 2], torch.tensor([0.0, 0.0]))

    def test_a_one_hot_heatmap_gives_its_pixel(self):
        heatmap = torch.zeros(1, 1, 5, 9)
        heatmap[0, 0, 1, 6] = 1.0
        torch.testing.assert_close(heatmap_to_keypoints(heatmap), torch.tensor([[[0.5, -0.5]]]))

    def test_gaussian_peaks_at_its_keypoint(self):
        g = keypoint_gaussians(torch.tensor([[[0.5, -0.5]]]), 5, 9, 0.01)
        assert g.shape == (1, 1, 5, 9) and g[0, 0, 1, 6] == 1.0 and g[0, 0, 4, 0] < 1e-6

    def test_relative_motion_with_adaptive_scale(self):
        square = torch.tensor([[[-0.2, -0.2], [0.2, -0.2], [0.2, 0.2], [-0.2, 0.2]]])
        source = {"value": square * 2, "jacobian": torch.eye(2).expand(1, 4, 2, 2) * 2}
        initial = {"value": square, "jacobian": torch.eye(2).expand(1, 4, 2, 2).clone()}
        # a still driver leaves the source as it is
        same = relative_keypoints(source, initial, initial)
        torch.testing.assert_close(same["value"], source["value"])
        torch.testing.assert_close(same["jacobian"], source["jacobian"])
        # the driver moves right by 0.1: the source (twice the area's square root) moves by 0.2
        moved = {"value": square + torch.tensor([0.1, 0.0]), "jacobian": initial["jacobian"] * 1.5}
        out = relative_keypoints(source, moved, initial)
        torch.testing.assert_close(out["value"], source["value"] + torch.tensor([0.2, 0.0]))
        torch.testing.assert_close(out["jacobian"], source["jacobian"] * 1.5)
        unscaled = relative_keypoints(source, moved, initial, adapt_scale=False)
        torch.testing.assert_close(unscaled["value"], source["value"] + torch.tensor([0.1, 0.0]))


class TestCheckpoints:
    def test_round_trip(self, tmp_path):
        kp, generator = tiny_models(seed=3)
        path = save_checkpoint(tmp_path / "vox-cpk.pth.tar", kp, generator)
        kp2, generator2 = load_fomm(path)
        for a, b in ((kp, kp2), (generator, generator2)):
            assert a.state_dict().keys() == b.state_dict().keys()
            for key, value in a.state_dict().items():
                torch.testing.assert_close(b.state_dict()[key], value)
        image = torch.rand(1, 3, 64, 64)
        with torch.inference_mode():
            k1, k2 = kp(image), kp2(image)
            torch.testing.assert_close(k1["value"], k2["value"])
            torch.testing.assert_close(generator(image, k1, k1)["prediction"], generator2(image, k2, k2)["prediction"])

    def test_sizes_are_read_from_the_weights(self):
        for config in (TINY, replace(TINY, num_kp=7, estimate_jacobian=False, num_bottleneck_blocks=3, dm_scale=0.5)):
            kp, generator = KeypointDetector(config), OcclusionAwareGenerator(config)
            inferred = infer_config(kp.state_dict(), generator.state_dict())
            assert inferred.num_kp == config.num_kp and inferred.estimate_jacobian == config.estimate_jacobian
            assert inferred.dm_scale == config.dm_scale and inferred.num_bottleneck_blocks == config.num_bottleneck_blocks

    def test_old_batch_norm_states_without_a_counter_load(self, tmp_path):
        kp, generator = tiny_models()
        strip = lambda state: {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}  # noqa: E731
        torch.save({"kp_detector": strip(kp.state_dict()), "generator": strip(generator.state_dict())}, tmp_path / "old.pth")
        load_fomm(tmp_path / "old.pth")

    def test_a_checkpoint_with_code_is_refused_and_not_run(self, tmp_path):
        marker = tmp_path / "pwned"

        class Payload:
            def __reduce__(self):
                return (open, (str(marker), "w"))

        torch.save({"kp_detector": Payload(), "generator": {}}, tmp_path / "evil.pth.tar")
        with pytest.raises(InputError, match="refused"):
            load_fomm(tmp_path / "evil.pth.tar")
        assert not marker.exists()

    def test_other_files_are_refused(self, tmp_path):
        with pytest.raises(InputError, match="checkpoint not found"):
            load_fomm(tmp_path / "missing.pth.tar")
        torch.save({"state_dict": {"w": torch.zeros(1)}}, tmp_path / "other.pth")
        with pytest.raises(InputError, match="not a first-order-motion-model checkpoint"):
            load_fomm(tmp_path / "other.pth")
        (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
        with pytest.raises(InputError, match="cannot be read"):
            load_fomm(tmp_path / "junk.pth")
        kp, generator = tiny_models()
        state = generator.state_dict()
        state["final.weight"] = torch.zeros(3, 8, 5, 5)
        torch.save({"kp_detector": kp.state_dict(), "generator": state}, tmp_path / "odd.pth")
        with pytest.raises(InputError, match="do not fit the architecture"):
            load_fomm(tmp_path / "odd.pth")


@pytest.mark.parametrize("crop", [True, False])
def test_fomm_method_end_to_end(media, tmp_path, caplog, crop):
    """Tiny random weights (no published checkpoint here): the pipeline keeps the driver's frames and sound,
    pastes the 256² result back into the source, and holds the pose where the driver has no face."""
    checkpoint = save_checkpoint(tmp_path / "tiny.pth.tar", *tiny_models())
    driver = driver_with_faceless_frames(media, tmp_path / "gap.mp4", face=(6, 4), blank=3)
    with caplog.at_level(logging.WARNING):
        out = animate(
            media / "face_astronaut.png",
            driver,
            tmp_path / "out.mp4",
            method="fomm",
            checkpoint=checkpoint,
            crop=crop,
            size=384,
            options=FAST,
        )
    info = probe(out)
    assert info.frame_count == 13 and (info.width, info.height) == (384, 384) and info.audio
    assert "no face in 3 of 13 driver frames" in caplog.text


def test_fomm_needs_a_face_in_the_source_when_cropping(tmp_path, media):
    import cv2

    cv2.imwrite(str(tmp_path / "wall.png"), np.full((200, 200, 3), 200, np.uint8))
    checkpoint = save_checkpoint(tmp_path / "tiny.pth.tar", *tiny_models())
    with pytest.raises(InputError, match="no face found in the source image"):
        animate(tmp_path / "wall.png", media / DRIVER, tmp_path / "out.mp4", method="fomm", checkpoint=checkpoint)


@pytest.mark.parametrize("name", ["face_astronaut.png", "face_monalisa.jpg"])
def test_fomm_crop_is_centred_on_the_face(media, tmp_path, name):
    from vidtoon.animate.fomm import FommAnimator
    from vidtoon.animate.landmarks import detect_landmarks
    from vidtoon.io.images import read_image

    rgb = read_image(media / name)
    nose = detect_landmarks(rgb)[1]
    x0, y0, w, h = FommAnimator(rgb, media / name, save_checkpoint(tmp_path / "tiny.pth.tar", *tiny_models())).box
    assert w == h and 0.25 * min(rgb.shape[:2]) < w  # a square around the whole face, not a patch of it
    assert abs(x0 + w / 2 - nose[0]) < 0.15 * w and abs(y0 + h / 2 - nose[1]) < 0.15 * h
