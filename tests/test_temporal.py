"""The temporal stage: flicker removed along the motion, no ghosts behind moving objects, cuts reset."""

import numpy as np
import pytest
import torch

from vidtoon.errors import UsageError
from vidtoon.flow import make_flow
from vidtoon.live.options import LiveOptions
from vidtoon.restyle.options import RestyleOptions, temporal_stage
from vidtoon.temporal import FlowBlend, PassThrough, make_temporal_stage


def textured(height=96, width=128, seed=0):
    rng = np.random.default_rng(seed)
    noise = torch.from_numpy(rng.random((1, 3, height // 4, width // 4)).astype(np.float32))
    return torch.nn.functional.interpolate(noise, size=(height, width), mode="bicubic", align_corners=False).clamp(0, 1) * 2 - 1


def moving_square(frames=8, step=4):
    """A bright square moving right over a static textured background: N×3×H×W in [-1, 1]."""
    background = textured() * 0.5
    clip = []
    for t in range(frames):
        frame = background.clone()
        x0 = 20 + step * t
        frame[..., 30:62, x0 : x0 + 32] = 0.9
        clip.append(frame)
    return torch.cat(clip)


def test_pass_through_and_modes():
    x = torch.rand(2, 3, 8, 8)
    assert torch.equal(PassThrough()(x, x * 0.5), x * 0.5)
    assert isinstance(make_temporal_stage("flow"), FlowBlend)
    with pytest.raises(UsageError, match="consistency mode"):
        make_temporal_stage("magic")
    with pytest.raises(UsageError, match="strength"):
        make_temporal_stage("flow", strength=1.5)


def test_the_flow_size_reaches_the_stage():
    """`--flow-size` (RestyleOptions.flow_size) sets the size the flow is estimated at; None keeps the stage's 640."""
    assert make_temporal_stage("flow").flow_max_side == 640
    assert temporal_stage(RestyleOptions(flow_size=320), torch.device("cpu")).flow_max_side == 320
    with pytest.raises(UsageError, match="--flow-size"):
        RestyleOptions(flow_size=8)
    with pytest.raises(UsageError, match="--flow-size"):
        LiveOptions(flow_max_side=0)


def test_flicker_on_a_static_shot_is_removed():
    source = textured().repeat(10, 1, 1, 1)
    offsets = torch.tensor([0.2, -0.2] * 5).view(10, 1, 1, 1)
    flickering = (source + offsets).clamp(-1, 1)  # per-frame processing that flickers
    out = FlowBlend(make_flow("dis"), strength=0.6)(source, flickering)
    step_in = (flickering[1:] - flickering[:-1]).abs().mean()
    step_out = (out[1:] - out[:-1]).abs().mean()
    assert step_out < 0.35 * step_in  # 0.6 blending: steady state alternation 0.4/1.6 = 0.25 of the input's
    assert out[0].equal(flickering[0])  # the first frame has no past


def test_no_ghost_behind_a_moving_object():
    source = moving_square()
    translated = source.clone()  # a faithful per-frame translation: any trail would be a ghost
    blend = FlowBlend(make_flow("dis", preset="medium"), strength=0.9)
    out = blend(source, translated)
    # behind the square (background uncovered this frame) the output must be the background, not the square
    t = 7
    uncovered = (slice(None), slice(32, 60), slice(20 + 4 * t - 4, 20 + 4 * t))
    assert (out[t][uncovered] - translated[t][uncovered]).abs().max() < 0.1
    assert (out - translated).abs().mean() < 0.02


def test_scene_cut_resets_instead_of_blending_across():
    shot_a = textured(seed=1).repeat(4, 1, 1, 1)
    shot_b = textured(seed=2).repeat(4, 1, 1, 1)
    source = torch.cat((shot_a, shot_b))
    translated = torch.cat((shot_a * 0.5, -shot_b))
    blend = FlowBlend(make_flow("dis"), strength=0.8)
    out = torch.cat([blend(source[i : i + 3], translated[i : i + 3]) for i in range(0, 8, 3)])  # batches across the cut
    assert blend.cuts == 1
    assert torch.equal(out[4], translated[4])  # first frame of the new shot: its own translation only


def test_state_carries_across_batches():
    source = textured().repeat(6, 1, 1, 1)
    offsets = torch.tensor([0.2, -0.2] * 3).view(6, 1, 1, 1)
    flickering = (source + offsets).clamp(-1, 1)
    whole = FlowBlend(make_flow("dis"), strength=0.6)(source, flickering)
    blend = FlowBlend(make_flow("dis"), strength=0.6)
    pieces = torch.cat([blend(source[i : i + 2], flickering[i : i + 2]) for i in range(0, 6, 2)])
    assert torch.allclose(whole, pieces, atol=1e-5)


def test_no_drift_over_a_long_pan():
    """40 frames panning 3 px a frame under a faithful translation: the output stays on it, the error does not grow."""
    wide = textured(width=256, seed=3)
    source = torch.cat([wide[..., 3 * t : 3 * t + 128] for t in range(40)])
    translated = source.clone()
    out = FlowBlend(make_flow("dis"))(source, translated)
    error = (out - translated).abs().mean(dim=(1, 2, 3))
    # measured: mean |out − translated| 0.053 in [-1, 1] units (6.7 grey levels: resampling along an imperfect
    # flow softens fine texture) and no trend: frames 30-39 0.051, frames 5-14 0.053
    assert error.max() < 0.08
    assert error[30:].mean() < 1.1 * error[5:15].mean()
