"""Every registry, walked: each entry of each plug-in family is checked the same way, so a new generator family,
flow backend, temporal mode, style kind, procedural style or trainer is tested without a new test being written.
(Generator families have their own deeper walk in tests/models/test_registry.py.)"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch

from vidtoon.errors import UsageError
from vidtoon.flow import FLOW_BACKENDS
from vidtoon.flow.dis import PRESETS as DIS_PRESETS
from vidtoon.models.catalog import FAMILIES
from vidtoon.registry import Registry
from vidtoon.settings import CONSISTENCY_MODES, FLOW_NAMES, FLOW_PRESETS
from vidtoon.styles import STYLE_KINDS
from vidtoon.styles.cards import KIND_KEYS
from vidtoon.temporal import TEMPORAL_MODES
from vidtoon.train.base import TRAINERS
from vidtoon.train.cartoon_config import ANCHORS
from vidtoon.train.look_targets import LOOK_TARGETS

REGISTRIES = {
    "model family": FAMILIES,
    "flow backend": FLOW_BACKENDS,
    "consistency mode": TEMPORAL_MODES,
    "style kind": STYLE_KINDS,
    "trainer": TRAINERS,
    "look target": LOOK_TARGETS,
}


class TestRegistry:
    def test_unknown_name_lists_the_known_ones(self):
        registry = Registry("thing", hint="see the docs")
        registry.add("b", 2)
        registry.add("a", 1)
        with pytest.raises(UsageError, match=r"unknown thing 'c' — known: a, b; see the docs"):
            registry.get("c")
        assert registry.names() == ["a", "b"] and list(registry) == ["a", "b"] and len(registry) == 2 and "a" in registry

    def test_decorator_registers_and_returns_the_entry(self):
        registry = Registry("thing")

        @registry.register("f")
        def f():
            return 1

        assert registry.get("f") is f and f() == 1

    def test_a_name_registered_twice_is_a_programming_error(self):
        registry = Registry("thing")
        registry.add("a", 1)
        with pytest.raises(ValueError, match="registered twice"):
            registry.add("a", 2)

    @pytest.mark.parametrize("what", sorted(REGISTRIES))
    def test_every_registry_is_filled_and_names_itself_in_errors(self, what):
        registry = REGISTRIES[what]
        assert len(registry) >= 2
        with pytest.raises(UsageError, match=f"unknown {what} 'no-such'"):
            registry.get("no-such")


def test_help_choices_are_the_registered_names():
    # the CLI's help reads these tuples without importing torch; they must not drift from the registries
    assert sorted(CONSISTENCY_MODES) == TEMPORAL_MODES.names()
    assert sorted(FLOW_NAMES) == FLOW_BACKENDS.names()
    assert FLOW_PRESETS == tuple(DIS_PRESETS)
    assert sorted(KIND_KEYS) == STYLE_KINDS.names()
    assert sorted(ANCHORS) == sorted(["guided", "images", *LOOK_TARGETS.names()])  # the cartoon config checks anchors torch-free


def _textured_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """Two 64×80 frames in [-1, 1]: a smooth random texture and the same moved 2 px right."""
    rng = np.random.default_rng(0)
    base = torch.from_numpy(rng.random((1, 3, 64, 84), dtype=np.float32))
    base = torch.nn.functional.avg_pool2d(base, 5, 1, 2) * 2 - 1
    return base[..., 2:82], base[..., 0:80]


@pytest.mark.parametrize("name", FLOW_BACKENDS.names())
def test_flow_backend(name, tmp_path, monkeypatch):
    monkeypatch.delenv("VIDTOON_RAFT_WEIGHTS", raising=False)
    build = FLOW_BACKENDS.get(name)
    try:
        backend = build(preset="fast", weights=None, device=torch.device("cpu"))
    except UsageError as error:  # a backend that needs weights says so in one line (RAFT: none can be downloaded)
        assert "weights" in str(error)
        return
    first, second = _textured_pair()
    flow = backend(second, first)  # second(p) ≈ first(p + flow): the content moved 2 px right
    assert flow.shape == (1, 2, 64, 80)
    assert abs(float(flow[0, 0, 16:48, 16:64].median()) + 2) < 0.5
    flows = backend.estimate([np.zeros((32, 40, 3), np.uint8)], [np.zeros((32, 40, 3), np.uint8)])
    assert len(flows) == 1 and flows[0].shape == (32, 40, 2)


@pytest.mark.parametrize("name", TEMPORAL_MODES.names())
def test_temporal_mode(name):
    stage = TEMPORAL_MODES.get(name)(strength=0.5, flow="dis", flow_preset="fast", flow_weights=None, device=torch.device("cpu"))
    first, second = _textured_pair()
    frames = torch.cat([first, first])  # the same frame twice: nothing moved, nothing to distrust
    translated = torch.stack([torch.full((3, 64, 80), -0.5), torch.full((3, 64, 80), 0.5)])
    out = stage(frames, translated)
    assert out.shape == translated.shape and out.abs().max() <= 1
    assert torch.equal(out[0], translated[0])  # the first frame has no past
    assert out[1].mean().item() <= 0.5 + 1e-6  # no mode makes a frame further from its past than its translation
    stage.reset()
    assert torch.equal(stage(frames[:1], translated[1:]), translated[1:])  # after reset: no past again


@pytest.mark.parametrize("name", STYLE_KINDS.names())
def test_style_kind_has_the_whole_protocol(name):
    kind = STYLE_KINDS.get(name)()
    for method in ("check", "load", "describe", "key"):
        assert callable(getattr(kind, method)), f"{name} lacks {method}"


@pytest.mark.parametrize("name", TRAINERS.names())
def test_trainer_config_defaults_are_valid(name):
    trainer = TRAINERS.get(name)
    config = trainer.config()
    assert dataclasses.is_dataclass(config) and config.steps > 0 and config.size % 16 == 0
    assert callable(trainer.trainer) and callable(trainer.data)


@pytest.mark.parametrize("name", LOOK_TARGETS.names())
def test_look_target_keeps_size_and_type_and_changes_the_photo(name):
    photo = np.clip(cv2.GaussianBlur(np.random.default_rng(1).random((48, 64, 3)) * 255, (0, 0), 2), 0, 255).astype(np.uint8)
    target = LOOK_TARGETS.get(name)(photo)
    assert target.shape == photo.shape and target.dtype == np.uint8 and np.abs(target.astype(int) - photo).mean() > 1
