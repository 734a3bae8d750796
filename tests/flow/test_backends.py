"""Flow backends: the protocol (shapes, dtype, device), a known sub-pixel translation of a real photo, RAFT's weights handling."""

from __future__ import annotations

import os
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torchvision.models.optical_flow import raft_small

from vidtoon.errors import InputError, UsageError
from vidtoon.flow import BACKENDS, make_flow
from vidtoon.flow.dis import DISFlow, _default_threads
from vidtoon.flow.raft import WEIGHTS_ENV, RAFTFlow, pad_to_multiple

CLASSICAL = [("dis", "fast"), ("dis", "medium"), ("farneback", "fast")]  # (backend, DIS preset)


def to_tensor(rgb_u8: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 -> 1×3×H×W float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb_u8)).permute(2, 0, 1)[None].float() / 127.5 - 1


@pytest.fixture(scope="module")
def raft_weights(tmp_path_factory) -> Path:
    """A raft_small state dict with random weights (real RAFT weights cannot be downloaded here)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("raft") / "raft_small_random.pth"
    torch.save(raft_small(weights=None).state_dict(), path)
    return path


def translated_pair(data: Path) -> tuple[torch.Tensor, torch.Tensor, tuple[float, float]]:
    """(target, source, (dx, dy)): a real photo and the same photo moved by a known sub-pixel offset.

    Both frames are cut from the 500×500 photo (9, -5) px apart and shrunk 4× with area averaging,
    so they share the same filtering and differ by exactly (9/4, -5/4) px: target(p) = source(p + (2.25, -1.25)).
    """
    big = cv2.imread(str(data / "photos" / "kodak24_mcmaster" / "Kodak24_kodim08.jpg"))[..., ::-1]
    height, width = big.shape[:2]
    dx, dy, margin, factor = 9, -5, 16, 4
    source = big[margin : height - margin, margin : width - margin]
    target = big[margin + dy : height - margin + dy, margin + dx : width - margin + dx]

    def shrink(image):
        return cv2.resize(np.ascontiguousarray(image), None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)

    return to_tensor(shrink(target)), to_tensor(shrink(source)), (dx / factor, dy / factor)


class TestProtocol:
    @pytest.mark.parametrize(("name", "preset"), CLASSICAL)
    def test_shape_dtype_device(self, name, preset):
        flow = make_flow(name, preset=preset)
        target, source = torch.rand(2, 3, 40, 56) * 2 - 1, torch.rand(2, 3, 40, 56) * 2 - 1
        out = flow(target, source)
        assert flow.name == name
        assert out.shape == (2, 2, 40, 56) and out.dtype == torch.float32 and out.device == target.device
        assert torch.isfinite(out).all()

    @pytest.mark.parametrize(("name", "preset"), CLASSICAL)
    def test_estimate_on_uint8_frames_equals_the_tensor_call(self, name, preset):
        rng = np.random.default_rng(1)
        target_u8, source_u8 = (cv2.GaussianBlur(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8), (0, 0), 2) for _ in range(2))
        flow = make_flow(name, preset=preset)
        flows = flow.estimate([target_u8, source_u8], [source_u8, target_u8])
        tensor = flow(to_tensor(target_u8), to_tensor(source_u8))[0].permute(1, 2, 0).numpy()
        assert len(flows) == 2 and flows[0].shape == (40, 56, 2) and flows[0].dtype == np.float32
        np.testing.assert_array_equal(flows[0], tensor)
        assert flow.estimate([], []) == []

    @pytest.mark.parametrize(("name", "preset"), CLASSICAL)
    def test_identical_frames_give_zero_flow(self, name, preset):
        frame = torch.from_numpy(cv2.GaussianBlur(np.random.default_rng(0).random((48, 64, 3), np.float32), (0, 0), 2))
        frame = (frame.permute(2, 0, 1)[None] - frame.min()) / (frame.max() - frame.min()) * 2 - 1
        flow = make_flow(name, preset=preset)(frame, frame)
        # DIS gives exactly 0; Farneback's polynomial fit wobbles by up to 0.07 px (mean 0.001) near the edges
        assert flow.abs().max() < 0.1 and flow.abs().mean() < 0.01

    def test_unknown_backend_lists_the_known_ones(self):
        with pytest.raises(UsageError, match="nope") as error:
            make_flow("nope")
        assert all(name in str(error.value) for name in BACKENDS)

    def test_unknown_dis_preset(self):
        with pytest.raises(UsageError, match="preset"):
            make_flow("dis", preset="turbo")

    def test_dis_pairs_side_by_side_give_the_flows_of_one_worker(self, media):
        """A batch's pairs on 3 workers (a GPU batch's path): the very flows one instance gives, in order."""
        with av.open(str(media / "chaplin.mp4")) as container:
            frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(70), container.decode(video=0))][::10]
        targets, sources = frames[1:] + frames[:-1], frames[:-1] + frames[1:]  # backward then forward, as the stage asks
        alone = DISFlow("fast", threads=1).estimate(targets, sources)
        side_by_side = DISFlow("fast", threads=3)
        for _ in range(2):  # the instances are reused from call to call
            flows = side_by_side.estimate(targets, sources)
            assert len(flows) == 12 and all(np.array_equal(a, b) for a, b in zip(flows, alone))
        assert len({id(f) for f in flows}) == 12 and max(np.abs(f).max() for f in alone) > 2, "real motion, separate arrays"

    def test_dis_workers_follow_opencv_threads(self):
        """threads=None: up to the usable cores (half from 4 up), never more than OpenCV's thread count."""
        before = cv2.getNumThreads()
        try:
            cv2.setNumThreads(1)
            assert _default_threads() == 1
            cv2.setNumThreads(2)
            assert _default_threads() == min(2, len(os.sched_getaffinity(0)))
        finally:
            cv2.setNumThreads(before)


class TestKnownTranslation:
    # Measured on 117×117 shrunk Kodak photos (kodim01/08/13): mean end-point error in the interior
    # DIS fast 0.14-0.21 px, DIS medium 0.06-0.09, Farneback 0.03-0.05; median components within 0.07 px.
    @pytest.mark.parametrize(
        ("name", "preset", "max_epe"), [("dis", "fast", 0.3), ("dis", "medium", 0.15), ("farneback", "fast", 0.1)]
    )
    def test_recovers_a_subpixel_translation(self, data, name, preset, max_epe):
        target, source, (dx, dy) = translated_pair(data)
        flow = make_flow(name, preset=preset)(target, source)[0, :, 8:-8, 8:-8]  # 8 px from the edges: no content there
        median = flow.flatten(1).median(dim=1).values
        assert abs(median[0] - dx) < 0.1 and abs(median[1] - dy) < 0.1, f"median flow {median.tolist()}, expected {(dx, dy)}"
        epe = ((flow[0] - dx) ** 2 + (flow[1] - dy) ** 2).sqrt().mean()
        assert epe < max_epe


class TestRAFT:
    def test_loads_and_runs(self, raft_weights):
        flow = make_flow("raft", weights=str(raft_weights))
        assert isinstance(flow, RAFTFlow) and flow.architecture == "raft_small" and flow.name == "raft"
        target, source = torch.rand(2, 3, 64, 96) * 2 - 1, torch.rand(2, 3, 64, 96) * 2 - 1
        flow.num_flow_updates = 2  # random weights: iterations only cost time
        out = flow(target, source)
        assert out.shape == (2, 2, 64, 96) and out.dtype == torch.float32 and out.device == target.device
        assert torch.isfinite(out).all()
        target_u8 = ((target[0] + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
        assert [f.shape for f in flow.estimate([target_u8] * 3, [target_u8] * 3)] == [(64, 96, 2)] * 3

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
    def test_runs_on_the_gpu_returns_on_the_inputs_device(self, raft_weights):
        flow = RAFTFlow(raft_weights, torch.device("cuda"), num_flow_updates=2)
        out = flow(torch.rand(3, 3, 64, 96) * 2 - 1, torch.rand(3, 3, 64, 96) * 2 - 1)
        assert out.device.type == "cpu" and out.shape == (3, 2, 64, 96) and torch.isfinite(out).all()
        on_gpu = flow(torch.rand(3, 3, 64, 96, device="cuda") * 2 - 1, torch.rand(3, 3, 64, 96, device="cuda") * 2 - 1)
        assert on_gpu.device.type == "cuda"

    def test_odd_size_is_padded_and_cropped_back(self, raft_weights):
        flow = RAFTFlow(raft_weights, num_flow_updates=1, batch_size=1)
        out = flow(torch.rand(2, 3, 61, 90) * 2 - 1, torch.rand(2, 3, 61, 90) * 2 - 1)
        assert out.shape == (2, 2, 61, 90) and torch.isfinite(out).all()

    def test_safetensors_and_environment_variable(self, raft_weights, tmp_path, monkeypatch):
        path = tmp_path / "raft.safetensors"
        save_file(torch.load(raft_weights, weights_only=True), str(path))
        monkeypatch.setenv(WEIGHTS_ENV, str(path))
        assert make_flow("raft").weights == path

    def test_no_weights_says_where_to_put_them(self, monkeypatch):
        monkeypatch.delenv(WEIGHTS_ENV, raising=False)
        with pytest.raises(UsageError) as error:
            make_flow("raft")
        message = str(error.value)
        assert "--flow-weights" in message and WEIGHTS_ENV in message and "--flow dis" in message and "\n" not in message

    def test_missing_file(self, tmp_path):
        with pytest.raises(InputError, match="not found") as error:
            make_flow("raft", weights=str(tmp_path / "raft.pth"))
        assert "--flow-weights" in str(error.value)

    def test_file_that_is_not_weights(self, tmp_path):
        path = tmp_path / "raft.pth"
        path.write_text("not a checkpoint")
        with pytest.raises(InputError, match="cannot read RAFT weights"):
            make_flow("raft", weights=str(path))

    def test_weights_of_another_model(self, tmp_path):
        path = tmp_path / "other.pth"
        torch.save(torch.nn.Conv2d(3, 8, 3).state_dict(), path)
        with pytest.raises(InputError, match="not a torchvision RAFT state dict"):
            make_flow("raft", weights=str(path))

    def test_incomplete_raft_weights(self, raft_weights, tmp_path):
        state = torch.load(raft_weights, weights_only=True)
        del state["update_block.motion_encoder.convcorr1.0.weight"]
        path = tmp_path / "broken.pth"
        torch.save(state, path)
        with pytest.raises(InputError, match="Missing key"):
            make_flow("raft", weights=str(path))

    @pytest.mark.parametrize(("size", "expected"), [((64, 96), (64, 96)), ((61, 90), (64, 96)), ((130, 200), (136, 200))])
    def test_pad_to_multiple(self, size, expected):
        padded, (left, right, top, bottom) = pad_to_multiple(torch.rand(1, 3, *size))
        assert padded.shape[-2:] == expected
        assert (top + bottom, left + right) == (expected[0] - size[0], expected[1] - size[1])
