"""FID and KID: closed forms, unbiasedness, parity with pytorch-fid's network and torchmetrics' FID, the weights
loader's refusals, and `vidtoon eval --fid` end to end.

The Inception weights are made here: a seeded random network (He-initialised convolutions, random batch-norm
statistics, so features are neither vanishing nor exploding) saved as pytorch-fid's file would be, classifier
included. Numbers from it mean nothing about images; they test the arithmetic and the plumbing.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.linalg
import torch
from conftest import make_clip
from typer.testing import CliRunner

from vidtoon.errors import InputError, UsageError
from vidtoon.evaluate_fid import evaluate_fid
from vidtoon.metrics.clean_resize import bicubic_weights, clean_resize
from vidtoon.metrics.fid import GaussianStats, fid_from_stats, frechet_distance, kernel_inception_distance, mmd2_unbiased
from vidtoon.metrics.inception import FIDInceptionV3, load_inception, to_network_input

runner = CliRunner()


def random_inception(seed: int = 0) -> FIDInceptionV3:
    torch.manual_seed(seed)
    network = FIDInceptionV3().eval()
    for module in network.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.1)
    return network


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> dict:
    """{"network": the random FID Inception, "state": its state dict as pytorch-fid's file holds it, "path": that file}."""
    network = random_inception()
    state = dict(network.state_dict())
    generator = torch.Generator().manual_seed(1)
    state["fc.weight"], state["fc.bias"] = torch.randn(1008, 2048, generator=generator), torch.zeros(1008)
    path = tmp_path_factory.mktemp("inception") / "pt_inception-random.pth"
    torch.save(state, path)
    return {"network": network, "state": state, "path": path}


def random_spd(d: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def images(count: int, seed: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """count×H×W×3 uint8: smooth random colour fields (plus noise), different for each seed."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(count, 3, 4, 3), dtype=np.uint8)
    frames = [cv2.resize(s, size, interpolation=cv2.INTER_CUBIC) for s in small]
    return np.clip(np.stack(frames) + rng.normal(0, 8, size=(count, size[1], size[0], 3)), 0, 255).astype(np.uint8)


class TestFrechetDistance:
    def test_identical_gaussians_are_zero(self):
        sigma, mu = random_spd(64, 0), np.arange(64.0)
        assert abs(frechet_distance(mu, sigma, mu, sigma)) <= 1e-9 * np.trace(sigma)

    def test_shifted_gaussian_is_the_squared_shift(self):
        sigma, mu = random_spd(32, 1), np.zeros(32)
        shift = np.full(32, 0.5)
        assert frechet_distance(mu, sigma, mu + shift, sigma) == pytest.approx(32 * 0.25, rel=1e-9)

    def test_diagonal_closed_form(self):
        # Commuting (diagonal) covariances: FID = ‖Δμ‖² + Σ (√a − √b)².
        a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 1.0])
        mu1, mu2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
        expected = 1 + 4 + (1 + 1 + 0 + 0.25)
        assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)

    def test_matches_pytorch_fids_sqrtm_formula(self):
        # Non-commuting covariances: the eigen route gives what scipy's sqrtm of Σ1Σ2 gives.
        s1, s2 = random_spd(48, 2), random_spd(48, 3)
        mu1, mu2 = np.random.default_rng(4).normal(size=(2, 48))
        sqrtm = scipy.linalg.sqrtm(s1 @ s2).real
        expected = (mu1 - mu2) @ (mu1 - mu2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(sqrtm)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)

    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match="shapes"):
            frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


class TestGaussianStats:
    def test_batches_give_numpys_mean_and_unbiased_cov(self):
        x = np.random.default_rng(5).normal(size=(50, 6)) * [1, 2, 3, 4, 5, 6] + 1e4  # a large mean: no cancellation
        stats = GaussianStats(6)
        for start in range(0, 50, 7):
            stats.update(x[start : start + 7])
        assert stats.count == 50
        np.testing.assert_allclose(stats.mean, x.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(stats.cov, np.cov(x, rowvar=False), rtol=1e-9, atol=1e-9)

    @pytest.mark.parametrize("count", [5, 12])  # fewer samples than dimensions (kept, low-rank FID), and more
    def test_fid_from_stats_either_route(self, count):
        rng = np.random.default_rng(count)
        x, y = rng.normal(size=(count, 8)), rng.normal(0.5, 2, size=(count + 3, 8))
        a, b = GaussianStats(8), GaussianStats(8)
        a.update(x)
        b.update(y[:4])
        b.update(y[4:])
        assert (a.samples is not None) == (count <= 8)
        expected = frechet_distance(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
        # rel 1e-7: the d×d route takes square roots of round-off eigenvalues (~1e-16 → ~1e-8) on a singular Σ
        assert fid_from_stats(a, b) == pytest.approx(expected, rel=1e-7)

    def test_needs_two_samples(self):
        stats = GaussianStats(3)
        stats.update(np.ones((1, 3)))
        with pytest.raises(ValueError, match="at least 2"):
            _ = stats.cov


class TestKID:
    def test_matches_clean_fids_per_subset_expression(self):
        rng = np.random.default_rng(6)
        x, y = rng.normal(size=(12, 5)), rng.normal(1, 1, size=(12, 5))
        m, n = 12, 5
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        clean = ((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m
        assert mmd2_unbiased(x, y) == pytest.approx(clean, rel=1e-12)

    def test_identical_sets(self):
        # Subsets holding every sample: MMD² = 2(S − T)/(N(N−1)) − 2S/N² = −2(T/N − S/N²)/(N − 1), S the kernel sum and
        # T its trace: not exactly 0 (the x–y mean keeps the self-pairs that the within-set means leave out), O(1/N).
        x = np.random.default_rng(7).normal(size=(20, 8))
        k = (x @ x.T / 8 + 1) ** 3
        exact = 2 * (k.sum() - np.trace(k)) / (20 * 19) - 2 * k.sum() / 400
        kid = kernel_inception_distance(x, x, subsets=5, subset_size=20)
        assert kid.mean == pytest.approx(exact, rel=1e-12) and kid.std == pytest.approx(0, abs=1e-12)
        assert -0.1 * np.trace(k) / 20 < kid.mean < 0

    def test_unbiased_on_small_sets(self):
        # Many pairs of 8-sample sets from one distribution: the mean estimate is 0 within 3 standard errors,
        # where the biased estimate (diagonal terms kept) is clearly positive.
        rng = np.random.default_rng(8)
        unbiased, biased = [], []
        for _ in range(3000):
            x, y = rng.normal(size=(2, 8, 4))
            unbiased.append(mmd2_unbiased(x, y))
            kxx, kyy, kxy = ((u @ v.T / 4 + 1) ** 3 for u, v in ((x, x), (y, y), (x, y)))
            biased.append(kxx.mean() + kyy.mean() - 2 * kxy.mean())
        error = np.std(unbiased) / np.sqrt(len(unbiased))
        assert abs(np.mean(unbiased)) < 3 * error
        assert np.mean(biased) > 10 * np.std(biased) / np.sqrt(len(biased))

    def test_different_distributions_are_positive_and_subsets_are_reported(self):
        rng = np.random.default_rng(9)
        kid = kernel_inception_distance(rng.normal(size=(30, 6)), rng.normal(2, 1, size=(40, 6)), subsets=20)
        assert kid.mean > 10 * kid.std / np.sqrt(20) > 0
        assert (kid.subsets, kid.subset_size) == (20, 30)


class TestNetwork:
    def test_same_features_as_pytorch_fid(self, weights, monkeypatch):
        inception = pytest.importorskip("pytorch_fid.inception")
        monkeypatch.setattr(inception, "load_state_dict_from_url", lambda *a, **k: weights["state"])
        theirs = inception.InceptionV3([3]).eval()  # resizes to 299 bilinearly and maps [0, 1] to [-1, 1] itself
        frames = images(2, 10, size=(96, 80))
        with torch.inference_mode():
            expected = theirs(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255)[0].flatten(1)
            ours = weights["network"](to_network_input(frames))
        assert ours.shape == (2, 2048)
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)

    def test_same_fid_as_torchmetrics(self, weights):
        # The network's first 256 features (torchmetrics' FID of 2048 takes a general eigen-decomposition of a 2048²
        # matrix: a minute on two loaded cores; the arithmetic compared is the same at any dimension).
        fid_module = pytest.importorskip("torchmetrics.image.fid")
        network = weights["network"]

        class Features(torch.nn.Module):  # uint8 N×3×H×W at the images' own size (80 px: fast) → N×256
            num_features = 256

            def forward(self, imgs):
                return network(to_network_input(imgs.permute(0, 2, 3, 1), size=None))[:, :256]

        real, fake = images(6, 11, size=(80, 80)), images(6, 12, size=(80, 80))
        metric = fid_module.FrechetInceptionDistance(feature=Features())
        metric.update(torch.from_numpy(real).permute(0, 3, 1, 2), real=True)
        metric.update(torch.from_numpy(fake).permute(0, 3, 1, 2), real=False)
        stats = []
        with torch.inference_mode():
            for frames in (real, fake):
                stats.append(GaussianStats(256))
                stats[-1].update(network(to_network_input(frames, size=None))[:, :256])
        ours = fid_from_stats(*stats)
        assert ours > 0
        assert ours == pytest.approx(metric.compute().item(), rel=1e-3)


class TestCleanResize:
    def test_equals_pils_float_bicubic(self):
        image_module = pytest.importorskip("PIL.Image")
        rng = np.random.default_rng(14)
        for height, width in [(270, 480), (48, 64), (500, 100)]:
            rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            theirs = [
                np.asarray(
                    image_module.fromarray(rgb[..., c].astype(np.float32), mode="F").resize((299, 299), image_module.BICUBIC)
                )
                for c in range(3)
            ]
            np.testing.assert_allclose(clean_resize(rgb[None])[0], np.clip(np.stack(theirs, -1), 0, 255), atol=1e-3)

    def test_known_answers(self):
        np.testing.assert_allclose(bicubic_weights(10, 10), np.eye(10), atol=1e-12)  # same size: unchanged
        assert np.allclose(bicubic_weights(480, 299).sum(axis=1), 1)
        flat = clean_resize(np.full((1, 40, 60, 3), 77, np.uint8))
        assert flat.shape == (1, 299, 299, 3) and np.allclose(flat, 77, atol=1e-4)
        x = to_network_input(np.full((1, 40, 60, 3), 255, np.uint8), mode="clean")
        assert torch.allclose(x, torch.full_like(x, 127 / 128), atol=1e-6)  # clean-fid's (x − 128) / 128

    def test_clean_mode_through_evaluate_fid(self, weights, media_sets):
        report = evaluate_fid(
            media_sets["clip"],
            media_sets["same"],
            inception_weights=weights["path"],
            device="cpu",
            input_size=SMALL,
            mode="clean",
        )
        assert report.mode == "clean" and abs(report.fid) < 1e-6 and report.to_dict()["mode"] == "clean"


class TestWeightsFile:
    def test_loads_pytorch_fid_layout(self, weights):
        network = load_inception(weights["path"])
        x = to_network_input(images(1, 13, size=(80, 80)), size=None)
        with torch.inference_mode():
            torch.testing.assert_close(network(x), weights["network"](x))

    def test_wrong_architecture_names_missing_and_unexpected_keys(self, tmp_path):
        path = tmp_path / "small.pth"
        torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8)).state_dict(), path)
        with pytest.raises(InputError) as caught:
            load_inception(path)
        message = str(caught.value)
        assert "\n" not in message and "small.pth" in message
        assert "missing key(s) (Conv2d_1a_3x3" in message and "unexpected key(s) (0.bias" in message
        assert "pytorch-fid/releases" in message

    def test_wrong_shape(self, weights, tmp_path):
        state = dict(weights["state"]) | {"Mixed_7c.branch_pool.conv.weight": torch.zeros(192, 2048, 3, 3)}
        torch.save(state, tmp_path / "bent.pth")
        with pytest.raises(InputError, match=r"1 wrong shape\(s\) \(Mixed_7c.branch_pool.conv.weight is \(192, 2048, 3, 3\)"):
            load_inception(tmp_path / "bent.pth")

    def test_torchvisions_imagenet_inception_is_recognised(self, tmp_path):
        torchvision = pytest.importorskip("torchvision")
        torch.save(torchvision.models.inception_v3(weights=None, init_weights=False).state_dict(), tmp_path / "tv.pth")
        with pytest.raises(InputError, match="torchvision's ImageNet Inception-v3, not the FID network"):
            load_inception(tmp_path / "tv.pth")

    def test_pickled_code_is_not_run(self, tmp_path):
        torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pth")  # a whole module: only unpicklable with code
        with pytest.raises(InputError, match="cannot read Inception weights") as error:
            load_inception(tmp_path / "module.pth")
        assert "weights_only set to False" not in str(error.value)  # torch's unsafe advice, cut mid-sentence, is not passed on

    def test_a_file_of_other_bytes_is_no_checkpoint(self, tmp_path):
        (tmp_path / "notes.pth").write_text("not a checkpoint")
        with pytest.raises(InputError, match="no checkpoint") as error:
            load_inception(tmp_path / "notes.pth")
        assert "notes.pth" in str(error.value) and "weights_only set to False" not in str(error.value)

    def test_safetensors(self, weights, tmp_path):
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in weights["state"].items()}, tmp_path / "w.safetensors")
        assert isinstance(load_inception(tmp_path / "w.safetensors"), FIDInceptionV3)


@pytest.fixture(scope="module")
def media_sets(tmp_path_factory) -> dict[str, Path]:
    """A 4-frame clip, a folder holding its decoded frames as PNG (the same pixels), and a folder of other images."""
    folder = tmp_path_factory.mktemp("fid_sets")
    clip = make_clip(folder / "clip.mp4", list(images(4, 20)))
    from vidtoon.io.sequence import read_sequence

    same, other = folder / "same", folder / "other"
    same.mkdir()
    other.mkdir()
    for frame in read_sequence(clip):
        cv2.imwrite(str(same / f"f{frame.index}.png"), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    for i, rgb in enumerate(images(5, 21, size=(80, 60))):  # another size: every image is resized to 299 on its own
        cv2.imwrite(str(other / f"o{i}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return {"clip": clip, "same": same, "other": other}


SMALL = 96  # network input side for the API tests: ~10× cheaper than 299 (the CLI test runs at 299)


class TestEvaluateFid:
    def test_identical_sets_zero_and_other_sets_not(self, weights, media_sets):
        kwargs = dict(inception_weights=weights["path"], device="cpu", input_size=SMALL)
        same = evaluate_fid(media_sets["clip"], media_sets["same"], kid=True, **kwargs)
        other = evaluate_fid(media_sets["same"], media_sets["other"], **kwargs)
        assert (same.result_samples, same.reference_samples, same.result_frames) == (4, 4, 4)
        assert (other.result_samples, other.reference_samples) == (4, 5)
        assert other.fid > 0 and abs(same.fid) <= 1e-6 * other.fid
        assert same.kid is not None and other.kid is None and same.small_sample
        assert (same.kid.subset_size, same.kid.std) == (4, pytest.approx(0, abs=1e-9))  # every subset: the whole set
        data = json.loads(json.dumps(same.to_dict()))
        assert data["result"] == str(media_sets["clip"]) and data["kid"]["subsets"] == 100 and data["small_sample"]

    def test_fid_frames_evenly_spaced(self, weights, media_sets):
        report = evaluate_fid(
            media_sets["clip"],
            media_sets["other"],
            inception_weights=weights["path"],
            device="cpu",
            max_frames=2,
            input_size=SMALL,
        )
        assert (report.result_samples, report.reference_samples, report.result_frames, report.reference_images) == (2, 2, 4, 5)

    def test_cheap_refusals(self, media_sets, tmp_path):
        weights = tmp_path / "none.pth"
        with pytest.raises(InputError, match="Inception weights file not found"):
            evaluate_fid(media_sets["clip"], media_sets["same"], inception_weights=weights)
        (tmp_path / "one").mkdir()
        cv2.imwrite(str(tmp_path / "one" / "a.png"), np.zeros((8, 8, 3), np.uint8))
        with pytest.raises(InputError, match="holds 1 image"):
            evaluate_fid(media_sets["clip"], tmp_path / "one", inception_weights=weights)
        with pytest.raises(InputError, match="one image"):
            evaluate_fid(tmp_path / "one" / "a.png", media_sets["same"], inception_weights=weights)
        with pytest.raises(UsageError, match="--fid-frames"):
            evaluate_fid(media_sets["clip"], media_sets["same"], inception_weights=weights, max_frames=1)


class TestCli:
    def test_eval_fid_end_to_end(self, weights, media_sets):
        from vidtoon.cli import app

        args = ["eval", str(media_sets["clip"]), "--fid", str(media_sets["other"]), "--inception-weights", str(weights["path"])]
        args += ["--fid-frames", "2", "--device", "cpu", "--kid"]
        table = runner.invoke(app, args, terminal_width=200)
        assert table.exit_code == 0, table.output
        assert "2 frames of clip.mp4 vs 2 images of other" in table.output
        assert "FID" in table.output and "KID" in table.output and "2 subsets" not in table.output
        assert "100 subsets of 2" in table.output and "fewer than 2048 samples is biased" in table.output
        both = json.loads(runner.invoke(app, [*args, "--json", "--source", str(media_sets["clip"])]).output)
        assert both["frames"] == 4 and both["warping_error"] == pytest.approx(both["warping_error_source"])  # E_warp too
        data = both["fid"]
        assert (data["result_samples"], data["reference_samples"], data["result_frames"], data["reference_images"]) == (
            2,
            2,
            4,
            5,
        )
        assert data["fid"] > 0 and data["small_sample"]

    def test_wrong_weights_is_one_line(self, media_sets, tmp_path):
        from vidtoon.cli import app

        path = tmp_path / "resnet.pth"
        torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, path)
        result = runner.invoke(
            app, ["eval", str(media_sets["clip"]), "--fid", str(media_sets["same"]), "--inception-weights", str(path)]
        )
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert 1 <= len(lines) <= 2 and "resnet.pth" in result.output and "missing key(s)" in result.output
